"""Forgetting --plugin: an unknown strategy name says how to load one's own file, and names the file of
the working directory that holds it (named like it, or declaring name = "..."), wherever the name
was given: --strategies, the suite's strategies, an [hparams] table."""

import pytest

from benchmark.cli import main
from benchmark.discovery.plugin_hint import plugin_hint
from benchmark.errors import PluginError, SuiteError
from benchmark.suite.check import check_strategies
from benchmark.suite.load import load_suite

STRATEGY = '''
from benchmark import Strategy


class Zebra(Strategy):
    name = "zebra-penalty"
    description = "a strategy of the user's own"

    def adapt(self, support, ctx):
        raise NotImplementedError
'''

SUITE = '''name = "hint"
seeds = [0]
budgets = [2]
strategies = ["target-only", "zebra-penalty"]
[[pairs]]
name = "digits"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test" }
'''


def test_a_file_named_like_the_strategy_is_named(tmp_path, registry, monkeypatch):
    (tmp_path / "zebra_penalty.py").write_text(STRATEGY)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PluginError) as caught:
        registry.strategy("zebra-penalty")
    installed = ", ".join(sorted(registry.strategies))
    assert str(caught.value) == (f"unknown strategy 'zebra-penalty'; installed: {installed}; a strategy in a file "
                                 f"of yours needs --plugin zebra_penalty.py")


def test_a_file_declaring_the_name_is_named(tmp_path):
    (tmp_path / "my_strategies.py").write_text(STRATEGY)
    (tmp_path / "unrelated.py").write_text("x = 1\n")
    assert plugin_hint("zebra-penalty", False, tmp_path) == "; a strategy in a file of yours needs --plugin my_strategies.py"


def test_without_a_file_the_hint_is_general_unless_an_installed_name_is_close(tmp_path):
    assert plugin_hint("zebra-penalty", False, tmp_path) == "; a strategy in a file of yours needs --plugin FILE.py"
    assert plugin_hint("finetun", True, tmp_path) == ""  # a typo of an installed name: the did-you-mean says it


def test_the_cli_says_it_in_one_line_for_strategies_and_for_the_suite_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "zebra_penalty.py").write_text(STRATEGY)
    (tmp_path / "suite.toml").write_text(SUITE)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "suite.toml", "--strategies", "zebra-penalty", "--out", "out", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("transferbench: error: unknown strategy 'zebra-penalty'")
    assert err.endswith("; a strategy in a file of yours needs --plugin zebra_penalty.py")
    assert main(["run", "suite.toml", "--out", "out", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("transferbench: error: suite.toml: unknown strategy 'zebra-penalty'")
    assert err.endswith("needs --plugin zebra_penalty.py")
    # and with it, the suite runs that strategy's checks (it is found)
    assert main(["run", "suite.toml", "--plugin", "zebra_penalty.py", "--out", "out", "--dry-run",
                 "--no-progress"]) == 0


def test_an_hparams_table_of_an_unknown_strategy_hints_too(tmp_path, registry, monkeypatch):
    (tmp_path / "zebra_penalty.py").write_text(STRATEGY)
    (tmp_path / "suite.toml").write_text(SUITE.replace(', "zebra-penalty"', "") + "[hparams.zebra-penalty]\nalpha = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError, match=r"suite\.toml:9: \[hparams\.zebra-penalty\] names no installed strategy; "
                                         r"a strategy in a file of yours needs --plugin zebra_penalty\.py$"):
        check_strategies(load_suite("suite.toml"), registry)
