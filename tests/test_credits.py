"""Citing what was used: a suite, a [model] table and a dataset table carry citation (BibTeX) and licence;
`cite SUITE` prints them with the strategies', providers' and assets' (each paper once), records carry
the licences, the leaderboard's provenance lists them and its caption says when one is non-commercial."""

import json
from pathlib import Path

import pytest

from benchmark.assets import manifest
from benchmark.cite import cite, split_entries
from benchmark.errors import SuiteError
from benchmark.leaderboard import load, wording
from benchmark.leaderboard.synthetic import record, write
from benchmark.run.runner import Runner
from benchmark.suite.credits import Credit, non_commercial
from benchmark.suite.load import load_suite

REPO = Path(__file__).resolve().parent.parent

SUITE = '''name = "credited"
citation = "@misc{doe2030suite, title = {A suite}, year = {2030}}"
licence = "CC-BY-4.0"
seeds = [0]
budgets = [2]
strategies = ["target-only"]
[[pairs]]
name = "digits"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", licence = "CC-BY-NC-4.0", citation = "@misc{roe2031data, title = {Data}, year = {2031}}" }
[hparams.target-only]
adapt_steps = 1
'''

MODEL = '''
[model]
provider = "builtin"
name = "lenet"
channels = 1
size = [16, 16]
licence = "MIT"
citation = """@misc{poe2032net,
  title = {A net},
  year  = {2032}
}"""
'''


def write_suite(tmp_path, text=SUITE, name="suite.toml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path / name


def test_a_suite_a_model_and_a_dataset_table_state_citation_and_licence(tmp_path):
    suite = load_suite(write_suite(tmp_path, SUITE.replace("[[pairs]]", MODEL + "[[pairs]]")))
    assert suite.credits == (
        Credit("suite credited", "@misc{doe2030suite, title = {A suite}, year = {2030}}", "CC-BY-4.0"),
        Credit("model builtin lenet", '@misc{poe2032net,\n  title = {A net},\n  year  = {2032}\n}', "MIT"),
        Credit("dataset sklearn-digits", "@misc{roe2031data, title = {Data}, year = {2031}}", "CC-BY-NC-4.0"))
    assert "licence" not in suite.pairs[0].model.options  # not a provider option: the model is the same model
    assert suite.pairs[0].target.describe() == {"provider": "sklearn-digits", "split": "train[50%:]"}


def test_a_bad_value_or_the_us_spelling_is_one_line_naming_its_line(tmp_path):
    with pytest.raises(SuiteError, match=r"suite\.toml:3: suite credited: licence must be a non-empty string"):
        load_suite(write_suite(tmp_path, SUITE.replace('licence = "CC-BY-4.0"', "licence = 4")))
    with pytest.raises(SuiteError, match=r"suite\.toml:3: unknown key 'license' in the suite \(did you mean 'licence'\?\)"):
        load_suite(write_suite(tmp_path, SUITE.replace('licence = "CC-BY-4.0"', 'license = "CC-BY-4.0"')))


def test_non_commercial_licences_are_told_apart():
    assert all(map(non_commercial, ["CC-BY-NC-SA-4.0", "CC BY-NC 4.0", "research, non-commercial use only",
                                    "Noncommercial"]))
    assert not any(map(non_commercial, ["Apache-2.0", "CC-BY-SA-3.0", "MIT", "not stated (cite the paper)"]))


def test_cite_prints_the_suite_its_models_and_datasets_with_their_licences(tmp_path, registry):
    text = cite(write_suite(tmp_path, SUITE.replace("[[pairs]]", MODEL + "[[pairs]]")), registry)
    assert "% Licences of what it uses (their terms apply to what you publish with it):" in text
    assert "%   dataset sklearn-digits: CC-BY-NC-4.0 (non-commercial: no commercial use)" in text
    assert "%   model builtin lenet: MIT" in text and "%   suite credited: CC-BY-4.0" in text
    assert "% suite credited (licence: CC-BY-4.0), as the suite states\n@misc{doe2030suite" in text
    assert "% model builtin lenet (licence: MIT), as the suite states\n@misc{poe2032net" in text
    assert "% dataset sklearn-digits (licence: CC-BY-NC-4.0), as the suite states\n@misc{roe2031data" in text


def test_the_solar_suite_cites_efficientnet_timm_and_both_elpv_papers_each_once(registry):
    text = cite(REPO / "suites" / "solar-defects.toml", registry)
    for key in ("tan2019efficientnet", "rw2019timm", "deitsch2019automatic", "buerhop2018benchmark"):
        assert text.count("{" + key + ",") == 1, key
    assert "%   asset elpv: CC-BY-NC-SA-4.0 (non-commercial: no commercial use)" in text
    assert "% A CC BY licence requires attribution" in text
    assert "% asset 'efficientnet-lite0' (licence: Apache-2.0): cites tan2019efficientnet, above" in text
    assert "% asset 'elpv' (licence: CC-BY-NC-SA-4.0): cites deitsch2019automatic, buerhop2018benchmark, above" in text


@pytest.mark.parametrize("suite", sorted(p.name for p in (REPO / "suites").glob("*.toml")))
def test_every_shipped_suite_cites_every_entry_once(suite, registry):
    text = cite(REPO / "suites" / suite, registry)
    keys = [key for key, _ in split_entries("\n".join(line for line in text.splitlines() if not line.startswith("%")))]
    assert None not in keys and len(keys) == len(set(keys))


def test_records_carry_the_licences_and_the_board_lists_them_and_says_non_commercial(tmp_path, registry):
    Runner(load_suite(write_suite(tmp_path)), registry, tmp_path / "out", tmp_path, show_progress=False,
           log=lambda *a: None).run()
    results = tmp_path / "out" / "credited"
    written = [json.loads(line) for line in (results / "records.jsonl").open()]
    assert {json.dumps(r["licences"], sort_keys=True) for r in written} == {json.dumps(
        {"dataset sklearn-digits": "CC-BY-NC-4.0", "suite credited": "CC-BY-4.0"}, sort_keys=True)}
    board = load(results)
    assert board.footer["licences"] == "dataset sklearn-digits: CC-BY-NC-4.0; suite credited: CC-BY-4.0"
    assert "Uses material under a non-commercial licence: dataset sklearn-digits (CC-BY-NC-4.0); its terms " \
           "allow no commercial use." in wording.caption(board, board.tables[0])


def test_records_older_than_the_field_take_their_assets_licences_from_the_manifest(tmp_path):
    elpv = manifest.load()["elpv"]
    made = [replace_assets(record(s, "p", 0, 1, 0.5), {"elpv": elpv.digest}) for s in ("finetune", "target-only")]
    write(tmp_path / "records.jsonl", made)
    board = load(tmp_path)
    assert board.footer["licences"] == "asset elpv: CC-BY-NC-SA-4.0"
    assert "non-commercial licence: asset elpv (CC-BY-NC-SA-4.0)" in wording.caption(board, board.tables[0])
    other = [replace_assets(r, {"elpv": "0" * 64}) for r in made]  # not the manifest's asset: nothing said
    write(tmp_path / "records.jsonl", other)
    assert "licences" not in load(tmp_path).footer


def replace_assets(made: dict, assets: dict) -> dict:
    return {**made, "assets": assets, "licences": None}


def test_the_published_solar_board_says_its_data_is_non_commercial():
    board = (REPO / "results" / "solar-defects" / "leaderboard.md").read_text(encoding="utf-8")
    assert "Uses material under a non-commercial licence: asset elpv (CC-BY-NC-SA-4.0)" in board
    assert "- licences: asset efficientnet-lite0: Apache-2.0; asset elpv: CC-BY-NC-SA-4.0" in board
