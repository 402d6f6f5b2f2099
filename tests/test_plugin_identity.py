"""Issue 16.3: a plugin is its distribution and entry-point name, whatever the launch.

A third-party distribution that declares an entry point the built-ins already use (``finetune``)
must not silently replace one of the two, and which one survived used to depend on sys.path order
(how transferbench was launched). The clash is an error naming both distributions, the same from
the Python API and the command line, with the third party's directory before or after the
built-ins on sys.path. Real metadata throughout: dist-info directories on sys.path.
"""

import importlib
import sys
import textwrap

import pytest

import benchmark
from benchmark.cli import main
from benchmark.discovery.registry import discover
from benchmark.errors import PluginError

RIVAL = """
    from benchmark import hookimpl
    from benchmark import Strategy

    class Rival(Strategy):
        name = "rival-finetune"
        description = "A third party's strategy, under the built-in plugin's entry-point name."

    @hookimpl
    def transferbench_strategies():
        return [Rival]
"""


def dist_info(directory, dist: str, entry_point: str, module: str, source: str, version="1.2.3"):
    """A minimal installed distribution in ``directory``, as a wheel leaves it."""
    info = directory / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[transferbench]\n{entry_point} = {module}\n")
    (directory / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def on_path(monkeypatch):
    """on_path(directory, first): put ``directory`` first or last on sys.path; its modules are forgotten after."""
    before, path = set(sys.modules), list(sys.path)

    def _on(directory, first: bool, keep=False):
        base = sys.path if keep else path  # keep: add to what an earlier call set
        monkeypatch.setattr(sys, "path", [str(directory), *base] if first else [*base, str(directory)])
        importlib.invalidate_caches()
    yield _on
    for name in set(sys.modules) - before:
        if name.startswith("tb_"):
            sys.modules.pop(name, None)


EXPECTED = (f"plugin 'finetune' is declared by tb-rival 1.2.3 (tb_rival_mod) and by transferbench "
            f"{benchmark.__version__} (plugins.finetune); a plugin is its distribution and entry-point name, and "
            f"one would silently replace the other: uninstall one, or leave one out with --disable DIST:finetune "
            f"(e.g. --disable transferbench:finetune)")


@pytest.mark.parametrize("first", [True, False], ids=["third-party-first", "third-party-last"])
def test_two_distributions_declaring_one_plugin_name_is_an_error_naming_both(tmp_path, on_path, capsys, first):
    dist_info(tmp_path, "tb-rival", "finetune", "tb_rival_mod", RIVAL)
    on_path(tmp_path, first)
    with pytest.raises(PluginError) as caught:
        discover()
    assert str(caught.value) == EXPECTED
    assert main(["list"]) == 2  # the command line says the same, and no plugin was silently dropped
    assert capsys.readouterr().err == f"transferbench: error: {EXPECTED}\n"


def test_disabling_one_distributions_plugin_keeps_the_other(tmp_path, on_path):
    dist_info(tmp_path, "tb-rival", "finetune", "tb_rival_mod", RIVAL)
    on_path(tmp_path, True)
    kept_builtin = discover(disabled={"tb-rival:finetune"})
    assert kept_builtin.strategies["finetune"].dist == "transferbench" and "rival-finetune" not in kept_builtin.strategies
    kept_rival = discover(disabled={"transferbench:finetune"})  # DIST is compared as PEP 503 normalises it
    assert kept_rival.strategies["rival-finetune"].dist == "tb-rival" and "finetune" not in kept_rival.strategies
    assert discover(disabled={"TB_Rival:finetune"}).strategies["finetune"].dist == "transferbench"


def test_the_same_distribution_seen_twice_is_one_plugin(tmp_path, on_path):
    # An editable install plus a copy on sys.path: same distribution, same object, not a clash.
    for copy in ("a", "b"):
        dist_info(tmp_path / copy, "tb-twice", "twice", "tb_twice_mod", RIVAL.replace("rival-finetune", "twice"))
        on_path(tmp_path / copy, True, keep=True)
    registry = discover()
    assert registry.strategies["twice"].dist == "tb-twice" and registry.problems == []
    assert [p for p in registry.plugins if p[0] == "twice"] == [("twice", "tb-twice", "1.2.3")]


def test_a_duplicate_strategy_name_is_named_in_the_same_order_from_any_launch(tmp_path, on_path):
    dist_info(tmp_path, "tb-dup", "dup", "tb_dup_order", RIVAL.replace("rival-finetune", "finetune"))
    messages = set()
    for first in (True, False):
        on_path(tmp_path, first)
        with pytest.raises(PluginError) as caught:
            discover()
        messages.add(str(caught.value))
    assert len(messages) == 1, messages
