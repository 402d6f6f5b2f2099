"""The shipped suites: each parses, names installed providers and options, and runs end to end,
on ../shared/data where it has the files, else on tiny data written in the real formats."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from tiny_formats import write_cifar10, write_hf, write_imagefolder, write_miniimagenet, write_stl10

from benchmark import records
from benchmark.data.loader import DatasetLoader
from benchmark.models.resolve import provider_for
from benchmark.run.prepare import prepare_pairs
from benchmark.run.runner import Runner
from benchmark.suite.check import check_strategies
from benchmark.suite.load import load_suite

SUITES = Path(__file__).resolve().parent.parent / "suites"


def quick(suite, budgets=(1,), episodes=2):
    """The suite's pairs and data, with one seed, one fast strategy and a small budget."""
    return replace(suite, seeds=(0,), budgets=budgets, strategies=("target-only",), episodes=episodes,
                   hparams={"target-only": {"adapt_steps": 2}})


def run_quick(suite, registry, out, data_root):
    summary = Runner(suite, registry, out, data_root, show_progress=False).run()
    written = records.read(out / suite.name / "records.jsonl")
    assert not summary.failed, summary.failed
    assert len(written) == len(suite.pairs) * len(suite.budgets) and all(r["status"] == "ok" for r in written)
    return written


@pytest.mark.parametrize("path", sorted(SUITES.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_suite_names_valid_hyperparameters_providers_and_options(path, registry, tmp_path):
    suite = load_suite(path)
    # hyperparameter overrides name real hyperparameters of the strategies installed here
    check_strategies(replace(suite, strategies=[s for s in suite.strategies or () if s in registry.strategies] or None),
                       registry)
    loader = DatasetLoader(registry, tmp_path)
    for pair in suite.pairs:
        for spec in (pair.source, pair.target, pair.target_test):
            if spec is not None:  # no source: the pair starts from its [model]
                loader.provider(spec, f"{path.name}: {pair.name}")  # raises on an unknown provider or option
        if pair.model is not None:  # the provider and its options exist (the checkpoint may be absent here)
            provider_for(pair.model, registry)


def test_digits_suite_on_the_real_files_records_which_split_stands_in(shared_data, registry, tmp_path):
    suite = quick(load_suite(SUITES / "digits.toml"))
    written = run_quick(suite, registry, tmp_path, shared_data)
    by_pair = {r["pair"]: r for r in written}
    assert set(by_pair) == {"mnist→usps", "usps→mnist", "mnist→kmnist", "mnist→rotated", "mnist→inverted"}
    assert by_pair["mnist→usps"]["source"]["stands_in_for"] == "train"
    assert by_pair["usps→mnist"]["target"] == {"provider": "mnist", "split": "test[:50%]", "stands_in_for": "train"}
    assert by_pair["usps→mnist"]["target_test"]["split"] == "test[50%:]"
    assert "stands_in_for" not in by_pair["usps→mnist"]["source"]  # USPS has its real train split
    # the pool and the scored split of one file are different examples, so their fingerprints differ
    assert by_pair["usps→mnist"]["fingerprints"]["target"] != by_pair["usps→mnist"]["fingerprints"]["target_test"]
    assert by_pair["mnist→rotated"]["target"]["shifts"] == [{"rotate": 45}]


def test_digits_pairs_have_the_declared_shape_and_disjoint_halves(shared_data, registry, tmp_path):
    suite = load_suite(SUITES / "digits.toml")
    prepared = prepare_pairs(suite, DatasetLoader(registry, shared_data, tmp_path / "cache"))
    for pair in prepared.values():
        for data in (pair.source, pair.pool, pair.test):
            assert data.input_shape == (1, 16, 16) and 0.0 <= data.inputs.min() and data.inputs.max() <= 1.0
    usps_to_mnist = prepared["usps→mnist"]
    assert (len(usps_to_mnist.pool), len(usps_to_mnist.test)) == (5_000, 5_000)
    assert len(prepared["mnist→usps"].source) == 10_000 and len(prepared["mnist→usps"].test) == 2_007
    kmnist = prepared["mnist→kmnist"]
    assert kmnist.pool.classes == ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
    assert torch.bincount(kmnist.test.labels).tolist() == [500] * 10


def test_cifar10_stl10_suite_on_tiny_torchvision_files(registry, tmp_path, monkeypatch):
    import os

    import torchvision.datasets.cifar
    import torchvision.datasets.stl10

    for module in (torchvision.datasets.cifar, torchvision.datasets.stl10):  # tiny files cannot match the md5s
        monkeypatch.setattr(module, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    write_cifar10(tmp_path / "data", per_class=2)
    write_stl10(tmp_path / "data", per_class=3)
    written = run_quick(quick(load_suite(SUITES / "cifar10-stl10.toml")), registry, tmp_path / "out", tmp_path / "data")
    assert {r["pair"] for r in written} == {"cifar10→stl10", "stl10→cifar10"}
    assert written[0]["source"]["rename"] == {"automobile": "car"}


def office31_tree(data: Path) -> None:
    for seed, domain in enumerate(("amazon", "dslr", "webcam")):  # other pictures per domain, as in Office-31:
        write_imagefolder(data / "office31" / domain / "images", ["back_pack", "bike", "calculator"],  # the same
                          per_class=4, sizes=((64, 64), (48, 60)), seed=seed, suffix=".jpg")  # would be refused


def test_office31_suite_on_a_tiny_image_folder_tree(registry, tmp_path):
    office31_tree(tmp_path / "data")
    suite = quick(load_suite(SUITES / "office31.toml"), budgets=(1, 2))
    # Without its [model] (see the slow test below): each strategy's own network at 32 px.
    own = replace(suite, pairs=tuple(replace(p, model=None, input=replace(p.input, channels=3, size=(32, 32)))
                                     for p in suite.pairs))
    written = run_quick(own, registry, tmp_path / "out", tmp_path / "data")
    assert len({r["pair"] for r in written}) == 6
    assert written[0]["target"]["stands_in_for"] == "train" and written[0]["target_test"]["stands_in_for"] == "test"


@pytest.mark.slow
def test_office31_suite_from_its_resnet50_weights_in_torchvisions_cache(registry, tmp_path, monkeypatch):
    import torchvision

    office31_tree(tmp_path / "data")
    # its [model]: random weights under the file name torchvision's cache gives ResNet-50 IMAGENET1K_V2
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = tmp_path / "torch" / "hub" / "checkpoints" / "resnet50-11ad3fa6.pth"
    weights.parent.mkdir(parents=True)
    torch.save(torchvision.models.resnet50().state_dict(), weights)
    suite = quick(load_suite(SUITES / "office31.toml"), budgets=(1,))
    small = replace(suite, pairs=tuple(replace(p, input=replace(p.input, size=(16, 16)), input_keys={"size"})
                                       for p in suite.pairs))  # 224 px is the weights' size; 16 px for a test
    written = run_quick(small, registry, tmp_path / "out", tmp_path / "data")
    assert len({r["pair"] for r in written}) == 6
    assert written[0]["model"]["weights"] == "IMAGENET1K_V2" and written[0]["input"]["channels"] == 3


def test_hf_digits_suite_on_tiny_save_to_disk_directories(registry, tmp_path):
    write_hf(tmp_path / "data" / "hf" / "svhn", {"train": 2, "test": 2}, channels=3, size=32)
    write_hf(tmp_path / "data" / "hf" / "mnist", {"train": 2, "test": 2}, channels=1, size=28, seed=5)
    written = run_quick(quick(load_suite(SUITES / "hf-digits.toml")), registry, tmp_path / "out", tmp_path / "data")
    assert {r["pair"] for r in written} == {"svhn→mnist", "mnist→svhn"}


def test_miniimagenet_suite_on_tiny_learn2learn_pickles(registry, tmp_path):
    write_miniimagenet(tmp_path / "data", "train", n_classes=6, per_class=3)
    write_miniimagenet(tmp_path / "data", "test", n_classes=5, per_class=16, seed=1)
    written = run_quick(quick(load_suite(SUITES / "miniimagenet-fewshot.toml")), registry, tmp_path / "out",
                        tmp_path / "data")
    assert written[0]["n_way"] == 5 and len(written[0]["per_episode"]["accuracy"]) == 2


def test_solar_defects_suite_runs_every_strategy_on_tiny_elpv_files_and_a_renamed_lite0(registry, tmp_path):
    """suites/solar-defects.toml as shipped, less its assets' hashes: ELPV's own layout with tiny images, and
    a random tf_efficientnet_lite0 saved under other key names (as the real wheel's file is), at 32 px."""
    import re

    import numpy as np
    import timm
    from PIL import Image

    root = tmp_path / "data" / "elpv"
    (root / "images").mkdir(parents=True)
    lines = []
    for index in range(48):
        probability, cell_type = (0.0, 1.0)[index % 2], ("mono", "poly")[(index // 2) % 2]
        pixels = np.random.default_rng(index).integers(0, 255, (20, 20), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "images" / f"cell{index + 1:04d}.png")
        lines.append(f"images/cell{index + 1:04d}.png  {probability}  {cell_type}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    weights = tmp_path / "data" / "efficientnet-lite0" / "efficientnet-lite0-57934424.pth"
    weights.parent.mkdir()
    torch.save({f"_renamed.{i:03d}": v for i, v in enumerate(timm.create_model("tf_efficientnet_lite0")
                                                                  .state_dict().values())}, weights)
    text = re.sub(r"^assets = .*$", "", (SUITES / "solar-defects.toml").read_text(), flags=re.M)
    text = re.sub(r"adapt_steps = \d+", "adapt_steps = 2", text).replace("size = [112, 112]", "size = [32, 32]")
    suite_file = tmp_path / "solar-defects.toml"
    suite_file.write_text(text.replace("seeds = [0, 1, 2]", "seeds = [0]")
                          .replace('budgets = [5, 20, 100, "all"]', "budgets = [2]"))
    summary = Runner(load_suite(suite_file), registry, tmp_path / "out", tmp_path / "data", show_progress=False).run()
    written = records.read(tmp_path / "out" / "solar-defects" / "records.jsonl")
    assert not summary.failed, summary.failed
    ok = {(r["strategy"], r["pair"]) for r in written if r["status"] == "ok"}
    assert {s for s, p in ok if p == "mono→poly"} == {"finetune", "frozen-feature", "lora", "bitfit", "augment-only",
                                                      "target-only", "source-only", "multitask"}
    assert {s for s, p in ok if p == "imagenet→elpv"} == {"finetune", "frozen-feature", "lora", "bitfit",
                                                          "augment-only", "target-only"}
    assert all(r["model"]["key_mapping"] == "order" and set(r["test_classes"]) == {"functional", "defective"}
               for r in written)
