"""Training data must never be scored on: overlap by content between what a strategy learns from
and what it is scored on, found before any training.

    transfer:  source ∩ target test split,  labelled pool ∩ target test split
    episodic:  source ∩ labelled pool (every episode's queries are drawn from the pool)

Examples are compared by content as the strategy sees them (after resizing, shifts and
standardisation; texts as token ids): one 64-bit BLAKE2b hash per example, so names, split
labels or file paths never hide a duplicate. The count is of scored examples whose content
also appears in a training set. Groups count too (``benchmark.data.groups``): where both sides
know their groups (the same solar module, patient, speaker), a group found on both sides is
overlap even when no image is shared. A suite opts in with ``allow_overlap = true`` (in the suite
or in a pair); the records then carry the counts and every table says so.
"""

import hashlib

import numpy as np

from benchmark.data import groups
from benchmark.data.labelled import LabelledData

GROUPS = ": groups"  # suffix of the key that counts shared groups, e.g. "source ∩ target test: groups"
NAMED = 5            # groups named in a message; the rest are counted


class Overlap(dict):
    """{"<learned> ∩ <scored>": examples, "<learned> ∩ <scored>: groups": groups}: plain counts, as
    records keep them, with ``group_names`` {key: the shared groups, sorted} for messages."""

    group_names: dict = {}


def example_hashes(data: LabelledData) -> np.ndarray:
    """[N] uint64: a BLAKE2b-64 hash of each example's inputs (labels are not part of it: the same
    image under another label is still the same image)."""
    rows = data.inputs.detach().contiguous().cpu().numpy().reshape(len(data), -1)
    rows = np.ascontiguousarray(rows).view(np.uint8).reshape(len(data), -1)
    return np.fromiter((int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
                        for row in rows), dtype=np.uint64, count=len(data))


def shared(scored: np.ndarray, learned: np.ndarray) -> int:
    """How many of the scored examples have their content among the learned ones."""
    return int(np.isin(scored, learned).sum()) if len(scored) and len(learned) else 0


def find(protocol: str, source: LabelledData | None, pool: LabelledData, test: LabelledData) -> Overlap:
    """Every overlap found, as counts (see ``Overlap``); empty when there is none."""
    pool_hashes = example_hashes(pool)
    source_hashes = example_hashes(source) if source is not None else np.empty(0, np.uint64)
    if protocol == "episodic":
        sides = {"source ∩ target pool (episode queries)": (pool, source, shared(pool_hashes, source_hashes))}
    else:
        test_hashes = pool_hashes if test is pool else example_hashes(test)
        sides = {"source ∩ target test": (test, source, shared(test_hashes, source_hashes)),
                 "target pool ∩ target test": (test, pool, shared(test_hashes, pool_hashes))}
    found, names = Overlap(), {}
    for where, (scored, learned, examples) in sides.items():
        if examples:
            found[where] = examples
        both = groups.shared(scored, learned) if learned is not scored else []
        if both:
            found[where + GROUPS], names[where + GROUPS] = len(both), both
    found.group_names = names
    return found


def describe(counts: dict[str, int]) -> str:
    """'target pool ∩ target test: 12 examples; source ∩ target test: 3 groups are on both sides:
    module_12, module_3, module_40', naming groups where ``counts`` is an ``Overlap`` that knows them."""
    names = getattr(counts, "group_names", {})
    parts = []
    for where, n in counts.items():
        if not where.endswith(GROUPS):
            parts.append(f"{where}: {n} example{'s' if n != 1 else ''}")
            continue
        listed = names.get(where, [])
        said = f": {', '.join(listed[:NAMED])}{', ...' if len(listed) > NAMED else ''}" if listed else ""
        parts.append(f"{where[:-len(GROUPS)]}: {n} group{'s are' if n != 1 else ' is'} on both sides{said}")
    return "; ".join(parts)
