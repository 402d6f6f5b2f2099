"""The statistics behind leaderboards: intervals cover what they claim; Holm, paired tests and ranks."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from benchmark.leaderboard.summary import build
from benchmark.leaderboard.synthetic import record
from benchmark.scoring import stats

REPETITIONS = 2000  # nominal 95%: the binomial s.d. of the coverage is 0.5 points, so 93-97% is ±4 s.d.


def coverage(entries, truth, attribute):
    estimates = [getattr(e, attribute) for e in entries]
    assert all(e is not None and e.has_ci for e in estimates)
    return np.mean([e.low <= truth <= e.high for e in estimates])


def test_intervals_over_seeds_cover_the_true_mean_and_gain_95_percent_of_the_time():
    """2,000 pairs, each 5 seeds of two strategies from known normals sharing a per-seed effect."""
    rng = np.random.default_rng(6)
    finetune_mean, target_only_mean, seeds = 0.71, 0.64, 5
    made = []
    for repetition in range(REPETITIONS):
        shared = rng.normal(0, 0.04, seeds)  # what a seed's draw of the labelled budget does to both
        finetune = finetune_mean + shared + rng.normal(0, 0.02, seeds)
        target_only = target_only_mean + shared + rng.normal(0, 0.02, seeds)
        for seed in range(seeds):
            made.append(record("finetune", f"pair{repetition}", seed, 5, finetune[seed]))
            made.append(record("target-only", f"pair{repetition}", seed, 5, target_only[seed]))
    (table,) = build(made).tables
    finetune = [table.entries[("finetune", pair)] for pair in table.pairs]
    assert {e.score.method for e in finetune} == {stats.T_OVER_SEEDS} and {e.score.n for e in finetune} == {5}
    score_coverage = coverage(finetune, finetune_mean, "score")
    gain_coverage = coverage(finetune, finetune_mean - target_only_mean, "gain")
    print(f"t over seeds: score coverage {score_coverage:.4f}, paired gain coverage {gain_coverage:.4f}")
    assert 0.93 <= score_coverage <= 0.97
    assert 0.93 <= gain_coverage <= 0.97
    # pairing by seed removes the shared per-seed effect: the gain's CI is far narrower than an
    # unpaired comparison's (expected ratio 0.028 / 0.063 ≈ 0.45 from the two variances)
    target_only = [table.entries[("target-only", pair)] for pair in table.pairs]
    unpaired = [math.hypot(a.score.high - a.score.low, b.score.high - b.score.low) for a, b in zip(finetune, target_only)]
    assert np.median([e.gain.high - e.gain.low for e in finetune]) < 0.6 * np.median(unpaired)


def test_intervals_over_episodes_cover_the_true_mean_and_gain_95_percent_of_the_time():
    """2,000 single-seed cells of 100 episodes; an episode's difficulty is shared by both strategies."""
    rng = np.random.default_rng(7)
    episodes, queries = 100, 75
    made = []
    difficulty_a, difficulty_b = 6.0, 3.0  # Beta(6, 3): mean 2/3 chance of a right answer per query
    shift = 0.08                           # MAML answers right 8 points more often (clipped at 1)
    true_p = difficulty_a / (difficulty_a + difficulty_b)
    for repetition in range(REPETITIONS):
        p = rng.beta(difficulty_a, difficulty_b, episodes)
        maml = rng.binomial(queries, np.minimum(p + shift, 1.0)) / queries
        target_only = rng.binomial(queries, p) / queries
        made.append(record("maml", f"pair{repetition}", 0, 1, episodes=maml))
        made.append(record("target-only", f"pair{repetition}", 0, 1, episodes=target_only))
    # the true mean of the clipped shift, by integrating over the Beta
    truth_maml = scipy_stats.beta(difficulty_a, difficulty_b).expect(lambda p: min(p + shift, 1.0))
    truth_gain = truth_maml - true_p
    (table,) = build(made).tables
    maml = [table.entries[("maml", pair)] for pair in table.pairs]
    assert {e.score.method for e in maml} == {e.gain.method for e in maml} == {stats.NORMAL_OVER_EPISODES}
    assert {e.score.n for e in maml} == {e.gain.n for e in maml} == {episodes}
    score_coverage = coverage(maml, truth_maml, "score")
    gain_coverage = coverage(maml, truth_gain, "gain")
    print(f"normal over episodes: score coverage {score_coverage:.4f}, paired gain coverage {gain_coverage:.4f}")
    assert 0.93 <= score_coverage <= 0.97
    assert 0.93 <= gain_coverage <= 0.97


def test_holm_matches_the_textbook_example():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005, math.nan])
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])
    assert stats.holm([0.9, 0.8]).tolist() == [1.0, 1.0]


def test_paired_test_is_scipys_t_test_for_few_pairs_and_wilcoxon_for_many():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.7, 0.05, 5), rng.normal(0.68, 0.05, 5)
    p_value, test = stats.paired_test(a - b)
    assert test == stats.PAIRED_T and p_value == pytest.approx(scipy_stats.ttest_rel(a, b).pvalue)
    a, b = rng.normal(0.7, 0.05, 40), rng.normal(0.68, 0.05, 40)
    p_value, test = stats.paired_test(a - b)
    assert test == stats.WILCOXON and p_value == pytest.approx(scipy_stats.wilcoxon(a, b).pvalue)
    assert math.isnan(stats.paired_test([0.1])[0])
    assert stats.paired_test([0.0, 0.0, 0.0])[0] == 1.0
    assert stats.paired_test([0.02, 0.02, 0.02])[0] == 0.0


@pytest.mark.parametrize("difference", [0.02, -0.02])
def test_wilcoxon_on_identical_differences_is_its_exact_p_not_zero(difference):
    # every sign agrees: the most extreme of the 2**n equally likely sign patterns, at either tail
    for n in (20, 40):
        differences = np.full(n, difference)
        p_value, test = stats.paired_test(differences)
        assert test == stats.WILCOXON and p_value == 2 / 2**n
        assert p_value == pytest.approx(scipy_stats.wilcoxon(differences, method="exact").pvalue)
        assert p_value < scipy_stats.wilcoxon(differences).pvalue  # scipy's default: a normal approximation


def test_equal_means_share_the_average_rank():
    made = [record(name, pair, 0, 1, value) for name, values in
            (("a", (0.9, 0.5)), ("b", (0.7, 0.5)), ("c", (0.7, 0.9))) for pair, value in zip(("p", "q"), values)]
    (table,) = build(made).tables
    assert [table.entries[(s, "p")].rank for s in "abc"] == [1.0, 2.5, 2.5]
    assert [table.entries[(s, "q")].rank for s in "abc"] == [2.5, 2.5, 1.0]
    assert table.mean_rank == {"a": 1.75, "b": 2.5, "c": 1.75}
    assert table.rows == ["a", "c", "b"]  # by mean rank, then name
