"""A cell's metrics from its tasks' values: the single task's value, or the mean over episodes
with a 95% CI (normal approximation over episodes, as the few-shot literature reports it)."""

from benchmark.scoring import stats


def summarise(per_task: list[dict]) -> dict:
    """{metric: {"mean", "ci95", "n", "ci"}} from one {metric: value} per task (1 task, or E episodes)."""
    summary = {}
    for name in per_task[0]:  # metrics.METRICS, then a transfer cell's recall[<class>]
        values = [task[name] for task in per_task]
        if len(values) == 1:
            summary[name] = {"mean": values[0], "ci95": None, "n": 1, "ci": None}
        else:
            mean, low, high = stats.mean_ci_normal(values)
            summary[name] = {"mean": mean, "ci95": [low, high], "n": len(values), "ci": stats.NORMAL_OVER_EPISODES}
    return summary
