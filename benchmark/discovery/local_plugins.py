"""Plugins named on the command line (``--plugin PATH_OR_MODULE``): a strategy without a package.

Like pytest's ``-p`` and lm-evaluation-harness's ``--include_path``. ``--plugin
my_strategy.py`` executes that file as module ``my_strategy``; ``--plugin my_pkg.strategies``
imports an importable module. The module is a plugin either way:

- when it implements ``transferbench_*`` hooks (``benchmark.discovery.hookspecs``), exactly as an
  entry-point plugin does;
- else its own ``Strategy`` subclasses that have a ``name`` are its strategies.

It is recorded with its file's path as the distribution and ``sha256:<hex>`` of the
file's bytes (exactly those executed, for a path) as the version, so a record names the
code that ran even though no package version exists.
"""

import hashlib
import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace

from benchmark.discovery import hookspecs
from benchmark.errors import PluginError


@dataclass(frozen=True)
class LocalPlugin:
    """A module loaded through ``--plugin``, ready to register with the plugin manager."""

    name: str           # the module's name: the records' plugin.name
    plugin: object      # what is registered: the module, or a namespace with its strategies hook
    path: Path          # the file: the records' plugin.dist
    version: str        # "sha256:<hex>" of the file

    @property
    def dist(self) -> str:
        return str(self.path)


def file_version(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes: the version a plugin without a package is recorded with."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_plugin(spec: str) -> LocalPlugin:
    """Load ``spec``, a ``.py`` file or an importable module name, as a plugin.

    Raises ``PluginError`` (one line naming ``spec``) when the file does not exist, the
    module cannot be imported, or it provides neither a hook nor a named ``Strategy``.
    """
    path = Path(spec)
    if spec.endswith(".py") or path.exists() or "/" in spec:
        module = _exec_file(spec, path)
    else:
        try:
            module = importlib.import_module(spec)
        except ModuleNotFoundError as error:
            raise PluginError(f"--plugin {spec}: no such file, and no importable module of that name "
                              f"({error})") from None
        except Exception as error:  # the plugin's own import-time failure, named as such
            raise PluginError(f"--plugin {spec}: importing it raised {type(error).__name__}: {error}") from None
        if not getattr(module, "__file__", None):
            raise PluginError(f"--plugin {spec}: module has no file to record a version of (a namespace package?)")
        path = Path(module.__file__)
    path = path.resolve()
    return LocalPlugin(module.__name__, _as_plugin(spec, module, path), path, file_version(path))


def _exec_file(spec: str, path: Path) -> ModuleType:
    if path.is_dir():
        raise PluginError(f"--plugin {spec}: is a directory, not a Python file (a package: name its module, "
                          f"e.g. --plugin my_pkg.strategies, with my_pkg importable)")
    if not path.is_file():
        gone = f" (a link to {path.readlink()}, which does not exist)" if path.is_symlink() else ""
        raise PluginError(f"--plugin {spec}: {'not a regular file' if path.exists() else 'no such file'}{gone}")
    if path.suffix != ".py":
        raise PluginError(f"--plugin {spec}: not a Python file (.py)")
    name = path.stem
    if not name.isidentifier():
        raise PluginError(f"--plugin {spec}: '{name}' is not a valid module name; rename the file")
    already = sys.modules.get(name)
    if already is not None and Path(getattr(already, "__file__", "") or "").resolve() != path.resolve():
        raise PluginError(f"--plugin {spec}: a module named '{name}' is already imported "
                          f"(from {getattr(already, '__file__', None) or 'a built-in'}); rename the file")
    try:
        source = path.read_bytes()  # bytes: compile() reads the file's own coding declaration
    except OSError as error:         # permission denied, an I/O error
        raise PluginError(f"--plugin {spec}: cannot read it: {error.strerror or error}") from None
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
    # In sys.modules under its name, as an import would put it: pickling its classes (the cache,
    # the executors) and dataclasses defined in it look it up there. Loading the same file again
    # re-executes it, so an edited file is picked up.
    sys.modules[name] = module
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except Exception as error:
        sys.modules.pop(name, None)
        raise PluginError(f"--plugin {spec}: executing it raised {type(error).__name__}: {error}") from None
    return module


def _as_plugin(spec: str, module: ModuleType, path: Path) -> object:
    """The module itself when it implements hooks, else a plugin whose strategies hook returns its classes."""
    from benchmark.strategy.base import Strategy

    if any(name.startswith(f"{hookspecs.PROJECT}_") for name in vars(module)):
        return module
    classes = [value for value in vars(module).values()
               if inspect.isclass(value) and issubclass(value, Strategy) and value is not Strategy
               and value.__module__ == module.__name__ and getattr(value, "name", "")]
    if not classes:
        raise PluginError(f"--plugin {spec}: {path} defines no Strategy subclass with a name "
                          f"and implements no {hookspecs.PROJECT}_* hook")

    @hookspecs.hookimpl
    def transferbench_strategies():
        return classes

    return SimpleNamespace(transferbench_strategies=transferbench_strategies)
