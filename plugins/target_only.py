"""target-only: the baseline every transfer gain is measured against.

The same network and adaptation budget as ``finetune``, trained from scratch on the
target support set alone: no source data is touched.
"""

import optuna.distributions as D

from benchmark import Classifier, Strategy, batched, build_classifier, fit, hookimpl


class TargetOnly(Strategy):
    name = "target-only"
    description = "Baseline: the same network trained from scratch on the target support set only."
    quick_hparams = {"adapt_steps": 3}
    modalities = frozenset({"image", "text"})  # with a text model: its architecture from random init
    search_space = {"adapt_lr": D.FloatDistribution(1e-4, 1e-2, log=True),
                    "adapt_steps": D.IntDistribution(20, 500, log=True)}

    def __init__(self, backbone=None, adapt_steps=100, adapt_lr=1e-3, batch_size=64, weight_decay=5e-4):
        self.backbone = backbone
        self.adapt_steps = adapt_steps
        self.adapt_lr = adapt_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay

    def new_model(self, num_classes: int, ctx):
        if ctx.model is not None:  # the pair's architecture from random initialisation: what the weights bring is the gap
            return Classifier(ctx.model.random_trunk(), ctx.model.feature_dim, num_classes).to(ctx.device)
        return build_classifier(ctx.task.input_shape, num_classes, self.backbone).to(ctx.device)

    def adapt(self, support, ctx):
        model = self.new_model(support.num_classes, ctx)
        return fit(model, support, steps=self.adapt_steps, lr=self.adapt_lr, batch_size=self.batch_size,
                   generator=ctx.generator, weight_decay=self.weight_decay, augment=self.augmenter(ctx),
                   progress=ctx.progress)

    def adapt_episodes(self, supports, contexts):
        """``adapt`` of every episode, the E networks trained together (benchmark.toolkit.batched)."""
        models = batched.seeded(contexts, lambda ctx: self.new_model(supports[0].num_classes, ctx))
        return batched.fit_episodes(models, supports, contexts, steps=self.adapt_steps, lr=self.adapt_lr,
                                    batch_size=self.batch_size, weight_decay=self.weight_decay,
                                    augments=[self.augmenter(ctx) for ctx in contexts])

    def augmenter(self, ctx):
        """What each training batch [B, C, H, W] goes through; None: nothing (augment-only overrides it)."""
        return None


@hookimpl
def transferbench_strategies():
    return [TargetOnly]
