"""The Python API: run a suite from a notebook or a script, get its records as a DataFrame.

    from benchmark.run.api import run_suite

    class ProtoNet(Strategy): ...                      # defined in the notebook, no package
    frame = run_suite("suites/quickstart.toml", strategies=[ProtoNet, "target-only"], seeds=1)
    frame.groupby(["strategy", "budget"])["metrics.accuracy.mean"].mean()

It goes through what ``transferbench run`` goes through (``benchmark.run.runner.Runner``): the
same plan, executors, records file (``OUT/<suite>/records.jsonl``, resumed: recorded cells
are not run again), pretrain cache and dataset cache, so ``transferbench leaderboard`` and
``cite`` read what it wrote.
"""

import hashlib
import inspect
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from benchmark.errors import PluginError

if TYPE_CHECKING:
    from benchmark.discovery.registry import Provided


def _provided(cls) -> "Provided":
    """A strategy class handed over directly, described as a ``--plugin`` file is: its module
    as the plugin, its file (or, defined in a notebook, ``<module>``) as the distribution and the
    sha256 of that file (of the class's source in a notebook) as the version."""
    from benchmark.discovery.local_plugins import file_version
    from benchmark.discovery.registry import Provided

    path = inspect.getsourcefile(cls) if cls.__module__ != "__main__" else None
    if path and Path(path).is_file():
        return Provided(cls.name, cls, cls.__module__, str(Path(path).resolve()), file_version(Path(path)))
    try:  # IPython keeps each cell's source, so a notebook class has one
        version = "sha256:" + hashlib.sha256(inspect.getsource(cls).encode()).hexdigest()
    except (OSError, TypeError):
        version = "unknown"
    return Provided(cls.name, cls, cls.__module__, f"<{cls.__module__}>", version)


def registry_with(strategies, plugins=(), disabled=()):
    """The installed plugins (and ``plugins``, as ``--plugin``) plus strategy classes; the chosen names.

    ``strategies``: names of installed strategies and/or ``Strategy`` subclasses. A class whose
    name an installed strategy already has (another class) is a ``PluginError`` naming both.
    """
    from benchmark.discovery.registry import discover
    from benchmark.strategy.base import Strategy

    registry = discover(disabled, plugins)
    chosen = []
    for item in strategies:
        if isinstance(item, str):
            registry.strategy(item)  # an unknown name: its error suggests the close one
            chosen.append(item)
            continue
        if not (inspect.isclass(item) and issubclass(item, Strategy)) or not getattr(item, "name", ""):
            raise PluginError(f"strategies: {item!r} is neither a strategy name nor a Strategy subclass with a name")
        installed = registry.strategies.get(item.name)
        if installed is not None and installed.cls is not item:
            raise PluginError(f"strategies: {item.__module__}.{item.__qualname__} is named '{item.name}', as is "
                              f"the strategy of plugin '{installed.plugin}' ({installed.dist} {installed.version}); "
                              f"rename it or disable that plugin")
        if installed is None:
            registry.strategies[item.name] = _provided(item)
        chosen.append(item.name)
    return registry, chosen


def run_suite(suite, strategies=(), *, out="runs", data_root=None, seeds: int | None = None,
              episodes: int | None = None, hparams: dict | None = None, selection: str | None = None,
              trials: int | None = None, plugins=(), disable=(), device="cpu", cell_timeout: float | None = None,
              pretrain_cache: bool = True, pretrain_cache_dir=None, dataset_cache_dir=None,
              threads: int | None = None, show_progress: bool = True, log=print):
    """Run ``suite`` as ``transferbench run`` does; return its records as a ``pandas.DataFrame``.

    :param suite: path of a suite TOML file.
    :param strategies: ``Strategy`` subclasses (e.g. defined in the notebook) and/or names of
        installed strategies; empty: the suite's list, else every installed strategy.
    :param out: results directory; records go to ``out/<suite name>/records.jsonl`` (default ``runs/``,
        as ``transferbench run``; the repository's ``results/`` holds only what it publishes).
    :param data_root: where datasets live (default ``$TRANSFERBENCH_DATA``, else ``./data``).
    :param seeds, episodes, selection, trials: as ``transferbench run``'s options of those names.
    :param hparams: {strategy name: {hyperparameter: value}}, over the suite's ``[hparams]``.
    :param plugins: files or module names to load as ``--plugin`` does.
    :param threads: torch threads while the suite runs, as ``--threads`` (default: torch's).
    :param dataset_cache_dir: as ``--dataset-cache`` (default: the user's shared cache).
    :return: one row per record of this suite's records file whose strategy is one of those
        run (cells recorded before are included, not run again), nested fields flattened
        with dots (``metrics.accuracy.mean``, ``plugin.version``), as ``pandas.json_normalize`` does.
    :raises TransferbenchError: a bad suite, option, plugin or dataset, before any cell runs.
        A strategy that raises only fails its own cells (``status == "failed"`` rows).
    """
    import pandas

    from benchmark import records
    from benchmark.run.runner import Runner
    from benchmark.suite import paths
    from benchmark.suite.load import load_suite

    registry, chosen = registry_with(strategies, plugins, disable)
    loaded = load_suite(suite)
    if hparams:
        loaded = replace(loaded, hparams={**loaded.hparams, **{k: dict(v) for k, v in hparams.items()}})
    loaded = loaded.with_overrides(seeds=seeds, episodes=episodes, strategies=chosen or None,
                                   selection=selection, trials=trials)
    cache_dir = pretrain_cache_dir or os.environ.get("TRANSFERBENCH_PRETRAIN_CACHE")
    root = paths.data_root(data_root, option="data_root=")
    runner = Runner(loaded, registry, Path(out), root, device=device, show_progress=show_progress, log=log,
                    cell_timeout=cell_timeout, pretrain_cache=pretrain_cache, threads=threads,
                    pretrain_cache_dir=Path(cache_dir) if cache_dir else None,
                    dataset_cache_dir=Path(dataset_cache_dir) if dataset_cache_dir else None)
    runner.run()
    names = set(loaded.strategies or registry.strategies)
    rows = [r for r in records.read(runner.records_path) if r["strategy"] in names]
    return pandas.json_normalize(rows)
