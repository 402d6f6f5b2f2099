"""Each built-in estimator equals its published definition, computed here independently on small fixed inputs."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.covariance import LedoitWolf
from sklearn.model_selection import LeaveOneOut
from sklearn.neighbors import KNeighborsClassifier

from plugins.estimators.hscore import HScore, ledoit_wolf
from plugins.estimators.knn import KnnLeaveOneOut
from plugins.estimators.leep import Leep
from plugins.estimators.linear_probe import LinearProbeCV
from plugins.estimators.logme import LogME
from plugins.estimators.nce import Nce


def support(n_per_class=6, classes=3, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class).astype(np.int64)
    centres = rng.normal(scale=2.0, size=(classes, dim))
    features = centres[labels] + rng.normal(size=(len(labels), dim))
    source_probs = rng.dirichlet(np.ones(4), size=len(labels))  # [N, Cs = 4]
    return features, labels, source_probs


def direct_evidence(log_alpha, log_beta, f, y):
    """The LogME paper's eq. 2 written out with a D x D solve and a log-determinant (no SVD)."""
    if not (-20 < log_alpha < 40 and -20 < log_beta < 40):  # where float64 still solves A
        return -np.inf
    alpha, beta = math.exp(log_alpha), math.exp(log_beta)
    N, D = f.shape
    A = alpha * np.eye(D) + beta * f.T @ f
    try:
        m = beta * np.linalg.solve(A, f.T @ y)
    except np.linalg.LinAlgError:  # A singular in float64 (beta s >> alpha): outside what can be compared
        return -np.inf
    return (D / 2 * math.log(alpha) + N / 2 * math.log(beta) - np.linalg.slogdet(A)[1] / 2
            - beta / 2 * ((f @ m - y) ** 2).sum() - alpha / 2 * (m @ m) - N / 2 * math.log(2 * math.pi)) / N


def maximised_evidence(f, y) -> float:
    """The evidence's maximum over (log alpha, log beta) by Nelder-Mead from a grid of starts: with N < D
    the maximum can lie far out (beta -> infinity as the features interpolate y), where one start stalls."""
    starts = [(a, b) for a in (-2.0, 2.0, 6.0) for b in (-2.0, 2.0, 8.0, 16.0)]
    found = [minimize(lambda p: -direct_evidence(p[0], p[1], f, y), x0=start, method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000}) for start in starts]
    return max(-result.fun for result in found)


# N > D: one interior maximum, met to 1e-6. Few-shot N < D: the features interpolate each label
# column, the evidence rises toward a supremum as beta -> infinity along a ridge flat to 1e-4 per
# example, and the fixed point stops on that ridge (its stationary condition holds there).
@pytest.mark.parametrize("n_per_class, dim, tolerance", [(6, 5, 1e-6), (2, 8, 1e-4)])
def test_logme_fixed_point_is_the_evidence_maximum(n_per_class, dim, tolerance):
    f, labels, _ = support(n_per_class, dim=dim)
    best = np.mean([maximised_evidence(f, (labels == k).astype(float)) for k in range(3)])
    assert LogME().score(f, labels, None) == pytest.approx(best, abs=tolerance)


def test_leep_closed_form():
    f, labels, theta = support()
    N, Cs, C = len(labels), theta.shape[1], 3
    joint = np.zeros((C, Cs))
    for i in range(N):
        for z in range(Cs):
            joint[labels[i], z] += theta[i, z] / N
    total = 0.0
    for i in range(N):
        total += math.log(sum(joint[labels[i], z] / joint[:, z].sum() * theta[i, z] for z in range(Cs)))
    assert Leep().score(f, labels, theta) == pytest.approx(total / N, rel=1e-12)


def test_nce_closed_form():
    f, labels, theta = support()
    N = len(labels)
    z = [int(np.argmax(row)) for row in theta]
    counts = {}
    for y, s in zip(labels, z):
        counts[(int(y), s)] = counts.get((int(y), s), 0) + 1
    nce = 0.0
    for (y, s), n in counts.items():
        p_z = sum(m for (_, t), m in counts.items() if t == s) / N
        nce += n / N * math.log((n / N) / p_z)
    assert Nce().score(f, labels, theta) == pytest.approx(nce, rel=1e-12)


def test_nce_is_zero_when_source_labels_determine_target_labels():
    f, labels, _ = support()
    theta = np.eye(4)[(labels + 1) % 4] * 0.9 + 0.025  # argmax: a relabelling of the classes
    assert Nce().score(f, labels, theta) == pytest.approx(0.0, abs=1e-12)


def test_hscore_trace_formula():
    f, labels, _ = support()
    N, D = f.shape
    centred = f - f.mean(axis=0)
    cov_f = centred.T @ centred / (N - 1)
    g = np.array([f[labels == y].mean(axis=0) for y in labels])
    g = g - g.mean(axis=0)
    cov_g = g.T @ g / (N - 1)
    assert HScore().score(f, labels, None) == pytest.approx(np.trace(np.linalg.inv(cov_f) @ cov_g), rel=1e-9)


def test_ledoit_wolf_matches_scikit_learn():
    for n, dim in ((18, 5), (6, 8)):
        f, *_ = support(n // 3, dim=dim)
        fitted = LedoitWolf().fit(f)
        shrunk, a = ledoit_wolf(f)
        assert a == pytest.approx(fitted.shrinkage_, rel=1e-10)
        np.testing.assert_allclose(shrunk, fitted.covariance_, rtol=1e-10, atol=1e-12)


def test_regularised_hscore_uses_the_shrunk_covariance():
    f, labels, _ = support(2, dim=8)  # N < D: the plain covariance is singular
    fitted = LedoitWolf().fit(f)
    g = np.array([f[labels == y].mean(axis=0) for y in labels])
    expected = np.trace(np.linalg.inv(fitted.covariance_) @ ((1 - fitted.shrinkage_) * np.cov(g, rowvar=False)))
    assert HScore(shrinkage=True).score(f, labels, None) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("k", [1, 3])
def test_knn_leave_one_out_matches_scikit_learn(k):
    f, labels, _ = support(5, dim=4, seed=3)
    right = 0
    for train, held in LeaveOneOut().split(f):
        knn = KNeighborsClassifier(n_neighbors=k).fit(f[train], labels[train])
        right += int(knn.predict(f[held])[0] == labels[held][0])
    assert KnnLeaveOneOut(k=k).score(f, labels, None) == pytest.approx(right / len(labels))


def test_linear_probe_accuracy_is_a_fraction_and_separable_data_scores_one():
    f, labels, _ = support(6, dim=5)
    score = LinearProbeCV().score(f * 10, labels, None)  # centres 20 apart: separable
    assert score == 1.0
    noise = np.random.default_rng(1).normal(size=f.shape)
    assert 0.0 <= LinearProbeCV().score(noise, labels, None) < 1.0


def test_unknown_option_is_one_line():
    with pytest.raises(TypeError, match="no option shrink.*options: shrinkage"):
        HScore(shrink=True)
