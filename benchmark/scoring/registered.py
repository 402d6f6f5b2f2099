"""Metrics as plugins: what a ``transferbench_metrics`` hook returns, and a name's lookup among them.

A metric is computed from a cell's stored predictions (``benchmark.scoring.predictions``), task by
task, and summarised as the runner summarises its own (the mean, with a CI over episodes), so
``leaderboard --metric NAME`` needs no retraining. The built-ins are ``plugins/metrics.py``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from benchmark.errors import did_you_mean

PER_CLASS = "[CLASS]"  # a per-class metric's name ends so: "recall[CLASS]" answers "recall[spam]"


@dataclass(frozen=True)
class Metric:
    """A metric: a name, a function of labels and scores, its direction and the paper it follows.

    ``fn(labels, scores) -> float``: labels ``[N]`` int64 in 0..C-1, scores ``[N, C]`` float32 as the
    predictor returned them (logits, for the built-in strategies; its argmax is the runner's decision).
    It must be deterministic, and return NaN where the metric is undefined for these labels (AUROC
    on one class). A per-class metric is named ``NAME[CLASS]`` (literally, e.g. ``recall[CLASS]``)
    and its ``fn(labels, scores, index)`` also takes the class's label: ``--metric recall[spam]``
    asks for it with spam's index (transfer cells only: an episode's labels are renumbered).
    """

    name: str                        # unique among installed metrics; records and --metric use it
    fn: Callable                     # (labels [N] int64, scores [N, C] float32[, class index]) -> float
    higher_is_better: bool = True    # False (e.g. calibration error): leaderboards rank the lowest first
    description: str = ""            # one line, shown by `transferbench list --metrics`
    citation: str = ""               # BibTeX of the paper or library it follows, where one applies

    @property
    def per_class(self) -> bool:
        return self.name.endswith(PER_CLASS)

    def __call__(self, labels, scores, index: int | None = None) -> float:
        """The value on one task: labels [N], scores [N, C]; ``index``: the class of a per-class metric."""
        return float(self.fn(labels, scores) if index is None else self.fn(labels, scores, index))


def resolve(name: str, metrics: dict) -> tuple[Metric, str | None]:
    """The metric ``name`` asks for and, for a per-class one (``recall[spam]``), the class's name.

    ``metrics``: {name: Metric} of the installed plugins.
    :raises ValueError: no installed metric answers ``name`` (the message names them all).
    """
    if name in metrics:
        return metrics[name], None
    stem, bracket, rest = name.partition("[")
    if bracket and rest.endswith("]") and f"{stem}{PER_CLASS}" in metrics:
        return metrics[f"{stem}{PER_CLASS}"], rest[:-1]
    known = sorted(metrics)
    shown = ", ".join(k.replace(PER_CLASS, "[<class>]") for k in known) or "none"
    raise ValueError(f"'{name}' is not a metric{did_you_mean(name, known)}; choose from {shown}")
