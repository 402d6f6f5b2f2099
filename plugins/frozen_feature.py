"""frozen-feature: train on the source, then fit only a new linear head on the frozen trunk's features.

The linear-probe protocol of DeCAF (Donahue et al. 2014): the source network is a fixed
feature extractor and the target task is a linear classifier on its features. Only the
head moves, so the trunk's parameters (and BatchNorm statistics) stay bit-for-bit as
pretrain left them, and the features of a support set are computed once, not per step.

Hyperparameters: exactly ``finetune``'s, with its defaults (it subclasses it): the same
source training, so the two share a trunk, and the same adaptation budget (adapt_steps=100,
adapt_lr=1e-3), so they differ only in which parameters move, not in how long or how fast.
None is tuned on target data.
"""

import torch

from benchmark import batched, hookimpl
from benchmark.backbones import Classifier
from benchmark.models.features import linear_probe
from benchmark.training import fit_tensors, forward_in_batches
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

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        if ctx.model is not None:  # features through the model's cache: see benchmark/models/features.py
            return linear_probe(self.model_, self.source_trained_, support, ctx, steps=self.adapt_steps,
                                lr=self.adapt_lr, batch_size=self.batch_size, weight_decay=self.weight_decay)
        trunk = self.model_.trunk.eval()  # shared, never trained: eval mode keeps BatchNorm statistics fixed
        features = forward_in_batches(trunk, support.inputs)  # [S, D], once per support set
        model = Classifier(trunk, self.model_.feature_dim, support.num_classes).to(ctx.device)
        fit_tensors(model.head, features, support.labels, steps=self.adapt_steps, lr=self.adapt_lr,
                    batch_size=self.batch_size, generator=ctx.generator, weight_decay=self.weight_decay)
        return model.eval()

    def adapt_episodes(self, supports, contexts):
        """``adapt`` of every episode: one trunk pass for all support sets, the E heads trained together."""
        self.check_pretrained("model_")
        trunk = self.model_.trunk.eval()
        features = forward_in_batches(trunk, torch.cat([support.inputs for support in supports]))  # [E*S, D]
        models = batched.seeded(contexts, lambda ctx: Classifier(trunk, self.model_.feature_dim,
                                                                  supports[0].num_classes).to(ctx.device))
        batched.fit_episodes([model.head for model in models], supports, contexts, steps=self.adapt_steps,
                             lr=self.adapt_lr, batch_size=self.batch_size, weight_decay=self.weight_decay,
                             inputs=list(features.split([len(support) for support in supports])))
        return [model.eval() for model in models]


@hookimpl
def transferbench_strategies():
    return [FrozenFeature]
