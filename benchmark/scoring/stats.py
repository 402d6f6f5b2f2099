"""Confidence intervals, each named by the distribution it assumes (scipy.stats)."""

import math
from functools import lru_cache

import numpy as np

T_OVER_SEEDS = "95% CI, t-distribution over seeds"
NORMAL_OVER_EPISODES = "95% CI, normal approximation over episodes"


# Critical values come from scipy's distributions, cached: scipy.stats' per-call overhead
# (milliseconds) would dominate a leaderboard of thousands of cells.
# scipy.stats is imported where it is used: it takes ~0.5 s, which a run that fails on
# missing data (and must say so within 2 s) should not pay.
@lru_cache(maxsize=4096)
def t_critical(confidence: float, df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf((1 + confidence) / 2, df))


@lru_cache(maxsize=64)
def normal_critical(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf((1 + confidence) / 2))


def _mean_sem(values) -> tuple[np.ndarray, float, float]:
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    sem = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    return values, mean, sem


def mean_ci_t(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) with Student's t on n-1 degrees of freedom; NaN bounds when n < 2."""
    values, mean, sem = _mean_sem(values)
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = t_critical(confidence, len(values) - 1) * sem
    return mean, mean - half, mean + half


def mean_ci_normal(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) with the normal approximation, as the few-shot literature reports episodes."""
    values, mean, sem = _mean_sem(values)
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = normal_critical(confidence) * sem
    return mean, mean - half, mean + half


# Paired comparisons for leaderboards: few pairs (seeds) get the paired t-test; many
# pairs (episodes) get the Wilcoxon signed-rank test, which does not assume normal
# differences (episode accuracies are bounded and discrete). 20 is where scipy's
# Wilcoxon can reach the small p-values a Holm correction over a whole table demands
# (its exact two-sided minimum is 2 / 2**n) and where the t-test's normality matters least.
WILCOXON_MIN_PAIRS = 20
PAIRED_T = "paired t-test"
WILCOXON = "Wilcoxon signed-rank test"


def paired_test(differences) -> tuple[float, str]:
    """(two-sided p-value, test name) for H0: the paired differences are centred on 0.

    Needs at least 2 differences (NaN p otherwise); identical ones get ``identical_p``.
    """
    return paired_tests([differences])[0]


def identical_p(difference: float, n: int, test: str) -> float:
    """p for n differences all equal to ``difference``, which leave no spread to test against.

    1 when they are zero. Else the t-test's p is 0 (its statistic's limit), and Wilcoxon's
    is 2 / 2**n: exactly its p when every sign agrees, as scipy.stats.wilcoxon(method="exact")
    gives (its default, a normal approximation for these ties, gives a larger one).
    """
    if difference == 0:
        return 1.0
    return 0.0 if test == PAIRED_T else 2.0 ** (1 - n)


def paired_tests(many_differences) -> list[tuple[float, str]]:
    """``paired_test`` on many comparisons at once, batched so scipy is called once per batch
    instead of once per comparison (its per-call overhead dominates a large leaderboard).

    A batch holds comparisons of one length and, for Wilcoxon, one kind (with or without
    ties / zeros): scipy picks the exact or the normal-approximation null per call, so
    this keeps each comparison's method what a call of its own would choose.
    """
    arrays = [np.asarray(d, dtype=float) for d in many_differences]
    results = [None] * len(arrays)
    batches = {}
    for index, d in enumerate(arrays):
        test = WILCOXON if len(d) >= WILCOXON_MIN_PAIRS else PAIRED_T
        if len(d) < 2:
            results[index] = (math.nan, test)
        elif np.all(d == d[0]):
            results[index] = identical_p(d[0], len(d), test), test
        else:
            ties = test == WILCOXON and (np.any(d == 0) or len(np.unique(np.abs(d))) < len(d))
            batches.setdefault((len(d), test, ties), []).append(index)
    from scipy import stats

    for (n, test, _), indices in batches.items():
        block = np.stack([arrays[i] for i in indices])  # [comparisons, n]
        if test == WILCOXON:
            p_values = np.atleast_1d(stats.wilcoxon(block, axis=1).pvalue)
        else:
            # scipy.stats.ttest_1samp(block, 0, axis=1): the same statistic, p from scipy's t (a test checks)
            t_statistic = block.mean(axis=1) / (block.std(axis=1, ddof=1) / math.sqrt(n))
            p_values = 2 * stats.t.sf(np.abs(t_statistic), n - 1)
        for i, p_value in zip(indices, p_values):
            results[i] = (float(p_value), test)
    return results


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN entries stay NaN, outside the family).

    Sorted ascending, the i-th smallest of m is multiplied by (m - i), made monotone
    with a running maximum and capped at 1 (Holm 1979).
    """
    p_values = np.asarray(p_values, dtype=float)
    adjusted = np.full(p_values.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p_values))
    order = tested[np.argsort(p_values[tested], kind="stable")]
    m = len(order)
    scaled = p_values[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted
