"""The whole plugin surface of transferbench.

A plugin is a module (or object) named by an entry point in the ``transferbench``
group. It implements any of the hooks below, marked with ``benchmark.hookimpl``::

    # my_plugin.py                       pyproject.toml:
    from benchmark import hookimpl       [project.entry-points.transferbench]
                                         my-plugin = "my_plugin"
    @hookimpl
    def transferbench_strategies():
        return [MyStrategy]

Hooks are for discovery only: the runner calls strategies and providers directly,
so a crash in one becomes a failed record, never an aborted suite.
"""

import pluggy

PROJECT = "transferbench"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def transferbench_strategies():
    """Return the strategy classes this plugin provides.

    :return: a list of ``benchmark.strategy.base.Strategy`` subclasses. Each class has a
        ``name`` unique across all installed plugins; a duplicate name is an error that
        names both plugins.
    """


@hookspec
def transferbench_datasets():
    """Return the dataset provider classes this plugin provides.

    :return: a list of ``benchmark.data.providers.DatasetProvider`` subclasses, each with a
        unique ``name``; a suite's dataset table selects one with ``provider = NAME``.
    """


@hookspec
def transferbench_models():
    """Return the model provider classes this plugin provides.

    :return: a list of ``benchmark.models.ModelProvider`` subclasses, each with a unique
        ``name``; a suite's ``[model]`` table selects one with ``provider = NAME``. A provider
        builds a fresh trunk (an ``nn.Module`` mapping inputs to features ``[N, D]``) with its
        weights loaded by its library's own code, says what preprocessing the weights expect,
        and describes the checkpoint for records (provider, name, weights, sha256, library
        version). It must never download: a missing checkpoint is an error naming the path.
    """


@hookspec
def transferbench_estimators():
    """Return the transferability estimator classes this plugin provides.

    :return: a list of ``benchmark.estimators.base.Estimator`` subclasses, each with a unique
        ``name``; a suite's ``estimators = [...]`` selects them. An estimator scores a model on a
        target from the frozen trunk's features of the labelled support (and, where it needs them,
        the source classifier's probabilities), never from the test split.
    """


@hookspec
def transferbench_metrics():
    """Return the metrics this plugin provides.

    :return: a list of ``benchmark.Metric`` (a name, ``fn(labels [N], scores [N, C]) -> float``,
        ``higher_is_better``, an optional BibTeX ``citation``), each with a unique ``name``.
        ``transferbench leaderboard --metric NAME`` computes one from every cell's stored
        predictions where a record does not carry it, without retraining.
    """
