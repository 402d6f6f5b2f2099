"""Scores the runner computes from predictions; strategies never compute their own."""

import torch

METRICS = ("accuracy", "macro_f1", "macro_recall")


def score(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict[str, float]:
    """Accuracy, macro-F1 and macro-recall over ``num_classes`` classes.

    predicted, labels: [N] int64. A class with no true and no predicted example adds
    0 to the macro averages, as scikit-learn does with ``labels=range(num_classes)``.
    """
    confusion = torch.bincount(labels * num_classes + predicted, minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes).double()  # [true, predicted]
    true_positive = confusion.diagonal()
    support = confusion.sum(dim=1)
    predicted_count = confusion.sum(dim=0)
    recall = torch.where(support > 0, true_positive / support.clamp(min=1), 0.0)
    f1_denominator = support + predicted_count
    f1 = torch.where(f1_denominator > 0, 2 * true_positive / f1_denominator.clamp(min=1), 0.0)
    return {
        "accuracy": float(true_positive.sum() / max(len(labels), 1)),
        "macro_f1": float(f1.mean()),
        "macro_recall": float(recall.mean()),
    }
