"""Built-in metrics, registered through the ``transferbench`` entry-point group like any plugin.

Each is a function of labels ``[N]`` int64 and scores ``[N, C]`` float32: a task's stored
predictions (``leaderboard --metric NAME`` computes it where a record lacks it). The decision is
the scores' argmax, the first maximum, as the runner takes it.

- accuracy, macro_f1, macro_recall, recall[CLASS]: the runner's own arithmetic (``metrics.score``),
  so a value computed from the predictions equals the recorded one.
- balanced_accuracy: scikit-learn's ``balanced_accuracy_score`` (the mean recall of the classes
  present in the labels; macro_recall counts an absent class as 0).
- auroc: two classes, the runner's ``metrics.auroc`` (by the margin of class 1 over class 0); more,
  scikit-learn's one-vs-rest macro average over the softmax of the scores. NaN where a class is absent.
- ece: expected calibration error, Guo et al. (2017), 15 equal-width bins of the softmax confidence.
"""

import math
import warnings

import numpy as np

from benchmark import Metric, hookimpl

ECE_BINS = 15  # Guo et al. 2017's M

GUO_2017 = """@inproceedings{guo2017calibration,
  title = {On Calibration of Modern Neural Networks},
  author = {Guo, Chuan and Pleiss, Geoff and Sun, Yu and Weinberger, Kilian Q.},
  booktitle = {Proceedings of the 34th International Conference on Machine Learning},
  series = {Proceedings of Machine Learning Research},
  volume = {70},
  pages = {1321--1330},
  year = {2017}
}"""

BRODERSEN_2010 = """@inproceedings{brodersen2010balanced,
  title = {The Balanced Accuracy and Its Posterior Distribution},
  author = {Brodersen, Kay Henning and Ong, Cheng Soon and Stephan, Klaas Enno and Buhmann, Joachim M.},
  booktitle = {20th International Conference on Pattern Recognition},
  pages = {3121--3124},
  year = {2010},
  doi = {10.1109/ICPR.2010.764}
}"""

FAWCETT_2006 = """@article{fawcett2006roc,
  title = {An Introduction to {ROC} Analysis},
  author = {Fawcett, Tom},
  journal = {Pattern Recognition Letters},
  volume = {27},
  number = {8},
  pages = {861--874},
  year = {2006},
  doi = {10.1016/j.patrec.2005.10.010}
}"""


def counted(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``metrics.score`` of the decisions: accuracy, macro_f1, macro_recall and ``recall[<index>]`` of each class."""
    import torch

    from benchmark import metrics

    classes = scores.shape[1]
    return metrics.score(torch.from_numpy(scores.argmax(axis=1)), torch.from_numpy(labels.astype(np.int64)),
                         classes, [str(index) for index in range(classes)])


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities [N, C] float64 of scores read as logits."""
    wide = scores.astype(np.float64)
    exps = np.exp(wide - wide.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def accuracy(labels: np.ndarray, scores: np.ndarray) -> float:
    return counted(labels, scores)["accuracy"]


def macro_f1(labels: np.ndarray, scores: np.ndarray) -> float:
    return counted(labels, scores)["macro_f1"]


def macro_recall(labels: np.ndarray, scores: np.ndarray) -> float:
    return counted(labels, scores)["macro_recall"]


def class_recall(labels: np.ndarray, scores: np.ndarray, index: int) -> float:
    """The recall of the class with label ``index``: 0 when the labels hold none of it."""
    return counted(labels, scores)[f"recall[{index}]"]


def balanced_accuracy(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():  # a class predicted but absent from the labels: its recall is left out, as documented
        warnings.simplefilter("ignore")
        return float(balanced_accuracy_score(labels, scores.argmax(axis=1)))


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    if scores.shape[1] == 2:
        import torch

        from benchmark import metrics

        area = metrics.auroc(torch.from_numpy(scores), torch.from_numpy(labels.astype(np.int64)))
        return math.nan if area is None else area
    from sklearn.metrics import roc_auc_score

    if len(np.unique(labels)) < scores.shape[1]:  # one-vs-rest needs every class among the labels
        return math.nan
    return float(roc_auc_score(labels, softmax(scores), multi_class="ovr", average="macro",
                               labels=np.arange(scores.shape[1])))


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = ECE_BINS) -> float:
    """sum over bins b of |B_b| / N * |accuracy(B_b) - confidence(B_b)| (Guo et al. 2017, eq. 3).

    confidence: the largest softmax probability of the scores, read as logits; bin b holds the
    confidences in (b / bins, (b + 1) / bins]. In [0, 1]; 0 is perfectly calibrated.
    """
    confidence = softmax(scores).max(axis=1)                                   # [N]
    correct = (scores.argmax(axis=1) == labels).astype(np.float64)            # [N]
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    # |sum_i in b (correct_i - confidence_i)| / N  ==  |B_b| / N * |acc(B_b) - conf(B_b)|
    gaps = np.bincount(which, weights=correct - confidence, minlength=bins)
    return float(np.abs(gaps).sum() / max(len(labels), 1))


@hookimpl
def transferbench_metrics():
    return [
        Metric("accuracy", accuracy,
               description="share of test examples whose top-scoring class is the label"),
        Metric("macro_f1", macro_f1,
               description="mean over the classes of F1 (a class never true nor predicted adds 0)"),
        Metric("macro_recall", macro_recall,
               description="mean over all classes of their recall (an absent class adds 0)"),
        Metric("recall[CLASS]", class_recall,
               description="one class's recall, by its name: recall[spam] (transfer cells)"),
        Metric("balanced_accuracy", balanced_accuracy, citation=BRODERSEN_2010,
               description="scikit-learn's balanced accuracy: mean recall of the classes in the labels"),
        Metric("auroc", auroc, citation=FAWCETT_2006,
               description="area under the ROC curve; more than 2 classes: one-vs-rest macro (scikit-learn)"),
        Metric("ece", expected_calibration_error, higher_is_better=False, citation=GUO_2017,
               description="expected calibration error, 15 bins of softmax confidence (lower is better)"),
    ]
