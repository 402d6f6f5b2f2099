"""Scores the runner computes from predictions; strategies never compute their own.

Every cell has ``METRICS`` (``macro_recall`` is balanced accuracy: the mean of the classes'
recalls). A transfer cell also has each target class's recall under ``recall[<class name>]``
(e.g. ``recall[spam]``: the share of spam the filter catches, what a mail user feels); episodic
cells do not, since an episode's labels are renumbered classes. A two-class transfer cell also
has ``auroc``, from the predictor's scores rather than its decisions.
"""

import re
from collections.abc import Sequence

import torch

METRICS = ("accuracy", "macro_f1", "macro_recall")
TWO_CLASS_METRICS = ("auroc",)
CLASS_RECALL = re.compile(r"recall\[(.+)\]")


def class_recall(name: str) -> str:
    """The metric name of one class's recall: ``recall[spam]``."""
    return f"recall[{name}]"


def is_metric_name(name: str) -> bool:
    """True for a name a record can carry: one of ``METRICS`` or ``recall[<class>]``."""
    return name in METRICS or name in TWO_CLASS_METRICS or CLASS_RECALL.fullmatch(name) is not None


def score(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int,
          class_names: Sequence[str] | None = None) -> dict[str, float]:
    """Accuracy, macro-F1 and macro-recall over ``num_classes`` classes (scikit-learn's definitions).

    predicted, labels: [N] int64. A class with no true and no predicted example adds
    0 to the macro averages, as scikit-learn does with ``labels=range(num_classes)``.
    With ``class_names`` (``num_classes`` names, in label order) each class's recall is added
    as ``recall[<name>]`` (0 for a class absent from ``labels``).
    """
    confusion = torch.bincount(labels * num_classes + predicted, minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes).double()  # [true, predicted]
    true_positive = confusion.diagonal()
    support = confusion.sum(dim=1)
    predicted_count = confusion.sum(dim=0)
    recall = torch.where(support > 0, true_positive / support.clamp(min=1), 0.0)
    f1_denominator = support + predicted_count
    f1 = torch.where(f1_denominator > 0, 2 * true_positive / f1_denominator.clamp(min=1), 0.0)
    scores = {
        "accuracy": float(true_positive.sum() / max(len(labels), 1)),
        "macro_f1": float(f1.mean()),
        "macro_recall": float(recall.mean()),
    }
    for name, value in zip(class_names or (), recall.tolist()):
        scores[class_recall(name)] = value
    return scores


def auroc(scores: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Area under the ROC curve of a two-class predictor, ranking by ``scores[:, 1] - scores[:, 0]``.

    scores: [N, 2] (logits or probabilities: the margin orders examples as the softmax's class-1
    probability does); labels: [N] in {0, 1}. scikit-learn's ``roc_auc_score``; None when the
    labels hold one class only (the area is undefined).
    """
    from sklearn.metrics import roc_auc_score

    if len(torch.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels.cpu().numpy(), (scores[:, 1] - scores[:, 0]).cpu().double().numpy()))
