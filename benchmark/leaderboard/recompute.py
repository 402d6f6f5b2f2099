"""A metric a record lacks, computed from its cell's stored predictions: ``leaderboard --metric NAME``
without retraining.

    for each ok record without metrics[NAME]:
        labels [T, Q], scores [T, Q, C] = its predictions file (benchmark.records.prediction_files)
        values = [metric(labels[t], scores[t]) for each of its T tasks]     # 1, or E episodes
        metrics[NAME] = summarise(values): the value, or the mean over episodes with its CI,
        per_episode[NAME] = values (episodic), exactly as the runner summarises its own

A record that has the metric keeps its recorded value. Records are copied, never edited:
records.jsonl is unchanged. Every metric the runner records (accuracy, macro_f1, macro_recall,
recall[<class>], auroc) is higher-is-better; a computed one says its own direction.
"""

import math
from pathlib import Path

import numpy as np

from benchmark.errors import did_you_mean
from benchmark.leaderboard.collect import LeaderboardError
from benchmark.records import prediction_files
from benchmark.scoring.aggregate import summarise
from benchmark.scoring.registered import resolve


def installed_metrics() -> dict:
    """{name: Metric} of every installed plugin (discovery loads them all: called only when needed)."""
    from benchmark.discovery.registry import discover

    return {name: provided.cls for name, provided in discover().metrics.items()}


def cell_name(record: dict) -> str:
    return f"{record['strategy']} / {record['pair']} / seed {record['seed']} / budget {record['budget']}"


def task_values(metric, class_name, predictions, record: dict) -> list[float]:
    """The metric on each of a cell's tasks: labels [T, Q] and scores [T, Q, C] -> T values.
    :raises LeaderboardError: a per-class metric on an episodic cell, or a class the test split lacks."""
    index = None
    if class_name is not None:
        if not predictions.classes:
            raise LeaderboardError(f"'{metric.name}' is per class, and the episodic cell {cell_name(record)} "
                                   f"renumbers its classes episode by episode")
        if class_name not in predictions.classes:
            raise LeaderboardError(f"no class '{class_name}' in the test split of {record['pair']}"
                                   f"{did_you_mean(class_name, predictions.classes)}; its classes: "
                                   f"{', '.join(predictions.classes)}")
        index = predictions.classes.index(class_name)
    labels, scores = predictions.labels.astype(np.int64), predictions.dense()
    return [metric(labels[task], scores[task], index) for task in range(predictions.tasks)]


def with_metric(record: dict, name: str, values: list[float]) -> dict:
    """A copy of ``record`` carrying ``name`` as the runner would have recorded it."""
    summary = summarise([{name: value} for value in values])
    made = {**record, "metrics": {**(record.get("metrics") or {}), **summary}}
    if len(values) > 1:  # episodic: per-episode values, for the paired tests (rounded as the runner rounds)
        made["per_episode"] = {**(record.get("per_episode") or {}), name: [round(v, 6) for v in values]}
    return made


def complete(all_records: list[dict], name: str, folder: Path, installed=installed_metrics) -> tuple[list[dict], bool]:
    """``all_records`` with metric ``name`` in every ok record, and whether a higher value is better.

    ``folder``: where records.jsonl and its predictions/ are. ``installed()`` gives {name: Metric};
    it is called only when some ok record lacks the metric.
    :raises LeaderboardError: ``name`` is no installed metric; cells lack it and have no stored
        predictions (how many); a predictions file is missing or damaged; the metric is undefined
        (NaN) on some cells.
    """
    lacking = [r for r in all_records if r.get("status") == "ok" and name not in (r.get("metrics") or {})]
    if not lacking:
        return all_records, True
    try:
        metric, class_name = resolve(name, installed())
    except ValueError as error:
        recorded = sorted({key for r in all_records for key in (r.get("metrics") or {})})
        raise LeaderboardError(f"{error}; the records have {', '.join(recorded) or 'none'}") from None
    blind = [r for r in lacking if not r.get("predictions")]
    if blind:
        ok = sum(r.get("status") == "ok" for r in all_records)
        raise LeaderboardError(f"{folder / 'records.jsonl'}: {len(blind)} of {ok} ok cells have no '{name}' and no stored "
                               f"predictions to compute it from (recorded before predictions were kept, e.g. "
                               f"{cell_name(blind[0])}); run them again, or choose a recorded metric")
    computed, undefined = {}, []
    for record in lacking:
        try:
            predictions = prediction_files.read(folder, record["predictions"])
        except ValueError as error:
            raise LeaderboardError(str(error)) from None
        values = task_values(metric, class_name, predictions, record)
        if any(math.isnan(value) for value in values):
            undefined.append(record)
        computed[id(record)] = with_metric(record, name, values)
    if undefined:
        raise LeaderboardError(f"'{name}' is undefined (NaN) on {len(undefined)} of the cells computed, e.g. "
                               f"{cell_name(undefined[0])} (its test labels may hold too few classes); "
                               f"choose another metric")
    return [computed.get(id(r), r) for r in all_records], metric.higher_is_better
