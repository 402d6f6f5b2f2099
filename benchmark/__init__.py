"""transferbench core: plugin discovery, suites, the runner, records and leaderboards.

The core knows nothing of any particular strategy or dataset: those arrive through
the ``transferbench`` entry-point group (see ``benchmark.hookspecs``).
"""

__version__ = "0.1.0"

from benchmark.hookspecs import hookimpl  # noqa: E402  (the one name a plugin needs)

__all__ = ["hookimpl"]
