import torch
from sklearn.metrics import f1_score, recall_score

from benchmark.metrics import score


def test_scores_match_scikit_learn_including_absent_classes():
    generator = torch.Generator().manual_seed(0)
    for trial in range(20):
        n_classes = 2 + trial % 7
        labels = torch.randint(0, n_classes, (50,), generator=generator)
        predicted = torch.where(torch.rand(50, generator=generator) < 0.6, labels,
                                torch.randint(0, n_classes, (50,), generator=generator))
        got = score(predicted, labels, n_classes)
        classes = list(range(n_classes))
        assert abs(got["accuracy"] - (predicted == labels).double().mean().item()) < 1e-9
        assert abs(got["macro_f1"] - f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)) < 1e-9
        assert abs(got["macro_recall"] - recall_score(labels, predicted, labels=classes, average="macro",
                                                      zero_division=0)) < 1e-9
