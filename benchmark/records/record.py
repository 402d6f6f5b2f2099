"""The record: what one cell of a suite produced, one line of records.jsonl.

``Record`` lists every field; ``make`` is the one place a record is made, whole (every field,
``None`` where it does not apply), and nothing edits a record after it is made. The runner fills
it from a cell's outcome (``benchmark.run.recording``); the leaderboard's synthetic records
(``benchmark.leaderboard.synthetic``) are made here too, so they have the runner's shape.
``benchmark.records.identity`` says which fields make two records the same cell.
"""

import platform
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypedDict

import benchmark

SCHEMA = 1  # the record format's version, in every record's "schema"

Status = Literal["ok", "failed", "skipped", "trial", "estimate"]


class Record(TypedDict):
    """One cell: a strategy × pair × seed × budget (× trial) of a suite, and what it scored."""

    # -- which task the strategy faced
    schema: int                    # SCHEMA
    suite: str                     # the suite's name (a selection override appends "-<protocol>")
    protocol: str                  # "transfer" (a labelled budget, the target test split) or "episodic"
    protocol_settings: dict        # episodic: {"episodes", "ways", "queries"}; transfer: {}
    pair: str                      # the pair's name in the suite
    source: dict | None            # the source dataset table (DatasetSpec.describe); None: the model alone
    target: dict                   # the target pool's dataset table: budgets / episodes are drawn from it
    target_test: dict | None       # transfer: the split every prediction is scored on; episodic: None
    fingerprints: dict             # content hashes of the data as strategies saw it: source, target, target_test
    overlap: dict | None           # scored examples that are also training data, allowed by the suite: counts
    test_classes: dict | None      # transfer: {class name: examples} of the test split (its majority rate); else None
    n_way: int                     # classes per support set
    budget: str                    # labelled target examples per class ("all", or k shots)
    seed: int                      # the cell's seed: its budget draw, its episodes, its initialisation
    model: dict | None             # the model started from: provider, name, weights, checkpoint sha256, key
    input: dict | None             # the shape and standardisation the inputs were brought to, and from where
    assets: dict | None            # {name: sha256 over its [NAME.files] table} of the suite's assets (assets.toml),
                                   # verified before the run; None: the suite declares none
    licences: dict | None          # {what: licence} the suite states for the cell's suite, model, datasets and assets
                                   # (benchmark.suite.credits), e.g. {"asset elpv": "CC-BY-NC-SA-4.0"}; None: none
    # -- which strategy, configured how
    strategy: str                  # the strategy's unique name
    plugin: dict                   # {"name", "dist", "version"}: the plugin that provided it
    hparams: dict                  # every hyperparameter: defaults, the suite's overrides, a search's pick
    selection: dict                # how hparams were chosen: {"protocol": "fixed"} or the search (Plan.describe)
    transductive: bool             # the strategy scores queries jointly on purpose: ranked apart
    device: str                    # where it ran ("cpu", "cuda", ...)
    # -- what happened
    status: Status                 # ok; failed (error says why); skipped (reason says why); trial (a search's);
                                   # estimate (a transferability estimator's score: benchmark.estimators.run)
    metrics: dict | None           # ok: {metric: {"mean", "ci95", "n", "ci"}}; estimate: {"score": ...}; else None
    per_episode: dict | None       # episodic ok: {"accuracy": [per-episode values]}, for paired tests
    # ok: {"file": "predictions/<sha256>.safetensors" (beside records.jsonl), "sha256", "kind": "scores"|"topk",
    # "examples", "tasks"}: every task's labels and scores, so `leaderboard --metric` computes a metric the
    # record lacks (benchmark.records.prediction_files); None: not ok, or written before predictions were kept
    predictions: dict | None
    trial: dict | None             # trial: {"index", "score" (validation), "folds", "params"}
    error: dict | None             # failed: {"type", "message", "traceback" (tail)}
    reason: str | None             # skipped: why the strategy does not run this cell
    adapt_notes: dict | None       # what adapt decided that hparams do not say (Strategy.adapt_notes)
    batched: bool | None           # episodic: whether episodes ran in chunks (Strategy.adapt_episodes)
    # -- what it cost (seconds) and what the pretraining reported
    wall_s: float                  # the cell's seconds, its share of the job's pretraining included
    pretrain_s: float | None       # that share (ok records)
    pretrain_cache: str | None     # "hit", "stored", "off", "nothing to store", "store failed", or None
    cost: dict | None              # {"pretrain_id", "pretrain_s", "pretrained_here", "restore_s", "adapt_s"}
    reported: dict | None          # what the pretraining told ctx.report (Context.report)
    # -- provenance
    finished_at: str               # ISO 8601, UTC, seconds
    versions: dict                 # {"python", "torch", "transferbench"}
    git: dict | None               # {"commit", "dirty"} of the transferbench checkout; None outside one


FIELDS = frozenset(Record.__annotations__)


def make(**fields) -> Record:
    """A whole record from its fields; ``schema``, ``finished_at``, ``versions`` and ``git`` are filled in.

    :raises ValueError: a field of ``Record`` is missing or an unknown one is given (names them).
    """
    made = {"schema": SCHEMA, "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields}
    if "versions" not in made or "git" not in made:
        made = {**environment(), **made}
    missing, unknown = sorted(FIELDS - made.keys()), sorted(made.keys() - FIELDS)
    if missing or unknown:
        raise ValueError(f"a record {'without ' + ', '.join(missing) if missing else ''}"
                         f"{' and ' if missing and unknown else ''}{'with unknown ' + ', '.join(unknown) if unknown else ''}")
    return Record(**made)


@lru_cache(maxsize=1)
def environment() -> dict:
    """Library versions and the git commit of the transferbench checkout, for every record."""
    import torch  # here, not at the top: reading records (leaderboards, cite) need not import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transferbench": benchmark.__version__}
    checkout = Path(benchmark.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
        # Dirty: the code differs from the commit. results/ is left out: regenerating a published
        # records.jsonl changes it, and those records are the run's output, not its code.
        dirty = bool(commit) and bool(subprocess.run(
            ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no", "--", ".",
             ":(exclude)results"], capture_output=True, text=True, timeout=5).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, False
    return {"versions": versions, "git": {"commit": commit, "dirty": dirty} if commit else None}
