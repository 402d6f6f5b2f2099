"""The runner's estimate records: every estimator × pair × seed × budget of a suite, scored in the driver.

    for pair with a [model]:                        (a source-trained model is a [model] too: an exported checkpoint)
        trunk: the checkpoint's, frozen; features [N, D] through the pair's FeatureCache, under the
               checkpoint's key: the same entries the linear probe of frozen-feature reads
        source head: the linear probe (C = 1) on the source's features, else the checkpoint's own classifier
                     (ModelProvider.head: ImageNet's, an exported one), else none -> source_probs [N, Cs]
        for seed, budget:
            support = the strategies' own draw for that budget and seed (scoring.tasks.transfer_tasks)
            score = estimator.score(features(support), support.labels, source_probs(support))
            -> one record, status "estimate"

The estimator is handed the support's features and labels only: the test split's labels never
leave the runner, as for strategies. Estimates are cheap (seconds), so they run in the driver,
before the strategies' jobs, whatever the executor.
"""

import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from benchmark.errors import NotApplicable
from benchmark.estimators import suite as suite_estimators
from benchmark.models.resolve import model_identity
from benchmark.records import cell_key
from benchmark.run.cell import STRATEGY_FAILURES
from benchmark.run.jobs import Job, setup_fields
from benchmark.run.recording import Outcome, cell_record, failure
from benchmark.scoring.tasks import transfer_tasks
from benchmark.toolkit.probe import FIXED_C, fit_probe

ESTIMATE = "estimate"  # records' status of an estimator's score


@dataclass
class Candidate:
    """What every estimator of one pair reads: the frozen trunk, where its features are kept, the source head."""

    trunk: torch.nn.Module
    key: str                        # the FeatureCache key: the checkpoint's own (models.features.trunk_key)
    source_head: torch.nn.Linear | None = None  # [Cs, D]; None: neither a source split nor a classifier of its own
    source_head_s: float = 0.0      # seconds its features and probe took, once per pair
    source_head_is: str | None = None  # what the source predictions are, for records


def candidate(prepared, needs_source: bool, device) -> Candidate:
    """The pair's model as estimators score it (its trunk in eval mode on ``device``, never trained).

    The source classifier LEEP and NCE read: with a source split, the linear probe on the frozen trunk's
    source features; without one, the checkpoint's own classifier (ImageNet's 1000 classes, an exported
    source head: ``ModelProvider.head``), as LEEP's paper scores the ImageNet classifier; else none.
    """
    model = prepared.model
    trunk = model.trunk().eval().to(device)
    found = Candidate(trunk, model.key)
    if not needs_source:
        return found
    started = time.perf_counter()
    if prepared.source is not None:
        source = model.features.features(model.key, trunk, prepared.source.inputs.to(device))  # [N_source, D]
        # One fit at the probe's default C, not its 5-fold x 9-C search: the source head only has to
        # give sensible class probabilities, and the search would cost more than every estimate together.
        probe = fit_probe(source, prepared.source.labels.to(device), prepared.source.num_classes,
                          torch.Generator().manual_seed(0), C=FIXED_C)
        found.source_head = probe.linear().to(device)
        found.source_head_is = "linear probe on the frozen trunk's source features"
    elif (own := model.head()) is not None:
        classes, dim = own["weight"].shape  # [C, D]
        found.source_head = torch.nn.Linear(dim, classes).to(device)
        with torch.no_grad():
            found.source_head.weight.copy_(own["weight"])
            found.source_head.bias.copy_(own["bias"])
        found.source_head_is = f"the checkpoint's own classifier ({classes} classes)"
    found.source_head_s = time.perf_counter() - started
    return found


def support_features(found: Candidate, cache, support, device) -> tuple[np.ndarray, dict]:
    """(features [N, D] float64, what records say of them: the cache key, hit or computed, seconds)."""
    started, rows = time.perf_counter(), cache.forward_rows
    features = cache.features(found.key, found.trunk, support.inputs.to(device))
    note = {"trunk": found.key, "cache": "hit" if cache.forward_rows == rows else "computed",
            "rows": int(features.shape[0]), "dim": int(features.shape[1]),
            "seconds": round(time.perf_counter() - started, 4)}
    return features.detach().double().cpu().numpy(), note


def score_cell(estimator, found: Candidate, prepared, support, device) -> Outcome:
    """One estimate: the score and its seconds, or skipped / failed (never raises for the estimator's faults)."""
    started = time.perf_counter()
    try:
        if type(estimator).needs_source_predictions and found.source_head is None:
            raise NotApplicable("needs a source classifier's predictions; the pair has no source split and its "
                                "checkpoint no classifier of its own")
        with torch.no_grad():
            features, cache_note = support_features(found, prepared.model.features, support, device)
            probs = None
            if type(estimator).needs_source_predictions:
                logits = found.source_head(torch.as_tensor(features, dtype=found.source_head.weight.dtype,
                                                           device=device))
                probs = torch.softmax(logits.double(), dim=1).cpu().numpy()  # [N, Cs]
        labels = support.labels.cpu().numpy().astype(np.int64)  # [N], the support's only
        scored = time.perf_counter()
        value = float(estimator.score(features, labels, probs))
        score_s = time.perf_counter() - scored
        if not np.isfinite(value):
            raise ValueError(f"estimator returned {value}, not a finite score")
    except NotApplicable as reason:
        return not_applicable(f"{type(estimator).name}: {reason}")
    except STRATEGY_FAILURES as error:  # status "estimate" with an error: a rerun tries it again (records.Log)
        return replace(failure(error, time.perf_counter() - started), status=ESTIMATE)
    notes = {"feature_cache": cache_note, "score_s": round(score_s, 6),
             "source_predictions": found.source_head_is if probs is not None else None,
             "source_head_s": round(found.source_head_s, 4) if probs is not None else None}
    # wall_s: this support's features (0 on a cache hit) and the score; the source head once per pair is apart
    return Outcome(ESTIMATE, round(time.perf_counter() - started, 6),
                   metrics={"score": {"mean": value, "n": len(labels), "ci95": None, "ci": None}}, adapt_notes=notes)


def not_applicable(reason: str) -> Outcome:
    """An estimate that does not apply (no model, no source, too few examples): its reason, no score."""
    return Outcome(ESTIMATE, reason=reason)


def estimate_job(provided, entry: str, options: dict, pair: str, prepared, seed: int, budget, settings) -> Job:
    """A job of one estimate cell: a record is made from it as a strategy's is (``recording.cell_record``)."""
    named = replace(provided, variant=entry.partition(":")[2])  # "hscore:shrunk": Job.describe names the entry
    hparams = provided.cls(**options).get_params()  # every option, defaults included: part of the cell's identity
    return Job(named, hparams, pair, seed, (budget,), (), None, model=model_identity(prepared),
               setup=setup_fields(settings, prepared))


def estimate_key(job: Job, budget) -> tuple:
    """The estimate's cell identity: its status keeps it apart from a strategy of the same name
    (``records.cell_key``); a variant ("hscore:shrunk") differs from its plain entry by its options."""
    return cell_key({**job.identity(budget), "status": ESTIMATE})


def note(record: dict, summary) -> None:
    """Count a written estimate in the run's ``Summary``: scored, not applicable (a skip note) or failed."""
    cell = f"{record['strategy']} / {record['pair']} / seed {record['seed']} / budget {record['budget']}"
    if record["error"]:
        summary.failed.append(f"estimate {cell}: {record['error']['type']}: {record['error']['message']}")
    elif record["reason"]:
        summary.skipped += 1
        summary.skip_notes[f"estimate {record['reason']}"] = summary.skip_notes.get(f"estimate {record['reason']}", 0) + 1
    else:
        summary.estimates += 1


def run_estimates(suite, registry, settings, pairs: dict, log, summary, phase=lambda text: None) -> None:
    """Append every estimate record ``log`` lacks (``records.Log``), counted in ``summary`` (the run's);
    ``phase(text)`` is told which pair is being estimated (the progress line)."""
    chosen = suite_estimators.check(suite, registry)
    device = torch.device(settings.device)
    for number, (name, prepared) in enumerate(pairs.items(), 1):
        if chosen:
            phase(f"estimates: pair {number}/{len(pairs)} ({name})")
        found = None
        for entry, provided, options in chosen:
            for seed in suite.seeds:
                for budget in suite.budgets:
                    job = estimate_job(provided, entry, options, name, prepared, seed, budget, settings)
                    if estimate_key(job, budget) in log.done:
                        summary.already += 1
                        continue
                    if prepared.model is None:
                        outcome = not_applicable(f"{entry}: estimators score a [model]; pair '{name}' has none "
                                                 f"(its strategies build their own backbone)")
                    else:
                        if found is None:  # once per pair, and only when some estimate is still to do
                            found = candidate(prepared, any(p.cls.needs_source_predictions for _, p, _ in chosen),
                                              device)
                        # The strategies' support for this budget and seed; the task's test split is dropped here.
                        support = next(transfer_tasks(prepared.pool, prepared.pool_index, prepared.test, budget,
                                                      seed, prepared.pair.name)).support.without_texts()
                        outcome = score_cell(provided.cls(**options), found, prepared, support, device)
                    record = cell_record(settings, job, prepared, budget, outcome)
                    if log.append(record):
                        note(record, summary)
                    else:  # another runner recorded it first
                        summary.already += 1
