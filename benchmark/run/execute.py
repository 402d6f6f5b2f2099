"""One job, from the start to its records: the cells that share one pretrained strategy.

    strategy = Strategy(**hparams)
    restore its pretrained state from the cache, or pretrain (and store it)   # once per job
    for budget in job.budgets:                                                  # one cell each
        trials first when a search selects the hyperparameters               # benchmark.run.trials
        the cell: every task adapted to and scored                           # benchmark.run.cell
        yield its record

The same code runs in the driver (in-process executor) and in a Ray worker. It only
returns records; the driver alone appends them.
"""

import time
from dataclasses import replace

import torch

from benchmark.errors import NotApplicable
from benchmark.run.cell import STRATEGY_FAILURES, run_cell
from benchmark.run.jobs import Job, Settings
from benchmark.run.prepare import PreparedPair
from benchmark.run.pretraining import failed_pretraining, pretrained_with_cost
from benchmark.run.recording import cell_record, failure, skipped
from benchmark.run.timeout import time_limit
from benchmark.run.trials import selected_cell


def run_job(job: Job, prepared: PreparedPair, settings: Settings, progress=None, started=None):
    """Yield one record per cell of ``job`` (and per trial of a search), each as soon as it is scored.

    ``progress`` (optional): an object with ``phase(text, fraction=None)`` that shows what runs
    now (``benchmark.run.progress.Progress``). ``started`` (optional): called as
    ``started("pretrain", job.budgets)`` before the pretraining and ``started("cell", (budget,))``
    before each cell, so that whoever watches the process knows which cells its death would take
    (``benchmark.run.journal``, ``benchmark.run.process_executor``).
    """
    started = started or (lambda phase, budgets: None)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    show = progress.phase if progress is not None else (lambda text, fraction=None: None)
    what = f"{job.provided.name} / {job.pair} / seed {job.seed}"
    show(f"pretrain {what}")
    started("pretrain", job.budgets)
    began = time.perf_counter()
    try:
        with time_limit(settings.cell_timeout, f"pretrain of {what}"):
            strategy, ctx, cache_status, cost = pretrained_with_cost(
                job, prepared, settings, lambda fraction: show(f"pretrain {what}", fraction))
    except NotApplicable as reason:
        yield from (cell_record(settings, job, prepared, budget, skipped(job, reason)) for budget in job.budgets)
        return
    except STRATEGY_FAILURES as error:
        wall = time.perf_counter() - began
        yield from (cell_record(settings, job, prepared, budget, failure(error, wall), failed_pretraining(wall))
                    for budget in job.budgets)
        return
    share = (time.perf_counter() - began) / len(job.budgets)
    for budget in job.budgets:
        label = f"cell {job.describe(budget)}"
        show(label)
        started("cell", (budget,))
        ticks = (lambda n, label=label: show(f"{label}: {n}/{settings.episodes} episodes")) \
            if settings.protocol == "episodic" else None
        # A strategy's ctx.progress in adapt: the fraction of the cell's one task (transfer). Episodes are
        # counted by ``ticks``; one episode's own 0..1 would overwrite that count hundreds of times.
        ctx.progress = (lambda fraction: None) if ticks is not None else \
            (lambda fraction, label=label: show(label, fraction))
        if job.selection is not None:  # (hyperparameters, outcome) of each trial, then of the selected cell
            produced = selected_cell(strategy, ctx, job, prepared, settings, budget, share, cache_status)
        else:
            produced = fixed_cell(strategy, ctx, job, prepared, settings, budget, share, cache_status, ticks)
        cell_started = time.perf_counter()
        for hparams, outcome in produced:
            # Each record's own seconds: from the previous record of this job (the driver's writing excluded).
            yield cell_record(settings, replace(job, hparams=hparams), prepared, budget, outcome, cost,
                              time.perf_counter() - cell_started)
            cell_started = time.perf_counter()


def fixed_cell(strategy, ctx, job: Job, prepared: PreparedPair, settings: Settings, budget, share: float,
               cache_status, ticks):
    """(hyperparameters, outcome) of a cell whose hyperparameters are fixed; a generator, as
    ``selected_cell`` is, so the cell runs (and its seconds are counted) when it is iterated."""
    yield job.hparams, run_cell(strategy, ctx, job, prepared, settings, budget, share, cache_status, ticks)


def run_job_to_list(job: Job, prepared: PreparedPair, settings: Settings) -> list:
    """``run_job`` as one return value, for executors that hand back a job's records at once."""
    return list(run_job(job, prepared, settings))
