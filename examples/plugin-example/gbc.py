"""A complete third-party transferability estimator: GBC, the Gaussian Bhattacharyya Coefficient.

Pándy, Agostinelli, Uijlings, Ferrari & Mensink, "Transferability Estimation using Bhattacharyya Class
Separability", CVPR 2022: fit a diagonal Gaussian per target class to the (PCA-reduced) features and
sum the Bhattacharyya coefficients of every pair of classes; more overlap, worse transfer, so
GBC = -sum_{i != j} BC(c_i, c_j) (higher is better, at most 0).
"""

import numpy as np

from benchmark import Estimator, NotApplicable, hookimpl

EPS = 1e-6  # added to each variance: a constant feature must not divide by zero


class GaussianBhattacharyya(Estimator):
    """``score(features [N, D], labels [N], None)`` = -sum over ordered class pairs of exp(-D_B), with
    D_B = 1/8 dmu' S^-1 dmu + 1/2 ln(det S / sqrt(det S_i det S_j)), S = (S_i + S_j) / 2, diagonal.
    Option ``dims`` (default 64, as the paper): PCA to that many dimensions first (fewer if N or D is).
    Raises ``NotApplicable`` when a class has a single example (no variance to fit)."""

    name = "gbc"
    description = "GBC (Pandy et al. 2022): Bhattacharyya overlap of per-class diagonal Gaussians, negated"
    citation = """@inproceedings{pandy2022transferability,
  title     = {Transferability Estimation using {Bhattacharyya} Class Separability},
  author    = {P{\\'a}ndy, Michal and Agostinelli, Andrea and Uijlings, Jasper and Ferrari, Vittorio and Mensink, Thomas},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {9172--9182},
  year      = {2022}
}"""

    @classmethod
    def default_params(cls) -> dict:
        return {"dims": 64}

    def score(self, features, labels, source_probs=None) -> float:
        centred = features - features.mean(axis=0)                          # [N, D]
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        reduced = centred @ vt[:self.params["dims"]].T                      # [N, d]
        classes = np.unique(labels)
        if min(np.sum(labels == c) for c in classes) < 2:
            raise NotApplicable("a class has one example: its variance cannot be fitted")
        mean = np.stack([reduced[labels == c].mean(axis=0) for c in classes])         # [C, d]
        var = np.stack([reduced[labels == c].var(axis=0) for c in classes]) + EPS     # [C, d]
        total = 0.0
        for i in range(len(classes)):
            for j in range(len(classes)):
                if i != j:
                    pooled = (var[i] + var[j]) / 2
                    distance = (((mean[i] - mean[j]) ** 2 / pooled).sum() / 8
                                + 0.5 * (np.log(pooled).sum() - 0.5 * (np.log(var[i]).sum() + np.log(var[j]).sum())))
                    total += np.exp(-distance)
        return float(-total)


@hookimpl
def transferbench_estimators():
    return [GaussianBhattacharyya]
