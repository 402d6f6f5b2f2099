"""k-nearest-neighbour leave-one-out accuracy on the support's features: the simplest proxy of how
separable the target's classes are in a model's feature space (e.g. Puigcerver et al., "Scalable
Transfer Learning with Expert Models", ICLR 2021, select experts by k-NN accuracy)."""

import numpy as np

from benchmark import Estimator, NotApplicable

CITATION = """@inproceedings{puigcerver2021scalable,
  title = {Scalable Transfer Learning with Expert Models},
  author = {Puigcerver, Joan and Riquelme, Carlos and Mustafa, Basil and Renggli, Cedric and Pinto, Andr{\\'e} Susano and Gelly, Sylvain and Keysers, Daniel and Houlsby, Neil},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year = {2021}
}"""


class KnnLeaveOneOut(Estimator):
    """Leave-one-out accuracy of the k-NN classifier (Euclidean, majority vote, a tie to the lowest class).

    ``score(features [N, D], labels [N], None)`` in [0, 1]. Option ``k`` (default 1).
    Raises ``NotApplicable`` when N <= k (no k neighbours once one example is left out).
    """

    name = "knn"
    description = "k-NN leave-one-out accuracy on the support's features (k = 1)"
    citation = CITATION

    @classmethod
    def default_params(cls) -> dict:
        return {"k": 1}

    def score(self, features, labels, source_probs=None) -> float:
        f = np.asarray(features, dtype=np.float64)
        k = self.params["k"]
        if len(f) <= k:
            raise NotApplicable(f"{len(f)} labelled examples leave fewer than k = {k} neighbours out of one")
        norms = (f ** 2).sum(axis=1)
        distances = norms[:, None] + norms[None, :] - 2 * f @ f.T  # [N, N] squared Euclidean
        np.fill_diagonal(distances, np.inf)  # leave each example out of its own neighbours
        neighbours = np.argsort(distances, axis=1, kind="stable")[:, :k]  # [N, k]
        n_classes = int(labels.max()) + 1
        votes = np.zeros((len(f), n_classes))
        np.add.at(votes, (np.repeat(np.arange(len(f)), k), labels[neighbours].ravel()), 1.0)
        return float((votes.argmax(axis=1) == labels).mean())
