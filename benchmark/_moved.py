"""Old import paths of public names, kept for one release (0.1 → 0.2) with a DeprecationWarning.

Plugin authors import from ``benchmark`` itself (the public face, ``benchmark/__init__.py``);
internal modules may move. A module that moved leaves a three-line alias at its old path, and a
package that took an old module's name answers that module's public names through ``__getattr__``.
"""

import importlib
import sys
import warnings

REMOVED_IN = "0.2"


def _warn(old: str, new: str, stacklevel: int) -> None:
    warnings.warn(f"{old} moved to {new} and will be removed in transferbench {REMOVED_IN}; import public names "
                  f"from 'benchmark' itself (e.g. 'from benchmark import Strategy')", DeprecationWarning,
                  stacklevel=stacklevel)


def alias_module(old: str, new: str) -> None:
    """Make the module ``old`` (being imported) the module ``new``: every name, private ones and
    ``monkeypatch`` targets included, is the new module's own."""
    _warn(old, new, stacklevel=4)
    sys.modules[old] = importlib.import_module(new)


def moved_names(package: str, names: dict[str, str]):
    """A module ``__getattr__`` answering ``package.NAME`` for the names that moved: {name: new module}."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        _warn(f"{package}.{name}", f"{names[name]}.{name}", stacklevel=3)
        return getattr(importlib.import_module(names[name]), name)

    return __getattr__
