"""What the runner asks of benchmark.selection before any job runs: held-out data and plans.

    pairs = prepare_pairs(selection, pairs)    # source-val: pretrain on 80% of the source, keep 20%
    recorded = recorded_trials(records_path)   # trials already recorded, so a rerun resumes them
    job.selection = job_plan(...)              # None under "fixed": the job runs as it always did
"""

import json
from dataclasses import dataclass, field, replace

import numpy as np
import optuna
import torch
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from benchmark import records
from benchmark.data.labelled import LabelledData
from benchmark.scoring.tasks import derive_seed
from benchmark.selection.config import Selection, space_for
from benchmark.selection.protocols import HOLD_OUT, SELECTION_PROTOCOLS


@dataclass(frozen=True)
class Plan:
    """A job's search: plain data, sent to a Ray worker with the job."""

    protocol: str
    trials: int
    sampler: str
    seed: int
    space: dict                  # {hyperparameter: optuna distribution}
    base: dict                   # every hyperparameter a trial does not draw: defaults, [hparams], fixed [search]
    cell: str                    # what identifies the selected cell in records.cell_key
    recorded: dict = field(default_factory=dict)  # (budget label, trial index) -> {"hparams", "score"}

    def describe(self) -> dict:
        protocol = SELECTION_PROTOCOLS[self.protocol]
        return {"protocol": self.protocol, "reads": protocol.reads, "trials": self.trials,
                "sampler": self.sampler, "seed": self.seed, "cell": self.cell,
                "space": {name: json.loads(optuna.distributions.distribution_to_json(d))
                          for name, d in sorted(self.space.items())}}


def split_source(source: LabelledData, seed: int) -> tuple[LabelledData, LabelledData]:
    """(train, validation): a stratified ``HOLD_OUT`` share of every class held out (scikit-learn);
    for a source with two groups or more (``LabelledData.groups``), whole groups: one fold of
    scikit-learn's StratifiedGroupKFold with 1 / HOLD_OUT folds (fewer with fewer groups), so no
    group is on both sides."""
    labels = source.labels.numpy()
    distinct = len(set(source.groups)) if source.groups is not None else 0
    if distinct >= 2:
        folds = StratifiedGroupKFold(min(distinct, round(1 / HOLD_OUT)), shuffle=True, random_state=seed % 2**32)
        train, held = next(folds.split(labels.reshape(-1, 1), labels, groups=list(source.groups)))
    else:
        train, held = train_test_split(np.arange(len(labels)), test_size=HOLD_OUT, stratify=labels,
                                       random_state=seed % 2**32)
    return (source.subset(torch.as_tensor(np.sort(train)), name=f"{source.name} (source-val train part)"),
            source.subset(torch.as_tensor(np.sort(held)), name=f"{source.name} (source-val held out)"))


def prepare_pairs(selection: Selection, pairs: dict) -> dict:
    """Under source-val, every pair's source split cut into a training and a validation part.

    Every strategy then pretrains on the training part (its pretrain cache key says so
    through the source fingerprint), as DomainBed trains on 80% of each training domain.
    """
    if selection.protocol != "source-val":
        return pairs
    out = {}
    for name, prepared in pairs.items():
        train, held = split_source(prepared.source, derive_seed("source-val", name, selection.seed))
        fingerprints = {**prepared.fingerprints,
                        "source": f"{prepared.fingerprints['source']}:source-val-train-{selection.seed}"}
        out[name] = replace(prepared, source=train, fingerprints=fingerprints, validation=held)
    return out


def recorded_trials(path) -> dict:
    """{(pair, strategy, cell, seed, setup): {(budget, index): {"hparams", "score", "wall_s"}}} from records.jsonl.
    ``setup`` is records.setup_key: a trial scored on other data or protocol settings is never reused."""
    found = {}
    for record in records.read(path):
        if record.get("status") != "trial":
            continue
        key = (record["pair"], record["strategy"], record["selection"]["cell"], record["seed"],
               records.setup_key(record))
        found.setdefault(key, {})[(record["budget"], record["trial"]["index"])] = {
            "hparams": record["hparams"], "score": record["trial"]["score"], "wall_s": record.get("wall_s")}
    return found


def job_plan(suite, provided, hparams: dict, pair: str, seed: int, recorded: dict, setup: tuple = ()) -> Plan | None:
    """The search a job runs, or None under the fixed protocol. ValueError: an unknown [search] key."""
    selection = suite.selection
    if not selection.searches:
        return None
    space, fixed = space_for(provided.cls, suite.search.get(provided.name, {}), f"{suite.path}: ")
    base = {**hparams, **fixed}
    identity = {"protocol": selection.protocol, "trials": selection.trials, "sampler": selection.sampler,
                "seed": selection.seed, "base": base,
                "space": {k: optuna.distributions.distribution_to_json(d) for k, d in sorted(space.items())}}
    cell = "selected:" + records.hparams_key(identity)
    return Plan(selection.protocol, selection.trials, selection.sampler, selection.seed, space, base, cell,
                recorded.get((pair, provided.name, cell, seed, setup), {}))
