"""source+target: one classifier trained on the union of the source and the labelled target support.

The "S+T" baseline of semi-supervised domain adaptation (Saito et al. 2019, "Semi-supervised
Domain Adaptation via Minimax Entropy"), and DomainBed's ERM over the training domains
(Gulrajani & Lopez-Paz 2021): no adaptation method, only both domains' labels. Needs a
shared label space: every target class must be a source class (picked by name); otherwise
the cell is skipped with the reason.

``source_training`` says what the union trains:
    "full"  every layer of the pair's model (or the strategy's own backbone) from its start,
            minibatch Adam; each batch is half source, half support, as in Saito et al., so a
            few labelled target examples are not drowned by thousands of source ones;
    "head"  a linear probe (benchmark.toolkit.probe: L-BFGS, C cross-validated on folds of the
            union: training-domain validation) on the frozen pretrained trunk's features of
            the union. Needs a pair with a [model].
Nothing is pretrained once for all cells: the union changes with every support set.
"""

import optuna.distributions as D
import torch
import torch.nn.functional as F

from benchmark import CachedFeatureClassifier, Classifier, NotApplicable, Strategy, adam, epochs_to_steps, \
    fit_probe, hookimpl, minibatches, step_progress
from plugins.finetune import source_head_rows
from plugins.source_training import SOURCE_TRAINING, new_classifier


class SourceTarget(Strategy):
    name = "source+target"
    description = "S+T: one classifier trained on the union of the source and the target support (full or head)."
    citation = """@inproceedings{saito2019semi,
  title = {Semi-Supervised Domain Adaptation via Minimax Entropy},
  author = {Saito, Kuniaki and Kim, Donghyun and Sclaroff, Stan and Darrell, Trevor and Saenko, Kate},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision},
  pages = {8050--8060},
  year = {2019}
}"""
    protocols = frozenset({"transfer"})  # episodes relabel classes 0..N-1: no shared label space with the source
    modalities = frozenset({"image", "text"})
    needs_source = True
    quick_hparams = {"epochs": 1}
    search_space = {"lr": D.FloatDistribution(1e-5, 1e-2, log=True)}

    def __init__(self, backbone=None, source_training="full", epochs=20, lr=1e-3, batch_size=64,
                 weight_decay=5e-4, C="cv"):
        self.backbone = backbone
        self.source_training = source_training
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.C = C

    @classmethod
    def supports(cls, task):
        missing = [c for c in task.target_classes if c not in task.source_classes]
        if task.source_classes and missing:
            return (f"source+target needs a shared label space; target classes {missing[:5]} are not source "
                    f"classes {list(task.source_classes)[:5]}")
        return super().supports(task)

    def pretrain(self, source, ctx):
        if self.source_training not in SOURCE_TRAINING:
            raise ValueError(f"source_training must be one of {', '.join(SOURCE_TRAINING)}, "
                             f"got {self.source_training!r}")
        if self.source_training == "head" and ctx.model is None:
            raise NotApplicable("source+target with source_training = \"head\" probes a pretrained trunk's features; "
                                "this pair has no [model] (use source_training = \"full\")")
        self.source_ = source  # read only, as every input (benchmark.strategy.base)
        if self.source_training == "head":  # the checkpoint's trunk, never trained: one copy for every cell
            self.trunk_ = new_classifier(ctx, 1, None).trunk.to(ctx.device).eval()

    def adapt(self, support, ctx):
        self.check_pretrained("source_")
        source = self.source_
        rows = torch.tensor([source.classes.index(c) for c in support.classes], device=support.labels.device)
        support_labels = rows[support.labels]  # [S] support labels as source class indices
        if self.source_training == "head":
            features = torch.cat([ctx.model.features.features(ctx.model.key, self.trunk_, data.inputs)
                                  for data in (source, support)])  # [N_source + S, D]
            probe = fit_probe(features, torch.cat([source.labels, support_labels]), source.num_classes,
                              ctx.generator, C=self.C, progress=ctx.progress)
            self.notes_ = probe.notes()
            union = Classifier(self.trunk_, ctx.model.feature_dim, source.num_classes)
            union.head = probe.linear()
            head = source_head_rows(union, source.classes, support.classes)
            return CachedFeatureClassifier(self.trunk_, head, ctx.model.features, ctx.model.key).eval()
        self.notes_ = {}
        model = new_classifier(ctx, source.num_classes, self.backbone).to(ctx.device)
        self.fit_union(model, source, support.inputs, support_labels, ctx)
        model.head = source_head_rows(model, source.classes, support.classes)
        return model.eval()

    def fit_union(self, model, source, support_inputs, support_labels, ctx) -> None:
        """``epochs`` passes over the source in half batches, each joined by a half batch of the support."""
        half = max(1, self.batch_size // 2)
        steps = epochs_to_steps(self.epochs, len(source), half)
        optimiser = adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        model.train()
        tick = step_progress(ctx.progress, steps)
        tick(0)
        batches = zip(minibatches((source.inputs, source.labels), half, steps, ctx.generator),
                      minibatches((support_inputs, support_labels), half, steps, ctx.generator))
        for step, ((source_x, source_y), (support_x, support_y)) in enumerate(batches):
            # [B/2 + min(B/2, S), ...]: one batch of both domains (the pair's inputs share one shape)
            loss = F.cross_entropy(model(torch.cat([source_x, support_x])), torch.cat([source_y, support_y]))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            tick(step + 1)

    def adapt_notes(self):
        return dict(getattr(self, "notes_", {}))


@hookimpl
def transferbench_strategies():
    return [SourceTarget]
