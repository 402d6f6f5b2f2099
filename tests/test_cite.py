"""`transferbench cite`: BibTeX of transferbench, the datasets and the strategies, from the plugin contract."""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

import benchmark
from benchmark import Strategy
from benchmark.cite import TITLE, TRANSFERBENCH_BIBTEX, bibtex_key, cite
from benchmark.cli import main
from benchmark.discovery.registry import Provided

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"


def entries(bibtex: str) -> list[str]:
    return re.findall(r"^@\w+\{([^,]+),", bibtex, flags=re.MULTILINE)


def test_results_cite_transferbench_the_datasets_and_each_strategy_that_ran(registry):
    text = cite(GOLDEN, registry)
    maml = ["finn2017model", "arnold2020learn2learn"] if "maml" in registry.strategies else []
    assert entries(text) == ["transferbench", "alpaydin1998optdigits", "yosinski2014transferable", *maml]
    assert "% dataset provider 'sklearn-digits' (transferbench " in text
    assert "% strategy 'finetune' (transferbench " in text
    assert "% strategy 'target-only' (transferbench " in text and "no citation (it cites no paper)" in text
    if "maml" not in registry.strategies:
        assert "% strategy 'maml' (transferbench 0.1.0): not installed here" in text


def test_a_suite_cites_what_it_would_run(registry):
    text = cite(REPO / "suites" / "quickstart.toml", registry)
    assert text.startswith("% BibTeX for suite quickstart")
    assert "alpaydin1998optdigits" in entries(text)
    assert all(f"% strategy '{name}'" in text for name in registry.strategies)  # no list: every installed one


class Cited(Strategy):
    name = "cited"
    description = "A third-party strategy that cites its own paper."
    citation = """@article{doe2030cited,
  title = {A strategy that cites itself},
  author = {Doe, Jane},
  journal = {Journal of Examples},
  year = {2030}
}"""

    def adapt(self, support, ctx):
        raise NotImplementedError


class AlsoYosinski(Cited):
    name = "also-yosinski"
    citation = "@inproceedings{yosinski2014transferable, title = {Same paper}}"


class Broken(Cited):
    name = "broken"
    citation = "Doe J. (2030) not BibTeX at all"


def test_a_third_party_plugin_attaches_its_citation_through_the_contract(registry, tmp_path):
    from benchmark.leaderboard.synthetic import record, write

    strategies = {**registry.strategies, **{cls.name: Provided(cls.name, cls, "thirdparty", "transferbench-cited", "2.0")
                                            for cls in (Cited, AlsoYosinski, Broken)}}
    write(tmp_path / "records.jsonl", [record(name, "p", 0, 1, 0.5) for name in
                                        ("cited", "also-yosinski", "broken", "finetune")])
    text = cite(tmp_path, replace(registry, strategies=strategies))
    assert "% strategy 'cited' (transferbench-cited 2.0); the records were made with transferbench 0.1.0" in text
    assert Cited.citation in text
    # two strategies citing one paper: the entry once (under the first, alphabetically), a pointer for the other
    assert entries(text).count("yosinski2014transferable") == 1
    assert "% strategy 'finetune' (transferbench 0.1.0): cites yosinski2014transferable, above" in text
    assert "'broken'" in text and "its citation is not a BibTeX entry: Doe J. (2030)" in text


def test_every_installed_citation_is_one_bibtex_entry(registry):
    for provided in [*registry.strategies.values(), *registry.datasets.values()]:
        if provided.cls.citation:
            assert bibtex_key(provided.cls.citation.strip()), f"{provided.name}: citation is not one BibTeX entry"


def test_citation_cff_agrees_with_the_bibtex():
    cff = (REPO / "CITATION.cff").read_text()
    assert re.search(r"^cff-version: 1\.2\.0$", cff, flags=re.MULTILINE)
    assert f'title: "{TITLE}"' in cff
    assert f"version: {benchmark.__version__}" in cff
    assert bibtex_key(TRANSFERBENCH_BIBTEX) == "transferbench" and f"version = {{{benchmark.__version__}}}" \
        in TRANSFERBENCH_BIBTEX


def test_cli(capsys):
    assert main(["cite", str(GOLDEN)]) == 0
    assert capsys.readouterr().out.startswith("% BibTeX for the records in")
    assert main(["cite", "no/such/place"]) == 2
    assert capsys.readouterr().err.strip() == \
        "transferbench: error: no/such/place: no such suite file or results directory"


def test_nothing_to_cite_is_an_error(registry, tmp_path):
    (tmp_path / "records.jsonl").write_text("")
    with pytest.raises(benchmark.errors.TransferbenchError, match="no records to cite"):
        cite(tmp_path, registry)


def test_a_suite_with_a_model_and_no_source_cites_its_assets_with_their_licences(registry):
    text = cite(Path("suites/solar-defects.toml"), registry)
    assert "% asset 'elpv' (licence: CC-BY-NC-SA-4.0)" in text and "@article{deitsch2019automatic" in text
    assert "% asset 'efficientnet-lite0' (licence: Apache-2.0)" in text and "tan2019efficientnet" in text
    assert text.count("@article{deitsch2019automatic") == 1  # the provider cites it too: printed once


def test_the_estimators_a_suite_lists_or_its_records_scored_are_cited(registry, tmp_path):
    """Each estimator's own BibTeX (the Estimator contract's ``citation``), once, for a suite and for records."""
    from benchmark.leaderboard import synthetic

    suite_text = cite(REPO / "suites" / "model-zoo.toml", registry)
    for name in ("logme", "leep", "nce", "hscore", "knn", "linear-probe"):
        assert f"% estimator '{name}'" in suite_text
        first = bibtex_key(registry.estimators[name].cls.citation)
        assert first in entries(suite_text) or f"cites {first}" in suite_text
    assert len(entries(suite_text)) == len(set(entries(suite_text)))
    scored = {**synthetic.record("finetune", "a→b", 0, "5", 0.9), "status": "estimate", "strategy": "logme",
              "metrics": {"score": {"mean": 1.0, "n": 10, "ci95": None, "ci": None}}}
    unscored = {**scored, "strategy": "leep", "metrics": {}, "reason": "no source classifier"}
    (tmp_path / "records.jsonl").write_text("\n".join(json.dumps(r) for r in (scored, unscored)) + "\n")
    text = cite(tmp_path, registry)
    assert "% estimator 'logme'" in text and "% estimator 'leep'" not in text
