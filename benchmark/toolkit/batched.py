"""E independent copies of one network trained together, for adapting E few-shot episodes at once.

A few-shot support set is tiny (5 to 100 images), so adapting one episode at a time runs
thousands of small forward/backward passes whose cost is mostly per-call overhead. Here E
models of the same architecture are stacked (``torch.func.stack_module_state``: every
parameter and buffer gains a leading [E] dimension) and run as one network, each on its own
episode's minibatch, in one pass: the built-in sequential trunks as one grouped-convolution
network (``benchmark.toolkit.stacked``), any other architecture through one ``torch.func.vmap`` of
``torch.func.functional_call`` (Horace He and Richard Zou, functorch's "model ensembling"
recipe). Nothing is shared between the E models:

    gradients      the loss is the SUM of the E per-episode mean losses, so the gradient of
                   model e's parameters is that of its own episode's loss alone
    optimiser      torch.optim.Adam on the stacked tensors: Adam is elementwise (moments,
                   bias correction and weight decay per entry), so each model has exactly
                   the state it would have alone
    BatchNorm      each model has its own running statistics (buffers stacked like the
                   parameters, updated in place per model by vmap's batch-norm rule) and
                   normalises by its own minibatch's statistics
    random draws   each episode's minibatch order (and augmentation) comes from its own
                   ``ctx.generator``, drawn in the order the serial loop draws it

so E models trained here equal E models trained one by one by ``benchmark.toolkit.training.fit``,
up to floating-point reordering inside the batched kernels (tests/test_batched.py states
the tolerance). The models are handed back as ordinary modules, in eval mode.
"""

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from benchmark.strategy.context import seed_torch
from benchmark.toolkit import stacked
from benchmark.toolkit.training import adam, minibatches

# Bound on the activations one stacked training step keeps for backward (estimated per image
# by ``activation_bytes``): the E models of one call are trained in groups that fit it.
TRAIN_MEMORY_BYTES = 512 * 2 ** 20


def activation_bytes(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Bytes of every module output for one input of ``input_shape`` (C, H, W): a per-image
    estimate of what a training step keeps for backward (x2: the gradients of the same size).
    Measured on a copy, so no statistic of ``model`` moves."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(output, torch.Tensor) and not list(module.children()):
            total += output.numel() * output.element_size()

    probe = copy.deepcopy(model).train()  # training mode, as in the step it estimates; model's statistics untouched
    for module in probe.modules():
        module.register_forward_hook(count)
    parameter = next(probe.parameters())
    with torch.no_grad():
        probe(torch.zeros(2, *input_shape, device=parameter.device, dtype=parameter.dtype))  # 2: BatchNorm needs >1
    total //= 2
    return 2 * total


def group_size(model: nn.Module, input_shape, rows_per_step: int, budget: int = TRAIN_MEMORY_BYTES) -> int:
    """How many models of ``rows_per_step`` images each one stacked step may train within ``budget`` bytes."""
    return max(1, budget // max(1, rows_per_step * activation_bytes(model, input_shape)))


def stacked_forward(base: nn.Module):
    """(params, buffers, inputs [E, B, ...]) -> outputs [E, B, ...] of E copies of ``base`` in its
    current mode: one grouped network where ``benchmark.toolkit.stacked`` supports the architecture
    (measured faster on CPU, and channels-last), else vmap of ``functional_call``."""
    if stacked.supported(base):
        return lambda parameters, buffers_, batch: stacked.forward(base, parameters, buffers_, batch)
    return vmap(lambda parameters, buffers_, batch: functional_call(base, (parameters, buffers_), (batch,)))


def fit_stacked(models: list[nn.Module], inputs: list[torch.Tensor], labels: list[torch.Tensor], *, steps: int,
                lr: float, batch_size: int, generators: list[torch.Generator], weight_decay: float = 0.0,
                augments=None) -> list[nn.Module]:
    """``benchmark.toolkit.training.fit`` of ``models[e]`` on (``inputs[e]`` [S, ...], ``labels[e]`` [S]) for every e,
    as one stacked model; returns the models with the trained weights and statistics, in eval mode.

    All models share one architecture and all support sets one size S (an N-way K-shot
    episode's). ``generators[e]`` draws episode e's minibatch order and ``augments[e]`` (or
    None) maps its input batch [B, ...] to an augmented one, as in the serial loop.
    """
    count = len(models)
    params, buffers = stack_module_state(models)  # name -> [E, ...]; params are fresh leaves
    base = models[0]
    base.train()

    forward = stacked_forward(base)
    optimiser = adam(params.values(), lr=lr, weight_decay=weight_decay)
    # Each episode's row order, drawn lazily from its own generator exactly as ``fit`` draws it.
    rows = torch.arange(len(labels[0]), device=labels[0].device)
    streams = [minibatches((rows,), batch_size, steps, generator) for generator in generators]
    for _ in range(steps):
        batch_inputs, batch_labels = [], []
        for e, stream in enumerate(streams):
            (index,) = next(stream)
            batch = inputs[e][index]
            if augments is not None and augments[e] is not None:
                batch = augments[e](batch)
            batch_inputs.append(batch)
            batch_labels.append(labels[e][index])
        batch_labels = torch.stack(batch_labels)                                       # [E, B]
        logits = forward(params, buffers, torch.stack(batch_inputs))                    # [E, B, n_classes]
        losses = F.cross_entropy(logits.flatten(0, 1), batch_labels.flatten(), reduction="none")
        loss = losses.view(count, -1).mean(dim=1).sum()  # sum of per-episode means: independent gradients
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        for e, model in enumerate(models):
            for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
                tensor.copy_((params.get(name) if name in params else buffers[name])[e])
    return [model.eval() for model in models]


def fit_stacked_grouped(models, inputs, labels, *, input_shape, steps: int, batch_size: int, **fit_options):
    """``fit_stacked`` in groups of models whose stacked step fits ``TRAIN_MEMORY_BYTES``."""
    group = group_size(models[0], input_shape, min(batch_size, len(labels[0])))
    generators, augments = fit_options.pop("generators"), fit_options.pop("augments", None)
    trained = []
    for start in range(0, len(models), group):
        part = slice(start, start + group)
        trained += fit_stacked(models[part], inputs[part], labels[part], steps=steps, batch_size=batch_size,
                               generators=generators[part], augments=augments[part] if augments else None,
                               **fit_options)
    return trained


def fit_episodes(models: list[nn.Module], supports, contexts, *, steps: int, lr: float, batch_size: int,
                 weight_decay: float = 0.0, augments=None, inputs=None) -> list[nn.Module]:
    """``fit`` of ``models[e]`` on ``supports[e]`` with ``contexts[e].generator``, for every episode e,
    trained together in memory-bounded groups. ``inputs``: what the models read instead of
    the support images (e.g. frozen features, [S, D] per episode)."""
    inputs = inputs if inputs is not None else [support.inputs for support in supports]
    return fit_stacked_grouped(models, inputs, [support.labels for support in supports],
                               input_shape=tuple(inputs[0].shape[1:]), steps=steps, lr=lr, batch_size=batch_size,
                               weight_decay=weight_decay, generators=[ctx.generator for ctx in contexts],
                               augments=augments)


def seeded(contexts, build) -> list:
    """``build(ctx)`` for every episode, torch's generator seeded with ``ctx.seed`` first, as the
    runner seeds it before each ``adapt`` (new layers draw their initial weights from it)."""
    built = []
    for ctx in contexts:
        seed_torch(ctx.seed, ctx.device)
        built.append(build(ctx))
    return built


def inner_loop(model: nn.Module, supports, steps: int, lr: float) -> list[nn.Module]:
    """MAML's test-time adaptation (``plugins.maml.adapted`` with first-order steps, no meta-training)
    of E episodes at once: from ``model``'s parameters, ``steps`` plain gradient steps of size ``lr``
    on each support set's cross-entropy, all E inner loops in one vmapped pass per step.

    Returns one adapted copy of ``model`` per episode, in eval mode, after one more pass of its
    support set in training mode (so SupportBatchNorm layers hold that set's statistics, as
    ``adapted`` leaves them). ``model`` itself is not touched. Episodes run in groups whose
    stacked pass fits ``TRAIN_MEMORY_BYTES``.
    """
    group = group_size(model, tuple(supports[0].inputs.shape[1:]), len(supports[0]))
    return [clone for start in range(0, len(supports), group)
            for clone in _inner_loop(model, supports[start:start + group], steps, lr)]


def _inner_loop(model: nn.Module, supports, steps: int, lr: float) -> list[nn.Module]:
    inputs = torch.stack([support.inputs for support in supports])    # [E, S, C, H, W]
    labels = torch.stack([support.labels for support in supports])    # [E, S]
    count = len(supports)
    # A private copy runs the vmapped passes: SupportBatchNorm keeps the statistics of the last
    # batch on its module, and neither ``model`` nor the returned clones may hold vmap's.
    template, work = copy.deepcopy(model), copy.deepcopy(model).train()
    params = {name: p.detach().expand(count, *p.shape).clone() for name, p in model.named_parameters()}  # [E, ...]
    buffers = {name: b.expand(count, *b.shape).clone() for name, b in model.named_buffers()}
    forward = stacked_forward(work)
    for _ in range(steps):
        params = {name: p.detach().requires_grad_() for name, p in params.items()}
        logits = forward(params, buffers, inputs)                                   # [E, S, n_classes]
        losses = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none")
        gradients = torch.autograd.grad(losses.view(count, -1).mean(dim=1).sum(), list(params.values()))
        params = {name: p.detach() - lr * g for (name, p), g in zip(params.items(), gradients)}
    adapted = []
    for e in range(count):
        clone = copy.deepcopy(template)
        with torch.no_grad():
            for name, tensor in clone.named_parameters():
                tensor.copy_(params[name][e])
            clone.train()(inputs[e])  # leaves the support set's statistics in SupportBatchNorm layers
        adapted.append(clone.eval())
    return adapted
