"""Trials and the selected cell: what a job with a selection plan runs for each budget.

    for trial in 0..T-1:                         # drawn by a seeded optuna sampler
        hyperparameters = defaults | suite [hparams] | trial's draw
        score = mean over the protocol's folds of accuracy(adapt(fold.adapt_on), fold.score_on)
            one record: status "trial", its hyperparameters and score  (already recorded: reused)
    the best trial's hyperparameters -> the ordinary cell (benchmark.run.cell.run_cell) on the target
    test split -> the ok record, with "selection" saying how they were chosen

It yields (hyperparameters, outcome) pairs; benchmark.run.execute makes each record.

Trials that change only adapt-time hyperparameters (those outside the strategy's
``pretrain_identity``) reuse the job's one pretrained instance; a trial that changes the
pretrain gets its own, through the pretrain cache.
"""

import json
import time
from dataclasses import replace

import optuna
import torch

from benchmark import records
from benchmark.run.cell import STRATEGY_FAILURES, predict, run_cell, tasks
from benchmark.run.jobs import Job, Settings
from benchmark.run.prepare import PreparedPair
from benchmark.run.pretrain_cache import key_payload
from benchmark.run.pretraining import pretrained
from benchmark.run.recording import Outcome, failure
from benchmark.run.timeout import time_limit
from benchmark.scoring.tasks import derive_seed
from benchmark.selection.plan import Plan
from benchmark.selection.protocols import SELECTION_PROTOCOLS, CannotSelect, evidence_for
from benchmark.strategy.base import Strategy
from benchmark.suite.spec import budget_label


def sampler_for(plan: Plan, seed: int) -> optuna.samplers.BaseSampler:
    if plan.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def fold_accuracy(strategy, folds, ctx, spec, task_seed: int, device) -> float:
    """Mean accuracy over folds of the predictor adapted on each fold (CPU tensors in, float out)."""
    values = []
    for fold in folds:
        torch.manual_seed(task_seed)
        predictor = strategy.adapt(fold.adapt_on.to(device), ctx.fork(task_seed, spec))
        scores = predict(predictor, fold.score_on.inputs, fold.adapt_on.num_classes, device)
        values.append(float((scores.argmax(dim=1) == fold.score_on.labels).float().mean()))
    return sum(values) / len(values)


class Instances:
    """Pretrained strategies by pretrain identity: trials that share it share one instance."""

    def __init__(self, strategy, ctx, cache_status, job, prepared, settings):
        self.job, self.prepared, self.settings = job, prepared, settings
        self.by_identity = {self.identity(strategy): (strategy, ctx, cache_status)}
        self.pretrains = 0  # pretrains (or cache restores) beyond the job's own, by trials that change the pretrain

    @staticmethod
    def identity(strategy) -> str:
        return records.hparams_key(list(strategy.pretrain_identity()))

    def get(self, hparams: dict):
        probe = self.job.provided.cls(**hparams)
        key = self.identity(probe)
        if key not in self.by_identity:
            job = replace(self.job, hparams=hparams, pretrain_key=self.pretrain_key(probe))
            self.by_identity[key] = pretrained(job, self.prepared, self.settings)
            self.pretrains += type(probe).pretrain is not Strategy.pretrain  # one that learns nothing is free
        strategy, ctx, status = self.by_identity[key]
        return strategy.set_params(**hparams), ctx, status

    def pretrain_key(self, probe):
        if self.job.pretrain_key is None:
            return None
        spec = self.prepared.task_spec(self.settings.protocol, self.job.budgets[0])
        return key_payload(self.job.provided, probe.pretrain_identity(), self.prepared.fingerprints["source"],
                           self.job.seed, spec, self.settings.device, self.job.task_key)


def selected_cell(strategy, ctx, job: Job, prepared: PreparedPair, settings: Settings, budget, share: float,
                  cache_status):
    """Yield (hyperparameters, outcome) for each trial of one cell, then for the cell itself on the target
    test split: ok (or failed), its outcome's ``selection`` saying what was chosen and how."""
    plan, label = job.selection, budget_label(budget)
    spec = prepared.task_spec(settings.protocol, budget)
    task = next(iter(tasks(settings, prepared, job.seed, budget)))  # transfer: one task per cell
    protocol = SELECTION_PROTOCOLS[plan.protocol]()
    instances = Instances(strategy, ctx, cache_status, job, prepared, settings)
    try:
        if not plan.space:
            raise CannotSelect(f"{job.provided.name} declares no search space: its defaults are used")
        evidence = evidence_for(protocol, task.support, prepared.validation, prepared.test)
        folds = protocol.folds(evidence, task.seed)
    except CannotSelect as why:  # recorded as what it is: the defaults, and why
        chosen = {"protocol": "fixed", "requested": plan.protocol, "reason": str(why), "trials": 0}
        try:
            outcome = run_cell(*instances.get(plan.base)[:2], replace(job, hparams=plan.base), prepared, settings,
                               budget, share, cache_status)
        except STRATEGY_FAILURES as error:
            outcome = failure(error, share)
        yield plan.base, replace(outcome, selection=chosen)
        return

    sampler_seed = derive_seed("selection", plan.seed, job.provided.name, job.pair, label, job.seed) % 2**32
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=sampler_for(plan, sampler_seed))
    best, search_wall, device = None, 0.0, torch.device(settings.device)
    for index in range(plan.trials):
        trial = study.ask(plan.space)
        hparams = {**plan.base, **trial.params}
        recorded = plan.recorded.get((label, index))
        if recorded is not None and recorded["hparams"] == json.loads(json.dumps(hparams)):
            score, wall = recorded["score"], recorded.get("wall_s") or 0.0
        else:
            trial_started, error = time.perf_counter(), None
            try:
                with time_limit(settings.cell_timeout, f"trial {index} of {job.describe(budget)}"):
                    instance, instance_ctx, _ = instances.get(hparams)
                    score = fold_accuracy(instance, folds, instance_ctx, spec, task.seed, device)
            except STRATEGY_FAILURES as failed:
                score, error = None, failed
            wall = round(time.perf_counter() - trial_started, 4)
            described = {"index": index, "score": score, "folds": len(folds), "params": trial.params}
            yield hparams, replace(failure(error, wall) if error else Outcome("trial", wall),
                                   status="trial", trial=described)
        search_wall += wall
        if score is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, score)
        if best is None or score > best[2]:  # ties keep the earlier trial
            best = (index, hparams, score)
    if best is None:
        yield job.hparams, failure(RuntimeError(f"all {plan.trials} trials failed; see the trial records"),
                                   search_wall + share)
        return
    index, hparams, score = best
    try:
        instance, instance_ctx, _ = instances.get(hparams)  # already built by its trial, unless that was resumed
    except STRATEGY_FAILURES as error:  # plugin code: it fails its own cell, not the suite
        outcome = failure(error, share)
    else:
        outcome = run_cell(instance, instance_ctx, replace(job, hparams=hparams), prepared, settings, budget, share,
                           cache_status)
    yield hparams, replace(outcome, selection={"selected_trial": index, "validation_score": score,
                                               "search_wall_s": round(search_wall, 4),
                                               "extra_pretrains": instances.pretrains})
