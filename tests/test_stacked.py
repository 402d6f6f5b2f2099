"""E stacked models run as one grouped network compute what each computes alone (benchmark.toolkit.stacked),
and the channels-last trunk computes what a plain Sequential computes (benchmark.toolkit.backbones.ConvTrunk).

Float32 on small random inputs: the grouped kernels only reorder sums, measured at most
~3e-6 on conv4 outputs of magnitude ~1; ``TOLERANCE`` 1e-4 is far below what a wrong
layout would cause (another model's channels or another example's statistics: O(1))."""

import pytest
import torch
from torch import nn
from torch.func import stack_module_state

from benchmark import NORMS, batched, build_classifier
from benchmark.toolkit import stacked

TOLERANCE = 1e-4
MODELS, BATCH = 3, 6


def models_and_inputs(backbone: str, norm: str, training: bool = True):
    torch.manual_seed(0)
    models = [build_classifier((1, 16, 16), 5, backbone, hidden=8, norm=norm).train(training)
              for _ in range(MODELS)]
    for model in models:  # distinct running statistics, so eval mode would show a mix-up
        for name, buffer in model.named_buffers():
            if buffer.is_floating_point():
                buffer.uniform_(0.5, 1.5)
    return models, torch.randn(MODELS, BATCH, 1, 16, 16)


@pytest.mark.parametrize("backbone", ["conv4", "lenet"])
@pytest.mark.parametrize("norm", NORMS)
def test_stacked_models_compute_what_each_computes_alone(backbone, norm):
    models, inputs = models_and_inputs(backbone, norm)
    assert stacked.supported(models[0])
    params, buffers = stack_module_state(models)
    outputs = stacked.forward(models[0], params, buffers, inputs)            # [E, B, 5]
    alone = torch.stack([model(inputs[e]) for e, model in enumerate(models)])  # updates each model's statistics
    assert outputs.shape == (MODELS, BATCH, 5)
    assert (outputs - alone).abs().max() < TOLERANCE
    for e, model in enumerate(models):  # training mode: running statistics moved as each model's own
        for name, buffer in model.named_buffers():
            assert torch.allclose(buffers[name][e].to(buffer.dtype), buffer, atol=TOLERANCE), name


@pytest.mark.parametrize("backbone", ["conv4", "lenet"])
def test_stacked_models_in_eval_mode_use_their_own_running_statistics(backbone):
    models, inputs = models_and_inputs(backbone, "batch", training=False)
    params, buffers = stack_module_state(models)
    outputs = stacked.forward(models[0], params, buffers, inputs)
    alone = torch.stack([model(inputs[e]) for e, model in enumerate(models)])
    assert (outputs - alone).abs().max() < TOLERANCE


def test_stacked_gradients_are_each_models_own():
    models, inputs = models_and_inputs("conv4", "batch")
    params, buffers = stack_module_state(models)
    stacked.forward(models[0], params, buffers, inputs).square().mean(dim=(1, 2)).sum().backward()
    for e, model in enumerate(models):
        model(inputs[e]).square().mean().backward()
        for name, parameter in model.named_parameters():
            assert torch.allclose(params[name].grad[e], parameter.grad, atol=TOLERANCE), name


def test_architectures_it_cannot_stack_fall_back_to_vmap():
    assert not stacked.supported(nn.Sequential(nn.Flatten(), nn.Linear(16, 4), nn.Dropout(0.5)))
    assert not stacked.supported(build_classifier((1, 16, 16), 5, "conv4", hidden=8, norm="support").eval())
    assert stacked.supported(nn.Linear(16, 4))  # frozen-feature's heads: one bmm
    torch.manual_seed(0)
    inputs = torch.randn(MODELS, BATCH, 16)
    for activation in (nn.ReLU, nn.Softplus):  # stacked, then vmap: each agrees with the models alone
        models = [nn.Sequential(nn.Linear(16, 4), activation(), nn.Linear(4, 2)) for _ in range(MODELS)]
        assert stacked.supported(models[0]) == (activation is nn.ReLU)
        params, buffers = stack_module_state(models)
        outputs = batched.stacked_forward(models[0])(params, buffers, inputs)
        alone = torch.stack([model(inputs[e]) for e, model in enumerate(models)])
        assert (outputs - alone).abs().max() < TOLERANCE


def test_the_channels_last_trunk_computes_what_a_plain_sequential_computes():
    torch.manual_seed(0)
    model = build_classifier((1, 28, 28), 5, "conv4", hidden=8).eval()
    inputs = torch.rand(10, 1, 28, 28)
    plain = model.head(nn.Sequential(*model.trunk)(inputs))
    assert (model(inputs) - plain).abs().max() < TOLERANCE
    # the same parameter names as a Sequential trunk: states saved before load unchanged
    assert [f"trunk.{name}" for name in nn.Sequential(*model.trunk).state_dict()] == \
        [name for name in model.state_dict() if name.startswith("trunk.")]
    layouts = []
    hook = model.trunk[0][0].register_forward_hook(lambda module, args, output: layouts.append(
        output.is_contiguous(memory_format=torch.channels_last) and not output.is_contiguous()))
    model(inputs)  # one input channel: the trunk must still make the convolutions channels-last
    hook.remove()
    assert layouts == [True]
    # vmap cannot query a layout: the trunk passes batched tensors unchanged, so vmap still works
    through_vmap = torch.func.vmap(model)(inputs[None])[0]
    assert (through_vmap - plain).abs().max() < TOLERANCE
