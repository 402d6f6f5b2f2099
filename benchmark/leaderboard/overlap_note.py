"""Pairs scored on examples also learned from, allowed on purpose by their suite (benchmark.data.overlap).

Every table's caption says so, and the CSV's ``overlap`` column, from the records alone.
"""

from benchmark.data.overlap import describe


def by_pair(records: list[dict]) -> dict[str, str]:
    """{pair: '<learned> ∩ <scored>: n examples; ...'} for the pairs whose records carry an overlap."""
    found = {}
    for record in records:
        counts = record.get("overlap")
        if counts:
            found.setdefault(record["pair"], describe(counts))
    return found


def note(found: dict[str, str]) -> str:
    """The caption sentence; '' when no pair overlaps."""
    if not found:
        return ""
    return ("Scored on training data, as the suite allows (allow_overlap): " +
            "; ".join(f"{pair}: {text}" for pair, text in sorted(found.items())) + ".")
