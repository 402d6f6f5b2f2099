"""Every built-in strategy reports its training loops through ``ctx.progress`` (issue 26, point 2): the
fractions of each phase never go back, stay within [0, 1] and end at 1. A new built-in must say here which
of its phases train, or this test fails."""

import pytest
import torch

from benchmark import Context
from benchmark.checks.contract import _model_cases, _text_cases, basic_cases
from benchmark.discovery.registry import discover
from benchmark.toolkit import probe

# The phases of each built-in that run a training loop (steps, meta-iterations or L-BFGS fits).
TRAINS = {
    "finetune": {"pretrain", "adapt"},
    "lora": {"pretrain", "adapt"},
    "bitfit": {"pretrain", "adapt"},
    "l2sp": {"pretrain", "adapt"},
    "multitask": {"pretrain", "adapt"},
    "frozen-feature": {"pretrain", "adapt"},  # adapt: the probe's L-BFGS fits (cross-validation, then the last)
    "maml": {"pretrain", "adapt"},            # pretrain: the meta-iterations; adapt: the inner steps
    "source-only": {"pretrain"},              # adapt applies the source model as it is
    "target-only": {"adapt"},                 # no pretraining
    "augment-only": {"adapt"},
    "source+target": {"adapt"},               # pretrain only keeps the source; the union is trained per support
    "tfidf": set(),                           # scikit-learn fits in one call: no steps to report
}
BUILTINS = sorted((p for p in discover().strategies.values() if p.dist == "transferbench"), key=lambda p: p.name)


def test_every_builtin_says_which_phases_train():
    assert {p.name for p in BUILTINS} == set(TRAINS)


def first_case(cls, cases):
    return next(case for case in cases if cls.supports(case.task) is None)


def reported(cls, case, hparams, tmp_path) -> dict[str, list[float]]:
    """{phase: the fractions ctx.progress was told} of one pretrain and one adapt."""
    fractions = {"pretrain": [], "adapt": []}
    strategy = cls(**hparams)
    for phase, seed in (("pretrain", 0), ("adapt", 1)):
        ctx = Context(case.device, seed, torch.Generator().manual_seed(seed), case.task, tmp_path,
                      fractions[phase].append, case.model)
        torch.manual_seed(seed)
        if phase == "pretrain":
            strategy.pretrain(case.source, ctx)
        else:
            strategy.adapt(case.support, ctx)
    return fractions


def assert_reports(fractions: dict[str, list[float]], phases: set[str], label: str):
    for phase, told in fractions.items():
        if phase not in phases:
            assert told == [], f"{label}: {phase} reported {told} (say so in TRAINS)"
            continue
        assert told, f"{label}: {phase} reported no progress"
        assert all(0.0 <= f <= 1.0 for f in told) and told[-1] == 1.0, f"{label}: {phase} reported {told}"
        assert all(a <= b for a, b in zip(told, told[1:])), f"{label}: {phase} went back: {told}"


@pytest.mark.parametrize("provided", BUILTINS, ids=[p.name for p in BUILTINS])
def test_each_builtin_reports_the_progress_of_its_training_loops(provided, tmp_path):
    cls = provided.cls
    cases = basic_cases() + _model_cases() if "image" in cls.modalities else _text_cases()
    case = first_case(cls, [c.for_strategy(cls) for c in cases])
    assert_reports(reported(cls, case, cls.quick_hparams, tmp_path), TRAINS[provided.name], provided.name)


def instant_fit(x, labels, n_classes, C, **options):
    """A stand-in for the L-BFGS solve (tens of seconds per probe on separable features): zeros."""
    return torch.zeros(n_classes, x.shape[1], dtype=x.dtype), torch.zeros(n_classes, dtype=x.dtype)


@pytest.mark.parametrize("name", ["finetune", "source+target"])
def test_a_source_probed_by_l_bfgs_reports_its_fits(name, tmp_path, monkeypatch):
    """source_training = "head": finetune's pretraining and source+target's union are L-BFGS probes,
    which report each fit (5 folds x 9 values of C, then the last)."""
    monkeypatch.setattr(probe, "fit_logistic", instant_fit)
    cls = discover().strategies[name].cls
    case = first_case(cls, _model_cases()[1:])  # a pretrained model and a source
    fractions = reported(cls, case, {**cls.quick_hparams, "source_training": "head"}, tmp_path)
    assert_reports(fractions, {"pretrain", "adapt"} if name == "finetune" else {"adapt"}, name)
    assert len(fractions["pretrain" if name == "finetune" else "adapt"]) == 1 + 5 * 9 + 1  # 0, then after each fit: 5 folds x 9 Cs, the last


def test_lp_ft_reports_its_two_loops_as_one(tmp_path):
    cls = discover().strategies["finetune"].cls
    fractions = reported(cls, basic_cases()[0], {"pretrain_epochs": 1, "adapt_steps": 4, "probe_steps": 4}, tmp_path)
    # the probe's 4 steps are the first half, the fine-tuning's 4 the second (0.5 ends one and starts the other)
    assert fractions["adapt"] == [0.0, 0.125, 0.25, 0.375, 0.5, 0.5, 0.625, 0.75, 0.875, 1.0]
