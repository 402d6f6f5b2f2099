"""Old import paths of public names, kept for one release (0.1 → 0.2) with a DeprecationWarning.

Plugin authors import from ``benchmark`` itself (the public face, ``benchmark/__init__.py``);
internal modules may move. A module that moved leaves a three-line alias at its old path, and a
package that took an old module's name answers that module's public names through ``__getattr__``.
Each warning names the public import to use instead; the CLI shows them (``benchmark.cli``).
"""

import importlib
import sys
import warnings

REMOVED_IN = "0.2"


def public_names_of(module: str) -> list[str]:
    """The names of the public face that ``module`` defines."""
    import benchmark

    return [name for name, where in {**benchmark.PUBLIC_NAMES, **benchmark.PUBLIC_MODULES}.items()
            if where == module or where.startswith(module + ".")]


def alias_module(old: str, new: str) -> None:
    """Make the module ``old`` (being imported) the module ``new``: every name, private ones and
    ``monkeypatch`` targets included, is the new module's own."""
    names = public_names_of(new)
    use = f"'from benchmark import {', '.join(names)}'" if names else \
        f"the public names of 'benchmark' ({new} is internal)"
    warnings.warn(f"{old} is deprecated and will be removed in transferbench {REMOVED_IN}: use {use}",
                  DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)


def moved_names(package: str, names: dict[str, str]):
    """A module ``__getattr__`` answering ``package.NAME`` for the names that moved: {name: new module}.
    Each name warns once, when first imported from the old path."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        warnings.warn(f"{package}.{name} is deprecated and will be removed in transferbench {REMOVED_IN}: use "
                      f"'from benchmark import {name}'", DeprecationWarning, stacklevel=2)
        value = getattr(importlib.import_module(names[name]), name)
        setattr(sys.modules[package], name, value)  # `from X import name` looks it up twice: warn once
        return value

    return __getattr__
