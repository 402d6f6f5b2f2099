"""How each row's hyperparameters were chosen, as the leaderboard reads it from the records.

A selected cell's record carries ``selection`` (benchmark.selection): the protocol, the
number of trials, the wall seconds of the search, and, where the protocol could not apply
(e.g. target-val at k = 1), the protocol used instead and why. Records without it are
"fixed". Trial records (status "trial") are the search's own and never a leaderboard run.
"""

import json
from collections import Counter

from benchmark.selection.protocols import SELECTION_PROTOCOLS

ORACLE = "oracle"


def protocol_of(record: dict) -> str:
    """The protocol a row declares: what was asked for (a cell that fell back stays in its row)."""
    selection = record.get("selection") or {}
    return selection.get("requested") or selection.get("protocol") or "fixed"


def searched_hparams(record: dict) -> dict:
    """The hyperparameters that identify the row: a selected cell's base (what the search started
    from), not the outcome, which may differ per seed."""
    cell = (record.get("selection") or {}).get("cell")
    if cell:
        return json.loads(cell.split(":", 1)[1])["base"]
    return record["hparams"]


def search_cost(record: dict) -> tuple[int, float]:
    """(trials, wall seconds of the search) behind one ok record; (0, 0.0) without a search."""
    selection = record.get("selection") or {}
    if selection.get("protocol") in (None, "fixed"):
        return 0, 0.0
    return int(selection.get("trials") or 0), float(selection.get("search_wall_s") or 0.0)


def caption(records: list[dict]) -> str:
    """One sentence per protocol present: what it read, how many trials, and the fallbacks."""
    by_protocol, fallbacks, settings = Counter(), Counter(), {}
    for record in records:
        if record.get("status") != "ok":
            continue
        asked = protocol_of(record)
        by_protocol[asked] += 1
        selection = record.get("selection") or {}
        if selection.get("requested"):
            fallbacks[(asked, selection.get("reason", ""))] += 1
        elif asked != "fixed":
            settings[asked] = (selection.get("trials"), selection.get("sampler"), selection.get("seed"))
    if set(by_protocol) <= {"fixed"}:
        return f"Hyperparameters: fixed ({SELECTION_PROTOCOLS['fixed'].reads}); none was selected on any data."
    parts = []
    for asked in sorted(by_protocol):
        if asked == "fixed":
            parts.append(f"Rows marked fixed: {SELECTION_PROTOCOLS['fixed'].reads}.")
            continue
        what = f"{ORACLE.upper()}: " if asked == ORACLE else ""
        if asked not in settings:  # every cell fell back: said below
            parts.append(f"{what}{asked} was asked for ({SELECTION_PROTOCOLS[asked].reads}) but could apply to no cell.")
            continue
        trials, sampler, seed = settings[asked]
        parts.append(f"{what}Hyperparameters chosen by {asked} ({SELECTION_PROTOCOLS[asked].reads}), "
                     f"{trials} trials per strategy × pair × budget × seed ({sampler} sampler, seed {seed}); "
                     f"the selected trial's configuration is scored on the target test split.")
    for (asked, reason), n in sorted(fallbacks.items()):
        parts.append(f"{n} {asked} cell{'s' if n != 1 else ''} here used the defaults (fixed) instead: {reason}.")
    if ORACLE in by_protocol:
        parts.append("Oracle rows were tuned on the target test split: an upper bound, marked oracle and "
                     "never ranked or compared with the others.")
    parts.append("search = trials and wall-clock seconds of the search, summed over the row's cells.")
    return " ".join(parts)


def starts_from_note(records: list[dict]) -> str:
    """'finetune starts from the model source-only scores as is (source head reused in 30 of its 45 cells here).'

    Cells of a pair without a source are worded apart: no source-only model exists there, so the strategy
    starts from the pretrained model as loaded, with a new head, whatever its ``starts_from`` note says.
    """
    starts, counts = {}, {}
    for record in records:
        notes = record.get("adapt_notes") or {}
        if record.get("status") != "ok" or not notes.get("starts_from"):
            continue
        starts[record["strategy"]] = notes["starts_from"]
        sourced = record.get("source") is not None
        count = counts.setdefault(record["strategy"], Counter())
        count["sourced" if sourced else "unsourced"] += 1
        count["reused" if sourced else "fresh"] += notes.get("head") == ("reuse" if sourced else "new")
    return " ".join(_start_sentence(name, origin, counts[name]) for name, origin in sorted(starts.items()))


def _start_sentence(name: str, origin: str, count: Counter) -> str:
    def cells(n: int) -> str:
        return f"{n} cell{'s' if n != 1 else ''}"

    with_source = without = ""
    if count["sourced"]:
        where = " with a source" if count["unsourced"] else ""
        with_source = (f"from the model {origin} scores as is (source head reused in {count['reused']} of its "
                       f"{cells(count['sourced'])}{where} here)")
    if count["unsourced"]:
        head = "with a new head" if count["fresh"] == count["unsourced"] else \
            f"with a new head in {count['fresh']} of them"
        where = "without a source" if count["sourced"] else "here"
        without = f"from the pretrained model itself {head} (no source to train it on) in its " \
                  f"{cells(count['unsourced'])} {where}"
    return f"{name} starts {', and '.join(part for part in (with_source, without) if part)}."
