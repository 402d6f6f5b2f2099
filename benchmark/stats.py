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
