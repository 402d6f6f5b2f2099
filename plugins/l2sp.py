"""l2sp: fine-tuning held near its starting point (L2-SP; Li, Grandvalet & Davoine 2018, "Explicit
Inductive Bias for Transfer Learning with Convolutional Networks", ICML).

Fine-tuning's weight decay pulls every weight toward zero, where the pretrained weights never
were. L2-SP pulls the weights the pretraining gave toward their starting point (SP) instead,
and only the new layer toward zero. Each adaptation step minimises, through ``fit``'s
regulariser hook,

    mean cross-entropy of the batch + alpha/2 * ||w_S - w0_S||^2 + beta/2 * ||w_new||^2

w_S: the parameters adaptation starts from pretrained values (the trunk; the head too when
finetune's ``head`` choice reuses the source head's rows), w0_S those values; w_new: a new
head's weight and bias. Each norm is the sum of squares over every entry; the terms are in the
loss's units (nats per example). The trunk and head are ``Classifier.parameter_groups()``.
BatchNorm's running statistics are buffers, not weights: they follow the support set, as in
finetune.

w0 is what finetune starts from (plugins/source_training.py): the trunk trained on the source
(``source_training`` = "full"), the checkpoint's trunk ("head", or a pair without a source). So
the cached source model is finetune's: the same pretrain hyperparameters share one entry.

Hyperparameters (defaults): finetune's (backbone=None, pretrain_epochs=20, pretrain_lr=1e-3,
adapt_steps=100, adapt_lr=1e-3, batch_size=64, head="auto", source_training="full"), and
    weight_decay=5e-4  the source training's only (so the source model is finetune's); adaptation
                       has no weight decay: the penalty replaces it, as in Li et al.
    alpha=0.01         the pull toward w0
    beta=0.01          the new head's L2 penalty
Li et al. choose alpha and beta per target task. 0.01 and 0.01 are the trade-offs of the
Transfer-Learning-Library's L2-SP (thuml, examples/task_adaptation/image_classification/delta.py
with --regularization-type l2_sp: 0.01 on the backbone and on the head, each times 1/2 ||.||^2, as
here), fixed before any run and not tuned on target data; a search draws alpha (log-uniform over
[1e-3, 1e3]) besides finetune's adapt_lr and adapt_steps. There is no ``probe_steps``: the
penalty and the head train together from the first step.

The optimiser is finetune's Adam (the two differ only in the regularisation; Li et al. used SGD
with momentum). Adam's step is about ``adapt_lr`` per entry whatever the gradient's scale, so the
pull saturates: with alpha large enough for the penalty's gradient to dominate, each trunk entry
stays within a few ``adapt_lr`` of w0 (tests/test_l2sp.py measures it), not exactly at it.
Episodes are adapted one by one (finetune's batched path has no penalty).
"""

import optuna.distributions as D
import torch

from benchmark import Classifier, fit, hookimpl
from plugins.finetune import FineTune


class StartingPointPenalty:
    """L2-SP's regulariser for ``fit``: called with a ``Classifier``, it returns the scalar tensor
    alpha/2 * ||w_S - w0_S||^2 + beta/2 * ||w_new||^2.

    ``anchored`` names the groups of ``model.parameter_groups()`` that form w_S; their values
    when the penalty is built are copied as w0. Every other group is w_new, pulled toward zero.
    """

    def __init__(self, model: Classifier, alpha: float, beta: float, anchored: tuple[str, ...] = ("trunk",)):
        self.alpha, self.beta, self.anchored = alpha, beta, anchored
        groups = model.parameter_groups()
        self.start = {name: [w.detach().clone() for w in groups[name]] for name in anchored}  # w0, per group

    def __call__(self, model: Classifier) -> torch.Tensor:
        groups = model.parameter_groups()
        drift = sum((w - w0).pow(2).sum() for name in self.anchored for w, w0 in zip(groups[name], self.start[name]))
        size = sum(w.pow(2).sum() for name, group in groups.items() if name not in self.anchored for w in group)
        return self.alpha / 2 * drift + self.beta / 2 * size  # [] (a head always has parameters: a tensor)


class L2SP(FineTune):
    name = "l2sp"
    description = "Fine-tuning with L2-SP: the pretrained weights pulled toward their start, a new head toward zero."
    citation = """@inproceedings{li2018explicit,
  title = {Explicit Inductive Bias for Transfer Learning with Convolutional Networks},
  author = {Li, Xuhong and Grandvalet, Yves and Davoine, Franck},
  booktitle = {Proceedings of the 35th International Conference on Machine Learning},
  series = {Proceedings of Machine Learning Research},
  volume = {80},
  pages = {2825--2834},
  year = {2018}
}"""
    quick_hparams = {"pretrain_epochs": 1, "adapt_steps": 3}
    search_space = {**{k: FineTune.search_space[k] for k in ("adapt_lr", "adapt_steps")},
                    "alpha": D.FloatDistribution(1e-3, 1e3, log=True)}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4, head="auto", alpha=0.01, beta=0.01, source_training="full"):
        super().__init__(backbone, pretrain_epochs, pretrain_lr, adapt_steps, adapt_lr, batch_size, weight_decay, head,
                         source_training=source_training)
        del self.probe_steps  # finetune's LP-FT; here the penalty and the head train together
        self.alpha = alpha
        self.beta = beta

    def adapt(self, support, ctx):
        model = self.start_model(support, ctx)  # finetune's start: a copy of the trunk, a new or reused head
        anchored = ("trunk", "head") if self.notes_["head"] == "reuse" else ("trunk",)
        self.notes_["held_to_start"] = "+".join(anchored)
        return fit(model, support, steps=self.adapt_steps, lr=self.adapt_lr, batch_size=self.batch_size,
                   generator=ctx.generator, regulariser=StartingPointPenalty(model, self.alpha, self.beta, anchored),
                   progress=ctx.progress)


@hookimpl
def transferbench_strategies():
    return [L2SP]
