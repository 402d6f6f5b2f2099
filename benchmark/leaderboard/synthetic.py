"""Synthetic records drawn from known distributions, shaped exactly like the runner's.

For what real runs cannot give: the simulation that checks the CIs cover the true
mean as often as they claim, golden-file tests with hand-picked values, and the
100,000-record scale benchmark. Episodic metrics go through the runner's own
``summarise``, so their CIs are computed by the code that computes real ones.
"""

from benchmark import records
from benchmark.scoring.aggregate import summarise

FINGERPRINTS = {"source": "5a17e2c0de5a17e2", "target": "7a26e7c0de7a26e7", "target_test": "7e57c0de7e57c0de"}


def record(strategy: str, pair: str, seed: int, budget="all", value: float | None = None, *, status: str = "ok",
           episodes=None, hparams: dict | None = None, version: str = "0.1.0", suite: str = "synthetic",
           wall_s: float = 1.0, finished_at: str = "2026-01-01T00:00:00+00:00") -> records.Record:
    """One record; ``value`` is every metric's mean (transfer), or ``episodes`` its per-episode values."""
    protocol = "episodic" if episodes is not None else "transfer"
    metrics = None
    if status == "ok":
        per_task = [{name: float(v) for name in ("accuracy", "macro_f1", "macro_recall")}
                    for v in (episodes if episodes is not None else [value])]
        metrics = summarise(per_task)
    return records.make(
        suite=suite, protocol=protocol, protocol_settings={}, pair=pair,
        source={"provider": "sklearn-digits", "split": "train[:50%]"},
        target={"provider": "sklearn-digits", "split": "train[50%:]"},
        target_test={"provider": "sklearn-digits", "split": "test"},
        fingerprints=FINGERPRINTS, overlap=None, test_classes=None, n_way=10, budget=str(budget), seed=seed,
        model=None, input=None, assets=None, licences=None,
        strategy=strategy, plugin={"name": strategy, "dist": "transferbench", "version": version},
        hparams=hparams or {}, selection={"protocol": "fixed"}, transductive=False, device="cpu",
        status=status, metrics=metrics, trial=None, adapt_notes=None, batched=None, predictions=None,
        per_episode={"accuracy": [round(float(v), 6) for v in episodes]}
        if episodes is not None and status == "ok" else None,
        error={"type": "RuntimeError", "message": "boom", "traceback": ""} if status == "failed" else None,
        reason=f"{strategy} does not run this pair" if status == "skipped" else None,
        wall_s=wall_s, pretrain_s=None, pretrain_cache=None, cost=None, reported=None, finished_at=finished_at,
        versions={"python": "3.11.7", "torch": "2.14.1", "transferbench": "0.1.0"},
        git={"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False})


def write(path, all_records) -> None:
    """records.jsonl exactly as the runner writes it, in one go (no per-line fsync: nothing here is precious)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(records.to_line(made) for made in all_records)
