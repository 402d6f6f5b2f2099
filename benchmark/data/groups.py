"""Grouped splits: every example of one group (a solar module, a patient, a speaker) on one side.

Images of one solar module share its glass, its busbars and its camera settings; a model that
saw some of them scores the others too well. So, as DomainBed's and WILDS's datasets keep
their domains and groups apart, a dataset that knows its groups (``LabelledData.groups``:
the manifest provider's ``group_column``, hf's ``group_column``, imagefolder's ``group_pattern``,
or any provider's own) is cut between groups, never inside one:

- a percentage slice ``split[a%:b%]`` takes whole groups. Groups are ordered by a hash of
  their name (so a file sorted by label or by group does not decide which come first), and
  a group belongs to the slice that holds the midpoint of its share of the examples. Slices
  with complementary bounds (``[:50%]`` and ``[50%:]``) therefore split the groups between
  them, every group on exactly one side; a class's share of a slice is close to, not exactly,
  the split's (one group may hold several classes).
- the overlap check (``benchmark.data.overlap``) counts groups found on both sides, by name,
  between sets whose groups name the same thing (``group_source``).
"""

import hashlib

import torch

from benchmark.data.labelled import LabelledData


def group_order(names) -> list[str]:
    """The distinct group names, in a fixed order that depends on each name alone (BLAKE2b)."""
    return sorted(set(names), key=lambda name: (hashlib.blake2b(name.encode(), digest_size=8).digest(), name))


def slice_groups(data, low: float, high: float):
    """The whole groups of ``data`` (LabelledData or TextData with ``groups``) whose midpoint, as a
    share of the examples in ``group_order``, lies in ``[low, high)``; kept examples keep their order."""
    counts: dict[str, int] = {}
    for name in data.groups:
        counts[name] = counts.get(name, 0) + 1
    kept, before = set(), 0
    for name in group_order(counts):
        middle = (before + counts[name] / 2) / len(data.groups)  # in (0, 1): on one side of any bound
        if low <= middle < high:
            kept.add(name)
        before += counts[name]
    rows = [i for i, name in enumerate(data.groups) if name in kept]
    return data.subset(torch.tensor(rows, dtype=torch.long))


def shared(scored: LabelledData, learned: LabelledData | None) -> list[str]:
    """The groups found in both sets, sorted; [] when either has none or they name other things."""
    if learned is None or scored.groups is None or learned.groups is None \
            or scored.group_source != learned.group_source:
        return []
    return sorted(set(scored.groups) & set(learned.groups))
