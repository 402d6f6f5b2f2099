"""E models of one sequential architecture run as ONE network: stacked convolutions become one
grouped convolution, stacked linear layers one batched matrix product.

``torch.func.vmap`` of E small models runs E small kernels on the CPU, and it cannot use the
channels-last layout that oneDNN's pooling and normalisation need (see
``benchmark.toolkit.backbones.ConvTrunk``). Here the E models' images are laid side by side along
the channels instead, the classic grouped-convolution trick for model ensembles:

    inputs [E, B, C, H, W] -> x [B, E*C, H, W]   (model e's channels are block e)
    Conv2d           weights [E, O, C, k, k] -> [E*O, C, k, k], groups = E (x the layer's own)
    BatchNorm2d      per channel of x = per model: statistics over its own minibatch, running
                     statistics updated in place in the stacked buffers [E, C]
    SupportBatchNorm the same normalisation by the batch's own statistics (training mode only)
    GroupNorm(g, C)  E*g groups of x: each model's channels normalised apart, per example
    ReLU, MaxPool2d, AdaptiveAvgPool2d   per channel, unchanged
    Flatten          x [B, E*D] -> [E, B, D] (each model's features in its own [C, H, W] order)
    Linear           torch.baddbmm over the E models

Every model computes exactly what it computes alone (tests/test_stacked.py), up to
floating-point reordering inside the kernels. Architectures built of anything else (a
residual block, dropout) are not ``supported``: callers fall back to ``vmap``.
Measured on 2 shared CPU cores (bench/episodes.py): the training step of 16 conv4 models on
5 images each, per model, is ~1.3x faster than one model alone in channels-last, against
~0.9x through vmap; convolutions dominate either way (their FLOPs bound the gain).
"""

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.toolkit.backbones import Classifier, SupportBatchNorm, channels_last

ELEMENTWISE = (nn.ReLU, nn.Identity)
IMAGE_LAYERS = (nn.Conv2d, nn.BatchNorm2d, SupportBatchNorm, nn.GroupNorm, nn.MaxPool2d, nn.AdaptiveAvgPool2d)


def layers(model: nn.Module) -> list[tuple[str, nn.Module]] | None:
    """The (name, leaf module) pairs ``model`` applies in order, or None when its forward is not
    just their composition: a Classifier (trunk then head), an ``nn.Sequential`` (nested ones
    too) or one ``nn.Linear``."""
    if isinstance(model, Classifier):
        trunk = layers(model.trunk)
        return None if trunk is None else [(f"trunk.{name}" if name else "trunk", m) for name, m in trunk] + \
            [("head", model.head)]
    if isinstance(model, nn.Sequential):
        found = []
        for name, child in model.named_children():
            inner = layers(child)
            if inner is None:
                return None
            found += [(f"{name}.{sub}" if sub else name, m) for sub, m in inner]
        return found
    if isinstance(model, (nn.Linear, nn.Flatten) + ELEMENTWISE + IMAGE_LAYERS):
        return [("", model)]
    return None


def supported(model: nn.Module) -> bool:
    """Whether ``forward`` runs E stacked copies of ``model`` (in the mode ``model`` is in)."""
    found = layers(model)
    if not found:
        return False
    for _, layer in found:
        if isinstance(layer, nn.Conv2d) and layer.padding_mode != "zeros":
            return False
        if isinstance(layer, nn.BatchNorm2d) and not (layer.affine and layer.track_running_stats):
            return False
        if isinstance(layer, SupportBatchNorm) and not layer.training:  # its statistics live on the module
            return False
        if isinstance(layer, nn.GroupNorm) and not layer.affine:
            return False
        if isinstance(layer, nn.Flatten) and (layer.start_dim, layer.end_dim) != (1, -1):
            return False
    return True


def forward(model: nn.Module, params: dict, buffers: dict, inputs: torch.Tensor) -> torch.Tensor:
    """Outputs [E, B, ...] of E copies of ``model`` (``supported``) whose parameters and buffers are
    ``params`` / ``buffers`` (name -> [E, ...], as ``torch.func.stack_module_state`` makes them),
    copy e on ``inputs[e]`` ([E, B, C, H, W] images or [E, B, D] features). ``model`` gives the
    architecture and the mode (training: batch statistics, running ones updated in ``buffers``)."""
    count, batch = inputs.shape[:2]
    x = inputs
    if inputs.dim() == 5:  # images: side by side along the channels
        x = inputs.transpose(0, 1).reshape(batch, -1, *inputs.shape[3:])
        if x.device.type == "cpu":
            x = channels_last(x)
    for name, layer in layers(model):
        p = (lambda key: params.get(f"{name}.{key}" if name else key))
        if isinstance(layer, nn.Conv2d):
            bias = p("bias")
            x = F.conv2d(x, p("weight").flatten(0, 1), None if bias is None else bias.flatten(), layer.stride,
                         layer.padding, layer.dilation, layer.groups * count)
        elif isinstance(layer, nn.BatchNorm2d):
            key = (lambda buffer: buffers[f"{name}.{buffer}" if name else buffer])
            if layer.training:
                key("num_batches_tracked").add_(1)
            momentum = layer.momentum if layer.momentum is not None else \
                1.0 / float(key("num_batches_tracked").flatten()[0])  # cumulative average, as BatchNorm2d
            x = F.batch_norm(x, key("running_mean").view(-1), key("running_var").view(-1), p("weight").flatten(),
                             p("bias").flatten(), layer.training, momentum, layer.eps)
        elif isinstance(layer, SupportBatchNorm):
            x = F.batch_norm(x, None, None, p("weight").flatten(), p("bias").flatten(), True, 0.0, layer.eps)
        elif isinstance(layer, nn.GroupNorm):
            x = F.group_norm(x, layer.num_groups * count, p("weight").flatten(), p("bias").flatten(), layer.eps)
        elif isinstance(layer, nn.MaxPool2d):
            x = F.max_pool2d(x, layer.kernel_size, layer.stride, layer.padding, layer.dilation, layer.ceil_mode)
        elif isinstance(layer, nn.AdaptiveAvgPool2d):
            x = F.adaptive_avg_pool2d(x, layer.output_size)
        elif isinstance(layer, nn.Flatten):
            x = x.reshape(batch, count, -1).transpose(0, 1)  # [E, B, D], D in each model's [C, H, W] order
        elif isinstance(layer, nn.Linear):
            weight, bias = p("weight").transpose(1, 2), p("bias")          # [E, D, out], [E, out]
            x = torch.bmm(x, weight) if bias is None else torch.baddbmm(bias[:, None, :], x, weight)
        elif isinstance(layer, nn.ReLU):
            x = F.relu(x)
    return x
