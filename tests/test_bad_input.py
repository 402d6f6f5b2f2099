"""The bad-input battery: each mistake gives one exact line, and nothing already recorded changes.

Every case runs the command line against a results directory that already holds real
records of the tiny suite, and checks those records byte for byte afterwards.
"""

import shutil
from pathlib import Path

import pytest

import benchmark
from benchmark.cli import main

TINY = Path(__file__).parent / "suites" / "tiny.toml"
# The tiny suite's header and its second pair only (digits 0-4 -> 5-9: no label is shared).
NEW_CLASSES_PAIR_ONLY = TINY.read_text().split("[[pairs]]")[0] + "[[pairs]]" + \
    TINY.read_text().split("[[pairs]]")[2].split("[hparams")[0]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A results directory with the four target-only records of the tiny suite (seed 0)."""
    out = tmp_path_factory.mktemp("recorded")
    assert main(["run", str(TINY), "--strategies", "target-only", "--seeds", "1", "--out", str(out),
                 "--no-progress", "--threads", "1"]) == 0
    return out


@pytest.fixture
def results(recorded, tmp_path) -> Path:
    out = tmp_path / "results"
    shutil.copytree(recorded, out)
    return out


def records_of(out: Path) -> bytes:
    return (out / "tiny" / "records.jsonl").read_bytes()


def run(capsys, out: Path, suite: Path, *extra) -> tuple[int, str, str]:
    code = main(["run", str(suite), "--seeds", "1", "--out", str(out), "--no-progress", "--threads", "1", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def suite_file(tmp_path, text: str) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_that_does_not_parse(results, tmp_path, capsys):
    before = records_of(results)
    path = suite_file(tmp_path, 'name = "tiny"\nprotocol = "transfer"\nseeds = [0, 1\nbudgets = [2]\n')
    code, _, err = run(capsys, results, path)
    assert (code, err) == (2, f"transferbench: error: {path}:4: not valid TOML: Unclosed array (at line 4, column 1)\n")
    assert records_of(results) == before


def test_an_unknown_key_names_its_line_and_the_close_key(results, tmp_path, capsys):
    before = records_of(results)
    path = suite_file(tmp_path, TINY.read_text().replace("seeds = [0, 1]", "seedz = [0, 1]"))
    code, _, err = run(capsys, results, path)
    assert (code, err) == (2, f"transferbench: error: {path}:4: unknown key 'seedz' in the suite (did you mean 'seeds'?)\n")
    assert records_of(results) == before


def test_an_unknown_strategy_in_the_suite_file(results, tmp_path, capsys, registry):
    before = records_of(results)
    path = suite_file(tmp_path, TINY.read_text().replace('"target-only", "source-only"]', '"target-onyl"]'))
    code, _, err = run(capsys, results, path)
    installed = ", ".join(sorted(registry.strategies))
    assert (code, err) == (2, f"transferbench: error: {path}: unknown strategy 'target-onyl' "
                              f"(did you mean 'target-only'?); installed: {installed}\n")
    assert records_of(results) == before


def test_an_unknown_dataset_provider(results, tmp_path, capsys, registry):
    before = records_of(results)
    path = suite_file(tmp_path, TINY.read_text().replace('{ provider = "sklearn-digits", split = "train", classes',
                                                         '{ provider = "sklearn-digit", split = "train", classes'))
    code, _, err = run(capsys, results, path)
    installed = ", ".join(sorted(registry.datasets))
    assert (code, err) == (2, f"transferbench: error: {path}: pair 'digits0-4→5-9' source: unknown dataset provider "
                              f"'sklearn-digit' (did you mean 'sklearn-digits'?); installed: {installed}\n")
    assert records_of(results) == before


def test_a_budget_larger_than_the_target_per_class_count(results, tmp_path, capsys):
    before = records_of(results)
    path = suite_file(tmp_path, TINY.read_text().replace('budgets = [2, "all"]', "budgets = [2, 500]"))
    code, _, err = run(capsys, results, path)
    assert (code, err) == (2, f"transferbench: error: {path}: pair 'digits→rotated': budget 500 needs 500 examples "
                              f"per class but the target pool has only 58 in its smallest class\n")
    assert records_of(results) == before


def test_source_only_on_a_pair_without_a_shared_label_space_is_skipped_with_its_reason(results, tmp_path, capsys):
    before = records_of(results)
    path = suite_file(tmp_path, NEW_CLASSES_PAIR_ONLY)
    code, out, _ = run(capsys, results, path, "--strategies", "source-only")
    assert code == 0
    assert "  skipped (2 cells): source-only on digits0-4→5-9: source-only needs a shared label space; source " \
           "classes ['0', '1', '2', '3', '4'] differ from target classes ['5', '6', '7', '8', '9']\n" in out
    after = records_of(results)
    assert after.startswith(before) and after[len(before):].count(b'"status": "skipped"') == 2


def test_a_target_test_split_whose_classes_differ_from_the_pool(results, tmp_path, capsys):
    from tiny_formats import write_imagefolder

    before = records_of(results)
    write_imagefolder(tmp_path / "office" / "train", ["bike", "cup"], per_class=3)
    write_imagefolder(tmp_path / "office" / "test", ["bike", "mug"], per_class=3)
    path = suite_file(tmp_path, 'name = "tiny"\nbudgets = [1]\ninput = { channels = 3, size = [16, 16] }\n'
                                '[[pairs]]\nname = "office"\nsource = { provider = "imagefolder", root = "office", '
                                'split = "train" }\ntarget = { provider = "imagefolder", root = "office", '
                                'split = "train", test_split = "test" }\n')
    code, _, err = run(capsys, results, path, "--data-root", str(tmp_path), "--strategies", "target-only")
    assert (code, err) == (2, f"transferbench: error: {path}: pair 'office': the target test split's classes differ "
                              f"from the target pool's (only in the pool: cup; only in the test split: mug); "
                              f"scores would be wrong\n")
    assert records_of(results) == before


def test_a_records_file_with_a_garbage_line_is_read_around_and_kept(results, capsys):
    records_path = results / "tiny" / "records.jsonl"
    with open(records_path, "ab") as handle:
        handle.write(b"this is not json\n")
    before = records_of(results)
    code, out, err = run(capsys, results, TINY, "--strategies", "target-only")
    assert code == 0 and "0 ok, 0 failed, 0 skipped, 4 already recorded" in out
    assert err == f"transferbench: warning: {records_path}:5: skipped a line that is not a record " \
                  f"(Expecting value: line 1 column 1 (char 0))\n"
    assert records_of(results) == before  # the garbage line too: nothing the user had is deleted


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_runs(results, install, capsys):
    install("tb-broken", "broken", "tb_missing_dependency", "import torchy\n")
    before = records_of(results)
    code, out, err = run(capsys, results, TINY, "--strategies", "target-only")
    assert code == 0 and "4 already recorded" in out
    assert err == "transferbench: warning: plugin 'broken' (tb-broken 1.2.3) failed to import tb_missing_dependency: " \
                  "ModuleNotFoundError: No module named 'torchy'\n"
    assert records_of(results) == before


def test_two_plugins_with_the_same_strategy_name(results, install, capsys):
    install("tb-dup", "dup", "tb_impostor", """
        from benchmark import hookimpl
        from benchmark import Strategy

        class Impostor(Strategy):
            name = "target-only"
            description = "Claims a built-in's name."

        @hookimpl
        def transferbench_strategies():
            return [Impostor]
    """)
    before = records_of(results)
    code, _, err = run(capsys, results, TINY, "--strategies", "target-only")
    assert (code, err) == (2, f"transferbench: error: duplicate name 'target-only': provided by plugin 'dup' "
                              f"(tb-dup 1.2.3) and plugin 'target-only' (transferbench {benchmark.__version__}); "
                              f"uninstall one or disable it with --disable\n")
    assert records_of(results) == before


@pytest.mark.parametrize("table, message", [
    ('{ modality = "text", max_tokens = 0 }', "input.max_tokens must be an integer ≥ 1, got 0"),
    ('{ modality = "txt" }', "input.modality must be one of ('image', 'text'), got 'txt' (did you mean 'text'?)"),
])
def test_a_bad_text_input_names_its_line_before_any_data_is_read(results, tmp_path, capsys, table, message):
    before = records_of(results)
    text = TINY.read_text().replace("input = { channels = 1, size = [16, 16] }", f"input = {table}")
    path = suite_file(tmp_path, text)
    line = text.splitlines().index(f"input = {table}") + 1
    code, _, err = run(capsys, results, path, "--data-root", str(tmp_path / "no-data-here"))
    assert (code, err) == (2, f"transferbench: error: {path}:{line}: {message}\n")
    assert records_of(results) == before
