"""Confidence intervals, each named by the distribution it assumes (scipy.stats)."""

import math

import numpy as np
from scipy import stats

T_OVER_SEEDS = "95% CI, t-distribution over seeds"
NORMAL_OVER_EPISODES = "95% CI, normal approximation over episodes"


def mean_ci_t(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) with Student's t on n-1 degrees of freedom; NaN bounds when n < 2."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    sem = float(stats.sem(values))
    if sem == 0.0:
        return mean, mean, mean
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def mean_ci_normal(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) with the normal approximation, as the few-shot literature reports episodes."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    sem = float(values.std(ddof=1) / math.sqrt(len(values)))
    if sem == 0.0:
        return mean, mean, mean
    low, high = stats.norm.interval(confidence, loc=mean, scale=sem)
    return mean, float(low), float(high)


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

    Needs at least 2 differences (NaN p otherwise). Identical differences have no
    spread to test against: p = 1 when they are all zero, else 0 (the t statistic's limit).
    """
    differences = np.asarray(differences, dtype=float)
    test = WILCOXON if len(differences) >= WILCOXON_MIN_PAIRS else PAIRED_T
    if len(differences) < 2:
        return math.nan, test
    if np.all(differences == differences[0]):
        return (1.0 if differences[0] == 0 else 0.0), test
    if test == WILCOXON:
        return float(stats.wilcoxon(differences).pvalue), test
    return float(stats.ttest_1samp(differences, 0.0).pvalue), test


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
