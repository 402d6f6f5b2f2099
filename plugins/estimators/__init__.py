"""Built-in transferability estimators, registered through the ``transferbench`` entry-point group like any plugin."""

from benchmark import hookimpl


@hookimpl
def transferbench_estimators():
    from plugins.estimators.hscore import HScore
    from plugins.estimators.knn import KnnLeaveOneOut
    from plugins.estimators.leep import Leep
    from plugins.estimators.linear_probe import LinearProbeCV
    from plugins.estimators.logme import LogME
    from plugins.estimators.nce import Nce

    return [LogME, Leep, Nce, HScore, KnnLeaveOneOut, LinearProbeCV]
