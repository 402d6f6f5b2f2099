"""frozen-feature moves only its head: the trunk stays bit-for-bit, and it runs once per support set."""

import torch
import torch.nn.functional as F

from benchmark import Context
from benchmark.checks.contract import basic_cases
from plugins.frozen_feature import FrozenFeature


def adapt_after_pretrain(tmp_path, adapt_steps):
    case = basic_cases()[0]  # real digits: source classes 0-4, a 2-shot support set of classes 5-9
    strategy = FrozenFeature(pretrain_epochs=1, adapt_steps=adapt_steps, adapt_lr=1e-2)
    torch.manual_seed(0)
    strategy.pretrain(case.source, Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task, tmp_path))
    trunk_before = {name: value.clone() for name, value in strategy.model_.trunk.state_dict().items()}
    trunk_calls = []
    hook = strategy.model_.trunk.register_forward_hook(lambda *args: trunk_calls.append(args[1][0].shape[0]))
    torch.manual_seed(1)
    predictor = strategy.adapt(case.support, Context(torch.device("cpu"), 1, torch.Generator().manual_seed(1),
                                                    case.task, tmp_path))
    hook.remove()
    return strategy, predictor, case, trunk_before, trunk_calls


def test_the_trunk_is_bit_for_bit_unchanged_and_only_the_head_learns(tmp_path):
    strategy, predictor, case, trunk_before, trunk_calls = adapt_after_pretrain(tmp_path, adapt_steps=200)
    trunk_after = strategy.model_.trunk.state_dict()
    assert trunk_before.keys() == trunk_after.keys() and any("running_mean" in k for k in trunk_after)
    assert all(torch.equal(trunk_before[k], trunk_after[k]) for k in trunk_before)  # weights and BN statistics
    assert trunk_calls == [len(case.support)]  # features once for 200 steps, not once per step
    assert predictor.trunk is strategy.model_.trunk  # the predictor reads through the same frozen trunk

    _, untrained, *_ = adapt_after_pretrain(tmp_path, adapt_steps=0)  # same seeds, same initial head
    assert not torch.equal(predictor.head.weight, untrained.head.weight)
    with torch.no_grad():
        loss = F.cross_entropy(predictor(case.support.inputs), case.support.labels)
        untrained_loss = F.cross_entropy(untrained(case.support.inputs), case.support.labels)
    assert loss < 0.5 * untrained_loss
