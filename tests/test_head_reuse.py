"""finetune / frozen-feature start from the source classifier when the labels match (head = "auto")."""

import pytest
import torch

from benchmark import Context
from benchmark.checks.contract import basic_cases
from plugins.finetune import FineTune, head_choice
from plugins.frozen_feature import FrozenFeature
from plugins.source_only import SourceOnly

NEW_CLASSES, SHARED_LABELS = basic_cases()[:2]  # digits 0-4 -> 5-9, and digits 0-9 -> 0-9


def context(case, seed, tmp_path):
    return Context(torch.device("cpu"), seed, torch.Generator().manual_seed(seed), case.task, tmp_path)


def adapted(cls, case, tmp_path, **hparams):
    strategy = cls(pretrain_epochs=1, **hparams)
    torch.manual_seed(0)
    strategy.pretrain(case.source, context(case, 0, tmp_path))
    return strategy, strategy.adapt(case.support, context(case, 1, tmp_path))


def test_a_reused_head_with_no_steps_predicts_exactly_what_source_only_predicts(tmp_path):
    strategy, predictor = adapted(FineTune, SHARED_LABELS, tmp_path, head="auto", adapt_steps=0)
    baseline = SourceOnly(pretrain_epochs=1)
    baseline.model_, baseline.trunk_trained_ = strategy.model_, True  # the source model source-only scores as is
    with torch.no_grad():
        assert torch.equal(predictor(SHARED_LABELS.query),
                           baseline.adapt(SHARED_LABELS.support, context(SHARED_LABELS, 1, tmp_path))(SHARED_LABELS.query))
    assert strategy.adapt_notes() == {"head": "reuse", "starts_from": "source-only"}


def test_a_reused_head_pulls_the_probe_toward_the_source_rows_a_new_one_toward_zero(tmp_path):
    strategy, reused = adapted(FrozenFeature, SHARED_LABELS, tmp_path, head="auto", C=1e-8)
    assert torch.allclose(reused.head.weight, strategy.model_.head.weight, atol=1e-4)
    assert strategy.adapt_notes()["head"] == "reuse" and strategy.adapt_notes()["starts_from"] == "source-only"
    strategy, new = adapted(FrozenFeature, SHARED_LABELS, tmp_path, head="new", C=1e-8)
    assert new.head.weight.abs().max() < 1e-4 and "starts_from" not in strategy.adapt_notes()


def test_auto_takes_a_new_head_for_new_classes_and_reuse_refuses_them(tmp_path):
    strategy, _ = adapted(FineTune, NEW_CLASSES, tmp_path, head="auto", adapt_steps=1)
    assert strategy.adapt_notes()["head"] == "new"
    with pytest.raises(ValueError, match="head='reuse' needs every target class among the source's"):
        adapted(FineTune, NEW_CLASSES, tmp_path, head="reuse", adapt_steps=1)
    with pytest.raises(ValueError, match="head must be one of auto, new, reuse"):
        head_choice("keep", ("0",), ("0",))


def test_reuse_picks_the_source_rows_by_class_name(tmp_path):
    strategy, _ = adapted(FineTune, SHARED_LABELS, tmp_path, head="new", adapt_steps=0)
    from plugins.finetune import start_from
    reordered = ("3", "1")
    model = start_from(strategy.model_, strategy.model_.trunk, SHARED_LABELS.task.source_classes, reordered, "reuse")
    assert torch.equal(model.head.weight, strategy.model_.head.weight[[3, 1]])


def test_lp_ft_trains_the_head_first_then_everything(tmp_path):
    _, plain = adapted(FineTune, NEW_CLASSES, tmp_path, adapt_steps=2)
    _, probed = adapted(FineTune, NEW_CLASSES, tmp_path, adapt_steps=2, probe_steps=20)
    assert not torch.equal(plain.head.weight, probed.head.weight)
