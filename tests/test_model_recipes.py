"""A model provider's recipe sets the adaptation defaults that suit its family; a suite's value wins;
records say which values came from the recipe and where the recipe comes from."""

import json

from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

PLUGIN = '''
from benchmark import hookimpl
from plugins.models.builtin import BuiltinModels


class RecipeLenet(BuiltinModels):
    name = "recipe-lenet"
    recipe = {"adapt_lr": 0.0123, "weight_decay": 0.0, "no_such_hyperparameter": 1}
    recipe_source = "a test's own recipe"


@hookimpl
def transferbench_models():
    return [RecipeLenet]
'''


def test_a_recipe_fills_what_the_suite_leaves_and_records_say_so(tmp_path):
    (tmp_path / "recipe_models.py").write_text(PLUGIN)
    (tmp_path / "suite.toml").write_text('''
name = "recipes"
seeds = [0]
budgets = [2]
strategies = ["target-only", "augment-only"]
[model]
provider = "recipe-lenet"
name = "lenet"
channels = 1
size = [16, 16]
[[pairs]]
name = "digits"
target = { provider = "sklearn-digits", split = "train", test_split = "test" }
[hparams.target-only]
adapt_steps = 2
adapt_lr = 0.001
[hparams.augment-only]
adapt_steps = 2
''')
    registry = discover(plugins=[str(tmp_path / "recipe_models.py")])
    Runner(load_suite(tmp_path / "suite.toml"), registry, tmp_path / "out", tmp_path, show_progress=False,
           log=lambda *a: None).run()
    records = {r["strategy"]: r for r in map(json.loads, (tmp_path / "out" / "recipes" / "records.jsonl").open())}
    assert {r["status"] for r in records.values()} == {"ok"}
    suite_set, recipe_set = records["target-only"], records["augment-only"]
    assert suite_set["hparams"]["adapt_lr"] == 0.001 and suite_set["hparams"]["weight_decay"] == 0.0  # suite wins
    assert suite_set["selection"]["model_recipe"] == {"weight_decay": 0.0}
    assert recipe_set["hparams"]["adapt_lr"] == 0.0123
    assert recipe_set["selection"] == {"protocol": "fixed", "model_recipe": {"adapt_lr": 0.0123, "weight_decay": 0.0},
                                       "recipe_source": "a test's own recipe"}
