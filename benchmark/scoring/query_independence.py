"""Is each query scored on its own? The check ``transferbench check`` runs, also run on real cells.

A predictor that scores queries jointly (BatchNorm left in training mode at test time, a
query-set statistic, any transductive step) lets the test set shape every score: the
classic transductive leak. Scoring a few queries alone, and a few inside a smaller,
reversed batch, must give the scores they got inside their full batch. A strategy that
scores jointly on purpose declares ``transductive = True`` and is ranked apart.
"""

import torch

# Scores recomputed in another batch differ by float noise only: CPU convolutions pick other kernels for
# another batch size, 1.3e-4 apart in a fine-tuned EfficientNet-Lite2's logits (a 1e-4 bound failed 2 honest
# model-zoo cells); a batch statistic (BatchNorm in train mode) moves scores by tenths.
ATOL = RTOL = 1e-3
ALONE = 4           # queries scored one at a time on a real cell: cheap, and enough to see a batch statistic


def dependence(predictor, queries: torch.Tensor, scores: torch.Tensor, device, alone: int = ALONE) -> str | None:
    """Why the scores of ``queries`` [Q, ...] depend on the batch, or None when they do not.

    ``scores`` [Q, n_classes] are what ``predictor`` gave the whole batch (on CPU). Raises only what
    the predictor itself raises.
    """
    alone = min(alone, len(queries))
    if alone == 0:
        return None
    with torch.no_grad():
        single = torch.cat([predictor(queries[i:i + 1].to(device)).detach().float().cpu() for i in range(alone)])
        part = min(len(queries), 2 * alone)
        reordered = predictor(queries[:part].flip(0).to(device)).detach().float().cpu().flip(0)
    if not torch.allclose(single, scores[:alone], atol=ATOL, rtol=RTOL):
        return (f"a query scored alone gets other scores than inside its batch: its scores depend on the other "
                f"queries (largest difference {(single - scores[:alone]).abs().max().item():.3g}), so the predictor "
                f"scores queries jointly "
                f"(e.g. a BatchNorm left in train mode); declare the strategy transductive if it means to")
    if not torch.allclose(reordered, scores[:part], atol=ATOL, rtol=RTOL):
        return ("scores depend on which other queries share the batch, or on their order: the predictor scores "
                "queries jointly; declare the strategy transductive if it means to")
    return None
