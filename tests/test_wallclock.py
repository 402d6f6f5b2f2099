"""`check` warns when a pretraining's outcome follows the clock (benchmark.checks.wallclock)."""

import time

import torch

from benchmark import Strategy
from benchmark.checks.wallclock import clock_dependence, fast_clock


class Budgeted(Strategy):
    """Nearest class mean whose pretraining counts epochs until ``epochs`` or ``budget_s`` wall
    seconds, whichever comes first; its scores are scaled by the epochs run."""

    name = "budgeted"
    description = "a pretraining that stops on the clock"

    def __init__(self, epochs=50, budget_s=None):
        self.epochs, self.budget_s = epochs, budget_s

    def pretrain(self, source, ctx):
        start, done = time.perf_counter(), 0
        while done < self.epochs and (self.budget_s is None or time.perf_counter() - start < self.budget_s):
            done += 1
        self.epochs_run = done
        ctx.report(epochs_run=done)

    def adapt(self, support, ctx):
        features = support.inputs.flatten(1)
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ features) / one_hot.sum(0)[:, None]
        return lambda inputs: -torch.cdist(inputs.flatten(1), centroids) * self.epochs_run


def test_a_pretraining_that_stops_on_wall_time_is_caught():
    # 1000 s: never reached on the real clock (epochs stop it), passed at the fast clock's first read
    warning = clock_dependence(Budgeted, {"epochs": 50, "budget_s": 1000.0})
    assert warning and "'budgeted'" in warning and "depends on wall time" in warning and "ctx.report" in warning


def test_one_that_counts_epochs_only_is_not_flagged():
    assert clock_dependence(Budgeted, {"epochs": 50, "budget_s": None}) is None


def test_the_fast_clock_jumps_every_read_and_is_restored():
    with fast_clock(10.0) as reads:
        first, second = time.perf_counter(), time.perf_counter()
        assert second - first == 10.0 and time.monotonic_ns() > 0 and reads[0] == 3
    assert time.perf_counter() - time.perf_counter() < 1


def test_check_prints_the_warning_after_its_checks(install, capsys):
    from benchmark.cli import main

    install("tb-budgeted", "budgeted", "tb_budgeted", '''
import time

import torch

from benchmark import Strategy, hookimpl


class Budgeted(Strategy):
    name = "budgeted"
    description = "a pretraining that stops on the clock"
    quick_hparams = {"epochs": 50, "budget_s": 1000.0}

    def __init__(self, epochs=50, budget_s=None):
        self.epochs, self.budget_s = epochs, budget_s

    def pretrain(self, source, ctx):
        start, done = time.perf_counter(), 0
        while done < self.epochs and (self.budget_s is None or time.perf_counter() - start < self.budget_s):
            done += 1
        self.epochs_run = done

    def adapt(self, support, ctx):
        self.check_pretrained("epochs_run")
        features = support.inputs.flatten(1)
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ features) / one_hot.sum(0)[:, None]
        return lambda inputs: -torch.cdist(inputs.flatten(1), centroids) * self.epochs_run


@hookimpl
def transferbench_strategies():
    return [Budgeted]
''')
    assert main(["check", "budgeted"]) == 0
    out = capsys.readouterr().out
    assert "  warn wall-clock: the pretraining of 'budgeted' gives other results when the clock runs fast" in out
    assert out.rstrip().splitlines()[-1].startswith("all checks passed")
