"""Bad suite files give one-line errors naming the file, line and key."""

import re
from pathlib import Path

import pytest

from benchmark.errors import SuiteError
from benchmark.suite.load import load_suite

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path, text):
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


GOOD_PAIR = """
[[pairs]]
name = "p"
source = { provider = "sklearn-digits" }
target = { provider = "sklearn-digits", split = "train[50%:]" }
"""


def test_shipped_suites_parse():
    suite = load_suite(REPO / "suites" / "quickstart.toml")
    assert suite.name == "quickstart" and len(suite.pairs) >= 3 and len(suite.seeds) == 3
    assert None in suite.budgets and min(b for b in suite.budgets if b) == 1


def test_toml_that_does_not_parse_names_file_and_line(tmp_path):
    path = write(tmp_path, 'name = "x"\nseeds = [0, 1\nbudgets = [1]\n')
    with pytest.raises(SuiteError, match=rf"^{path}:\d+: not valid TOML"):
        load_suite(path)


def test_unknown_key_names_line_and_suggests(tmp_path):
    path = write(tmp_path, 'name = "x"\nseedz = [0]\n' + GOOD_PAIR)
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert str(caught.value) == f"{path}:2: unknown key 'seedz' in the suite (did you mean 'seeds'?)"


def test_unknown_key_inside_a_dataset_table(tmp_path):
    path = write(tmp_path, 'name = "x"\n' + GOOD_PAIR.replace('split = "train[50%:]"', 'splt = "test"'))
    with pytest.raises(SuiteError, match=r"suite.toml:6: unknown key 'splt' in pairs\[0\].target \(did you mean 'split'\?\)"):
        load_suite(path)


def test_bad_budget_and_protocol(tmp_path):
    with pytest.raises(SuiteError, match="budgets must be positive integers"):
        load_suite(write(tmp_path, 'name = "x"\nbudgets = [0]\n' + GOOD_PAIR))
    with pytest.raises(SuiteError, match="did you mean 'episodic'"):
        load_suite(write(tmp_path, 'name = "x"\nprotocol = "episodc"\n' + GOOD_PAIR))
    with pytest.raises(SuiteError, match="needs 'ways'"):
        load_suite(write(tmp_path, 'name = "x"\nprotocol = "episodic"\n' + GOOD_PAIR))


def test_missing_file(tmp_path):
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suite(tmp_path / "nope.toml")


@pytest.mark.parametrize("header, message", [
    ("episodes = 0", r":2: episodes must be a positive integer, got 0$"),
    ('budgets = [1, 5, 1]', r":2: budget 1 is listed twice$"),
    ("budgets = []", r":2: budgets must be a non-empty list$"),
    ("seeds = [0, 0]", r":2: a seed is listed twice$"),
    ('strategies = "finetune"', r":2: strategies must be a list of names"),
    ('hparams = "fast"', r":2: hparams must hold one table per strategy"),
])
def test_values_that_would_run_wrong_cells_are_refused(tmp_path, header, message):
    with pytest.raises(SuiteError, match=message):
        load_suite(write(tmp_path, f'name = "x"\n{header}\n' + GOOD_PAIR))


def test_episodic_suites_refuse_the_all_budget_and_zero_queries(tmp_path):
    episodic = GOOD_PAIR.replace("[[pairs]]", "[[pairs]]\nways = 5")
    with pytest.raises(SuiteError, match='"all" has no meaning there'):
        load_suite(write(tmp_path, 'name = "x"\nprotocol = "episodic"\nbudgets = [1, "all"]\n' + episodic))
    with pytest.raises(SuiteError, match="queries must be a positive integer"):
        load_suite(write(tmp_path, 'name = "x"\nprotocol = "episodic"\nbudgets = [1]\n' +
                         episodic.replace("ways = 5", "ways = 5\nqueries = 0")))


def test_command_line_overrides_are_checked_like_the_file(tmp_path):
    suite = load_suite(write(tmp_path, 'name = "x"\n' + GOOD_PAIR))
    for overrides in ({"episodes": 0}, {"seeds": 0}):
        with pytest.raises(SuiteError, match="must be at least 1"):
            suite.with_overrides(**overrides)


@pytest.mark.parametrize("split, problem", [("train[:1000]", "absolute counts such as 'train[:1000]' are not supported"),
                                            ("train[10:20%]", "a slice takes per-class percentages"),
                                            ("train[:150%]", "0% <= start <= end <= 100%")])
def test_a_slice_must_be_percentages_within_0_and_100(tmp_path, split, problem):
    """HF's absolute-count slice "train[:1000]" was read as 1000% (the whole split): refuse it, with its line."""
    path = write(tmp_path, 'name = "x"\n' + GOOD_PAIR.replace("train[50%:]", split))
    with pytest.raises(SuiteError, match=rf"suite.toml:6: pairs\[0\].target.split: split '{re.escape(split)}': "
                                         rf".*{re.escape(problem)}"):
        load_suite(path)
    path = write(tmp_path, 'name = "x"\n' + GOOD_PAIR.replace('split = "train[50%:]"',
                                                               f'split = "train[50%:]", test_split = "{split}"'))
    with pytest.raises(SuiteError, match=r"pairs\[0\].target.test_split: split"):
        load_suite(path)
