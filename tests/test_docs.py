"""docs/strategies.md, the plugin authors' reference: complete, current, and its example works."""

import sys
from pathlib import Path

import pytest

from benchmark import check_strategy, docs
from benchmark.discovery.local_plugins import load_plugin

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_public_name_of_the_contract_is_documented():
    assert docs.undocumented() == []


def test_the_generated_reference_and_example_are_current():
    page = docs.PAGE.read_text()
    assert docs.render(page) == page, "docs/strategies.md is stale: run `python -m benchmark.docs`"
    assert docs.EXAMPLE.read_text() in page
    assert docs.main(["--check"]) == 0


class Half:
    """A contract class with one documented ``mentioned`` attribute and undocumented names."""

    documented = 1      # says what it is
    undocumented_attribute = 2

    def __init__(self):
        self.mentioned = 3
        self.bare = 4

    def explained(self):
        """Has a docstring."""

    def unexplained(self):
        pass


def test_an_undocumented_attribute_or_method_is_named(monkeypatch):
    monkeypatch.setattr(docs, "CONTRACT", [(__name__, "Half")])
    assert docs.undocumented() == [f"{__name__}.Half.{name}" for name in ("undocumented_attribute", "bare",
                                                                          "unexplained")]
    assert "| `mentioned` |  |  | (see above) |" in docs.reference()
    monkeypatch.setattr(docs, "CONTRACT", [(__name__, "Half"), ("benchmark.strategy.base", "Strategy")])
    assert docs.main(["--check"]) == 1


def test_a_page_without_its_markers_is_an_error():
    with pytest.raises(ValueError, match="markers"):
        docs.render("# a page someone rewrote\n")


def test_the_readme_links_the_reference():
    assert "docs/strategies.md" in README.read_text()


@pytest.fixture
def protonet():
    yield load_plugin(str(docs.EXAMPLE)).plugin.transferbench_strategies()[0]
    sys.modules.pop("protonet", None)


def test_the_worked_example_passes_the_battery_and_reports_progress(protonet):
    phases = set()
    check_strategy(protonet, progress=lambda phase, fraction: phases.add(phase))
    assert phases == {"pretrain"}
