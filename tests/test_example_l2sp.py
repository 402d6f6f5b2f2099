"""examples/l2sp-plugin/l2sp_plugin.py: L2-SP in under 30 lines with fit's loss hook, loaded by
``--plugin`` and passing the contract battery (the README's "a new strategy in 30 lines" shows it)."""

import sys
from pathlib import Path

import pytest
import torch

from benchmark import Context
from benchmark.checks.contract import _model_cases
from benchmark.cli import main
from benchmark.discovery.local_plugins import load_plugin

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "l2sp-plugin" / "l2sp_plugin.py"


@pytest.fixture
def forget_example():
    yield
    sys.modules.pop("l2sp_plugin", None)


def test_it_is_at_most_30_lines():
    assert len(EXAMPLE.read_text().splitlines()) <= 30


def test_it_loads_through_plugin_and_passes_check(forget_example, capsys):
    assert main(["check", "my-l2sp", "--plugin", str(EXAMPLE), "--hparams", "steps=3"]) == 0
    assert "checks passed" in capsys.readouterr().out


def test_a_huge_alpha_holds_the_pretrained_trunk_as_the_builtin_does(forget_example, tmp_path):
    cls = load_plugin(str(EXAMPLE)).plugin.transferbench_strategies()[0]
    case = _model_cases()[0]  # a pretrained model, no source
    torch.manual_seed(1)
    model = cls(alpha=1e6, steps=30).adapt(case.support, Context(case.device, 1, torch.Generator().manual_seed(1),
                                                                 case.task, tmp_path, model=case.model))
    pretrained = case.model.trunk().parameters()
    moved = [(a - b).abs().max().item() for a, b in zip(model.parameter_groups()["trunk"], pretrained)]
    assert max(moved) <= 1e-3  # about one Adam step (lr 1e-3) at most, as tests/test_l2sp.py finds for the built-in
