"""A job's pretrained strategy: a fresh instance, restored from the pretrain cache or pretrained
(and stored), with what that cost counted once per pretrained state (``PretrainCost``)."""

import time
import uuid
import warnings
from dataclasses import dataclass, field, replace

import torch

from benchmark.run.jobs import Job, Settings
from benchmark.run.prepare import PreparedPair
from benchmark.run.pretrain_cache import PretrainCache, caches_state, key_of
from benchmark.strategy.context import Context


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


def failed_pretraining(wall_s: float) -> PretrainCost:
    return PretrainCost(uuid.uuid4().hex, round(wall_s, 4), True)


def pretrained(job: Job, prepared: PreparedPair, settings: Settings) -> tuple:
    """(strategy, ctx, cache status): a fresh instance, restored from the cache or pretrained."""
    return pretrained_with_cost(job, prepared, settings)[:3]


def pretrained_with_cost(job: Job, prepared: PreparedPair, settings: Settings, progress=None) -> tuple:
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
    source = prepared.source
    if source is not None and not getattr(type(strategy), "wants_texts", False):
        source = source.without_texts()  # raw texts only for a strategy that asks for them
    strategy.pretrain(source.to(device) if source is not None else None, ctx)
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
