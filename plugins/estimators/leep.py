"""LEEP: the log expected empirical prediction of the source classifier re-used through P(y | z).

Nguyen, Hassner, Seeger, Archambeau. "LEEP: A New Measure to Evaluate Transferability of
Learned Representations", ICML 2020.

With theta(x_i) [Cs] the source classifier's probabilities (source classes z) on N target
examples with labels y_i (paper, eqs. 1-2):

    P(y, z) = 1/N sum_{i: y_i = y} theta(x_i)_z        the empirical joint  [C, Cs]
    P(y | z) = P(y, z) / sum_y' P(y', z)                the empirical conditional
    LEEP = 1/N sum_i log( sum_z P(y_i | z) theta(x_i)_z )
"""

import numpy as np

from benchmark import Estimator

CITATION = """@inproceedings{nguyen2020leep,
  title = {LEEP: A New Measure to Evaluate Transferability of Learned Representations},
  author = {Nguyen, Cuong and Hassner, Tal and Seeger, Matthias and Archambeau, Cedric},
  booktitle = {Proceedings of the 37th International Conference on Machine Learning (ICML)},
  pages = {7294--7305},
  year = {2020}
}"""

TINY = 1e-300  # a source class no support example gives mass: P(y | z) is 0/0 there, and reads 0


class Leep(Estimator):
    """LEEP (Nguyen et al. 2020): ``score(features, labels [N], source_probs [N, Cs])``, a log-likelihood <= 0."""

    name = "leep"
    description = "LEEP (Nguyen et al. 2020): log-likelihood of the source classifier's predictions through P(y|z)"
    citation = CITATION
    needs_source_predictions = True

    def score(self, features, labels, source_probs) -> float:
        theta = np.asarray(source_probs, dtype=np.float64)  # [N, Cs]
        n_classes = int(labels.max()) + 1
        joint = np.zeros((n_classes, theta.shape[1]))
        np.add.at(joint, labels, theta)  # row y: sum of theta over the examples labelled y
        joint /= len(labels)
        conditional = joint / np.maximum(joint.sum(axis=0, keepdims=True), TINY)  # [C, Cs] P(y | z)
        expected = (theta * conditional[labels]).sum(axis=1)  # [N] sum_z P(y_i | z) theta(x_i)_z
        return float(np.mean(np.log(expected)))
