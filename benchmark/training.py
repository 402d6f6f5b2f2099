"""The supervised training loop the built-in strategies share (Adam on cross-entropy)."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.data import LabelledData


def epochs_to_steps(epochs: int, n_examples: int, batch_size: int) -> int:
    return epochs * math.ceil(n_examples / min(batch_size, n_examples))


def batches(n_examples: int, batch_size: int, steps: int, generator: torch.Generator):
    """``steps`` index batches; each epoch is a fresh permutation drawn from ``generator``."""
    batch = min(batch_size, n_examples)
    order, position = torch.randperm(n_examples, generator=generator), 0
    for _ in range(steps):
        if position + batch > n_examples:
            order, position = torch.randperm(n_examples, generator=generator), 0
        yield order[position:position + batch]
        position += batch


def fit(model: nn.Module, data: LabelledData, *, steps: int, lr: float, batch_size: int,
        generator: torch.Generator, weight_decay: float = 0.0, parameters=None, augment=None,
        progress=None) -> nn.Module:
    """Train ``model`` (or only ``parameters``) for ``steps`` minibatches; returns it in eval mode.

    ``data`` stays where it is (on the device); batches index into it without copies
    of the whole set. ``augment`` maps an input batch to an augmented batch.
    """
    model.train()
    optimiser = torch.optim.Adam(model.parameters() if parameters is None else parameters,
                                 lr=lr, weight_decay=weight_decay)
    for step, index in enumerate(batches(len(data), batch_size, steps, generator)):
        index = index.to(data.inputs.device)
        inputs = data.inputs[index]  # [B, C, H, W]
        if augment is not None:
            inputs = augment(inputs)
        loss = F.cross_entropy(model(inputs), data.labels[index])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if progress is not None and step % 50 == 0:
            progress(step / steps)
    return model.eval()
