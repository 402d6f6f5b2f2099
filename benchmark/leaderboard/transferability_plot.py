"""transferability_AGAINST_kBUDGET.png: each estimator's score against the accuracy the models reached, per target.

One figure per budget: a row per estimator, a column per target, a point per candidate model
(seed means; the vertical bar is the accuracy's 95% t-interval over seeds). The best model by
accuracy is a star; the estimator's favourite is ringed in red: where they differ, the vertical
gap is the top-1 regret of ``transferability.md``. Each panel's title gives its weighted Kendall tau.
A pure function of the records (``transferability.gather``), byte-identical for the same records.
"""

from pathlib import Path

import numpy as np
from scipy import stats

from benchmark.leaderboard import transferability
from benchmark.leaderboard.collect import budget_order
from benchmark.leaderboard.plots import PNG_METADATA, add_title, new_figure, wrap

PANEL = 2.1  # inch per panel side


def seed_means(by_seed: dict) -> tuple[float, float]:
    """(mean, 95% t half-width; 0 for one seed) of {seed: value}."""
    values = np.array(list(by_seed.values()), dtype=float)
    if len(values) < 2:
        return float(values.mean()), 0.0
    return float(values.mean()), float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))


def panels(all_records: list[dict], against: str, metric: str) -> dict:
    """{budget: {(estimator, target): [(score, accuracy, half-width)] over candidates}} with both sides."""
    scores, accuracy, _, _ = transferability.gather(all_records, against, metric)
    found = {}
    for (label, target, budget), by_pair in scores.items():
        measured = accuracy.get((target, budget), {})
        points = []
        for pair in sorted(p for p in by_pair if p in measured):
            seeds = sorted(set(by_pair[pair]) & set(measured[pair]))
            if seeds:
                acc, half = seed_means({s: measured[pair][s] for s in seeds})
                points.append((float(np.mean([by_pair[pair][s] for s in seeds])), acc, half))
        if points:
            found.setdefault(budget, {})[(label, target)] = points
    return found


def draw(budget: str, by_panel: dict, out: Path, against: str, metric: str) -> Path:
    estimators = sorted({label for label, _ in by_panel})
    targets = sorted({target for _, target in by_panel})
    figure = new_figure(PANEL * len(targets) + 0.6, PANEL * len(estimators) + 0.8)
    axes = figure.subplots(len(estimators), len(targets), squeeze=False)
    for row, label in enumerate(estimators):
        for column, target in enumerate(targets):
            ax = axes[row][column]
            points = by_panel.get((label, target))
            if not points:
                ax.set_axis_off()
                continue
            score, acc, half = (np.array(v) for v in zip(*points))
            ax.errorbar(score, 100 * acc, yerr=100 * half, fmt="o", color="#555555", markersize=3.5,
                        elinewidth=0.8, capsize=0)
            best, pick = int(np.argmax(acc)), int(np.argmax(score))
            ax.plot(score[best], 100 * acc[best], marker="*", color="black", markersize=10, linestyle="none")
            ax.plot(score[pick], 100 * acc[pick], marker="o", markerfacecolor="none", markeredgecolor="#c0392b",
                    markersize=11, markeredgewidth=1.4, linestyle="none")
            tau, _, _ = transferability.statistics(score, acc)
            ax.set_title(("τw = n/a" if tau is None else f"τw = {tau:.2f}") + f" ({len(points)} models)", fontsize=7)
            ax.tick_params(labelsize=6)
            if row == 0:
                wrap(figure, ax.annotate(target, (0.5, 1.22), xycoords="axes fraction", ha="center", fontsize=7),
                     room=PANEL * figure.dpi)
            if column == 0:
                ax.set_ylabel(f"{label}\n{metric} (%)", fontsize=7)
            if row == len(estimators) - 1:
                ax.set_xlabel("score", fontsize=7)
    add_title(figure, f"Estimator score vs the {metric} {against} reached, budget {budget} (per target: a point "
                      f"per model; star: best model; red ring: the estimator's pick)")
    figure.savefig(out, metadata=PNG_METADATA)
    return out


def write(all_records: list[dict], out_dir: Path, against: str = "finetune", metric: str = "accuracy") -> list[Path]:
    """One PNG per budget with estimates and measured accuracies; [] when none has both."""
    return [draw(budget, by_panel, Path(out_dir) / f"{transferability.FILE}_{against}_k{budget}.png", against, metric)
            for budget, by_panel in sorted(panels(all_records, against, metric).items(),
                                              key=lambda item: budget_order(item[0]))]
