"""[hparams."*"]: one table for every strategy of a suite that has the hyperparameter, overridden by
[hparams.NAME] and [hparams."NAME:variant"]; a key that no strategy of the suite has is a one-line
error; a search still draws what it searches, a model family's recipe fills only what the suite
leaves, and records hold the resolved values with a note of those the "*" table set."""

import json

import pytest

from benchmark.cli import main
from benchmark.errors import SuiteError
from benchmark.run.runner import Runner
from benchmark.suite.check import check_strategies, strategy_overrides, suite_wide
from benchmark.suite.load import load_suite

HEAD = '''name = "wide"
seeds = [0]
budgets = [2]
input = { channels = 1, size = [8, 8] }
strategies = ["finetune", "target-only", "source-only", "target-only:short"]

[[pairs]]
name = "digits"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test" }
'''

WIDE = '''
[hparams."*"]
adapt_steps = 3
batch_size = 16
pretrain_epochs = 1

[hparams.finetune]
adapt_steps = 2

[hparams."target-only:short"]
adapt_steps = 1
'''


def write(tmp_path, text: str, name: str = "suite.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def entries(suite, registry) -> dict:
    return {f"{p.name}:{p.variant}" if p.variant else p.name: p for p in check_strategies(suite, registry)}


def test_the_suite_wide_table_applies_where_a_strategy_has_the_key_and_its_own_tables_win(tmp_path, registry):
    suite = load_suite(write(tmp_path, HEAD + WIDE))
    chosen = entries(suite, registry)
    assert strategy_overrides(suite, chosen["finetune"]) == {"adapt_steps": 2, "batch_size": 16, "pretrain_epochs": 1}
    assert strategy_overrides(suite, chosen["target-only"]) == {"adapt_steps": 3, "batch_size": 16}
    assert strategy_overrides(suite, chosen["target-only:short"]) == {"adapt_steps": 1, "batch_size": 16}
    # source-only has no adapt_steps: the "*" value is simply not its
    assert strategy_overrides(suite, chosen["source-only"]) == {"batch_size": 16, "pretrain_epochs": 1}
    assert suite_wide(suite, chosen["finetune"]) == {"batch_size": 16, "pretrain_epochs": 1}


def test_a_key_no_strategy_of_the_suite_has_is_one_line_naming_its_line_and_the_close_key(tmp_path, registry):
    path = write(tmp_path, HEAD + WIDE.replace("batch_size = 16", "batch_sise = 16"))
    with pytest.raises(SuiteError) as caught:
        check_strategies(load_suite(path), registry)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("batch_sise"))
    assert str(caught.value) == (f"{path}:{line}: [hparams.\"*\"] sets 'batch_sise', which none of the suite's "
                                 f"strategies has (did you mean 'batch_size'?)")
    far = write(tmp_path, HEAD + WIDE.replace("batch_size = 16", "zzz = 16"), "far.toml")
    with pytest.raises(SuiteError, match=r"sets 'zzz', which none of the suite's strategies has; theirs: .*adapt_lr"):
        check_strategies(load_suite(far), registry)


def test_the_cli_says_it_in_one_line(tmp_path, capsys):
    path = write(tmp_path, HEAD + WIDE.replace("adapt_steps = 3", "adapt_stepz = 3"))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "[hparams.\"*\"] sets 'adapt_stepz'" in err and "(did you mean 'adapt_steps'?)" in err


def test_a_key_of_a_listed_strategy_stays_valid_when_strategies_picks_others(tmp_path, registry):
    """--strategies runs a few of the file's strategies; the table is still the file's, and not an error."""
    suite = load_suite(write(tmp_path, HEAD + WIDE)).with_overrides(strategies=["source-only"])
    chosen = entries(suite, registry)
    assert strategy_overrides(suite, chosen["source-only"]) == {"batch_size": 16, "pretrain_epochs": 1}


def test_the_same_values_through_the_wide_table_are_the_same_cells(tmp_path, registry):
    """A suite rewritten from per-strategy tables to one "*" table plans the very same cells."""
    per_strategy = HEAD + '''
[hparams.finetune]
adapt_steps = 2
batch_size = 16
pretrain_epochs = 1
[hparams.target-only]
adapt_steps = 3
batch_size = 16
[hparams."target-only:short"]
adapt_steps = 1
[hparams.source-only]
batch_size = 16
pretrain_epochs = 1
'''
    planned = []
    for name, text in (("a", per_strategy), ("b", HEAD + WIDE)):
        runner = Runner(load_suite(write(tmp_path, text, f"{name}.toml")), registry, tmp_path / name, tmp_path,
                        show_progress=False, log=lambda *a: None)
        cells, _ = runner.pending()
        planned.append({job.cell_key(budget) for job, budget, _ in cells})
    assert planned[0] == planned[1] and len(planned[0]) == 4


def test_records_hold_the_resolved_values_and_note_what_the_wide_table_set(tmp_path, registry):
    suite = load_suite(write(tmp_path, HEAD.replace('"source-only", "target-only:short"', '"source-only"') + WIDE
                             .replace('[hparams."target-only:short"]\nadapt_steps = 1\n', "")))
    Runner(suite, registry, tmp_path / "out", tmp_path, show_progress=False, log=lambda *a: None).run()
    written = {r["strategy"]: r for r in map(json.loads, (tmp_path / "out" / "wide" / "records.jsonl").open())}
    assert {r["status"] for r in written.values()} == {"ok"}
    finetune = written["finetune"]
    assert finetune["hparams"]["adapt_steps"] == 2 and finetune["hparams"]["batch_size"] == 16
    assert finetune["hparams"]["adapt_lr"] == 1e-3  # every hyperparameter, defaults included
    assert finetune["selection"] == {"protocol": "fixed", "suite_wide": {"batch_size": 16, "pretrain_epochs": 1}}
    assert written["target-only"]["selection"]["suite_wide"] == {"adapt_steps": 3, "batch_size": 16}


def test_a_search_still_draws_what_it_searches_and_the_note_says_only_what_stood(tmp_path, registry):
    text = (HEAD.replace('"source-only", "target-only:short"', '"source-only"') +
            '\n[selection]\nprotocol = "source-val"\ntrials = 2\n' + WIDE.split('[hparams."target-only:short"]')[0])
    runner = Runner(load_suite(write(tmp_path, text)), registry, tmp_path / "out", tmp_path, show_progress=False,
                    log=lambda *a: None)
    jobs = {job.provided.name: job for job, _, _ in runner.pending()[0]}
    target_only = jobs["target-only"]
    assert "adapt_steps" in target_only.selection.space  # searched: the "*" value does not fix it
    assert target_only.recipe == {"suite_wide": {"batch_size": 16}}
    assert target_only.selection.base["batch_size"] == 16


MODELS = '''
from benchmark import hookimpl
from plugins.models.builtin import BuiltinModels


class RecipeLenet(BuiltinModels):
    name = "wide-recipe-lenet"
    recipe = {"adapt_lr": 0.0123, "batch_size": 8}
    recipe_source = "a test's own recipe"


@hookimpl
def transferbench_models():
    return [RecipeLenet]
'''


def test_a_model_recipe_fills_only_what_the_wide_table_leaves(tmp_path):
    from benchmark.discovery.registry import discover

    (tmp_path / "wide_recipe_models.py").write_text(MODELS)
    write(tmp_path, '''name = "wide-recipe"
seeds = [0]
budgets = [2]
strategies = ["target-only"]
[model]
provider = "wide-recipe-lenet"
name = "lenet"
channels = 1
size = [16, 16]
[[pairs]]
name = "digits"
target = { provider = "sklearn-digits", split = "train", test_split = "test" }
[hparams."*"]
batch_size = 16
adapt_steps = 2
''')
    registry = discover(plugins=[str(tmp_path / "wide_recipe_models.py")])
    runner = Runner(load_suite(tmp_path / "suite.toml"), registry, tmp_path / "out", tmp_path, show_progress=False,
                    log=lambda *a: None)
    (job, _, _), = runner.pending()[0]
    assert job.hparams["batch_size"] == 16 and job.hparams["adapt_lr"] == 0.0123  # "*" counts as set by the suite
    assert job.recipe == {"model_recipe": {"adapt_lr": 0.0123}, "recipe_source": "a test's own recipe",
                          "suite_wide": {"batch_size": 16, "adapt_steps": 2}}
