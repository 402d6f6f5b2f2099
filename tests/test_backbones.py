"""Building a backbone runs nothing through it: no normalisation state is set before training."""

import pytest
import torch

from benchmark import BACKBONES, SupportBatchNorm, build_trunk


@pytest.mark.parametrize("backbone", BACKBONES)
def test_building_leaves_batchnorm_at_its_initial_statistics(backbone):
    trunk, _ = build_trunk((1, 28, 28), backbone)
    statistics = {name: value for name, value in trunk.state_dict().items() if "running" in name or "batches" in name}
    assert statistics  # the test reads BatchNorm buffers, so the backbone must have some
    for name, value in statistics.items():
        initial = 1 if name.endswith("running_var") else 0  # running_mean and num_batches_tracked start at 0
        assert torch.equal(value, torch.full_like(value, initial)), name


@pytest.mark.parametrize("backbone", BACKBONES)
def test_building_leaves_support_batchnorm_without_statistics(backbone):
    trunk, _ = build_trunk((1, 28, 28), backbone, norm="support")
    layers = [m for m in trunk.modules() if isinstance(m, SupportBatchNorm)]
    assert layers and all(layer.statistics is None for layer in layers)
    with pytest.raises(RuntimeError, match="no statistics"):  # the guard against scoring before the support set
        trunk.eval()(torch.zeros(1, 1, 28, 28))


@pytest.mark.parametrize("size", [(5, 5), (16, 16), (17, 17), (28, 28), (28, 20), (84, 84)])
def test_conv4_feature_dim_is_what_the_trunk_outputs(size):
    trunk, feature_dim = build_trunk((3, *size), "conv4", hidden=8, norm="none")
    assert trunk(torch.zeros(2, 3, *size)).shape == (2, feature_dim)
    if size == (28, 28):
        assert feature_dim == 8 * 2 * 2  # ceil-mode pools: 28 -> 14 -> 7 -> 4 -> 2
