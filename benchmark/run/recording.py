"""From what happened in a cell to its record: the runner's one way of filling ``records.Record``.

Every record the runner writes (ok, failed, skipped, a search's trial) is ``cell_record`` of
the cell and an ``Outcome``; ``records.make`` checks it is whole. Nothing edits a record after.
"""

import traceback
from dataclasses import dataclass, field

import torch

from benchmark import records
from benchmark.errors import NotApplicable
from benchmark.models.record_fields import model_fields
from benchmark.run.jobs import Job, Settings, setup_fields
from benchmark.run.prepare import PreparedPair
from benchmark.run.pretraining import PretrainCost
from benchmark.suite.spec import budget_label


@dataclass(frozen=True)
class Outcome:
    """What a cell (or a trial) produced; the fields of ``records.Record`` that say what happened."""

    status: records.record.Status
    wall_s: float = 0.0
    metrics: dict | None = None
    per_episode: dict | None = None
    trial: dict | None = None
    error: dict | None = None
    reason: str | None = None
    adapt_notes: dict | None = None
    batched: bool | None = None
    pretrain_s: float | None = None
    pretrain_cache: str | None = None
    # ok: the record's "predictions" field with the file's bytes, for the driver to write
    # (benchmark.records.prediction_files.pending); None: nothing scored, or a trial
    predictions: dict | None = None
    selection: dict = field(default_factory=dict)  # added to the job's selection: what a search chose, or why none ran


def failure(error: BaseException, wall_s: float = 0.0) -> Outcome:
    """A failed outcome: the error's type, first line and the tail of its traceback."""
    tail = traceback.format_exception(error)[-6:]
    return Outcome("failed", round(wall_s, 4), error={
        "type": type(error).__name__, "message": str(error).splitlines()[0] if str(error) else "",
        "traceback": "".join(tail)[-2000:]})


def skipped(job: Job, reason: NotApplicable | str) -> Outcome:
    return Outcome("skipped", reason=f"{job.provided.name}: {reason}")


def test_classes(test) -> dict[str, int]:
    """{class name: examples} of the test split: what a constant (majority-class) predictor would score."""
    counts = torch.bincount(test.labels.cpu(), minlength=test.num_classes).tolist()
    return dict(zip(test.classes, counts))


def cell_record(settings: Settings, job: Job, prepared: PreparedPair, budget, outcome: Outcome,
                cost: PretrainCost | None = None, adapt_s: float = 0.0) -> records.Record:
    """The record of one cell of ``job`` (its hyperparameters as the job says), whole.

    ``cost``: the job's pretraining and ``adapt_s`` this record's own seconds (README: "Costs");
    None where no pretraining ran for it (a job that could not be planned, an unsupported cell).
    """
    pair = prepared.pair
    selection = job.selection.describe() if job.selection is not None else {"protocol": "fixed"}
    selection = {**selection, **(job.recipe or {})}  # values a model family's recipe set (benchmark.run.runner)
    return records.make(
        suite=settings.suite, **setup_fields(settings, prepared),
        pair=pair.name, source=pair.source.describe() if pair.source else None, target=pair.target.describe(),
        target_test=pair.target_test.describe() if settings.protocol == "transfer" else None,
        test_classes=test_classes(prepared.test) if settings.protocol == "transfer" else None,
        strategy=job.provided.name,
        plugin={"name": job.provided.plugin, "dist": job.provided.dist, "version": job.provided.version},
        hparams=job.hparams, seed=job.seed, budget=budget_label(budget),
        n_way=prepared.task_spec(settings.protocol, budget).n_way, device=settings.device,
        transductive=bool(getattr(job.provided.cls, "transductive", False)),  # ranked apart from inductive ones
        overlap=prepared.overlap or None,  # allowed by the suite: {"source ∩ target test": examples, ...}
        assets=settings.assets,  # {name: digest} of the assets verified before the run; None: none declared
        licences=settings.licences.get(pair.name) or None,  # what the suite states (benchmark.suite.credits)
        **model_fields(prepared, job.hparams),
        selection={**selection, **outcome.selection},
        status=outcome.status, metrics=outcome.metrics, per_episode=outcome.per_episode, trial=outcome.trial,
        error=outcome.error, reason=outcome.reason, adapt_notes=outcome.adapt_notes, batched=outcome.batched,
        wall_s=outcome.wall_s, pretrain_s=outcome.pretrain_s, pretrain_cache=outcome.pretrain_cache,
        predictions=outcome.predictions,  # its file is written with its line (records.Log.append)
        **(cost.fields(adapt_s) if cost is not None else {"cost": None, "reported": None}))


def failed_records(job: Job, prepared: PreparedPair, settings: Settings, error: BaseException,
                   wall_s: float = 0.0) -> list[records.Record]:
    """Every cell of ``job`` as failed by ``error`` (a job that could not be planned, a worker that died)."""
    return [cell_record(settings, job, prepared, budget, failure(error, wall_s)) for budget in job.budgets]
