"""Discovery through real entry points: fake distributions (conftest's ``install``) on sys.path."""

import pytest

from benchmark.discovery.registry import discover
from benchmark.errors import PluginError

STRATEGY = """
    from benchmark import hookimpl
    from benchmark import Strategy

    class Mine(Strategy):
        name = "{name}"
        description = "test"

    @hookimpl
    def transferbench_strategies():
        return [Mine]
"""


def test_a_third_party_strategy_knows_its_distribution(install):
    install("tb-mine", "mine", "tb_mine_ok", STRATEGY.format(name="mine"))
    provided = discover().strategy("mine")
    assert (provided.plugin, provided.dist, provided.version) == ("mine", "tb-mine", "1.2.3")


def test_an_import_failure_is_reported_by_name_and_the_rest_still_work(install):
    install("tb-broken", "broken", "tb_broken_mod", "raise ImportError('no module named torchy')\n")
    registry = discover()
    assert any("plugin 'broken' (tb-broken 1.2.3) failed to import tb_broken_mod: ImportError: no module named torchy"
               in p for p in registry.problems)
    assert "finetune" in registry.strategies


def test_a_strategy_without_a_name_is_reported_and_left_out(install):
    install("tb-nameless", "nameless", "tb_nameless_mod", STRATEGY.format(name=""))
    registry = discover()
    assert any(p.startswith("plugin 'nameless' (tb-nameless): transferbench_strategies() returned <class "
                            "'tb_nameless_mod.Mine'> without a name") for p in registry.problems)
    assert "finetune" in registry.strategies


def test_a_duplicate_strategy_name_names_both_distributions(install):
    install("tb-dup", "dup", "tb_dup_mod", STRATEGY.format(name="finetune"))
    with pytest.raises(PluginError) as caught:
        discover()
    message = str(caught.value)
    assert "duplicate name 'finetune'" in message and "transferbench" in message and "tb-dup 1.2.3" in message
    assert "finetune" in discover(disabled={"dup"}).strategies  # --disable resolves it


def test_a_misspelled_hook_and_a_raising_hook_are_reported(install):
    install("tb-typo", "typo", "tb_typo_mod", """
        from benchmark import hookimpl

        @hookimpl
        def transferbench_strategy():
            return []
    """)
    install("tb-raises", "raises", "tb_raises_mod", """
        from benchmark import hookimpl

        @hookimpl
        def transferbench_strategies():
            raise ValueError("half-written plugin")
    """)
    problems = "\n".join(discover().problems)
    assert "plugin 'typo'" in problems and "transferbench_strategy" in problems
    assert "plugin 'raises' (tb-raises): transferbench_strategies() raised ValueError: half-written plugin" in problems


def test_unknown_strategy_suggests(registry):
    with pytest.raises(PluginError, match=r"unknown strategy 'targetonly' \(did you mean 'target-only'\?\)"):
        registry.strategy("targetonly")
