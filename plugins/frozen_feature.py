"""frozen-feature: the linear probe: a linear classifier fitted on the frozen trunk's features.

The protocol of DeCAF (Donahue et al. 2014) and of Kornblith, Shlens & Le (2019): the network
(trained on the source, or the checkpoint as it is, per ``source_training``) is a fixed feature
extractor; the target task is L2-regularised multinomial logistic regression on its features,
solved to convergence by L-BFGS (benchmark.toolkit.probe), its strength C cross-validated within
the labelled support (5-fold stratified, fewer folds when a class has fewer examples; a fixed
C = 1 when a class has one: the record's ``adapt_notes`` say which). The trunk's parameters and
BatchNorm statistics stay bit-for-bit as pretrain left them; features are computed once.

``head``: "new" pulls the probe toward zero (plain L2); "reuse" (the support's classes are all
source classes) pulls it toward the source classifier's rows instead, so a strong penalty gives
source-only's weights back; "auto" (default) reuses when the label spaces are equal, in order.
"""

import optuna.distributions as D

from benchmark import hookimpl, linear_probe
from plugins.finetune import head_choice, source_head_rows
from plugins.source_training import SourceTrained


class FrozenFeature(SourceTrained):
    name = "frozen-feature"
    description = "Linear probe: L-BFGS logistic regression (C cross-validated) on the frozen trunk's features."
    citation = """@inproceedings{kornblith2019better,
  title = {Do Better {ImageNet} Models Transfer Better?},
  author = {Kornblith, Simon and Shlens, Jonathon and Le, Quoc V.},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition},
  pages = {2661--2671},
  year = {2019}
}"""
    quick_hparams = {"pretrain_epochs": 1}
    search_space = {"C": D.FloatDistribution(1e-4, 1e4, log=True)}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, batch_size=64, weight_decay=5e-4,
                 head="auto", source_training="full", C="cv"):
        self.backbone = backbone
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.head = head
        self.source_training = source_training
        self.C = C

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        choice = head_choice(self.head, ctx.task.source_classes, support.classes)
        prior = source_head_rows(self.model_, ctx.task.source_classes, support.classes) if choice == "reuse" else None
        predictor, probe = linear_probe(self.model_, self.trunk_trained_, support, ctx, C=self.C, prior=prior)
        self.notes_ = {"head": choice, **({"starts_from": "source-only"} if prior is not None else {}),
                       **probe.notes()}
        return predictor

    def adapt_notes(self):
        return dict(getattr(self, "notes_", {}))


@hookimpl
def transferbench_strategies():
    return [FrozenFeature]
