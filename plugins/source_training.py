"""Supervised training on the source split, shared by the strategies that start from it.

With a model (``ctx.model``) the classifier's trunk is a fresh copy of the pretrained trunk.
What the source trains (``source_training``):
    "full"  every layer, by minibatch Adam on cross-entropy (intermediate-task transfer);
    "head"  only a linear head on the pretrained trunk's frozen features, by the linear probe
            (benchmark.toolkit.probe: L-BFGS, C cross-validated on the source: training-domain
            validation); the trunk stays the checkpoint's. Needs a pair with a [model].
Without a source split the pretrained trunk is used as it is, and there is nothing to store in
the pretrain cache.
"""

from benchmark import Classifier, Context, LabelledData, NotApplicable, Strategy, build_classifier, \
    epochs_to_steps, fit, fit_probe

SOURCE_TRAINING = ("full", "head")


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


def fit_head_on_source(source: LabelledData, ctx: Context) -> Classifier:
    """The checkpoint's trunk (frozen) with a linear head probed on the source's features [N_source, D]."""
    if ctx.model is None:
        raise NotApplicable("source_training = \"head\" keeps a pretrained trunk frozen; this pair has no [model] "
                            "to start from (use source_training = \"full\")")
    model = new_classifier(ctx, source.num_classes, None).to(ctx.device).eval()
    features = ctx.model.features.features(ctx.model.key, model.trunk, source.inputs)
    probe = fit_probe(features, source.labels, source.num_classes, ctx.generator, progress=ctx.progress)
    model.head = probe.linear()
    ctx.report(source_head_C=probe.C, source_head_C_chosen_by=probe.chosen_by)
    return model


def classifier_state(model: Classifier) -> dict:
    """A source classifier as a weights-only state: its parameters and the shape to rebuild it."""
    return {"state_dict": model.state_dict(), "num_classes": model.head.out_features}


def restore_classifier(state: dict, ctx: Context, backbone) -> Classifier:
    model = new_classifier(ctx, state["num_classes"], backbone).to(ctx.device)
    model.load_state_dict(state["state_dict"])
    return model.eval()


PRETRAIN_PARAMS = ("backbone", "pretrain_epochs", "pretrain_lr", "batch_size", "weight_decay")
HEAD_PARAMS = ("backbone",)  # all "head" reads besides the data: the probe selects its own C
SHARED_METHODS = ("pretrain", "pretrained_state", "load_pretrained_state")


class SourceTrained(Strategy):
    """Base of the strategies whose pretrain is supervised training on the source split.

    Subclasses store the hyperparameters it reads (``PRETRAIN_PARAMS``, and ``source_training``
    when they take it: "full" otherwise) in their own ``__init__``; the source classifier is
    ``model_``, ``trunk_trained_`` whether the source moved its trunk. Those that keep this class's
    pretrain share one cached source model when those hyperparameters match (finetune,
    frozen-feature and source-only train the same network the same way), whatever their adapt
    settings.
    """

    def source_training_choice(self) -> str:
        choice = getattr(self, "source_training", "full")
        if choice not in SOURCE_TRAINING:
            raise ValueError(f"source_training must be one of {', '.join(SOURCE_TRAINING)}, got {choice!r}")
        return choice

    def pretrain_identity(self):
        cls = type(self)
        if any(getattr(cls, method) is not getattr(SourceTrained, method) for method in SHARED_METHODS):
            return super().pretrain_identity()  # it pretrains or stores its own way: its own entries
        if self.source_training_choice() == "head":
            return f"{__name__}.fit_head_on_source", {name: getattr(self, name) for name in HEAD_PARAMS}
        return f"{__name__}.train_on_source", {name: getattr(self, name) for name in PRETRAIN_PARAMS}

    modalities = frozenset({"image", "text"})  # it trains ctx.model's trunk, whatever its inputs
    needs_source = False  # without one, pretrain takes ctx.model's trunk as it is

    def pretrain(self, source, ctx):
        choice = self.source_training_choice()
        self.source_trained_ = source is not None
        self.trunk_trained_ = source is not None and choice == "full"
        if source is None:  # the checkpoint's trunk as it is; the head (one output) is never used
            self.model_ = new_classifier(ctx, 1, self.backbone).to(ctx.device).eval()
        elif choice == "head":
            self.model_ = fit_head_on_source(source, ctx)
        else:
            self.model_ = train_on_source(source, ctx, backbone=self.backbone, epochs=self.pretrain_epochs,
                                          lr=self.pretrain_lr, batch_size=self.batch_size,
                                          weight_decay=self.weight_decay)

    def pretrained_state(self):
        # Nothing learned without a source: the checkpoint itself is the state (no copy per seed in the cache).
        if not self.source_trained_:
            return None
        if not self.trunk_trained_:  # only the head moved: the trunk is the checkpoint's, not stored again
            return {"head": self.model_.head.state_dict(), "num_classes": self.model_.head.out_features}
        return classifier_state(self.model_)

    def load_pretrained_state(self, state, ctx):
        self.source_trained_ = True
        self.trunk_trained_ = "head" not in state
        if self.trunk_trained_:
            self.model_ = restore_classifier(state, ctx, self.backbone)
            return
        self.model_ = new_classifier(ctx, state["num_classes"], self.backbone).to(ctx.device).eval()
        self.model_.head.load_state_dict(state["head"])
