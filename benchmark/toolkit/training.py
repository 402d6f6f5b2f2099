"""The supervised training loop the built-in strategies share (Adam on cross-entropy),
and the batched forward pass over a whole set outside it."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.data.labelled import LabelledData

FORWARD_BATCH = 1024  # rows per forward pass outside training: bounds memory on a whole pool or test split


def forward_in_batches(function, inputs: torch.Tensor, batch_size: int = FORWARD_BATCH) -> torch.Tensor:
    """``function`` of the rows of ``inputs`` [N, ...], ``batch_size`` rows at a time, without
    gradients: the outputs concatenated in order, [N, ...].

    Budget "all" makes a support set a whole target pool: one pass of every row would hold
    all their activations at once. ``function`` must treat rows independently (a network
    in eval mode), or batching would change its result.
    """
    with torch.no_grad():
        if len(inputs) <= batch_size:  # every episode's queries: no slicing, no copy into a concatenation
            return function(inputs)
        return torch.cat([function(inputs[i:i + batch_size]) for i in range(0, len(inputs), batch_size)])


def epochs_to_steps(epochs: int, n_examples: int, batch_size: int) -> int:
    """Minibatch steps of ``epochs`` passes over ``n_examples`` (the last batch of a pass may be partial)."""
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


def minibatches(tensors: tuple[torch.Tensor, ...], batch_size: int, steps: int, generator: torch.Generator):
    """``steps`` minibatches of the rows of ``tensors`` (each [N, ...], on one device), as tuples.

    A set no larger than one batch (every few-shot support set) is yielded whole each
    step: permuting and gathering it would copy the whole set per batch for nothing.
    """
    if len(tensors[0]) <= batch_size:
        for _ in range(steps):
            yield tensors
        return
    for index in batches(len(tensors[0]), batch_size, steps, generator):
        index = index.to(tensors[0].device)
        yield tuple(tensor[index] for tensor in tensors)  # [B, ...] each


def adam(parameters, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """``torch.optim.Adam`` with its fused kernel (one pass over each tensor for the moments and the
    update): the same algorithm, up to floating-point reordering. On CPU it is about 5x faster than
    the default multi-tensor path on a 32,000 x 256 token embedding, whose update dominates a text
    fine-tuning step. Falls back to the default where the fused kernel does not apply."""
    parameters = list(parameters)
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in parameters)
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, fused=fusable or None)


PROGRESS_REPORTS = 100  # ctx.progress calls per training loop at most (+ the start): every ~1% of its steps


def step_progress(progress, steps: int, reports: int = PROGRESS_REPORTS):
    """``tick(done)`` for a loop of ``steps`` steps: passes ``done / steps`` to ``progress`` at
    ``done`` = 0, every ``steps // reports`` steps and at the last step, so a long loop reports
    about every 1% and a short one every step; ``progress`` None: a tick does nothing.

    ``ctx.progress`` is cheap, but a million-step loop need not call it a million times. With
    ``steps`` = 0 the loop is done before it starts: ``tick(0)`` reports 1.0.
    """
    if progress is None:
        return lambda done: None
    every = max(1, steps // reports)

    def tick(done: int) -> None:
        if done % every == 0 or done == steps:
            progress(done / steps if steps else 1.0)
    return tick


def fit(model: nn.Module, data: LabelledData, *, steps: int, lr: float, batch_size: int,
        generator: torch.Generator, weight_decay: float = 0.0, augment=None, progress=None,
        regulariser=None) -> nn.Module:
    """Train ``model`` for ``steps`` minibatches of Adam on cross-entropy; returns it in eval mode.

    ``data`` stays where it is (on the device); batches index into it without copies of the
    whole set. Each step minimises

        mean cross-entropy of the batch (nats per example) + regulariser(model)

    ``augment``: maps an input batch to an augmented batch. ``weight_decay``: Adam's coupled
    L2 (``torch.optim.Adam``), on every parameter, besides any regulariser.
    ``progress``: called with the fraction of the steps done, in [0, 1]: 0 before the first
    step, then about every 1% of the steps (``step_progress``), 1.0 after the last; pass
    ``ctx.progress``. ``regulariser``: a function of ``model`` returning a scalar tensor (shape
    [], on the model's device) in the loss's units, added to each step's loss before the
    backward pass. It is evaluated every step on the current parameters, so it may read them
    directly, and its gradient joins the cross-entropy's in the same Adam step: e.g. L2-SP's
    alpha/2 * ||w_trunk - w0||^2 (plugins/l2sp.py; ``Classifier.parameter_groups`` names the
    parameters). A regulariser that returns anything but a scalar tensor raises TypeError.
    """
    return fit_tensors(model, data.inputs, data.labels, steps=steps, lr=lr, batch_size=batch_size,
                       generator=generator, weight_decay=weight_decay, augment=augment, progress=progress,
                       regulariser=regulariser)


def fit_tensors(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, *, steps: int, lr: float,
                batch_size: int, generator: torch.Generator, weight_decay: float = 0.0, augment=None,
                progress=None, regulariser=None) -> nn.Module:
    """``fit`` on bare tensors: inputs [N, ...] (images, or features for a linear head), labels [N]."""
    model.train()
    optimiser = adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    tick = step_progress(progress, steps)
    tick(0)
    for step, (batch_inputs, batch_labels) in enumerate(minibatches((inputs, labels), batch_size, steps, generator)):
        if augment is not None:
            batch_inputs = augment(batch_inputs)
        loss = F.cross_entropy(model(batch_inputs), batch_labels)  # [] mean over the batch
        if regulariser is not None:
            loss = loss + penalty_of(regulariser, model)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        tick(step + 1)
    return model.eval()


def penalty_of(regulariser, model: nn.Module) -> torch.Tensor:
    """``regulariser(model)``, checked to be a scalar tensor (a shape check: no device sync)."""
    penalty = regulariser(model)
    if not isinstance(penalty, torch.Tensor) or penalty.dim() != 0:
        shape = f"a tensor of shape {list(penalty.shape)}" if isinstance(penalty, torch.Tensor) else \
            f"a {type(penalty).__name__}"
        raise TypeError(f"fit's regulariser must return a scalar tensor (shape []) to add to the loss; "
                        f"{getattr(regulariser, '__name__', type(regulariser).__name__)} returned {shape}")
    return penalty
