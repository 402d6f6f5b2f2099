"""Batched adaptation equals serial adaptation: the contract of ``adapt_episodes`` for every built-in.

Each built-in is pretrained on digits 0-4 (16 px, the contract battery's data), then adapts
to E episodes of digits 5-9 twice: one ``adapt`` at a time, seeded as the runner seeds it,
and all E through ``adapt_episodes``. The batched kernels only reorder floating-point sums
(a stacked convolution is a grouped one, a stacked linear layer a bmm), which Adam amplifies
in float32 (a gradient of 1e-9 against 0 is a step of 0.1 lr): measured, float32 scores
after 8 steps differ by up to ~4e-3. So the equality is tested in float64, where
reordering costs ~1e-11 (measured: at most 1.3e-11) and any real difference (a wrong head
initialisation, a shared optimiser state or minibatch order) moves scores by 1e-2 or more:
``TOLERANCE`` = 1e-8. bench/episodes.py reports the float32 differences on Omniglot.
"""

import pytest
import torch

from benchmark import Context, LabelledData, TaskSpec, batched
from benchmark.checks.contract import _digits
from benchmark.scoring import tasks as protocol
from benchmark.scoring.episodes import batches_episodes

TOLERANCE = 1e-8
EPISODES = 4
BUILT_INS = ("finetune", "target-only", "augment-only", "maml")
# Few steps keep the test quick but make every part of the loop run: Adam's moments, BatchNorm
# running statistics, and (batch_size below the support size) minibatches drawn per episode.
HPARAMS = {"finetune": {"pretrain_epochs": 1, "adapt_steps": 8, "batch_size": 8},
           "target-only": {"adapt_steps": 8, "batch_size": 8},
           "augment-only": {"adapt_steps": 4, "batch_size": 8},
           "maml": {"meta_iterations": 2, "meta_batch": 2, "hidden": 16, "adapt_steps": 3, "shots": 1}}


@pytest.fixture(autouse=True)
def float64():
    """Models built during a test are float64 (see the module docstring)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(default)


@pytest.fixture(scope="module")
def data():
    def double(data, rows):
        return LabelledData(data.inputs[:rows].double(), data.labels[:rows], data.classes, data.name)

    return double(_digits(range(0, 5), "a"), 200), double(_digits(range(5, 10), "b"), None)


def episodes(pool, k_shot: int, count: int = EPISODES):
    return list(protocol.episodic_tasks(pool, protocol.ClassIndex(pool), 5, k_shot, 4, count, 0, "test"))


def context(seed: int, source, pool, k_shot: int) -> Context:
    task = TaskSpec("episodic", (1, 16, 16), source.classes, pool.classes, 5, k_shot)
    return Context(torch.device("cpu"), seed, torch.Generator().manual_seed(seed), task, None)


PRETRAINED = {}  # name -> strategy: adapt never changes it (the contract), so tests share one per strategy


def pretrained(registry, name: str, source, pool, k_shot: int):
    if name not in PRETRAINED:
        strategy = registry.strategy(name).cls(**HPARAMS[name])
        torch.manual_seed(0)
        strategy.pretrain(source, context(0, source, pool, k_shot))
        PRETRAINED[name] = strategy
    return PRETRAINED[name]


def serial_and_batched(strategy, tasks, source, pool, k_shot):
    serial = []
    for task in tasks:
        torch.manual_seed(task.seed)
        predictor = strategy.adapt(task.support, context(task.seed, source, pool, k_shot))
        with torch.no_grad():
            serial.append(predictor(task.query_inputs))
    predictors = strategy.adapt_episodes([task.support for task in tasks],
                                         [context(task.seed, source, pool, k_shot) for task in tasks])
    with torch.no_grad():
        together = [predictor(task.query_inputs) for predictor, task in zip(predictors, tasks)]
    return torch.stack(serial), torch.stack(together)


@pytest.mark.parametrize("name", BUILT_INS)
@pytest.mark.parametrize("k_shot", [1, 3])  # 5 rows (one batch) and 15 rows (minibatches of 8)
def test_batched_adaptation_gives_the_serial_predictions(registry, data, name, k_shot):
    source, pool = data
    strategy = pretrained(registry, name, source, pool, k_shot)
    assert batches_episodes(type(strategy))
    serial, together = serial_and_batched(strategy, episodes(pool, k_shot), source, pool, k_shot)
    difference = (serial - together).abs().max().item()
    assert difference <= TOLERANCE, f"{name}: batched scores differ from serial ones by {difference:.2e}"
    # The episodes really differ from one another (a batch that adapted one model E times would pass above
    # only if all episodes were alike).
    assert (serial[0] - serial[1]).abs().max() > 100 * TOLERANCE


def test_batched_adaptation_leaves_the_pretrained_state_alone(registry, data):
    source, pool = data
    for name in ("finetune", "maml"):
        strategy = pretrained(registry, name, source, pool, 1)
        module = strategy.model_ if name == "finetune" else strategy.maml_.module
        before = {key: value.clone() for key, value in module.state_dict().items()}
        strategy.adapt_episodes([task.support for task in episodes(pool, 1)],
                                [context(task.seed, source, pool, 1) for task in episodes(pool, 1)])
        for key, value in module.state_dict().items():
            assert torch.equal(value, before[key]), f"{name}: adapt_episodes changed {key}"


def test_a_subclass_that_overrides_only_adapt_is_not_batched(registry):
    finetune = registry.strategy("finetune").cls

    class Mine(finetune):
        def adapt(self, support, ctx):
            return super().adapt(support, ctx)

    assert batches_episodes(finetune)
    assert not batches_episodes(Mine)  # it would otherwise inherit a batched version of finetune's adapt
    assert not batches_episodes(registry.strategy("multitask").cls)
    assert not batches_episodes(registry.strategy("source-only").cls)


def test_groups_keep_stacked_training_within_the_memory_bound(registry, data, monkeypatch):
    """A bound that fits one model per group trains the same models as one group of E."""
    source, pool = data
    strategy = pretrained(registry, "finetune", source, pool, 1)
    tasks = episodes(pool, 1)
    _, one_group = serial_and_batched(strategy, tasks, source, pool, 1)
    per_image = batched.activation_bytes(strategy.model_, (1, 16, 16))
    monkeypatch.setattr(batched, "TRAIN_MEMORY_BYTES", 5 * per_image)  # one model of 5 rows per group
    assert batched.group_size(strategy.model_, (1, 16, 16), 5, batched.TRAIN_MEMORY_BYTES) == 1
    _, one_each = serial_and_batched(strategy, tasks, source, pool, 1)
    assert (one_group - one_each).abs().max() <= TOLERANCE
