"""Plugin discovery: entry points of group ``transferbench`` -> strategies, dataset and model providers, metrics.

Built-ins come through the same entry-point group as third-party plugins; nothing
is registered by import side effect. A plugin that fails to import, or whose hook
raises, is reported by name and the rest still work.
"""

import importlib.metadata
import re
from dataclasses import dataclass, field

import pluggy

from benchmark.discovery import hookspecs
from benchmark.discovery.plugin_hint import plugin_hint
from benchmark.errors import PluginError, did_you_mean


@dataclass(frozen=True)
class Provided:
    """A class a plugin provides, with where it came from."""

    name: str
    cls: type
    plugin: str       # entry-point name
    dist: str         # distribution that declared the entry point
    version: str
    variant: str = ""  # a suite's "name:variant" entry: the same class under [hparams."name:variant"] too


@dataclass
class Registry:
    """What discovery found. Built fresh by ``discover``; never a module-level global."""

    strategies: dict[str, Provided] = field(default_factory=dict)
    datasets: dict[str, Provided] = field(default_factory=dict)
    models: dict[str, Provided] = field(default_factory=dict)
    estimators: dict[str, Provided] = field(default_factory=dict)  # transferability estimators (benchmark.estimators)
    metrics: dict[str, Provided] = field(default_factory=dict)  # cls: the benchmark.Metric itself (scoring.registered)
    problems: list[str] = field(default_factory=list)  # one line per plugin that failed to load
    plugins: list[tuple[str, str, str]] = field(default_factory=list)  # (plugin, dist, version) loaded

    def strategy(self, name: str) -> Provided:
        if name not in self.strategies:
            close = did_you_mean(name, self.strategies)
            raise PluginError(f"unknown strategy '{name}'{close}; installed: "
                              f"{', '.join(sorted(self.strategies)) or 'none'}{plugin_hint(name, bool(close))}")
        return self.strategies[name]

    def strategy_hint(self, name: str) -> str:
        """What may fix a strategy name that is not installed: the close installed one, else
        ``--plugin`` and the file of the working directory that holds it (``plugin_hint``)."""
        close = did_you_mean(name, self.strategies)
        return close + plugin_hint(name, bool(close))

    def dataset(self, name: str) -> Provided:
        if name not in self.datasets:
            raise PluginError(f"unknown dataset provider '{name}'{did_you_mean(name, self.datasets)}; "
                              f"installed: {', '.join(sorted(self.datasets)) or 'none'}")
        return self.datasets[name]

    def model(self, name: str) -> Provided:
        if name not in self.models:
            raise PluginError(f"unknown model provider '{name}'{did_you_mean(name, self.models)}; "
                              f"installed: {', '.join(sorted(self.models)) or 'none'}")
        return self.models[name]

    def estimator(self, name: str) -> Provided:
        if name not in self.estimators:
            close = did_you_mean(name, self.estimators)
            raise PluginError(f"unknown estimator '{name}'{close}; installed: {', '.join(sorted(self.estimators)) or 'none'}"
                              f"{plugin_hint(name, bool(close)).replace('a strategy', 'an estimator')}")
        return self.estimators[name]


def dist_of(ep: importlib.metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist else "unknown"


def canonical(dist: str) -> str:
    """A distribution name as PEP 503 compares them: ``My_Plugin`` and ``my-plugin`` are one."""
    return re.sub(r"[-_.]+", "-", dist).lower()


def entry_points(disabled=()) -> list[importlib.metadata.EntryPoint]:
    """The group's entry points, one per plugin; PluginError when two distributions declare one name.

    A plugin is its distribution and its entry-point name. The same distribution seen twice (an
    editable install plus a copy on sys.path) declaring the same object is one plugin. Two
    different ones (or two versions of one pointing elsewhere) under one name would leave one
    silently replaced by the other, which one depending on sys.path order, i.e. on how
    transferbench was launched; so that is an error naming both, the same from any launch.
    ``disabled`` holds entry-point names (``finetune``) or distribution:name (``my-dist:finetune``).
    """
    left_out = {name if ":" not in name else f"{canonical(name.split(':')[0])}:{name.split(':', 1)[1]}"
                for name in disabled}
    declared: dict[str, list] = {}
    for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
        dist = dist_of(ep)
        if ep.name in left_out or f"{canonical(dist)}:{ep.name}" in left_out:
            continue
        same = [other for other in declared.get(ep.name, [])
                if (canonical(dist_of(other)), other.value) == (canonical(dist), ep.value)]
        if not same:
            declared.setdefault(ep.name, []).append(ep)
    for name in sorted(declared):
        if len(declared[name]) > 1:
            who = sorted(f"{dist_of(ep)} {ep.dist.version if ep.dist else 'unknown'} ({ep.value})"
                         for ep in declared[name])
            raise PluginError(f"plugin '{name}' is declared by {' and by '.join(who)}; a plugin is its distribution "
                              f"and entry-point name, and one would silently replace the other: uninstall one, or "
                              f"leave one out with --disable DIST:{name} (e.g. "
                              f"--disable {sorted(dist_of(ep) for ep in declared[name])[-1]}:{name})")
    return [eps[0] for eps in declared.values()]


def get_plugin_manager(disabled=(), local=()) -> tuple[pluggy.PluginManager, list[tuple[str, str, str]], list[str]]:
    """Load every ``transferbench`` entry point not in ``disabled``, then the ``local`` plugins
    (``benchmark.discovery.local_plugins.LocalPlugin``: what ``--plugin`` named).

    Returns the manager, the loaded (plugin, dist, version) triples and one problem
    line per plugin that could not be loaded or validated. A local plugin that cannot be
    registered raises ``PluginError`` instead: the user asked for it by name.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    loaded, problems = [], []
    for ep in entry_points(disabled):
        dist = dist_of(ep)
        version = ep.dist.version if ep.dist else "unknown"
        try:
            module = ep.load()
        except Exception as error:  # any import failure must not hide the other plugins
            problems.append(f"plugin '{ep.name}' ({dist} {version}) failed to import {ep.value}: "
                            f"{type(error).__name__}: {error}")
            continue
        if pm.is_registered(module):  # one module under two names: its hooks are registered once already
            problems.append(f"plugin '{ep.name}' ({dist}) declares {ep.value}, which another entry point "
                            f"already registered; it was left out")
            continue
        try:
            pm.register(module, name=ep.name)
        except pluggy.PluginValidationError as error:
            problems.append(f"plugin '{ep.name}' ({dist} {version}): {error}")
            continue
        loaded.append((ep.name, dist, version))
    for plugin in local:
        if pm.has_plugin(plugin.name):
            raise PluginError(f"--plugin {plugin.path}: its module name '{plugin.name}' is already a plugin's name; "
                              f"rename the file or --disable {plugin.name}")
        try:
            pm.register(plugin.plugin, name=plugin.name)
        except (pluggy.PluginValidationError, ValueError) as error:
            raise PluginError(f"--plugin {plugin.path}: {error}") from None
        loaded.append((plugin.name, plugin.dist, plugin.version))
    # What pm.check_pending() checks, but reporting every offender by name instead of raising
    # at the first: a hook function whose name matches no hookspec is almost always a typo.
    for hook_name, caller in vars(pm.hook).items():
        if hook_name.startswith("_") or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            problems.append(f"plugin '{impl.plugin_name}': unknown hook '{hook_name}'"
                            f"{did_you_mean(hook_name, [n for n in dir(hookspecs) if n.startswith('transferbench_')])};"
                            f" the plugin was left out")
            pm.unregister(name=impl.plugin_name)
            loaded = [entry for entry in loaded if entry[0] != impl.plugin_name]
    return pm, loaded, problems


def discover(disabled=(), plugins=()) -> Registry:
    """Ask every plugin for its strategies, dataset providers and model providers.

    ``plugins``: files or module names loaded besides the entry points (``--plugin``,
    ``benchmark.discovery.local_plugins``); a strategy of theirs whose name an installed one has is
    a ``PluginError`` naming both.
    """
    from benchmark.discovery.local_plugins import load_plugin

    pm, loaded, problems = get_plugin_manager(disabled, [load_plugin(spec) for spec in plugins])
    registry = Registry(problems=problems, plugins=loaded)
    origin = {plugin: (dist, version) for plugin, dist, version in loaded}
    for hook_name, table in (("transferbench_strategies", registry.strategies),
                             ("transferbench_datasets", registry.datasets),
                             ("transferbench_models", registry.models),
                             ("transferbench_estimators", registry.estimators),
                             ("transferbench_metrics", registry.metrics)):
        # Call each implementation alone so a raising hook is blamed on its own plugin.
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            dist, version = origin.get(impl.plugin_name, ("unknown", "unknown"))
            try:
                classes = list(impl.function())
            except Exception as error:
                registry.problems.append(f"plugin '{impl.plugin_name}' ({dist}): {hook_name}() raised "
                                         f"{type(error).__name__}: {error}")
                continue
            for cls in classes:
                name = getattr(cls, "name", "")
                if not name:  # unusable, but only that class: the other plugins still work
                    registry.problems.append(f"plugin '{impl.plugin_name}' ({dist}): {hook_name}() returned "
                                             f"{cls!r} without a name; it was left out")
                    continue
                if name in table:  # named in sorted order: the message is the same from any launch
                    other = table[name]
                    first, second = sorted([f"plugin '{other.plugin}' ({other.dist} {other.version})",
                                            f"plugin '{impl.plugin_name}' ({dist} {version})"])
                    raise PluginError(f"duplicate name '{name}': provided by {first} and {second}; "
                                      f"uninstall one or disable it with --disable")
                table[name] = Provided(name, cls, impl.plugin_name, dist, version)
    return registry
