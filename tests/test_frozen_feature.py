"""frozen-feature moves only its head: the trunk stays bit-for-bit, runs once per support set,
and the head is the probe's optimum with C chosen as its notes say."""

import torch
import torch.nn.functional as F

from benchmark import Context
from benchmark.checks.contract import basic_cases
from plugins.frozen_feature import FrozenFeature


def adapt_after_pretrain(tmp_path, C, support=None):
    case = basic_cases()[0]  # real digits: source classes 0-4, a 2-shot support set of classes 5-9
    support = support or case.support
    strategy = FrozenFeature(pretrain_epochs=1, C=C)
    torch.manual_seed(0)
    strategy.pretrain(case.source, Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task, tmp_path))
    trunk_before = {name: value.clone() for name, value in strategy.model_.trunk.state_dict().items()}
    trunk_calls = []
    hook = strategy.model_.trunk.register_forward_hook(lambda *args: trunk_calls.append(args[1][0].shape[0]))
    predictor = strategy.adapt(support, Context(torch.device("cpu"), 1, torch.Generator().manual_seed(1),
                                                case.task, tmp_path))
    hook.remove()
    return strategy, predictor, case, trunk_before, trunk_calls


def test_the_trunk_is_bit_for_bit_unchanged_and_only_the_head_learns(tmp_path):
    strategy, predictor, case, trunk_before, trunk_calls = adapt_after_pretrain(tmp_path, C="cv")
    trunk_after = strategy.model_.trunk.state_dict()
    assert trunk_before.keys() == trunk_after.keys() and any("running_mean" in k for k in trunk_after)
    assert all(torch.equal(trunk_before[k], trunk_after[k]) for k in trunk_before)  # weights and BN statistics
    assert trunk_calls == [len(case.support)]  # features once for the whole solve
    assert predictor.trunk is strategy.model_.trunk  # the predictor reads through the same frozen trunk
    # 2 examples per class: 2-fold cross-validation, and the notes say so
    assert "2-fold stratified cross-validation" in strategy.adapt_notes()["C_chosen_by"]

    _, regularised, *_ = adapt_after_pretrain(tmp_path, C=1e-6)  # a penalty that keeps the head near 0
    _, weak, *_ = adapt_after_pretrain(tmp_path, C=100.0)
    with torch.no_grad():
        loss, regularised_loss, weak_loss = (F.cross_entropy(model(case.support.inputs), case.support.labels)
                                             for model in (predictor, regularised, weak))
    assert weak_loss < loss < regularised_loss and weak_loss < 0.5 * regularised_loss


def test_C_is_cross_validated_where_k_allows_and_fixed_where_it_does_not(tmp_path):
    case = basic_cases()[0]
    support = case.support.subset(torch.arange(len(case.support)).repeat(3))  # 6 rows per class
    strategy, *_ = adapt_after_pretrain(tmp_path, C="cv", support=support)
    notes = strategy.adapt_notes()
    assert "5-fold stratified cross-validation" in notes["C_chosen_by"] and notes["C"] in [10.0 ** e for e in range(-4, 5)]

    first = torch.tensor([int(torch.nonzero(case.support.labels == c)[0]) for c in range(case.support.num_classes)])
    strategy, *_ = adapt_after_pretrain(tmp_path, C="cv", support=case.support.subset(first))  # 1-shot
    assert strategy.adapt_notes()["C"] == 1.0 and "fixed C = 1 " in strategy.adapt_notes()["C_chosen_by"]
