"""The training toolkit's loss hook, parameter groups and progress: ``fit(..., regulariser=, progress=)``,
``Classifier.parameter_groups()`` and ``step_progress``."""

import re

import pytest
import torch

from benchmark import Classifier, build_trunk, fit, fit_tensors, step_progress
from benchmark.checks.contract import basic_cases


def classifier(classes: int = 5) -> Classifier:
    torch.manual_seed(0)
    return Classifier(*build_trunk((1, 16, 16), "lenet"), num_classes=classes)


def test_parameter_groups_name_the_trunk_and_the_head_and_hold_every_parameter_once():
    model = classifier()
    groups = model.parameter_groups()
    assert list(groups) == ["trunk", "head"]
    assert [id(w) for w in groups["trunk"] + groups["head"]] == [id(w) for w in model.parameters()]
    assert groups["head"] == [model.head.weight, model.head.bias]
    model.head = torch.nn.Linear(model.feature_dim, 2)  # a replaced head is the one listed
    assert model.parameter_groups()["head"][0] is model.head.weight


def test_the_regulariser_is_called_every_step_with_the_model_and_its_gradient_trains():
    support, calls = basic_cases()[0].support, []

    def pull_head_to_zero(model):
        calls.append(model)
        return 1e3 * model.head.weight.pow(2).sum()  # [] dominates the cross-entropy
    model = classifier()
    fit(model, support, steps=40, lr=1e-2, batch_size=64, generator=torch.Generator().manual_seed(0),
        regulariser=pull_head_to_zero)
    assert len(calls) == 40 and all(c is model for c in calls)
    free = fit(classifier(), support, steps=40, lr=1e-2, batch_size=64, generator=torch.Generator().manual_seed(0))
    assert model.head.weight.abs().max() < 0.1 * free.head.weight.abs().max()


def test_a_zero_regulariser_changes_nothing_bit_for_bit():
    support = basic_cases()[0].support
    plain = fit(classifier(), support, steps=5, lr=1e-3, batch_size=4, generator=torch.Generator().manual_seed(0))
    zero = fit(classifier(), support, steps=5, lr=1e-3, batch_size=4, generator=torch.Generator().manual_seed(0),
               regulariser=lambda model: 0.0 * sum(w.pow(2).sum() for w in model.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), zero.state_dict().values()))


@pytest.mark.parametrize("returned, said", [(torch.zeros(3), "a tensor of shape [3]"), (0.5, "a float")])
def test_a_regulariser_that_returns_no_scalar_tensor_is_named(returned, said):
    def my_penalty(model):
        return returned
    with pytest.raises(TypeError, match=re.escape(f"my_penalty returned {said}")):
        fit_tensors(torch.nn.Linear(3, 2), torch.randn(8, 3), torch.zeros(8, dtype=torch.long), steps=1, lr=1e-3,
                    batch_size=8, generator=torch.Generator().manual_seed(0), regulariser=my_penalty)


def test_fit_reports_increasing_fractions_about_every_percent_from_0_to_1():
    fractions = []
    fit_tensors(torch.nn.Linear(3, 2), torch.randn(8, 3), torch.zeros(8, dtype=torch.long), steps=1000, lr=1e-3,
                batch_size=8, generator=torch.Generator().manual_seed(0), progress=fractions.append)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and len(fractions) == 101  # 0, 1%, ..., 100%
    assert all(a < b for a, b in zip(fractions, fractions[1:]))


@pytest.mark.parametrize("steps, expected", [(0, [1.0]), (3, [0.0, 1 / 3, 2 / 3, 1.0]),
                                             (250, [0.0] + [i / 250 for i in range(2, 251, 2)])])
def test_step_progress_reports_every_step_of_a_short_loop_and_every_percent_of_a_long_one(steps, expected):
    fractions = []
    tick = step_progress(fractions.append, steps)
    for done in range(steps + 1):
        tick(done)
    assert fractions == expected
    step_progress(None, steps)(0)  # no progress: a tick does nothing
