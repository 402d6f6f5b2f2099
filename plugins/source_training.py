"""Supervised training on the source split, shared by the strategies that start from it.

With a model (``ctx.model``) the classifier's trunk is a fresh copy of the pretrained trunk:
with a source split it is trained on it first (intermediate-task transfer); without one
the pretrained trunk is used as it is, and there is nothing to store in the pretrain cache.
"""

from benchmark import Classifier, Context, LabelledData, Strategy, build_classifier, epochs_to_steps, fit


def new_classifier(ctx: Context, num_classes: int, backbone) -> Classifier:
    """A classifier on the pair's pretrained trunk (a fresh copy), or on the strategy's own backbone."""
    if ctx.model is None:
        return build_classifier(ctx.task.input_shape, num_classes, backbone)
    return Classifier(ctx.model.trunk(), ctx.model.feature_dim, num_classes)


def train_on_source(source: LabelledData, ctx: Context, *, backbone, epochs: int, lr: float,
                    batch_size: int, weight_decay: float) -> Classifier:
    model = new_classifier(ctx, source.num_classes, backbone).to(ctx.device)
    return fit(model, source, steps=epochs_to_steps(epochs, len(source), batch_size), lr=lr,
               batch_size=batch_size, generator=ctx.generator, weight_decay=weight_decay,
               progress=ctx.progress)


def classifier_state(model: Classifier) -> dict:
    """A source classifier as a weights-only state: its parameters and the shape to rebuild it."""
    return {"state_dict": model.state_dict(), "num_classes": model.head.out_features}


def restore_classifier(state: dict, ctx: Context, backbone) -> Classifier:
    model = new_classifier(ctx, state["num_classes"], backbone).to(ctx.device)
    model.load_state_dict(state["state_dict"])
    return model.eval()


PRETRAIN_PARAMS = ("backbone", "pretrain_epochs", "pretrain_lr", "batch_size", "weight_decay")
SHARED_METHODS = ("pretrain", "pretrained_state", "load_pretrained_state")


class SourceTrained(Strategy):
    """Base of the strategies whose pretrain is supervised training on the source split.

    Subclasses store the hyperparameters it reads (``PRETRAIN_PARAMS``) in their own
    ``__init__``; the source classifier is ``model_``. Those that keep this class's pretrain
    share one cached source model when those hyperparameters match (finetune, frozen-feature
    and source-only train the same network the same way), whatever their adapt settings.
    """

    def pretrain_identity(self):
        cls = type(self)
        if any(getattr(cls, method) is not getattr(SourceTrained, method) for method in SHARED_METHODS):
            return super().pretrain_identity()  # it pretrains or stores its own way: its own entries
        return f"{__name__}.train_on_source", {name: getattr(self, name) for name in PRETRAIN_PARAMS}

    modalities = frozenset({"image", "text"})  # it trains ctx.model's trunk, whatever its inputs
    needs_source = False  # without one, pretrain takes ctx.model's trunk as it is

    def pretrain(self, source, ctx):
        self.source_trained_ = source is not None
        if source is None:  # the checkpoint's trunk as it is; the head (one output) is never used
            self.model_ = new_classifier(ctx, 1, self.backbone).to(ctx.device).eval()
            return
        self.model_ = train_on_source(source, ctx, backbone=self.backbone, epochs=self.pretrain_epochs,
                                      lr=self.pretrain_lr, batch_size=self.batch_size,
                                      weight_decay=self.weight_decay)

    def pretrained_state(self):
        # Nothing learned without a source: the checkpoint itself is the state (no copy per seed in the cache).
        return classifier_state(self.model_) if self.source_trained_ else None

    def load_pretrained_state(self, state, ctx):
        self.source_trained_ = True
        self.model_ = restore_classifier(state, ctx, self.backbone)
