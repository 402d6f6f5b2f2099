"""finetune: train on the source, then fine-tune every layer on the target support.

The head it starts from (``head``):
    "new"    a freshly initialised linear head over the support's classes
    "reuse"  the source classifier's head, its rows picked by class name (every support class
             must be a source class), so that zero steps give exactly source-only's predictions
    "auto"   (default) reuse when the support's class names equal the source's, in order
             (same label space, e.g. MNIST→USPS), else new: what practitioners do
The record says which was used (``adapt_notes``).

``source_training`` ("full" or "head", plugins/source_training.py) says what the source trained:
with "head" the trunk it fine-tunes is the checkpoint's and the head it reuses was probed on the
source's features.

``probe_steps`` > 0 first trains only the head on the frozen trunk's features, then every
layer: linear probing then fine-tuning (LP-FT, Kumar et al. 2022, "Fine-Tuning can Distort
Pretrained Features and Underperform Out-of-Distribution"), searched as a hyperparameter.
"""

import copy

import optuna.distributions as D
from torch import nn

from benchmark import Classifier, batched, fit, fit_tensors, forward_in_batches, hookimpl
from plugins.source_training import SourceTrained

HEADS = ("auto", "new", "reuse")


def head_choice(head: str, source_classes: tuple, support_classes: tuple) -> str:
    """"reuse" or "new" for ``head``; ValueError for an unknown choice or a head that cannot be reused."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
    if head == "auto":
        return "reuse" if tuple(support_classes) == tuple(source_classes) else "new"
    if head == "reuse":
        missing = [c for c in support_classes if c not in source_classes]
        if missing:
            raise ValueError(f"head='reuse' needs every target class among the source's; not there: "
                             f"{', '.join(map(str, missing[:5]))}")
    return head


def source_head_rows(source_model: Classifier, source_classes: tuple, support_classes: tuple) -> nn.Linear:
    """A copy of the source head's rows for ``support_classes`` (picked by name, in their order)."""
    rows = [list(source_classes).index(c) for c in support_classes]  # [n_support_classes] source rows
    head = nn.Linear(source_model.feature_dim, len(rows)).to(source_model.head.weight.device)
    head.weight.data.copy_(source_model.head.weight.data[rows])
    head.bias.data.copy_(source_model.head.bias.data[rows])
    return head


def start_from(source_model: Classifier, trunk: nn.Module, source_classes: tuple, support_classes: tuple,
               choice: str) -> Classifier:
    """``trunk`` with a new head ("new") or a copy of the source head's rows for ``support_classes`` ("reuse")."""
    model = Classifier(trunk, source_model.feature_dim, len(support_classes))
    if choice == "reuse":
        model.head = source_head_rows(source_model, source_classes, support_classes)
    return model


class FineTune(SourceTrained):
    name = "finetune"
    description = "Train on the source, then fine-tune all layers on the target support set (head reused or new)."
    citation = """@inproceedings{yosinski2014transferable,
  title = {How transferable are features in deep neural networks?},
  author = {Yosinski, Jason and Clune, Jeff and Bengio, Yoshua and Lipson, Hod},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2014}
}"""
    quick_hparams = {"pretrain_epochs": 1, "adapt_steps": 3}
    # Adapt-time only, so every trial of a search shares one pretrained source model.
    search_space = {"adapt_lr": D.FloatDistribution(1e-5, 1e-2, log=True),
                    "adapt_steps": D.IntDistribution(10, 300, log=True),
                    "probe_steps": D.CategoricalDistribution((0, 100))}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4, head="auto", probe_steps=0, source_training="full"):
        self.backbone = backbone
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.adapt_steps = adapt_steps
        self.adapt_lr = adapt_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.head = head
        self.probe_steps = probe_steps
        self.source_training = source_training

    def start_model(self, support, ctx, trunk: nn.Module | None = None) -> Classifier:
        """``trunk`` (default: a copy of the source trunk) with the head ``head`` asks for; notes which one."""
        self.check_pretrained("model_")
        choice = head_choice(self.head, ctx.task.source_classes, support.classes)
        self.notes_ = {"head": choice, "starts_from": "source-only"}
        trunk = copy.deepcopy(self.model_.trunk) if trunk is None else trunk
        return start_from(self.model_, trunk, ctx.task.source_classes, support.classes, choice).to(ctx.device)

    def adapt_notes(self):
        return dict(getattr(self, "notes_", {}))

    def adapt(self, support, ctx):
        model = self.start_model(support, ctx)  # the pretrained model stays untouched
        # LP-FT's two loops report as one: each its share of the steps
        probe_share = self.probe_steps / max(1, self.probe_steps + self.adapt_steps)
        if self.probe_steps:  # LP: the head alone on the frozen trunk's features [S, D]
            features = forward_in_batches(model.trunk.eval(), support.inputs)
            fit_tensors(model.head, features, support.labels, steps=self.probe_steps, lr=self.adapt_lr,
                        batch_size=self.batch_size, generator=ctx.generator, weight_decay=self.weight_decay,
                        progress=lambda fraction: ctx.progress(fraction * probe_share))
        return fit(model, support, steps=self.adapt_steps, lr=self.adapt_lr, batch_size=self.batch_size,
                   generator=ctx.generator, weight_decay=self.weight_decay,
                   progress=lambda fraction: ctx.progress(probe_share + fraction * (1 - probe_share)))

    def adapt_episodes(self, supports, contexts):
        """``adapt`` of every episode, the E fine-tuned copies trained together (benchmark.toolkit.batched)."""
        if self.probe_steps:  # LP-FT's probe phase is not batched: the serial loop, episode by episode
            return super().adapt_episodes(supports, contexts)
        support_of = {id(ctx): support for support, ctx in zip(supports, contexts)}
        models = batched.seeded(contexts, lambda ctx: self.start_model(support_of[id(ctx)], ctx))
        return batched.fit_episodes(models, supports, contexts, steps=self.adapt_steps, lr=self.adapt_lr,
                                    batch_size=self.batch_size, weight_decay=self.weight_decay)


@hookimpl
def transferbench_strategies():
    return [FineTune]
