"""Model-selection protocols: which labelled data scores a trial (after DomainBed's model_selection.py).

Each protocol is a small class that states what it reads (``reads``) and turns the data it
is allowed to see (an ``Evidence``) into folds: (what the strategy adapts on, what the
adapted predictor is scored on). The runner builds the Evidence, and fills in the target
test split only for a protocol with ``reads_target_test``; only ``oracle`` may declare it
(checked when the class is defined). So no other protocol can read a target test label.

    fixed        the defaults; nothing is searched and nothing is read
    source-val   training-domain validation (Gulrajani & Lopez-Paz 2021): a held-out part of
                 the source split; never a target label
    target-val   a held-out part of the labelled target budget: stratified k-fold
                 cross-validation over the k examples per class (k ≤ 20), else one 80/20 split
    oracle       the target test split ("test-domain validation"): an upper bound, always marked
"""

from dataclasses import dataclass
from typing import ClassVar

import torch
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from benchmark.data.labelled import LabelledData

MAX_FOLDS = 5        # folds of the cross-validation over a small support set
CV_UP_TO_SHOTS = 20  # above this many examples per class one held-out split (20%) suffices
HOLD_OUT = 0.2       # share held out when a single split is used (source-val, large supports)


class CannotSelect(Exception):
    """A protocol that cannot score this cell (e.g. target-val at k = 1); the message says why."""


@dataclass(frozen=True)
class Evidence:
    """All a protocol may read for one cell."""

    support: LabelledData                    # the labelled target budget the strategy adapts on
    source_validation: LabelledData | None   # the held-out part of the source split (source-val only)
    target_test: LabelledData | None = None  # only for a protocol with reads_target_test (oracle)


@dataclass(frozen=True)
class Fold:
    adapt_on: LabelledData   # what adapt receives
    score_on: LabelledData   # inputs the predictor scores; labels index adapt_on's classes


class Protocol:
    name: ClassVar[str] = ""
    reads: ClassVar[str] = ""                # what scores a trial, in words, for records and captions
    reads_target_test: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.reads_target_test and cls.name != "oracle":
            raise TypeError(f"protocol '{cls.name}': only 'oracle' may read the target test split")

    def folds(self, evidence: Evidence, seed: int) -> list[Fold]:
        raise NotImplementedError


class Fixed(Protocol):
    name = "fixed"
    reads = "the strategies' defaults and the suite's [hparams]"

    def folds(self, evidence, seed):
        raise CannotSelect("the fixed protocol searches nothing")


def relabelled(data: LabelledData, classes: tuple) -> LabelledData:
    """``data``'s examples of ``classes`` (matched by name), labelled by their index in ``classes``."""
    index = {name: i for i, name in enumerate(data.classes)}
    missing = [c for c in classes if c not in index]
    if missing:
        raise CannotSelect(f"the source has no class {', '.join(map(str, missing[:5]))}: source and target "
                            f"do not share a label space, so a held-out source split cannot score a target predictor")
    mapping = torch.full((len(data.classes),), -1, dtype=torch.long)  # source label -> target label or -1
    for target_label, name in enumerate(classes):
        mapping[index[name]] = target_label
    labels = mapping[data.labels]
    keep = torch.nonzero(labels >= 0).squeeze(1)
    texts = None if data.texts is None else tuple(data.texts[i] for i in keep.tolist())
    return LabelledData(data.inputs[keep], labels[keep], tuple(classes), f"{data.name} (as target classes)", texts)


class SourceVal(Protocol):
    name = "source-val"
    reads = f"a held-out {HOLD_OUT:.0%} of the source split (training-domain validation); no target label"

    def folds(self, evidence, seed):
        if evidence.source_validation is None:
            raise CannotSelect("no held-out source split was prepared")
        return [Fold(evidence.support, relabelled(evidence.source_validation, evidence.support.classes))]


class TargetVal(Protocol):
    name = "target-val"
    reads = (f"the labelled target budget only: stratified {MAX_FOLDS}-fold (at most k-fold) cross-validation "
             f"over the k examples per class, one {HOLD_OUT:.0%} split above k = {CV_UP_TO_SHOTS}")

    def folds(self, evidence, seed):
        support = evidence.support
        labels = support.labels.numpy()
        shots = int(torch.bincount(support.labels, minlength=support.num_classes).min())
        if shots < 2:
            raise CannotSelect(f"k = {shots}: no labelled target example is left to validate on "
                                f"(cross-validation needs at least 2 per class)")
        if shots <= CV_UP_TO_SHOTS:
            splitter = StratifiedKFold(min(shots, MAX_FOLDS), shuffle=True, random_state=seed % 2**32)
        else:
            splitter = StratifiedShuffleSplit(1, test_size=HOLD_OUT, random_state=seed % 2**32)
        return [Fold(support.subset(torch.as_tensor(train), name=f"{support.name} (fold {i} train)"),
                     support.subset(torch.as_tensor(held), name=f"{support.name} (fold {i} held out)"))
                for i, (train, held) in enumerate(splitter.split(labels.reshape(-1, 1), labels))]


class Oracle(Protocol):
    name = "oracle"
    reads = "the target test split (test-domain validation): an upper bound, not a result"
    reads_target_test = True

    def folds(self, evidence, seed):
        return [Fold(evidence.support, evidence.target_test)]


SELECTION_PROTOCOLS = {cls.name: cls for cls in (Fixed, SourceVal, TargetVal, Oracle)}


def evidence_for(protocol: Protocol, support: LabelledData, source_validation: LabelledData | None,
                 target_test: LabelledData) -> Evidence:
    """What ``protocol`` may read: the target test split only if it declares it (oracle)."""
    return Evidence(support, source_validation if isinstance(protocol, SourceVal) else None,
                    target_test if protocol.reads_target_test else None)
