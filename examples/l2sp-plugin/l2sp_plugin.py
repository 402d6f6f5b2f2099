# l2sp_plugin.py: fine-tuning held near the pretrained weights (L2-SP, Li et al. 2018) by fit's loss hook
from benchmark import Classifier, Strategy, build_trunk, fit, hookimpl


class MyL2SP(Strategy):
    name = "my-l2sp"
    description = "Fine-tune the pair's model, its trunk pulled toward the pretrained weights, a new head toward 0."

    def __init__(self, alpha=0.01, beta=0.01, steps=100, lr=1e-3):
        self.alpha, self.beta, self.steps, self.lr = alpha, beta, steps, lr

    def adapt(self, support, ctx):  # w0: a fresh copy of the pair's pretrained trunk (no [model]: a random one)
        trunk, dim = (ctx.model.trunk(), ctx.model.feature_dim) if ctx.model else build_trunk(ctx.task.input_shape)
        model = Classifier(trunk, dim, support.num_classes).to(ctx.device)
        w0 = [w.detach().clone() for w in model.parameter_groups()["trunk"]]

        def l2sp(model):  # a scalar added to each step's mean cross-entropy, on the current weights
            groups = model.parameter_groups()
            return (self.alpha / 2 * sum((w - s).pow(2).sum() for w, s in zip(groups["trunk"], w0))
                    + self.beta / 2 * sum(w.pow(2).sum() for w in groups["head"]))
        return fit(model, support, steps=self.steps, lr=self.lr, batch_size=64, generator=ctx.generator,
                   regulariser=l2sp, progress=ctx.progress)


@hookimpl
def transferbench_strategies():
    return [MyL2SP]
