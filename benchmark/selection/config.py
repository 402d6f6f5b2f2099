"""A suite's ``[selection]`` and ``[search.<strategy>]`` tables, parsed and checked.

    [selection]
    protocol = "source-val"   # fixed | source-val | target-val | oracle (benchmark.selection.protocols)
    trials = 8                # configurations drawn per strategy × pair × budget × seed
    sampler = "random"        # random (DomainBed's) | tpe
    seed = 0                  # seeds the sampler: the same suite draws the same trials on every machine

    [search.finetune]                        # narrows or replaces finetune's search_space, per key
    adapt_lr = { low = 1e-4, high = 1e-2, log = true }   # floats: optuna FloatDistribution
    adapt_steps = { low = 10, high = 200 }               # integers: IntDistribution
    head = ["auto", "new"]                               # a list: CategoricalDistribution
    probe_steps = 0                                      # a plain value: not searched, fixed to it

This module reads only data: it imports optuna's distributions, never the runner.
"""

from dataclasses import dataclass

import optuna.distributions as D

from benchmark.errors import did_you_mean

SELECTION_PROTOCOL_NAMES = ("fixed", "source-val", "target-val", "oracle")
SAMPLERS = ("random", "tpe")
SELECTION_KEYS = {"protocol", "trials", "sampler", "seed"}
RANGE_KEYS = {"low", "high", "log", "step"}


@dataclass(frozen=True)
class Selection:
    protocol: str = "fixed"
    trials: int = 8
    sampler: str = "random"
    seed: int = 0

    @property
    def searches(self) -> bool:
        return self.protocol != "fixed"


def check_selection(protocol: str | None = None, trials: int | None = None,
                    where: tuple[str, str] = ("--selection", "--trials")) -> None:
    """Raise ValueError on a protocol name or trial count that cannot work; ``where`` names the two
    settings (command-line options, or the suite's keys)."""
    if protocol is not None and protocol not in SELECTION_PROTOCOL_NAMES:
        raise ValueError(f"{where[0]} must be one of {', '.join(SELECTION_PROTOCOL_NAMES)}, got '{protocol}'"
                         f"{did_you_mean(protocol, SELECTION_PROTOCOL_NAMES)}")
    if trials is not None and (not isinstance(trials, int) or isinstance(trials, bool) or trials < 1):
        raise ValueError(f"{where[1]} must be a positive integer, got {trials!r}")


def parse_selection(table, check) -> Selection:
    """``[selection]`` as a Selection; ``check.fail(message, key)`` raises with file:line."""
    if table is None:
        return Selection()
    check.keys(table, SELECTION_KEYS, "[selection]")
    selection = Selection(**table)
    try:
        check_selection(selection.protocol, selection.trials, ("[selection] protocol", "[selection] trials"))
    except ValueError as error:
        check.fail(str(error), "protocol" if selection.protocol not in SELECTION_PROTOCOL_NAMES else "trials")
    if selection.sampler not in SAMPLERS:
        check.fail(f"[selection] sampler must be one of {', '.join(SAMPLERS)}, got '{selection.sampler}'"
                   f"{did_you_mean(str(selection.sampler), SAMPLERS)}", "sampler")
    if not isinstance(selection.seed, int) or isinstance(selection.seed, bool) or selection.seed < 0:
        check.fail(f"[selection] seed must be an integer ≥ 0, got {selection.seed!r}", "seed")
    return selection


def parse_search(tables, check) -> dict:
    """``[search.<strategy>]`` tables as {strategy: {hyperparameter: distribution or fixed value}}."""
    if tables is None:
        return {}
    if not (isinstance(tables, dict) and all(isinstance(t, dict) for t in tables.values())):
        check.fail("search must hold one table per strategy, e.g. [search.finetune]", "search")
    return {strategy: {name: parse_dimension(value, f"[search.{strategy}] {name}", name, check)
                       for name, value in table.items()} for strategy, table in tables.items()}


def parse_dimension(value, where: str, key: str, check):
    if isinstance(value, list):
        if not value:
            check.fail(f"{where}: an empty list of choices", key)
        return D.CategoricalDistribution(tuple(value))
    if not isinstance(value, dict):
        return value  # fixed: not searched
    unknown = set(value) - RANGE_KEYS
    if unknown or not {"low", "high"} <= set(value):
        check.fail(f"{where}: a range is {{ low = ..., high = ..., log = true|false, step = ... }}"
                   f"{'; unknown ' + ', '.join(sorted(unknown)) if unknown else ''}", key)
    low, high = value["low"], value["high"]
    integers = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
    try:
        if integers:
            return D.IntDistribution(low, high, log=bool(value.get("log", False)), step=value.get("step", 1))
        return D.FloatDistribution(float(low), float(high), log=bool(value.get("log", False)), step=value.get("step"))
    except (ValueError, TypeError) as error:  # optuna's own check: low > high, log with step, log of ≤ 0
        check.fail(f"{where}: {error}", key)


def space_for(cls, overrides: dict, where: str = "") -> tuple[dict, dict]:
    """(distributions to search, fixed values) for a strategy class: its ``search_space`` with
    the suite's ``[search.<name>]`` entries replacing it key by key. ValueError names an unknown key."""
    known = cls.param_names()
    space, fixed = dict(getattr(cls, "search_space", {}) or {}), {}
    for name, value in overrides.items():
        if name not in known:
            raise ValueError(f"{where}[search.{cls.name}] has unknown hyperparameter '{name}'"
                             f"{did_you_mean(name, known)}; it has {', '.join(known)}")
        if isinstance(value, D.BaseDistribution):
            space[name] = value
        else:
            space.pop(name, None)
            fixed[name] = value
    return space, fixed
