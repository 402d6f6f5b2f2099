"""What the source trains (source_training = "full" | "head"), the S+T baseline (source+target), and a
suite's "name:variant" entries that run one strategy under two settings, on real digits."""

import pytest
import torch

from benchmark import Context, records
from benchmark.checks.contract import basic_cases
from benchmark.errors import NotApplicable, SuiteError
from plugins.source_target import SourceTarget
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

SHARED_LABELS = basic_cases()[1]  # digits 0-9 -> 0-9
SOURCE = 'source = { provider = "sklearn-digits", split = "train", classes = [0, 1, 2, 3, 4] }'


def lenet_checkpoint(tmp_path):
    """A LeNet trunk's weights as a checkpoint file (random: "pretrained" is what the file says)."""
    from safetensors.torch import save_file

    from benchmark import build_trunk

    torch.manual_seed(0)
    path = tmp_path / "lenet.safetensors"
    save_file(build_trunk((1, 16, 16), "lenet")[0].state_dict(), str(path))
    return path


def run(path, registry, out):
    return Runner(load_suite(path), registry, out, out / "data", show_progress=False).run()


def write(tmp_path, strategies, hparams="", model=True, source=SOURCE, target=None):
    checkpoint = lenet_checkpoint(tmp_path)
    model_table = (f'[model]\nprovider = "file"\npath = "{checkpoint.name}"\n'
                   'architecture = { provider = "builtin", name = "lenet", channels = 1, size = [16, 16] }')
    target = target or ('target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", '
                        'classes = [0, 1, 2, 3, 4] }')
    path = tmp_path / "variants.toml"
    path.write_text("\n".join([
        'name = "variants"', "seeds = [0]", "budgets = [1, 5]", f"strategies = {strategies!r}".replace("'", '"'),
        model_table if model else 'input = { channels = 1, size = [16, 16] }',
        "[[pairs]]", 'name = "digits0-4"', source.replace('split = "train"', 'split = "train[:50%]"'), target,
        "[hparams.finetune]\npretrain_epochs = 1\nadapt_steps = 3", "[hparams.source-only]\npretrain_epochs = 1",
        "[hparams.frozen-feature]\npretrain_epochs = 1", "[hparams.\"source+target\"]\nepochs = 1", hparams]) + "\n")
    return path


def test_variants_run_one_strategy_under_two_source_trainings_and_records_say_which(registry, tmp_path):
    strategies = ["source-only", "source-only:head", "frozen-feature", "frozen-feature:head", "finetune:head",
                  "source+target", "source+target:head"]
    hparams = "\n".join(f'[hparams."{name}"]\nsource_training = "head"' for name in strategies if ":" in name)
    summary = run(write(tmp_path, strategies, hparams), registry, tmp_path / "out")
    written = records.read(tmp_path / "out" / "variants" / "records.jsonl")
    assert not summary.failed and len(written) == len(strategies) * 2
    by = {(r["strategy"], r["hparams"]["source_training"], r["budget"]): r for r in written}
    head_only = by[("source-only", "head", "1")]
    assert head_only["status"] == "ok" and head_only["hparams"]["pretrain_epochs"] == 1  # [hparams.source-only] too
    # the head was probed on the source with C cross-validated there (training-domain validation), and it says so
    assert "cross-validation" in head_only["reported"]["source_head_C_chosen_by"]
    full, head = by[("source-only", "full", "1")], head_only
    assert full["metrics"]["accuracy"]["mean"] != head["metrics"]["accuracy"]["mean"]
    # a head-only source classifier leaves the checkpoint's trunk: frozen-feature:head probes the checkpoint
    notes = by[("frozen-feature", "head", "5")]["adapt_notes"]
    assert notes["head"] == "reuse" and notes["starts_from"] == "source-only" and "C" in notes
    assert by[("finetune", "head", "1")]["adapt_notes"]["starts_from"] == "source-only"
    assert "cross-validation" in by[("source+target", "head", "5")]["adapt_notes"]["C_chosen_by"]
    for budget in ("1", "5"):  # S+T beats chance on a shared label space (5 classes: 20%)
        for training in ("full", "head"):
            assert by[("source+target", training, budget)]["metrics"]["accuracy"]["mean"] > 0.5


def test_head_only_source_training_needs_a_pretrained_model_and_says_so(registry, tmp_path):
    path = write(tmp_path, ["source-only:head", "source+target:head"],
                 '[hparams."source-only:head"]\nsource_training = "head"\n'
                 '[hparams."source+target:head"]\nsource_training = "head"', model=False)
    run(path, registry, tmp_path / "out")
    written = records.read(tmp_path / "out" / "variants" / "records.jsonl")
    assert {r["status"] for r in written} == {"skipped"}
    assert all("has no [model]" in r["reason"] for r in written)


def test_a_variant_table_the_suite_does_not_run_is_a_one_line_error(registry, tmp_path):
    path = write(tmp_path, ["source-only"], '[hparams."source-only:head"]\nsource_training = "head"')
    with pytest.raises(SuiteError, match=r'sets a variant the suite does not run: add "source-only:head"'):
        Runner(load_suite(path), registry, tmp_path / "out", tmp_path).pending()


def test_source_target_is_skipped_without_a_shared_label_space(registry, tmp_path):
    target = ('target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", '
              'classes = [5, 6, 7, 8, 9] }')
    run(write(tmp_path, ["source+target"], target=target), registry, tmp_path / "out")
    (record,) = [r for r in records.read(tmp_path / "out" / "variants" / "records.jsonl") if r["budget"] == "1"]
    assert record["status"] == "skipped" and "needs a shared label space" in record["reason"]


def test_source_target_trains_on_batches_half_source_half_support(tmp_path):
    case = SHARED_LABELS
    strategy = SourceTarget(epochs=1, batch_size=16)
    ctx = Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task, tmp_path)
    strategy.pretrain(case.source, ctx)
    seen = []
    original = strategy.fit_union

    def spy(model, source, inputs, labels, ctx):
        model.register_forward_pre_hook(lambda module, args: seen.append(len(args[0])))
        return original(model, source, inputs, labels, ctx)
    strategy.fit_union = spy
    predictor = strategy.adapt(case.support, ctx)
    support_half = min(8, len(case.support))
    assert seen and set(seen) == {8 + support_half}  # every step: 8 source rows and the support's half
    with torch.no_grad():
        assert predictor(case.query).shape == (len(case.query), case.support.num_classes)
    with pytest.raises(ValueError, match="source_training must be one of full, head"):
        SourceTarget(source_training="both").pretrain(case.source, ctx)
    with pytest.raises(NotApplicable, match="has no \\[model\\]"):
        SourceTarget(source_training="head").pretrain(case.source, ctx)
