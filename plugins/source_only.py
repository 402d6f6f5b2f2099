"""source-only: the source model applied to the target as is (the "no adaptation" baseline).

Only meaningful when source and target share a label space (same class names in the
same order); for any other pair it says so and the cell is recorded as skipped.
``source_training`` = "head" applies a linear probe fitted on the source's features of the
frozen pretrained trunk (plugins/source_training.py).
"""

from benchmark import CachedFeatureClassifier, hookimpl
from plugins.source_training import SourceTrained


class SourceOnly(SourceTrained):
    name = "source-only"
    description = "Baseline: the source-trained model applied to the target without adaptation."
    quick_hparams = {"pretrain_epochs": 1}
    protocols = frozenset({"transfer"})  # episodes relabel classes 0..N-1, which a fixed source head cannot follow

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, batch_size=64, weight_decay=5e-4,
                 source_training="full"):
        self.backbone = backbone
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.source_training = source_training

    @classmethod
    def supports(cls, task):
        if not task.source_classes:
            return ("source-only needs a classifier of the target's classes: no source split was trained on "
                    "(the checkpoint's own classifier is not used)")
        if task.source_classes != task.target_classes:
            return (f"source-only needs a shared label space; source classes {list(task.source_classes)[:5]} "
                    f"differ from target classes {list(task.target_classes)[:5]}")
        return super().supports(task)

    def adapt(self, support, ctx):
        self.check_pretrained("model_")  # the support set is deliberately ignored
        if ctx.model is not None and not self.trunk_trained_:  # the checkpoint's trunk: its cached features
            return CachedFeatureClassifier(self.model_.trunk, self.model_.head, ctx.model.features, ctx.model.key)
        return self.model_.eval()


@hookimpl
def transferbench_strategies():
    return [SourceOnly]
