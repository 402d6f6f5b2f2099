"""Built-in dataset providers, registered through the same hook a third party uses."""

from benchmark import hookimpl
from plugins.datasets.sklearn_digits import SklearnDigits


@hookimpl
def transferbench_datasets():
    return [SklearnDigits]
