"""frozen-feature: train on the source, then fit only a new linear head on the frozen trunk's features.

The linear-probe protocol of DeCAF (Donahue et al. 2014): the source network is a fixed
feature extractor and the target task is a linear classifier on its features. Only the
head moves, so the trunk's parameters (and BatchNorm statistics) stay bit-for-bit as
pretrain left them, and the features of a support set are computed once, not per step.

Hyperparameters (defaults):
    backbone=None         by input size (benchmark.backbones.default_backbone)
    pretrain_epochs=20, pretrain_lr=1e-3, batch_size=64, weight_decay=5e-4
                          the source training of ``finetune``, so the two share a trunk
    adapt_steps=100, adapt_lr=1e-3
                          the head's budget in ``finetune``: the two strategies differ only
                          in which parameters move, not in how long or how fast. Not tuned on
                          any target data.
"""

import torch

from benchmark import hookimpl
from benchmark.backbones import Classifier
from benchmark.strategy import Strategy
from benchmark.training import fit_tensors
from plugins.source_training import classifier_state, restore_classifier, train_on_source


class FrozenFeature(Strategy):
    name = "frozen-feature"
    description = "Train on the source, then fit only a new linear head on the frozen trunk's features."
    citation = """@inproceedings{donahue2014decaf,
  title = {{DeCAF}: A Deep Convolutional Activation Feature for Generic Visual Recognition},
  author = {Donahue, Jeff and Jia, Yangqing and Vinyals, Oriol and Hoffman, Judy and Zhang, Ning and
            Tzeng, Eric and Darrell, Trevor},
  booktitle = {Proceedings of the 31st International Conference on Machine Learning},
  pages = {647--655},
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

    def pretrain(self, source, ctx):
        self.model_ = train_on_source(source, ctx, backbone=self.backbone, epochs=self.pretrain_epochs,
                                      lr=self.pretrain_lr, batch_size=self.batch_size,
                                      weight_decay=self.weight_decay)

    def pretrained_state(self):
        return classifier_state(self.model_)

    def load_pretrained_state(self, state, ctx):
        self.model_ = restore_classifier(state, ctx, self.backbone)

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        trunk = self.model_.trunk.eval()  # shared, never trained: eval mode keeps BatchNorm statistics fixed
        with torch.no_grad():
            features = trunk(support.inputs)  # [S, D], once per support set
        model = Classifier(trunk, self.model_.feature_dim, support.num_classes).to(ctx.device)
        fit_tensors(model.head, features, support.labels, steps=self.adapt_steps, lr=self.adapt_lr,
                    batch_size=self.batch_size, generator=ctx.generator, weight_decay=self.weight_decay)
        return model.eval()


@hookimpl
def transferbench_strategies():
    return [FrozenFeature]
