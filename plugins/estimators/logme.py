"""LogME: the log marginal evidence of a Bayesian linear model from features to each one-hot label column.

You, Liu, Wang, Long. "LogME: Practical Assessment of Pre-trained Models for Transfer Learning", ICML 2021.

For class k, y = 1[labels == k] [N]; with the prior w ~ N(0, 1/alpha I_D) and the noise
y | F w ~ N(F w, 1/beta I_N), the evidence is (paper, eq. 2; MacKay 1992)

    L(alpha, beta) = D/2 log alpha + N/2 log beta - 1/2 log|A| - beta/2 ||F m - y||^2 - alpha/2 ||m||^2 - N/2 log 2pi
    A = alpha I_D + beta F^T F,   m = beta A^{-1} F^T y

maximised over (alpha, beta) by the fixed point (paper, Algorithm 1)

    gamma = sum_i beta s_i / (alpha + beta s_i),   alpha <- gamma / ||m||^2,   beta <- (N - gamma) / ||F m - y||^2

with the SVD trick of the paper's faster version: F = U diag(sqrt(s)) V^T once, so every step is
O(min(N, D)) on x = U^T y instead of a D x D solve. LogME is the mean over classes of L / N.
"""

import numpy as np

from benchmark import Estimator

CITATION = """@inproceedings{you2021logme,
  title = {LogME: Practical Assessment of Pre-trained Models for Transfer Learning},
  author = {You, Kaichao and Liu, Yong and Wang, Jianmin and Long, Mingsheng},
  booktitle = {Proceedings of the 38th International Conference on Machine Learning (ICML)},
  pages = {12133--12143},
  year = {2021}
}"""

TINY = 1e-12  # keeps alpha, beta finite where a label column is fitted exactly (m = 0 or residual 0)


def class_evidence(sigma: np.ndarray, x: np.ndarray, y_norm2: float, N: int, D: int,
                   max_iter: int, tolerance: float) -> tuple[float, float, float]:
    """(evidence / N, alpha, beta) of one label column at the fixed point.

    ``sigma``: [k] squared singular values of F; ``x``: [k] U^T y; ``y_norm2``: ||y||^2.
    In the basis of V, m_i = beta sqrt(s_i) x_i / (alpha + beta s_i); y's part outside U's
    span (||y||^2 - ||x||^2) is residual whatever m is.
    """
    x2 = x ** 2
    outside = max(y_norm2 - x2.sum(), 0.0)
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        t = alpha / beta
        gamma = (sigma / (sigma + t)).sum()
        m2 = (sigma * x2 / (t + sigma) ** 2).sum()            # ||m||^2
        res2 = (x2 / (1 + sigma / t) ** 2).sum() + outside    # ||F m - y||^2
        alpha, beta = gamma / max(m2, TINY), (N - gamma) / max(res2, TINY)
        converged = abs(alpha / beta - t) / t <= tolerance
        if converged:
            break
    t = alpha / beta  # the evidence at the (alpha, beta) reached, with m and the residual recomputed for them
    m2 = (sigma * x2 / (t + sigma) ** 2).sum()
    res2 = (x2 / (1 + sigma / t) ** 2).sum() + outside
    # log|A| over all D eigenvalues: the D - k directions F does not span add log(alpha) each
    log_det = np.log(alpha + beta * sigma).sum() + (D - len(sigma)) * np.log(alpha)
    evidence = (D / 2 * np.log(alpha) + N / 2 * np.log(beta) - log_det / 2 - beta / 2 * res2 - alpha / 2 * m2
                - N / 2 * np.log(2 * np.pi))
    return evidence / N, alpha, beta


class LogME(Estimator):
    """LogME (You et al. 2021, ICML): the mean over classes of the maximised log evidence per example.

    ``score(features [N, D], labels [N], None)``; higher is better. Options: ``max_iter`` and
    ``tolerance`` (relative change of alpha / beta) of the fixed point. Unlike the paper's code,
    which stops after 11 steps and leaves out the D - N directions when N < D, the evidence here
    is the paper's equation itself, maximised to ``tolerance`` (few-shot supports have N < D).
    """

    name = "logme"
    description = "LogME (You et al. 2021): maximised evidence of a Bayesian linear model on the features"
    citation = CITATION

    @classmethod
    def default_params(cls) -> dict:
        return {"max_iter": 100, "tolerance": 1e-7}

    def score(self, features, labels, source_probs=None) -> float:
        f = np.asarray(features, dtype=np.float64)
        N, D = f.shape
        u, s, _ = np.linalg.svd(f, full_matrices=False)  # u [N, k], s [k], k = min(N, D)
        sigma = s ** 2
        evidences = []
        for k in np.unique(labels):
            y = (labels == k).astype(np.float64)  # [N] one column of the one-hot labels
            evidences.append(class_evidence(sigma, u.T @ y, float(y @ y), N, D,
                                            self.params["max_iter"], self.params["tolerance"])[0])
        return float(np.mean(evidences))
