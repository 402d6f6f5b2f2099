"""Does a strategy's pretraining depend on the clock? A cheap probe for ``transferbench check``.

A pretraining that stops on wall time (``while perf_counter() - start < budget``) trains 546
episodes on a loaded machine and 2,106 on a quiet one under the same hyperparameters, so
its records cannot be reproduced from them. The probe pretrains the strategy three times on
the contract battery's small digits task (``quick_hparams``, seed 0): twice as it is, then
once with a clock that jumps ``step_s`` seconds at every read (``time.time``,
``time.perf_counter``, ``time.monotonic`` and their ``_ns`` twins, patched in the ``time``
module). Identical results on the real clock but other ones on the fast clock (scores of
the adapted predictor, or what it told ``ctx.report``) mean the outcome follows the clock.

What it cannot see: a module that bound ``from time import perf_counter`` before the probe,
``datetime.now()``, or a budget larger than the probe's jump times its clock reads. It
never claims a strategy is clock-free; it warns when it caught one that is not.
"""

import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import torch

from benchmark.checks.contract import basic_cases, case_context
from benchmark.strategy.base import Strategy

CLOCKS = ("time", "perf_counter", "monotonic")
DEFAULT_STEP_S = 3600.0  # one hour per read: past any pretraining budget a plugin plausibly sets


@contextmanager
def fast_clock(step_s: float = DEFAULT_STEP_S):
    """Every clock of the ``time`` module jumps ``step_s`` seconds per read (monotonic, from now)."""
    reads = [0]
    start = {name: getattr(time, name)() for name in CLOCKS}

    def clock(name):
        def read():
            reads[0] += 1
            return start[name] + reads[0] * step_s
        return read

    def clock_ns(name):
        return lambda: int(clock(name)() * 1e9)

    patches = {name: clock(name) for name in CLOCKS} | {f"{name}_ns": clock_ns(name) for name in CLOCKS}
    with mock.patch.multiple(time, **patches):
        yield reads


def _outcome(cls, hparams: dict, case, cache_dir: Path, clock=None) -> tuple[torch.Tensor, dict]:
    """(scores on the case's queries, what pretrain reported), seeded as the contract battery seeds."""
    strategy = cls(**hparams)
    torch.manual_seed(0)
    ctx = case_context(case, 0, cache_dir)
    if clock is None:
        strategy.pretrain(case.source, ctx)
    else:
        with clock:
            strategy.pretrain(case.source, ctx)
    torch.manual_seed(1)
    predictor = strategy.adapt(case.support, case_context(case, 1, cache_dir))
    with torch.no_grad():
        return predictor(case.query).detach().cpu(), dict(ctx.reported)


def _same(a: tuple, b: tuple) -> bool:
    return a[0].shape == b[0].shape and torch.allclose(a[0], b[0], rtol=0, atol=1e-6) and a[1] == b[1]


def clock_dependence(cls: type[Strategy], hparams: dict | None = None, device="cpu",
                     step_s: float = DEFAULT_STEP_S) -> str | None:
    """A one-line warning when ``cls``'s pretraining gives other results on a fast clock, else None.

    Three pretrainings with ``hparams`` (default: ``cls.quick_hparams``) on the contract
    battery's first task the strategy supports. Exceptions are the battery's business: a
    strategy that raises here is reported by its checks, so this returns None.
    """
    if cls.pretrain is Strategy.pretrain:
        return None
    hparams = dict(cls.quick_hparams if hparams is None else hparams)
    cases = [c for c in basic_cases() if cls.supports(c.task) is None]
    if not cases:
        return None
    case = cases[0].to(torch.device(device))
    with tempfile.TemporaryDirectory() as cache_dir:
        try:
            first, again = (_outcome(cls, hparams, case, Path(cache_dir)) for _ in range(2))
            if not _same(first, again):
                return (f"two identical pretrainings of '{cls.name}' gave different results, so whether it depends "
                        f"on the clock cannot be told; if it stops on wall time, its records cannot be reproduced")
            fast = _outcome(cls, hparams, case, Path(cache_dir), fast_clock(step_s))
        except Exception:
            return None
    if _same(first, fast):
        return None
    return (f"the pretraining of '{cls.name}' gives other results when the clock runs fast (time.time / "
            f"perf_counter / monotonic jumping {step_s:g} s per read): it depends on wall time, so the same "
            f"hyperparameters train differently on a loaded and a quiet machine. Report what it did with "
            f"ctx.report(episodes_run=..., final_loss=...), or budget it in steps or episodes")
