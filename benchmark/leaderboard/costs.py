"""The cost columns: pretraining counted once per pretrained state, adaptation per cell.

A record's ``cost`` (benchmark.run.pretraining.PretrainCost.fields) names its pretrained state
(``pretrain_id``) and how long pretraining it took wherever it ran (``pretrain_s``), and the
seconds of the cell's own adaptation and evaluation (``adapt_s``). Cells that share a state
(budgets of one job, cells restored from the pretrain cache) share its id, so its cost is
counted once: the first cell no longer looks costly only because it happened to pretrain.

Records written before these fields: their adaptation seconds are ``wall_s - pretrain_s``
(``wall_s`` was the cell's own time plus ``pretrain_s``, its even share of the job's
pretraining), which is the same quantity; their pretraining cost cannot be recovered from
shares that were split among whichever cells ran it, and is shown as not recorded.
"""

import math

NOT_RECORDED = None  # a cost no record says: rendered as "not recorded", never 0


def record_costs(record: dict) -> tuple[float | None, tuple[str, float | None] | None]:
    """(adaptation seconds or None, (pretrained state id, its pretraining seconds or None) or None)."""
    cost = record.get("cost")
    if cost:
        state = (cost["pretrain_id"], cost.get("pretrain_s")) if cost.get("pretrain_id") else None
        return cost.get("adapt_s"), state
    if record.get("wall_s") is not None and record.get("pretrain_s") is not None:
        return max(float(record["wall_s"]) - float(record["pretrain_s"]), 0.0), None
    return None, None


def mean_adapt(runs) -> float | None:
    """Mean adaptation seconds per successful cell; NaN without one; None when none recorded it."""
    values = [v for r in runs for v in r.adapt_s]
    if not any(r.values for r in runs):
        return math.nan
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else NOT_RECORDED


def mean_pretrain(runs) -> float | None:
    """Mean pretraining seconds per distinct pretrained state; NaN without a successful cell;
    None when no record says it (older records, or cache entries older than the field)."""
    if not any(r.values for r in runs):
        return math.nan
    states = {}
    for r in runs:
        states.update(r.pretrain_s)
    known = [v for v in states.values() if v is not None]
    return sum(known) / len(known) if known else NOT_RECORDED
