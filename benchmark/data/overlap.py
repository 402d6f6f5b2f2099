"""Training data must never be scored on: overlap by content between what a strategy learns from
and what it is scored on, found before any training.

    transfer:  source ∩ target test split,  labelled pool ∩ target test split
    episodic:  source ∩ labelled pool (every episode's queries are drawn from the pool)

Examples are compared by content as the strategy sees them (after resizing, shifts and
standardisation; texts as token ids): one 64-bit BLAKE2b hash per example, so names, split
labels or file paths never hide a duplicate. The count is of scored examples whose content
also appears in a training set. A suite opts in with ``allow_overlap = true`` (in the suite
or in a pair); the records then carry the counts and every table says so.
"""

import hashlib

import numpy as np

from benchmark.data.labelled import LabelledData


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


def find(protocol: str, source: LabelledData | None, pool: LabelledData, test: LabelledData) -> dict[str, int]:
    """{"<learned> ∩ <scored>": examples} for every overlap found; empty when there is none."""
    pool_hashes = example_hashes(pool)
    source_hashes = example_hashes(source) if source is not None else np.empty(0, np.uint64)
    if protocol == "episodic":
        counts = {"source ∩ target pool (episode queries)": shared(pool_hashes, source_hashes)}
    else:
        test_hashes = pool_hashes if test is pool else example_hashes(test)
        counts = {"source ∩ target test": shared(test_hashes, source_hashes),
                  "target pool ∩ target test": shared(test_hashes, pool_hashes)}
    return {where: n for where, n in counts.items() if n}


def describe(counts: dict[str, int]) -> str:
    """'12 examples of the target test split are also in the target pool, ...'."""
    return "; ".join(f"{where}: {n} example{'s' if n != 1 else ''}" for where, n in counts.items())
