import pytest
import torch
from sklearn.metrics import f1_score, recall_score

from benchmark.scoring.metrics import is_metric_name, score


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


def test_each_class_recall_matches_scikit_learn_and_is_named_by_its_class():
    generator = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 3, (60,), generator=generator)
    labels[labels == 2] = 1  # class 2 never occurs: its recall is 0, as scikit-learn's zero_division=0
    predicted = torch.randint(0, 3, (60,), generator=generator)
    got = score(predicted, labels, 3, ("ham", "spam", "phish"))
    expected = recall_score(labels, predicted, labels=[0, 1, 2], average=None, zero_division=0)
    assert [got["recall[ham]"], got["recall[spam]"], got["recall[phish]"]] == pytest.approx(expected.tolist())
    assert "recall[ham]" not in score(predicted, labels, 3)  # without names, the summary metrics only


def test_metric_names_a_leaderboard_accepts():
    assert is_metric_name("macro_f1") and is_metric_name("recall[spam]") and is_metric_name("recall[a b]")
    assert not is_metric_name("top5") and not is_metric_name("recall[]") and not is_metric_name("recall")
