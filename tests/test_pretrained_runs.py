"""Suites that start from a model: records, cell keys, skips, the feature cache, export, lora and bitfit."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import records
from benchmark.cli import main
from benchmark.errors import SuiteError
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

QUICK = """
[hparams.finetune]
pretrain_epochs = 1
adapt_steps = 3
[hparams.frozen-feature]
pretrain_epochs = 1
[hparams.lora]
pretrain_epochs = 1
adapt_steps = 3
[hparams.bitfit]
pretrain_epochs = 1
adapt_steps = 3
[hparams.target-only]
adapt_steps = 3
[hparams.augment-only]
adapt_steps = 3
[hparams.multitask]
pretrain_epochs = 1
adapt_steps = 3
[hparams.source-only]
pretrain_epochs = 1
[hparams.maml]
meta_iterations = 1
meta_batch = 1
"""
TARGET = 'target = { provider = "sklearn-digits", split = "train", test_split = "test", classes = [5, 6, 7, 8, 9] }'
SOURCE = 'source = { provider = "sklearn-digits", split = "train", classes = [0, 1, 2, 3, 4] }'
LENET = '{ provider = "builtin", name = "lenet", channels = 1, size = [16, 16] }'


def write_suite(tmp_path, name, model: str, *, source=False, extra="", budgets="[1, 2]", seeds="[0, 1]",
                strategies=None) -> Path:
    path = tmp_path / f"{name}.toml"
    lines = [f'name = "{name}"', f"seeds = {seeds}", f"budgets = {budgets}", extra]
    if strategies:
        lines.append(f"strategies = {json.dumps(strategies)}")
    lines += [model, "[[pairs]]", 'name = "to5-9"', TARGET, SOURCE if source else "", QUICK]
    path.write_text("\n".join(lines) + "\n")
    return path


def lenet_checkpoint(tmp_path, seed=0) -> Path:
    from safetensors.torch import save_file

    from benchmark import build_trunk

    torch.manual_seed(seed)
    path = tmp_path / f"lenet-{seed}.safetensors"
    save_file(build_trunk((1, 16, 16), "lenet")[0].state_dict(), str(path))
    return path


def run(path, registry, out):
    return Runner(load_suite(path), registry, out, out / "data", show_progress=False).run()


def test_a_model_without_source_runs_and_every_record_names_the_checkpoint(registry, tmp_path):
    checkpoint = lenet_checkpoint(tmp_path)
    model = f'[model]\nprovider = "file"\npath = "{checkpoint.name}"\narchitecture = {LENET}'
    suite = write_suite(tmp_path, "from-file", model, strategies=["finetune", "frozen-feature", "lora", "bitfit",
                                                                  "target-only", "source-only", "maml", "multitask"])
    summary = run(suite, registry, tmp_path / "out")
    written = records.read(tmp_path / "out" / "from-file" / "records.jsonl")
    assert not summary.failed and len(written) == 8 * 2 * 2
    sha = __import__("hashlib").sha256(checkpoint.read_bytes()).hexdigest()
    for record in written:
        assert record["model"]["sha256"] == sha and record["model"]["provider"] == "file"
        assert record["source"] is None and record["input"]["from"] == "the weights"
        assert record["input"]["size"] == [16, 16]
    ran = {r["strategy"] for r in written if r["status"] == "ok"}
    assert ran == {"finetune", "frozen-feature", "lora", "bitfit", "target-only"}
    reasons = {r["strategy"]: r["reason"] for r in written if r["status"] == "skipped"}
    assert "no source split was trained on" in reasons["source-only"]
    assert "does not start from a pretrained model" in reasons["maml"]
    assert "pretrains on a source split" in reasons["multitask"]

    # Another checkpoint of the same architecture is another cell, never "already recorded".
    lenet_checkpoint(tmp_path, seed=1).replace(checkpoint)
    again = run(suite, registry, tmp_path / "out")
    assert again.already == 0 and again.ok == summary.ok
    # ... and another leaderboard row: two checkpoints are never averaged
    from benchmark.leaderboard.collect import collect

    cells = collect(records.read(tmp_path / "out" / "from-file" / "records.jsonl"), "accuracy", "records")
    finetune = [label for label in cells.variants if label.startswith("finetune")]
    assert len(finetune) == 2 and all("model file:lenet-0:lenet-0.safetensors:" in label for label in finetune)


def test_a_suite_without_model_and_without_source_is_refused_with_its_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\n[[pairs]]\nname = "p"\n{TARGET}\n')
    with pytest.raises(SuiteError, match=r"bad.toml.*needs a 'source' dataset table \(or a \[model\]"):
        load_suite(path)


def test_a_pair_model_overrides_the_suite_model(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(f'name = "two"\n[model]\nprovider = "builtin"\nname = "lenet"\n[[pairs]]\nname = "a"\n{TARGET}\n'
                    f'[[pairs]]\nname = "b"\n{TARGET}\n[pairs.model]\nprovider = "builtin"\nname = "conv4"\n')
    suite = load_suite(path)
    assert [p.model.name for p in suite.pairs] == ["lenet", "conv4"]
    assert suite.pairs[0].model.where.endswith("two.toml:2") and suite.pairs[1].model.where.endswith("two.toml:11")


def test_the_target_test_set_goes_through_the_trunk_once_per_model_and_target(registry, tmp_path, monkeypatch):
    """Frozen-feature, no source, 3 budgets x 3 seeds: one forward pass over the test set in all."""
    import benchmark.models.loaded as loaded
    from benchmark.data.loader import DatasetLoader

    rows = []
    original = loaded.forward_in_batches
    monkeypatch.setattr(loaded, "forward_in_batches", lambda trunk, inputs: rows.append(len(inputs)) or
                        original(trunk, inputs))
    checkpoint = lenet_checkpoint(tmp_path)
    model = f'[model]\nprovider = "file"\npath = "{checkpoint.name}"\narchitecture = {LENET}'
    suite = write_suite(tmp_path, "probe", model, budgets="[1, 2, 5]", seeds="[0, 1, 2]",
                        strategies=["frozen-feature"])
    summary = run(suite, registry, tmp_path / "out")
    assert summary.ok == 9
    test_rows = len(DatasetLoader(registry, tmp_path).load(load_suite(suite).pairs[0].target_test,
                                                           replace(load_suite(suite).pairs[0].input, size=(16, 16)),
                                                           "test")[0])
    assert rows.count(test_rows) == 1, rows


def test_export_writes_a_checkpoint_the_file_provider_reads_back(registry, tmp_path, capsys):
    model = "[model]\nprovider = \"builtin\"\nname = \"lenet\"\nchannels = 1\nsize = [16, 16]"
    suite = write_suite(tmp_path, "with-source", model, source=True, strategies=["finetune"], budgets="[1]",
                        seeds="[0]")
    assert run(suite, registry, tmp_path / "out").ok == 1
    out = tmp_path / "exported" / "lenet.safetensors"
    assert main(["export", str(tmp_path / "out" / "with-source"), "--strategy", "finetune", "--pair", "to5-9",
                 "--seed", "0", "--out", str(out)]) == 0
    cached = next((tmp_path / "out" / ".pretrain-cache").glob("*.pt"))
    state = torch.load(cached, weights_only=True)["state_dict"]
    from benchmark.models.base import ModelSpec
    from benchmark.models.resolve import load_model

    loaded = load_model(ModelSpec("file", options={"path": str(out)}), registry)
    trunk = loaded.trunk().state_dict()
    assert trunk and all(torch.equal(tensor, state[f"trunk.{key}"]) for key, tensor in trunk.items())
    assert loaded.preprocessing.size == (16, 16) and loaded.identity["architecture"]["name"] == "lenet"
    # and a suite starts from it
    follow = write_suite(tmp_path, "follow", f'[model]\nprovider = "file"\npath = "{out}"', strategies=["finetune"],
                         budgets="[1]", seeds="[0]")
    assert run(follow, registry, tmp_path / "out").ok == 1


def test_export_of_a_cell_without_a_stored_state_says_why(registry, tmp_path):
    model = "[model]\nprovider = \"builtin\"\nname = \"lenet\"\nchannels = 1\nsize = [16, 16]"
    suite = write_suite(tmp_path, "nosource", model, strategies=["finetune"], budgets="[1]", seeds="[0]")
    run(suite, registry, tmp_path / "out")
    from benchmark import TransferbenchError
    from benchmark.models.export import export

    with pytest.raises(TransferbenchError, match="stored none .no source split"):
        export(tmp_path / "out" / "nosource", "finetune", "to5-9", 0, tmp_path / "x.safetensors")


def adapted(strategy_name, registry, hparams, model, support, seed=0):
    from benchmark import Context, TaskSpec

    cls = registry.strategy(strategy_name).cls
    task = TaskSpec("transfer", (1, 16, 16), (), tuple(map(str, range(5))), 5, 2, model=model.key)
    ctx = Context(torch.device("cpu"), seed, torch.Generator().manual_seed(seed), task, Path("."), model=model)
    strategy = cls(**hparams)
    strategy.pretrain(None, ctx)
    torch.manual_seed(seed)
    return strategy, strategy.adapt(support, ctx.fork(seed))


@pytest.fixture
def lenet_model():
    from benchmark.models.loaded import PretrainedModel
    from plugins.models.builtin import BuiltinModels

    provider = BuiltinModels("lenet", channels=1, size=(16, 16))
    return PretrainedModel(provider, provider.identity(), provider.preprocessing())


@pytest.fixture
def support():
    from benchmark import LabelledData

    generator = torch.Generator().manual_seed(0)
    return LabelledData(torch.rand(10, 1, 16, 16, generator=generator), torch.arange(10) % 5,
                        tuple(map(str, range(5))))


def test_lora_trains_fresh_adapters_and_never_the_base_weights(registry, lenet_model, support):
    strategy, predictor = adapted("lora", registry, {"adapt_steps": 5, "adapt_lr": 0.05}, lenet_model, support)
    pretrained = strategy.model_.trunk.state_dict()
    adapted_state = predictor.trunk.trunk.state_dict()
    lora = [k for k in adapted_state if "lora_" in k]
    assert lora and any("lora_B" in k and adapted_state[k].abs().sum() > 0 for k in lora)  # the adapters moved
    for key, tensor in pretrained.items():  # base weights and BatchNorm statistics, bit for bit
        base = key if key in adapted_state else key.replace(".weight", ".base_layer.weight").replace(
            ".bias", ".base_layer.bias")
        assert torch.equal(adapted_state[base], tensor), key
    _, again = adapted("lora", registry, {"adapt_steps": 5, "adapt_lr": 0.05}, lenet_model, support)
    assert again.trunk.trunk is not predictor.trunk.trunk  # fresh adapters per adapt call


def test_lora_targets_the_attention_of_a_transformers_model(registry, tmp_path, support):
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    from benchmark import LabelledData
    from benchmark.models.base import ModelSpec
    from benchmark.models.resolve import load_model

    torch.manual_seed(0)
    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                       image_size=32, patch_size=8)).save_pretrained(tmp_path / "vit")
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path / "vit")
    model = load_model(ModelSpec("transformers", str(tmp_path / "vit")), registry)
    images = LabelledData(support.inputs.repeat(1, 3, 2, 2), support.labels, support.classes)
    _, predictor = adapted("lora", registry, {"adapt_steps": 2, "target_modules": ["q_proj", "v_proj"]}, model, images)
    names = [k for k in predictor.trunk.trunk.state_dict() if "lora_A" in k]
    assert names and all(("q_proj" in k or "v_proj" in k) for k in names)
    assert predictor(images.inputs).shape == (10, 5)


def test_bitfit_moves_only_biases_and_the_head(registry, lenet_model, support):
    strategy, predictor = adapted("bitfit", registry, {"adapt_steps": 5, "adapt_lr": 0.05}, lenet_model, support)
    pretrained = strategy.model_.trunk.state_dict()
    adapted_state = predictor.trunk.trunk.state_dict()
    changed = {k for k, v in pretrained.items() if not torch.equal(v, adapted_state[k])}
    assert changed and all(k.endswith("bias") for k in changed), changed


ALL = ["finetune", "frozen-feature", "lora", "bitfit", "target-only", "augment-only", "source-only", "maml",
       "multitask"]
FROM_A_MODEL = {"finetune", "frozen-feature", "lora", "bitfit", "target-only", "augment-only"}


def provider_table(provider, tmp_path, monkeypatch) -> str:
    """A [model] table of ``provider`` whose checkpoint the test writes where that library reads it."""
    torch.manual_seed(0)
    if provider == "builtin":
        return '[model]\nprovider = "builtin"\nname = "lenet"\nchannels = 1\nsize = [16, 16]'
    if provider == "file":
        return f'[model]\nprovider = "file"\npath = "{lenet_checkpoint(tmp_path).name}"\narchitecture = {LENET}'
    if provider == "torchvision":
        import torchvision

        monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
        path = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
        path.parent.mkdir(parents=True)
        torch.save(torchvision.models.resnet18().state_dict(), path)
        return '[model]\nprovider = "torchvision"\nname = "resnet18"\nweights = "IMAGENET1K_V1"'
    if provider == "timm":
        import timm
        from safetensors.torch import save_file

        save_file(timm.create_model("test_resnet").state_dict(), str(tmp_path / "test_resnet.safetensors"))
        return '[model]\nprovider = "timm"\nname = "test_resnet"\nfile = "test_resnet.safetensors"'
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                       image_size=32, patch_size=8)).save_pretrained(tmp_path / "vit")
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path / "vit")
    return '[model]\nprovider = "transformers"\nname = "vit"'


@pytest.mark.parametrize("provider", ["builtin", "file", pytest.param("torchvision", marks=pytest.mark.slow), "timm",
                                      "transformers"])  # torchvision's loading is tested in test_models.py
def test_every_strategy_runs_or_is_skipped_with_a_reason_on_every_provider(provider, registry, tmp_path,
                                                                          monkeypatch):
    # Large checkpoints' inputs (224 px, 160 px) are brought down to 16 px (the tiny ViT takes only its
    # 32 px): a suite may override the size.
    size = {"builtin": None, "file": None, "transformers": 32}.get(provider, 16)
    extra = f"input = {{ size = [{size}, {size}] }}" if size else ""
    suite = write_suite(tmp_path, f"smoke-{provider}", provider_table(provider, tmp_path, monkeypatch),
                        extra=extra, budgets="[1]", seeds="[0]", strategies=ALL)
    summary = run(suite, registry, tmp_path / "out")
    written = records.read(tmp_path / "out" / f"smoke-{provider}" / "records.jsonl")
    assert not summary.failed, summary.failed
    assert {r["strategy"] for r in written if r["status"] == "ok"} == FROM_A_MODEL
    assert all(r["reason"] for r in written if r["status"] == "skipped")
    assert all(r["model"]["provider"] == provider for r in written)
    if extra:
        assert written[0]["input"]["size"] == [size, size] and written[0]["input"]["channels"] == 3
        assert written[0]["input"]["from"] == "the weights, with size from the suite"


def test_every_strategy_runs_on_a_checkpoint_trained_on_a_source_first(registry, tmp_path, monkeypatch):
    """Intermediate-task transfer: checkpoint + source split; multitask and source-only run too."""
    suite = write_suite(tmp_path, "intermediate", provider_table("file", tmp_path, monkeypatch), source=True,
                        budgets="[1]", seeds="[0]", strategies=ALL)
    summary = run(suite, registry, tmp_path / "out")
    written = records.read(tmp_path / "out" / "intermediate" / "records.jsonl")
    assert not summary.failed, summary.failed
    assert {r["strategy"] for r in written if r["status"] == "ok"} == FROM_A_MODEL | {"multitask"}
    skipped = {r["strategy"]: r["reason"] for r in written if r["status"] == "skipped"}
    assert set(skipped) == {"maml", "source-only"} and "shared label space" in skipped["source-only"]


def test_the_contract_battery_runs_from_a_model_where_a_strategy_can_start_from_one(registry):
    from benchmark import check_strategy
    from benchmark.checks.contract import CHECKS

    ran = check_strategy(registry.strategy("target-only").cls)
    assert [name for name in ran if name.endswith("[pretrained model, no source]")] == \
        [f"{name} [pretrained model, no source]" for name in list(CHECKS)[3:]]


def test_a_missing_checkpoint_stops_the_run_before_any_data_is_read(registry, tmp_path, capsys, monkeypatch):
    from benchmark.data.loader import DatasetLoader

    suite = write_suite(tmp_path, "missing", '[model]\nprovider = "file"\npath = "absent.safetensors"\n'
                        f"architecture = {LENET}", strategies=["finetune"])
    read = []
    monkeypatch.setattr(DatasetLoader, "load", lambda self, *args: read.append(args))
    code = main(["run", str(suite), "--out", str(tmp_path / "out"), "--no-progress"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and read == [] and not (tmp_path / "out" / "missing" / "records.jsonl").exists()
    assert "missing.toml:" in error and str(tmp_path / "absent.safetensors") in error and "export" in error


def test_the_pretrain_cache_keys_on_the_model(registry):
    from benchmark import TaskSpec
    from benchmark.run.pretrain_cache import key_of, key_payload

    provided = registry.strategy("finetune")
    identity = provided.cls().pretrain_identity()
    keys = {key_of(key_payload(provided, identity, "source-fp", 0,
                               TaskSpec("transfer", (3, 32, 32), ("a",), ("b",), 1, 1, model=model), "cpu"))
            for model in (None, "torchvision:resnet18:IMAGENET1K_V1:aaaa", "torchvision:resnet18:IMAGENET1K_V1:bbbb")}
    assert len(keys) == 3
