"""The strategy contract: ``Strategy`` (``base``) and what it is handed (``context``: ``TaskSpec``,
``Context``). Plugin authors import these from ``benchmark``."""

from benchmark._moved import moved_names

# benchmark.strategy was a module until 0.1: its public names still answer here, with a warning.
__getattr__ = moved_names(__name__, {"Strategy": "benchmark.strategy.base", "Context": "benchmark.strategy.base",
                                     "TaskSpec": "benchmark.strategy.base", "seed_torch": "benchmark.strategy.base",
                                     "init_param_names": "benchmark.strategy.base"})
