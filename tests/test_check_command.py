"""`transferbench check` says what it does: each check as it starts, the pretraining's progress,
--hparams, --timeout, the fallback to defaults without quick_hparams, and --full."""

import sys
import textwrap

import pytest

from benchmark import ContractError, check_strategy
from benchmark.checks.contract import FULL_DETERMINISM
from benchmark.checks.printer import CheckPrinter, parse_value
from benchmark.cli import main

# Pretrains in `steps` steps, reporting each through ctx.progress; from `noisy_after` steps on it
# draws from an unseeded generator, as a strategy whose long schedule reads the clock would.
PLUGIN = '''
import random
import time

import torch
from benchmark import Strategy


class Stepper(Strategy):
    name = "stepper"
    description = "Pretrains in steps, reporting progress."
    pretrained_with = []  # (steps, pause) of each pretrain; on the class: instances only store hyperparameters

    def __init__(self, steps=4, pause=0.0, noisy_after=100):
        self.steps, self.pause, self.noisy_after = steps, pause, noisy_after

    def pretrain(self, source, ctx):
        self.pretrained_with.append((self.steps, self.pause))
        self.bias_ = torch.zeros(())
        for step in range(self.steps):
            time.sleep(self.pause)
            ctx.progress((step + 1) / self.steps)
        if self.steps >= self.noisy_after:
            self.bias_ = torch.tensor(random.SystemRandom().random())

    def adapt(self, support, ctx):
        self.check_pretrained("bias_")
        return lambda inputs: inputs.flatten(1)[:, :support.num_classes] + self.bias_
'''


@pytest.fixture
def stepper(tmp_path):
    path = tmp_path / "stepper_plugin.py"
    path.write_text(textwrap.dedent(PLUGIN))
    yield path
    sys.modules.pop("stepper_plugin", None)


def check(path, *options) -> int:
    return main(["check", "stepper", "--plugin", str(path), *options])


def test_each_check_is_printed_as_it_starts_and_the_pretraining_shows_progress(stepper, capsys):
    assert check(stepper, "--hparams", "steps=10") == 0
    out = capsys.readouterr().out
    assert "  class attributes ... ok (" in out
    # the pretraining's progress comes between a check's start and its verdict
    start = out.index("  predictor returns finite [n_query, n_classes] scores ...\n")
    progress = out.index("      pretrain  50% after", start)
    assert start < progress < out.index("  predictor returns finite [n_query, n_classes] scores: ok (", start)
    assert "checks passed" in out


def test_the_fallback_to_defaults_is_said(stepper, capsys):
    assert check(stepper) == 0
    assert "note: 'stepper' has no quick_hparams, so the checks fall back to its default hyperparameters" \
        in capsys.readouterr().out


def test_hparams_are_typed_and_reach_the_strategy(stepper, capsys):
    assert check(stepper, "--hparams", "steps=3", "pause=0.001") == 0
    assert "with --hparams {'steps': 3, 'pause': 0.001} over them" in capsys.readouterr().out
    assert [parse_value(v) for v in ("3", "1e-3", "true", "[1, 2]", "auto", '"x y"')] == \
        [3, 1e-3, True, [1, 2], "auto", "x y"]


@pytest.mark.parametrize("pairs, message", [(["stepz=3"], "has no hyperparameter 'stepz' (did you mean 'steps'?)"),
                                            (["steps"], "'steps' is not KEY=VALUE")])
def test_a_bad_hparams_pair_is_one_line(stepper, capsys, pairs, message):
    assert check(stepper, "--hparams", *pairs) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_a_check_over_the_timeout_fails_and_the_rest_still_run(stepper, capsys):
    assert check(stepper, "--hparams", "steps=3", "pause=0.4", "--timeout", "0.5") == 1
    captured = capsys.readouterr()
    assert "scores: FAIL (" in captured.out and "took longer than the timeout of 0.5 s" in captured.err
    assert "  class attributes ... ok (" in captured.out and "adapt before pretrain works or says so ... ok" \
        in captured.out
    assert check(stepper, "--timeout", "0") == 2


def test_full_runs_the_real_pretraining_in_the_determinism_check(stepper, capsys):
    # Only its default schedule (steps=100 >= noisy_after) is nondeterministic: the quick checks pass ...
    assert check(stepper, "--hparams", "steps=2", "noisy_after=100") == 0
    capsys.readouterr()
    # ... and --full, with the defaults and --hparams over them, catches it
    assert check(stepper, "--hparams", "noisy_after=4", "--full") == 1
    captured = capsys.readouterr()
    assert "--full: the determinism check also pretrains twice with its defaults and --hparams" in captured.out
    assert f"{FULL_DETERMINISM}: FAIL" in captured.out and "two fresh instances with the same seed differ" \
        in captured.err


def test_check_strategy_takes_full_hyperparameters(stepper):
    from benchmark.discovery.local_plugins import load_plugin

    cls = load_plugin(str(stepper)).plugin.transferbench_strategies()[0]
    cls.pretrained_with.clear()
    started, seen = [], []
    ran = check_strategy(cls, {"steps": 1}, started=started.append, full={"steps": 7},
                         progress=lambda phase, fraction: seen.append(phase))
    assert started == ran and ran[-len(ran):].count(FULL_DETERMINISM) == 1
    assert cls.pretrained_with.count((7, 0.0)) == 2  # the full check's two fresh instances, and only those
    assert set(seen) == {"pretrain"}
    with pytest.raises(ContractError, match=FULL_DETERMINISM):
        check_strategy(cls, {"steps": 1}, full={"steps": 7, "noisy_after": 5})


def test_the_printer_keeps_a_check_on_one_line_unless_progress_comes_between():
    lines, now = [], [0.0]
    printer = CheckPrinter(write=lines.append, clock=lambda: now[0])
    printer.started("a")
    now[0] = 0.25
    printer.finished("a", None)
    printer.started("b")
    for step in range(1, 21):
        now[0] += 1
        printer.progress("pretrain", step / 20)
        printer.progress("adapt", 0.5)  # never printed: one per task
    printer.finished("b", AssertionError("scores differ\nmore"))
    text = "".join(lines)
    assert text.startswith("  a ... ok (0.2 s)\n  b ...\n      pretrain  10% after 2 s\n")
    assert text.count("pretrain") == 10 and "pretrain  30% after 6 s" in text
    assert text.endswith("  b: FAIL (20.0 s): scores differ\n")
