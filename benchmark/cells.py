"""One job: the cells that share one pretrained strategy, run from the start to their records.

    strategy = Strategy(**hparams)
    restore its pretrained state from the cache, or pretrain (and store it)   # once per job
    for budget in job.budgets:                                                  # one cell each
        for task in tasks(pair, budget, seed):                                  # 1 task or E episodes
            predictor = strategy.adapt(task.support, ctx)
            metrics(predictor(task.query_inputs), task.query_labels)
        yield one record

The same code runs in the driver (in-process executor) and in a Ray worker. It only
returns records; the driver alone appends them. Anything a strategy does wrong (raises,
returns bad scores, exceeds the cell timeout) becomes a ``failed`` record.
"""

import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import torch

from benchmark import episodes, protocol, query_independence, records, stats
from benchmark.errors import NotApplicable
from benchmark.models.records import model_fields
from benchmark.plugins import Provided
from benchmark.pretrain_cache import PretrainCache, caches_state, key_of
from benchmark.strategy import Context, seed_torch
from benchmark.suite import budget_label
from benchmark.timeout import CellTimeout, time_limit
from benchmark.training import forward_in_batches

# What a strategy may raise and still only fail its own cells: a sys.exit() in a plugin must not
# end the suite. KeyboardInterrupt is not here: Ctrl-C stops the run (every finished cell is kept).
STRATEGY_FAILURES = (Exception, CellTimeout, SystemExit)


class QueryDependence(ValueError):
    """A predictor that scores queries jointly in a strategy that does not declare itself transductive."""


@dataclass(frozen=True)
class Settings:
    """What every job of one run shares: plain data, cheap to send to a worker."""

    suite: str
    protocol: str
    episodes: int
    device: str
    scratch_dir: Path                  # ctx.cache_dir: a strategy's own scratch space
    pretrain_cache: Path | None        # None: pretrain every time
    cell_timeout: float | None = None  # seconds for the pretrain and for each cell; None: no limit
    threads: int | None = None         # torch threads for this job (a Ray worker's budget); None: torch's default
    batched: bool = True               # episodic: hand strategies that implement adapt_episodes chunks of episodes
    episode_chunk: int | None = None   # episodes per chunk; None: as many as benchmark.episodes' memory bound holds


@dataclass(frozen=True, eq=False)  # compared by identity: the driver tracks jobs in flight
class Job:
    provided: Provided
    hparams: dict               # the full hyperparameters: defaults and the suite's overrides
    pair: str
    seed: int
    budgets: tuple              # cells of this job, one per budget (None = all)
    task_key: tuple             # what of the task its pretrain reads (Strategy.pretrain_task_key)
    pretrain_key: dict | None   # the pretrain cache's key payload; None: nothing to cache
    model: dict | None = None   # the pair's model identity (records' "model"); None: the strategy's own backbone
    selection: object = None    # a benchmark.selection Plan: trials pick the hyperparameters; None: fixed
    setup: dict = field(default_factory=dict)  # setup_fields(): protocol, its settings, the data's fingerprints

    def cell_key(self, budget) -> tuple:
        return records.cell_key({"pair": self.pair, "strategy": self.provided.name, "hparams": self.hparams,
                                 "seed": self.seed, "budget": budget_label(budget), "model": self.model,
                                 "selection": {"cell": self.selection.cell} if self.selection else None,
                                 "plugin": {"dist": self.provided.dist, "version": self.provided.version},
                                 **self.setup})

    def remaining(self, done: set) -> "Job | None":
        """This job without the cells in ``done``; None when nothing is left."""
        todo = tuple(b for b in self.budgets if self.cell_key(b) not in done)
        return None if not todo else self if todo == self.budgets else replace(self, budgets=todo)

    def describe(self, budget) -> str:
        return f"{self.provided.name} / {self.pair} / seed {self.seed} / budget {budget_label(budget)}"


def setup_fields(settings: Settings, prepared) -> dict:
    """The record fields that say which task a cell's strategy faced (part of records.cell_key):
    the protocol, its settings (episodic: episodes, ways, queries per class) and the data's fingerprints."""
    pair = prepared.pair
    protocol_settings = {"episodes": settings.episodes, "ways": pair.ways, "queries": pair.queries} \
        if settings.protocol == "episodic" else {}
    return {"protocol": settings.protocol, "protocol_settings": protocol_settings,
            "fingerprints": prepared.fingerprints}


def make_record(settings: Settings, job: Job, prepared, budget, **fields) -> dict:
    pair = prepared.pair
    return {
        "schema": records.SCHEMA, "suite": settings.suite, **setup_fields(settings, prepared),
        "pair": pair.name, "source": pair.source.describe() if pair.source else None, "target": pair.target.describe(),
        "target_test": pair.target_test.describe() if settings.protocol == "transfer" else None,
        "strategy": job.provided.name,
        "plugin": {"name": job.provided.plugin, "dist": job.provided.dist, "version": job.provided.version},
        "hparams": job.hparams, "seed": job.seed, "budget": budget_label(budget),
        "n_way": prepared.task_spec(settings.protocol, budget).n_way,
        "device": settings.device,
        "transductive": bool(getattr(job.provided.cls, "transductive", False)),  # ranked apart from inductive strategies
        "overlap": prepared.overlap or None,  # allowed by the suite: {"source ∩ target test": examples, ...}
        **model_fields(prepared, job.hparams),
        "selection": job.selection.describe() if job.selection is not None else {"protocol": "fixed"},
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **records.environment(), **fields,
    }


def error_fields(error: BaseException) -> dict:
    tail = traceback.format_exception(error)[-6:]
    return {"error": {"type": type(error).__name__, "message": str(error).splitlines()[0] if str(error) else "",
                      "traceback": "".join(tail)[-2000:]}}


def failed_records(job: Job, prepared, settings: Settings, error: BaseException, wall_s: float = 0.0) -> list[dict]:
    """Every cell of ``job`` as failed by ``error`` (a pretrain that failed, a worker that died)."""
    return [make_record(settings, job, prepared, budget, status="failed", metrics=None, wall_s=round(wall_s, 4),
                        **error_fields(error)) for budget in job.budgets]


def skipped_record(settings: Settings, job: Job, prepared, budget, reason: NotApplicable) -> dict:
    return make_record(settings, job, prepared, budget, status="skipped", reason=f"{job.provided.name}: {reason}",
                       metrics=None, error=None, wall_s=0.0)


def predict(predictor, inputs: torch.Tensor, n_classes: int, device) -> torch.Tensor:
    """Scores [N, n_classes] on CPU, computed in batches without gradients; checked for shape and NaN."""
    # Each batch goes to the device and its scores come back: the device never holds the whole split.
    scores = forward_in_batches(lambda batch: predictor(batch.to(device)).detach().float().cpu(), inputs)
    if scores.shape != (len(inputs), n_classes):
        raise ValueError(f"predictor returned scores of shape {tuple(scores.shape)}, "
                         f"expected {(len(inputs), n_classes)}")
    if not torch.isfinite(scores).all():
        raise ValueError("predictor returned NaN or infinite scores")
    return scores


def summarise(per_task: list[dict]) -> dict:
    """Per-cell metrics: the single task's value, or the mean over episodes with a normal CI."""
    summary = {}
    for name in per_task[0]:  # metrics.METRICS, then a transfer cell's recall[<class>]
        values = [task[name] for task in per_task]
        if len(values) == 1:
            summary[name] = {"mean": values[0], "ci95": None, "n": 1, "ci": None}
        else:
            mean, low, high = stats.mean_ci_normal(values)
            summary[name] = {"mean": mean, "ci95": [low, high], "n": len(values), "ci": stats.NORMAL_OVER_EPISODES}
    return summary


def tasks(settings: Settings, prepared, seed: int, budget):
    if settings.protocol == "episodic":
        return protocol.episodic_tasks(prepared.pool, prepared.pool_index, prepared.pair.ways, budget,
                                       prepared.pair.queries, settings.episodes, seed, prepared.pair.name)
    return protocol.transfer_tasks(prepared.pool, prepared.pool_index, prepared.test, budget, seed,
                                   prepared.pair.name)


@dataclass(frozen=True)
class PretrainCost:
    """What one pretrained state cost and reported: counted once, whichever cell ran it."""

    id: str                # the pretrain cache key when the state is cached, else a random id of this pretraining
    wall_s: float | None   # wall seconds the pretraining took where it ran; None: a cache entry older than this field
    here: bool             # this job pretrained (False: it restored the state from the pretrain cache)
    restore_s: float = 0.0  # seconds this job spent restoring the state from the cache
    reported: dict = field(default_factory=dict)  # what the strategy told ctx.report while pretraining

    def fields(self, adapt_s: float) -> dict:
        """The record's ``cost`` and ``reported`` fields (README: "Costs"; ``Context.report``)."""
        return {"cost": {"pretrain_id": self.id, "pretrain_s": self.wall_s, "pretrained_here": self.here,
                         "restore_s": round(self.restore_s, 4), "adapt_s": round(adapt_s, 4)},
                "reported": self.reported or None}


def pretrained(job: Job, prepared, settings: Settings) -> tuple:
    """(strategy, ctx, cache status): a fresh instance, restored from the cache or pretrained."""
    return pretrained_with_cost(job, prepared, settings)[:3]


def pretrained_with_cost(job: Job, prepared, settings: Settings, progress=None) -> tuple:
    """(strategy, ctx, cache status, PretrainCost). ``progress(fraction)`` receives what the
    strategy passes to ``ctx.progress`` while pretraining (the runner's progress line)."""
    device = torch.device(settings.device)

    def fresh():
        spec = prepared.task_spec(settings.protocol, job.budgets[0])
        torch.manual_seed(job.seed)  # layer initialisers draw from torch's global generator
        return (job.provided.cls(**job.hparams),
                Context(device, job.seed, torch.Generator().manual_seed(job.seed), spec, settings.scratch_dir,
                        progress=progress or (lambda fraction: None), model=prepared.model))

    started = time.perf_counter()
    strategy, ctx = fresh()
    cache = PretrainCache(settings.pretrain_cache) if settings.pretrain_cache and job.pretrain_key else None
    if cache is not None:
        entry = cache.load_entry(job.pretrain_key)
        if entry is not None:
            state, recorded = entry
            try:
                strategy.load_pretrained_state(state, ctx)
                return strategy, ctx, "hit", PretrainCost(key_of(job.pretrain_key), recorded.get("wall_s"), False,
                                                          time.perf_counter() - started, recorded.get("reported") or {})
            except Exception as error:  # a state this code cannot restore is rebuilt, never trusted
                cache.discard(job.pretrain_key, f"the strategy cannot restore it: {type(error).__name__}: {error}")
                strategy, ctx = fresh()
    pretrain_started = time.perf_counter()
    strategy.pretrain(prepared.source.to(device) if prepared.source is not None else None, ctx)
    cost = PretrainCost(uuid.uuid4().hex, round(time.perf_counter() - pretrain_started, 4), True,
                        reported=dict(ctx.reported))
    if cache is None:
        return strategy, ctx, "off" if caches_state(job.provided.cls) else None, cost
    try:
        state = strategy.pretrained_state()
        if state is None:
            return strategy, ctx, "nothing to store", cost
        cache.store(job.pretrain_key, state, {"wall_s": cost.wall_s, "reported": cost.reported})
    except Exception as error:  # a full disk or an unsavable state costs the cache, not the cells
        warnings.warn(f"pretrain cache: could not store the state of {job.provided.name} / {job.pair} / seed "
                      f"{job.seed} ({type(error).__name__}: {error}); its cells go on without it")
        return strategy, ctx, "store failed", cost
    return strategy, ctx, "stored", replace(cost, id=key_of(job.pretrain_key))  # cells that restore it name it


def episode_chunk(settings: Settings, prepared, budget) -> int:
    """Episodes per ``adapt_episodes`` call: the setting's, else what the memory bound holds."""
    if settings.episode_chunk:
        return settings.episode_chunk
    pool = prepared.pool.inputs
    rows = prepared.pair.ways * (budget + prepared.pair.queries)  # support + query inputs of one episode
    return episodes.chunk_size(settings.episodes, rows * pool[0].numel() * pool.element_size())


def run_cell(strategy, ctx: Context, job: Job, prepared, settings: Settings, budget, pretrain_share: float,
             cache_status, episodes_done=None) -> dict:
    """One cell's record. ``episodes_done(n)``, when given, is told the tasks scored so far."""
    done = episodes_done or (lambda n: None)
    started = time.perf_counter()
    spec = prepared.task_spec(settings.protocol, budget)
    device = torch.device(settings.device)
    per_task = []
    batched = settings.batched and settings.protocol == "episodic" and episodes.batches_episodes(type(strategy))
    checked = bool(getattr(type(strategy), "transductive", False))  # declared: scores jointly on purpose, ranked apart

    def predict_checked(predictor, inputs, n_classes, device):
        """``predict``; the cell's first task also checks its queries are scored independently (cheap)."""
        nonlocal checked
        scores = predict(predictor, inputs, n_classes, device)
        if not checked:
            checked = True
            problem = query_independence.dependence(predictor, inputs, scores, device)
            if problem:
                raise QueryDependence(problem)
        return scores
    try:
        with time_limit(settings.cell_timeout, f"cell {job.describe(budget)}"):
            if batched:
                per_task = episodes.evaluate_in_chunks(strategy, ctx, tasks(settings, prepared, job.seed, budget), spec,
                                                       device, episode_chunk(settings, prepared, budget),
                                                       predict_checked, done)
            else:
                predicted, labels = [], []  # [Q] per task, scored together (episodes.score_episodes)
                for task in tasks(settings, prepared, job.seed, budget):
                    task_ctx = ctx.fork(task.seed, spec)
                    seed_torch(task.seed, device)
                    predictor = strategy.adapt(task.support.to(device), task_ctx)
                    scores = predict_checked(predictor, task.query_inputs, task.support.num_classes, device)
                    predicted.append(scores.argmax(dim=1))
                    labels.append(task.query_labels)
                    done(len(predicted))
                # Per-class recall only where a label is a class (transfer); an episode's are renumbered.
                class_names = task.support.classes if settings.protocol == "transfer" else None
                per_task = episodes.score_episodes(torch.stack(predicted), torch.stack(labels),
                                                   task.support.num_classes, class_names)
            notes = strategy.adapt_notes() or None  # e.g. which head finetune started from
    except NotApplicable as reason:
        return skipped_record(settings, job, prepared, budget, reason)
    except STRATEGY_FAILURES as error:
        return make_record(settings, job, prepared, budget, status="failed", metrics=None,
                           wall_s=round(time.perf_counter() - started + pretrain_share, 4), **error_fields(error))
    fields = {"status": "ok", "error": None, "metrics": summarise(per_task),
              "wall_s": round(time.perf_counter() - started + pretrain_share, 4),
              "pretrain_s": round(pretrain_share, 4), "pretrain_cache": cache_status, "batched": batched,
              "adapt_notes": notes}
    if len(per_task) > 1:
        fields["per_episode"] = {"accuracy": [round(t["accuracy"], 6) for t in per_task]}
    return make_record(settings, job, prepared, budget, **fields)


def run_job(job: Job, prepared, settings: Settings, progress=None):
    """Yield one record per cell of ``job``, each as soon as it is scored.

    ``progress`` (optional, in-process only): an object with ``phase(text, fraction=None)``
    that shows what runs now (``benchmark.progress.Progress``).
    """
    if settings.threads:
        torch.set_num_threads(settings.threads)
    show = progress.phase if progress is not None else (lambda text, fraction=None: None)
    what = f"{job.provided.name} / {job.pair} / seed {job.seed}"
    show(f"pretrain {what}")
    started = time.perf_counter()
    try:
        with time_limit(settings.cell_timeout, f"pretrain of {what}"):
            strategy, ctx, cache_status, cost = pretrained_with_cost(
                job, prepared, settings, lambda fraction: show(f"pretrain {what}", fraction))
    except NotApplicable as reason:
        yield from (skipped_record(settings, job, prepared, budget, reason) for budget in job.budgets)
        return
    except STRATEGY_FAILURES as error:
        failed = PretrainCost(uuid.uuid4().hex, round(time.perf_counter() - started, 4), True)
        yield from ({**record, **failed.fields(0.0)}
                    for record in failed_records(job, prepared, settings, error, time.perf_counter() - started))
        return
    share = (time.perf_counter() - started) / len(job.budgets)
    for budget in job.budgets:
        label = f"cell {job.describe(budget)}"
        show(label)
        ctx.progress = lambda fraction, label=label: show(label, fraction)  # a strategy's ctx.progress in adapt
        ticks = (lambda n, label=label: show(f"{label}: {n}/{settings.episodes} episodes")) \
            if settings.protocol == "episodic" else None
        if job.selection is not None:  # trials first, then the selected configuration (benchmark.selection)
            from benchmark.selection.search import selected_cell

            produced = selected_cell(strategy, ctx, job, prepared, settings, budget, share, cache_status)
        else:
            produced = iter([None])  # run lazily below, so its time is measured
        cell_started = time.perf_counter()
        for record in produced:
            record = record or run_cell(strategy, ctx, job, prepared, settings, budget, share, cache_status, ticks)
            # Each record's own seconds: from the previous record of this job (the driver's writing excluded).
            record.update(cost.fields(time.perf_counter() - cell_started))
            yield record
            cell_started = time.perf_counter()


def run_job_to_list(job: Job, prepared, settings: Settings) -> list[dict]:
    """``run_job`` as one return value, for executors that hand back a job's records at once."""
    return list(run_job(job, prepared, settings))
