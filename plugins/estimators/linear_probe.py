"""Cross-validated linear-probe accuracy on the support: what the benchmark's own linear probe
(``benchmark.toolkit.probe``) reaches on held-out support examples, as an estimate of transfer.
A linear probe on frozen features is the baseline every estimator paper compares against
(Kornblith, Shlens, Le, "Do Better ImageNet Models Transfer Better?", CVPR 2019)."""

import torch

from benchmark import C_GRID, MAX_FOLDS, Estimator, NotApplicable, feature_scale, fit_logistic, stratified_folds

CITATION = """@inproceedings{kornblith2019better,
  title = {Do Better ImageNet Models Transfer Better?},
  author = {Kornblith, Simon and Shlens, Jonathon and Le, Quoc V.},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages = {2661--2671},
  year = {2019}
}"""

FOLD_SEED = 0  # the folds are drawn from a fixed generator: the same support gives the same score
# L-BFGS iterations per fit: held-out argmax settles long before the weights do (a separable support
# at C = 1e4 would run the probe's 2000 iterations in every fold), and an estimate must stay cheap.
MAX_ITER = 25


class LinearProbeCV(Estimator):
    """Stratified k-fold accuracy of the benchmark's logistic probe, the best over its C grid.

    ``score(features [N, D], labels [N], None)`` in [0, 1]: the probe's own model selection
    (``benchmark.toolkit.probe.cross_validate_C``: k = min(5, rarest class), features scaled by
    ``feature_scale``, C in ``C_GRID``, each fit capped at ``MAX_ITER`` L-BFGS iterations), whose
    held-out accuracy is the score. Raises
    ``NotApplicable`` when a class has a single example (nothing to hold out).
    """

    name = "linear-probe"
    description = "cross-validated accuracy of the benchmark's linear probe on the support's features"
    citation = CITATION

    def score(self, features, labels, source_probs=None) -> float:
        y = torch.tensor(labels, dtype=torch.long)  # a copy: the runner's arrays are read-only
        n_classes = int(y.max()) + 1
        rarest = int(torch.bincount(y, minlength=n_classes).min())
        if rarest < 2:
            raise NotApplicable(f"a class has {rarest} labelled example: too few to cross-validate")
        x = torch.tensor(features, dtype=torch.float64)
        x = x / feature_scale(x)
        n_folds = min(MAX_FOLDS, rarest)
        folds = stratified_folds(y, n_folds, torch.Generator().manual_seed(FOLD_SEED))
        correct = torch.zeros(len(C_GRID), dtype=torch.float64)
        for fold in range(n_folds):
            train, held = folds != fold, folds == fold
            start = None
            for i, C in enumerate(sorted(C_GRID)):  # warm-started from the previous C, as cross_validate_C does
                start = fit_logistic(x[train], y[train], n_classes, C, start=start, tolerance=1e-4,
                                     max_iter=MAX_ITER)
                correct[i] += ((x[held] @ start[0].T + start[1]).argmax(1) == y[held]).sum()
        return float(correct.max() / len(y))
