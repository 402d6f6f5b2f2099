"""frozen-feature: train on the source, then fit only a new linear head on the frozen trunk's features.

The linear-probe protocol of DeCAF (Donahue et al. 2014): the source network is a fixed
feature extractor and the target task is a linear classifier on its features. Only the
head moves, so the trunk's parameters (and BatchNorm statistics) stay bit-for-bit as
pretrain left them, and the features of a support set are computed once, not per step.

Hyperparameters: ``finetune``'s, with its defaults (it subclasses it), less ``probe_steps``
(a linear probe is all it does): the same source training, so the two share a trunk, and the
same adaptation budget (adapt_steps=100, adapt_lr=1e-3), so they differ only in which
parameters move, not in how long or how fast. ``head`` as finetune's: "auto" starts the probe
from the source classifier when the label spaces match. None is tuned on target data unless a
suite declares a selection protocol (benchmark.selection).
"""

import optuna.distributions as D
import torch

from benchmark import batched, fit_tensors, forward_in_batches, hookimpl, linear_probe
from plugins.finetune import FineTune


class FrozenFeature(FineTune):
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

    search_space = {"adapt_lr": D.FloatDistribution(1e-4, 1e-1, log=True),
                    "adapt_steps": D.IntDistribution(10, 500, log=True)}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4, head="auto"):
        super().__init__(backbone, pretrain_epochs, pretrain_lr, adapt_steps, adapt_lr, batch_size, weight_decay,
                         head)
        del self.probe_steps  # finetune's, not a hyperparameter here

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        if ctx.model is not None:  # features through the model's cache: see benchmark/models/features.py
            return linear_probe(self.model_, self.source_trained_, support, ctx, steps=self.adapt_steps,
                                lr=self.adapt_lr, batch_size=self.batch_size, weight_decay=self.weight_decay)
        trunk = self.model_.trunk.eval()  # shared, never trained: eval mode keeps BatchNorm statistics fixed
        features = forward_in_batches(trunk, support.inputs)  # [S, D], once per support set
        model = self.start_model(support, ctx, trunk)  # the shared trunk, and a new or the source's head
        fit_tensors(model.head, features, support.labels, steps=self.adapt_steps, lr=self.adapt_lr,
                    batch_size=self.batch_size, generator=ctx.generator, weight_decay=self.weight_decay)
        return model.eval()

    def adapt_episodes(self, supports, contexts):
        """``adapt`` of every episode: one trunk pass for all support sets, the E heads trained together."""
        self.check_pretrained("model_")
        trunk = self.model_.trunk.eval()
        features = forward_in_batches(trunk, torch.cat([support.inputs for support in supports]))  # [E*S, D]
        support_of = {id(ctx): support for support, ctx in zip(supports, contexts)}
        models = batched.seeded(contexts, lambda ctx: self.start_model(support_of[id(ctx)], ctx, trunk))
        batched.fit_episodes([model.head for model in models], supports, contexts, steps=self.adapt_steps,
                             lr=self.adapt_lr, batch_size=self.batch_size, weight_decay=self.weight_decay,
                             inputs=list(features.split([len(support) for support in supports])))
        return [model.eval() for model in models]


@hookimpl
def transferbench_strategies():
    return [FrozenFeature]
