"""Hyperparameter selection under a declared model-selection protocol (after DomainBed).

    config.py     a suite's [selection] and [search.<strategy>] tables; a strategy's search space
    protocols.py  fixed, source-val, target-val, oracle: what each one reads to score a trial
    plan.py       held-out source data, resumed trials, and each job's Plan (runner side)
    search.py     the trials of a cell and its selected configuration (worker side)

Search spaces are optuna distributions and trials are drawn by optuna's seeded samplers
(random by default, as DomainBed; TPE optional). Importing this package imports nothing
heavy: the runner imports plan / search where it needs them.
"""

from benchmark.selection.config import SELECTION_PROTOCOL_NAMES, Selection

__all__ = ["SELECTION_PROTOCOL_NAMES", "Selection"]
