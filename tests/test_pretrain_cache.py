"""The pretrain cache: pretraining runs once per key, is reused across suites and targets,
gives exactly the metrics of no cache, and a damaged entry is rebuilt, never trusted."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import TaskSpec, records
from benchmark.discovery.registry import Provided
from benchmark.run.pretrain_cache import PretrainCache, key_of, key_payload
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite
from plugins.finetune import FineTune
from plugins.frozen_feature import FrozenFeature
from plugins.multitask import MultiTask
from plugins.source_only import SourceOnly

TINY = Path(__file__).parent / "suites" / "tiny.toml"
# Two targets of one source: the rotated pair of the tiny suite and an inverted one.
TWO_TARGETS = TINY.read_text().split("[[pairs]]")[0] + "[[pairs]]" + TINY.read_text().split("[[pairs]]")[1] + """
[[pairs]]
name = "digits→inverted"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", shifts = [{ invert = true }] }

[hparams.counting-finetune]
pretrain_epochs = 1
adapt_steps = 5

[hparams.refusing-finetune]
pretrain_epochs = 1
adapt_steps = 5

[hparams.unsavable-finetune]
pretrain_epochs = 1
adapt_steps = 5
"""


class CountingFineTune(FineTune):
    name = "counting-finetune"
    quick_hparams = {}
    pretrained_on = []  # the source size of every real pretrain call (a cache hit makes none)

    def pretrain(self, source, ctx):
        CountingFineTune.pretrained_on.append(len(source))
        super().pretrain(source, ctx)


class RefusingFineTune(CountingFineTune):
    name = "refusing-finetune"

    def load_pretrained_state(self, state, ctx):
        raise KeyError("layer4.weight")


class UnsavableFineTune(CountingFineTune):
    name = "unsavable-finetune"

    def pretrained_state(self):
        return {"schedule": lambda step: 0.1}  # not weights: torch.save cannot pickle it


def suite_named(tmp_path, name: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(TWO_TARGETS.replace('name = "tiny"', f'name = "{name}"'), encoding="utf-8")
    return load_suite(path).with_overrides(seeds=1, strategies=["counting-finetune"])


def run(suite, registry, out: Path, **options) -> list[dict]:
    Runner(suite, registry, out, out, show_progress=False, threads=1, **options).run()
    return records.read(out / suite.name / "records.jsonl")


def results(written) -> dict:
    return {(r["pair"], r["budget"]): r["metrics"] for r in written}


def test_one_pretrain_serves_every_target_and_suite_with_the_same_metrics_as_no_cache(
        registry, with_strategies, tmp_path):
    registry = with_strategies(registry, CountingFineTune, RefusingFineTune, UnsavableFineTune)
    CountingFineTune.pretrained_on.clear()
    cold = run(suite_named(tmp_path, "first"), registry, tmp_path / "shared")
    assert len(CountingFineTune.pretrained_on) == 1  # two targets × two budgets, one source: one pretrain
    assert sorted(r["pretrain_cache"] for r in cold) == ["hit", "hit", "stored", "stored"]

    warm = run(suite_named(tmp_path, "second"), registry, tmp_path / "shared")  # another suite, same results dir
    assert len(CountingFineTune.pretrained_on) == 1 and {r["pretrain_cache"] for r in warm} == {"hit"}

    uncached = run(suite_named(tmp_path, "third"), registry, tmp_path / "alone", pretrain_cache=False)
    assert len(CountingFineTune.pretrained_on) == 3 and {r["pretrain_cache"] for r in uncached} == {"off"}
    assert results(cold) == results(warm) == results(uncached) and len(results(cold)) == 4


def test_a_damaged_entry_is_rebuilt_with_a_warning(registry, with_strategies, tmp_path):
    registry = with_strategies(registry, CountingFineTune, RefusingFineTune, UnsavableFineTune)
    suite = replace(suite_named(tmp_path, "first"), pairs=suite_named(tmp_path, "first").pairs[:1], budgets=(2,))
    CountingFineTune.pretrained_on.clear()
    first = run(suite, registry, tmp_path)
    (entry,) = (tmp_path / ".pretrain-cache").glob("*.pt")
    blob = bytearray(entry.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped bit in the middle of the weights
    entry.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match=rf"pretrain cache entry .*{entry.stem}.json is unusable \(ValueError: "
                                         rf"its checksum does not match\); rebuilding it"):
        second = run(replace(suite, name="again"), registry, tmp_path)
    assert len(CountingFineTune.pretrained_on) == 2 and second[0]["pretrain_cache"] == "stored"
    assert results(first) == results(second)
    assert torch.load(entry, weights_only=True)  # the rebuilt entry reads back


def test_a_state_the_strategy_cannot_restore_is_rebuilt(registry, with_strategies, tmp_path):
    registry = with_strategies(registry, CountingFineTune, RefusingFineTune, UnsavableFineTune)
    base = suite_named(tmp_path, "first")
    suite = replace(base, pairs=base.pairs[:1], budgets=(2,), strategies=("refusing-finetune",))
    CountingFineTune.pretrained_on.clear()
    run(suite, registry, tmp_path)
    with pytest.warns(UserWarning, match=r"unusable \(the strategy cannot restore it: KeyError: 'layer4.weight'\)"):
        again = run(replace(suite, name="again"), registry, tmp_path)
    assert len(CountingFineTune.pretrained_on) == 2 and again[0]["status"] == "ok"


def test_a_state_that_cannot_be_stored_costs_the_cache_not_the_cells(registry, with_strategies, tmp_path):
    registry = with_strategies(registry, CountingFineTune, RefusingFineTune, UnsavableFineTune)
    base = suite_named(tmp_path, "first")
    suite = replace(base, pairs=base.pairs[:1], budgets=(2,), strategies=("unsavable-finetune",))
    with pytest.warns(UserWarning, match=r"could not store the state of unsavable-finetune / digits→rotated / seed 0"):
        (record,) = run(suite, registry, tmp_path)
    assert (record["status"], record["pretrain_cache"]) == ("ok", "store failed")
    assert not list((tmp_path / ".pretrain-cache").glob("*.json"))


TASK = TaskSpec("transfer", (1, 16, 16), ("0", "1"), ("0", "1"), 2, 5)
PROVIDED = Provided("finetune", FineTune, "finetune", "transferbench", "0.1.0")


def payload(**changes) -> dict:
    arguments = {"provided": PROVIDED, "identity": FineTune().pretrain_identity(), "source_fingerprint": "abc",
                 "seed": 0, "task": TASK, "device": "cpu", **changes}
    return key_payload(**arguments)


def test_the_key_changes_with_everything_pretraining_depends_on():
    base = key_of(payload())
    assert key_of(payload()) == base
    variants = [payload(identity=FineTune(pretrain_lr=0.1).pretrain_identity()), payload(seed=1),
                payload(source_fingerprint="abd"), payload(provided=replace(PROVIDED, version="0.2.0")),
                payload(task=replace(TASK, input_shape=(3, 16, 16))), payload(device="cuda")]
    assert len({key_of(v) for v in variants} | {base}) == len(variants) + 1
    # Only a strategy whose pretraining reads the task shape keys on it (its pretrain_task_key).
    assert key_of(payload(task=replace(TASK, n_way=5, k_shot=1))) == base
    assert key_of(payload(task_key=(10, 5))) != key_of(payload(task_key=(10, 1))) != base
    # ... and only on the hyperparameters its pretrain reads.
    assert key_of(payload(identity=FineTune(adapt_lr=0.1, adapt_steps=7).pretrain_identity())) == base


def test_strategies_that_pretrain_alike_share_one_source_model(registry, tmp_path):
    """finetune, frozen-feature and source-only train the same source classifier: one pretrain
    serves all three, whatever their adapt settings; multitask (its own pretrain) and a subclass
    that overrides pretrain (CountingFineTune) keep their own entries."""
    suite = replace(suite_named(tmp_path, "shared"), strategies=("finetune", "frozen-feature", "source-only"),
                    hparams={name: {"pretrain_epochs": 1, **extra} for name, extra in
                             (("finetune", {"adapt_steps": 5}), ("frozen-feature", {"C": 0.5}),
                              ("source-only", {}))})
    written = run(suite, registry, tmp_path)
    assert len(written) == 12 and {r["status"] for r in written} == {"ok"}
    # one source, one seed: one pretrain, stored by the first job (its two budgets), restored by every other
    stored_by = {(r["strategy"], r["pair"]) for r in written if r["pretrain_cache"] == "stored"}
    assert len(stored_by) == 1 and sum(r["pretrain_cache"] == "hit" for r in written) == 10
    shared = FineTune().pretrain_identity()
    assert FrozenFeature().pretrain_identity() == SourceOnly().pretrain_identity() == shared
    assert MultiTask().pretrain_identity()[0] == "plugins.multitask.MultiTask"
    assert CountingFineTune().pretrain_identity()[0] == f"{__name__}.CountingFineTune"


def test_store_then_load_round_trips_and_a_foreign_or_torn_entry_is_refused(tmp_path):
    cache = PretrainCache(tmp_path)
    state = {"state_dict": {"w": torch.arange(6.0).reshape(2, 3)}, "num_classes": 2, "names": ["a", "b"]}
    cache.store(payload(), state)
    loaded = cache.load(payload())
    assert torch.equal(loaded["state_dict"]["w"], state["state_dict"]["w"]) and loaded["names"] == ["a", "b"]
    assert cache.load(payload(seed=7)) is None  # a miss is silent

    meta_path = next(tmp_path.glob("*.json"))
    meta = json.loads(meta_path.read_text())
    meta["payload"]["seed"] = 99  # an entry that claims another key under this one's name
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match=r"its key does not match"):
        assert cache.load(payload()) is None
    assert not list(tmp_path.iterdir())  # both files removed

    cache.store(payload(), state)
    meta_path.write_text('{"payload": ')  # torn
    with pytest.warns(UserWarning, match=r"unusable \(JSONDecodeError"):
        assert cache.load(payload()) is None


def test_a_state_that_needs_unpickling_code_is_never_loaded(tmp_path):
    cache = PretrainCache(tmp_path)
    cache.store(payload(), {"model": torch.nn.Linear(2, 2)})  # a module, not a state_dict: pickled code
    with pytest.warns(UserWarning, match=r"unusable \(UnpicklingError: Weights only load failed"):
        assert cache.load(payload()) is None


def test_a_write_that_fails_halfway_leaves_the_old_file_and_no_debris(tmp_path):
    from benchmark.data.files import write_atomically

    target = tmp_path / "entry.pt"
    write_atomically(target, lambda handle: handle.write(b"old"))

    def disk_full(handle):
        handle.write(b"half of a new")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, disk_full)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["entry.pt"]
