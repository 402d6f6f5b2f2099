"""A pass over a whole set outside training goes through the network at most FORWARD_BATCH rows at a time."""

import pytest
import torch

from benchmark import Context, build_classifier, forward_in_batches
from benchmark.checks.contract import basic_cases
from benchmark.toolkit.training import FORWARD_BATCH
from plugins.frozen_feature import FrozenFeature
from plugins.multitask import MultiTask


def test_forward_in_batches_concatenates_the_batches_in_order():
    sizes = []

    def double(batch):
        sizes.append(len(batch))
        return batch * 2
    inputs = torch.arange(2500.0).reshape(-1, 1)  # [2500, 1]
    assert torch.equal(forward_in_batches(double, inputs), inputs * 2)
    assert sizes == [FORWARD_BATCH, FORWARD_BATCH, 2500 - 2 * FORWARD_BATCH]


@pytest.mark.parametrize("strategy", [FrozenFeature(), MultiTask(adapt_steps=1, source_replay=False)],
                         ids=["frozen-feature", "multitask distillation"])
def test_a_whole_pool_support_set_goes_through_the_trunk_in_batches(strategy, tmp_path):
    case = basic_cases()[0]
    pool = case.support.subset(torch.arange(len(case.support)).repeat(250))  # 2,500 rows, as budget "all" gives
    torch.manual_seed(0)
    strategy.model_ = build_classifier(case.task.input_shape, case.source.num_classes)  # stands in for pretrain
    strategy.trunk_trained_ = True
    sizes = []
    strategy.model_.trunk.register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])))
    strategy.adapt(pool, Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task, tmp_path))
    assert max(sizes) == FORWARD_BATCH  # the whole pool was read, a batch at a time
