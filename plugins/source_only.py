"""source-only: the source model applied to the target as is (the "no adaptation" baseline).

Only meaningful when source and target share a label space (same class names in the
same order); for any other pair it says so and the cell is recorded as skipped.
"""

from benchmark import hookimpl
from plugins.source_training import SourceTrained


class SourceOnly(SourceTrained):
    name = "source-only"
    description = "Baseline: the source-trained model applied to the target without adaptation."
    quick_hparams = {"pretrain_epochs": 1}
    protocols = frozenset({"transfer"})  # episodes relabel classes 0..N-1, which a fixed source head cannot follow

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, batch_size=64, weight_decay=5e-4):
        self.backbone = backbone
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay

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
        self.check_pretrained("model_")
        return self.model_.eval()  # the support set is deliberately ignored


@hookimpl
def transferbench_strategies():
    return [SourceOnly]
