"""augment-only never reads the source, and its policy really distorts each example on its own."""

import torch

from benchmark import Context
from benchmark.checks.contract import basic_cases
from plugins.augment_only import Augmenter, AugmentOnly, augmentation_policy
from plugins.target_only import TargetOnly


class UntouchableSource:
    """A source dataset that fails the test on any use."""

    def __getattr__(self, name):
        raise AssertionError(f"augment-only read the source dataset (.{name})")

    def __len__(self):
        raise AssertionError("augment-only read the source dataset (len)")


def test_never_touches_the_source(tmp_path):
    case = basic_cases()[0]
    strategy = AugmentOnly(adapt_steps=3)
    ctx = Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task, tmp_path)
    strategy.pretrain(UntouchableSource(), ctx)
    scores = strategy.adapt(case.support, ctx)(case.query)
    assert scores.shape == (len(case.query), case.support.num_classes)


def test_each_example_gets_its_own_distortion_on_its_own_background():
    digit = basic_cases()[0].support.inputs[:1]                       # [1, 1, 16, 16], black background
    batch = torch.cat([digit.repeat(8, 1, 1, 1), (1 - digit).repeat(8, 1, 1, 1)])  # and inverted: white
    policy = augmentation_policy((16, 16), rotation=15.0, translate=0.1, scale=0.1, crop_scale=0.8, noise=0.0)
    global_state = torch.get_rng_state()
    augmented = Augmenter(policy, torch.Generator().manual_seed(0), torch.device("cpu"))(batch)
    assert torch.equal(torch.get_rng_state(), global_state)  # draws follow the strategy's generator only
    assert len({tuple(image.flatten().tolist()) for image in augmented[:8]}) == 8  # 8 different distortions
    corners = augmented[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]   # [16, 4]: pixels an affine move exposes
    assert corners[:8].max() < 0.5 < corners[8:].min()  # dark stays dark, white stays white: no artificial frame
    again = Augmenter(policy, torch.Generator().manual_seed(0), torch.device("cpu"))(batch)
    assert torch.equal(augmented, again)


def test_it_is_target_only_with_a_policy():
    # One adapt and the same defaults for the shared hyperparameters: the gap between the two is the policy alone.
    assert AugmentOnly.adapt is TargetOnly.adapt and TargetOnly().augmenter(None) is None
    shared = TargetOnly().get_params()
    assert {name: value for name, value in AugmentOnly().get_params().items() if name in shared} == shared
