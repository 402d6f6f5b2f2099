"""Supervised training on the source split, shared by the strategies that start from it."""

from benchmark.backbones import Classifier, build_classifier
from benchmark.data import LabelledData
from benchmark.strategy import Context
from benchmark.training import epochs_to_steps, fit


def train_on_source(source: LabelledData, ctx: Context, *, backbone, epochs: int, lr: float,
                    batch_size: int, weight_decay: float) -> Classifier:
    model = build_classifier(ctx.task.input_shape, source.num_classes, backbone).to(ctx.device)
    return fit(model, source, steps=epochs_to_steps(epochs, len(source), batch_size), lr=lr,
               batch_size=batch_size, generator=ctx.generator, weight_decay=weight_decay,
               progress=ctx.progress)
