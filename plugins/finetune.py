"""finetune: train on the source, then fine-tune every layer with a new head on the target support."""

import copy

from benchmark import batched, hookimpl
from benchmark.backbones import Classifier
from benchmark.training import fit
from plugins.source_training import SourceTrained


class FineTune(SourceTrained):
    name = "finetune"
    description = "Train on the source, then fine-tune all layers with a new head on the target support set."
    citation = """@inproceedings{yosinski2014transferable,
  title = {How transferable are features in deep neural networks?},
  author = {Yosinski, Jason and Clune, Jeff and Bengio, Yoshua and Lipson, Hod},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2014}
}"""
    quick_hparams = {"pretrain_epochs": 1, "adapt_steps": 3}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4):
        self.backbone = backbone
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.adapt_steps = adapt_steps
        self.adapt_lr = adapt_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        # A copy of the source trunk and a fresh head: the pretrained model stays untouched.
        trunk = copy.deepcopy(self.model_.trunk)
        model = Classifier(trunk, self.model_.feature_dim, support.num_classes).to(ctx.device)
        return fit(model, support, steps=self.adapt_steps, lr=self.adapt_lr, batch_size=self.batch_size,
                   generator=ctx.generator, weight_decay=self.weight_decay)

    def adapt_episodes(self, supports, contexts):
        """``adapt`` of every episode, the E fine-tuned copies trained together (benchmark.batched)."""
        self.check_pretrained("model_")
        models = batched.seeded(contexts, lambda ctx: Classifier(copy.deepcopy(self.model_.trunk),
                                                                  self.model_.feature_dim,
                                                                  supports[0].num_classes).to(ctx.device))
        return batched.fit_episodes(models, supports, contexts, steps=self.adapt_steps, lr=self.adapt_lr,
                                    batch_size=self.batch_size, weight_decay=self.weight_decay)


@hookimpl
def transferbench_strategies():
    return [FineTune]
