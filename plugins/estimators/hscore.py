"""H-score, and its regularised form with a shrunk feature covariance.

Bao, Li, Huang, Wang, Zheng. "An Information-Theoretic Approach to Transferability in Task
Transfer Learning", ICIP 2019 (eq. 3):

    H(f) = tr( cov(f)^{-1} cov(E[f | y]) )       f: the features [N, D]; E[f | y]: each row's class mean

Ibrahim, Ponomareva, Mazumder. "Newer is not always better: Rethinking transferability metrics,
their peculiarities, stability and performance", ECML PKDD 2022: cov(f) is badly estimated when
N is small next to D, so the regularised H-score replaces it by the Ledoit-Wolf shrinkage
(1 - a) S + a mu I (S the empirical covariance, mu = tr(S) / D, a the Ledoit-Wolf intensity) and
scales the between-class covariance by (1 - a):

    H_a(f) = tr( ((1 - a) S + a mu I)^{-1} (1 - a) cov(E[f | y]) )

Both as TLlib's ``tllib/ranking/hscore.py`` computes them (pseudo-inverse, np.cov).
"""

import numpy as np

from benchmark import Estimator

CITATION = """@inproceedings{bao2019hscore,
  title = {An Information-Theoretic Approach to Transferability in Task Transfer Learning},
  author = {Bao, Yajie and Li, Yang and Huang, Shao-Lun and Zhang, Lin and Zheng, Lizhong and Zamir, Amir and Guibas, Leonidas},
  booktitle = {IEEE International Conference on Image Processing (ICIP)},
  pages = {2309--2313},
  year = {2019}
}
@inproceedings{ibrahim2022newer,
  title = {Newer is not always better: Rethinking transferability metrics, their peculiarities, stability and performance},
  author = {Ibrahim, Shibal and Ponomareva, Natalia and Mazumder, Rahul},
  booktitle = {Joint European Conference on Machine Learning and Knowledge Discovery in Databases (ECML PKDD)},
  pages = {693--709},
  year = {2022}
}"""


def class_means(f: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[N, D]: each row replaced by the mean of its class's rows (E[f | y] as a random variable)."""
    g = np.zeros_like(f)
    for k in np.unique(labels):
        g[labels == k] = f[labels == k].mean(axis=0)
    return g


def ledoit_wolf(f: np.ndarray) -> tuple[np.ndarray, float]:
    """(the shrunk covariance [D, D], the intensity a in [0, 1]) of rows ``f`` [N, D].

    Ledoit & Wolf, "A well-conditioned estimator for large-dimensional covariance matrices", J.
    Multivariate Anal. 2004, as ``sklearn.covariance.LedoitWolf`` computes it: S = X^T X / N of the
    centred rows, target mu I, a = min(b2, d2) / d2 with d2 = ||S - mu I||_F^2 / D and
    b2 = (sum_n ||x_n x_n^T - S||_F^2) / (N^2 D).
    """
    x = f - f.mean(axis=0)
    N, D = x.shape
    S = x.T @ x / N
    mu = np.trace(S) / D
    d2 = ((S - mu * np.eye(D)) ** 2).sum() / D
    b2 = (((x ** 2).T @ (x ** 2)).sum() / N - (S ** 2).sum()) / (N * D)
    a = 0.0 if d2 == 0 else min(b2, d2) / d2
    return (1 - a) * S + a * mu * np.eye(D), float(a)


class HScore(Estimator):
    """H-score (Bao et al. 2019), or with ``shrinkage = true`` the regularised H-score (Ibrahim et al. 2022).

    ``score(features [N, D], labels [N], None)``: a trace, >= 0 and at most C - 1 (plain); higher is better.
    """

    name = "hscore"
    description = "H-score (Bao et al. 2019); shrinkage = true: Ledoit-Wolf regularised (Ibrahim et al. 2022)"
    citation = CITATION

    @classmethod
    def default_params(cls) -> dict:
        return {"shrinkage": False}

    def score(self, features, labels, source_probs=None) -> float:
        f = np.asarray(features, dtype=np.float64)
        g = class_means(f, labels)
        cov_g = np.atleast_2d(np.cov(g, rowvar=False))
        if self.params["shrinkage"]:
            cov_f, a = ledoit_wolf(f)
            return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-15) @ ((1 - a) * cov_g)))
        cov_f = np.atleast_2d(np.cov(f, rowvar=False))
        return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-15) @ cov_g))
