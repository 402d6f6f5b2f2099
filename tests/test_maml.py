"""maml is MAML: its meta-gradient is the hand-written one, and meta-training helps on held-out classes."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from benchmark import Context, LabelledData, TaskSpec, build_classifier
from benchmark.checks.contract import basic_cases
from benchmark.data import shifts
from benchmark.run.cell import predict
from benchmark.scoring import tasks as protocol
from plugins.datasets.sklearn_digits import SklearnDigits
from plugins.maml import ModelAgnosticMetaLearning, accumulate_meta_gradient, meta_learner

INNER_LR, INNER_STEPS = 0.4, 2


def digit_episodes(count: int) -> list[tuple]:
    """``count`` fixed 5-way 1-shot episodes (3 queries per class) of real 8x8 sklearn digits."""
    digits = SklearnDigits().load("all", root=None)
    tasks = protocol.episodic_tasks(digits, protocol.ClassIndex(digits), 5, 1, 3, count, 0, "parity")
    return [(t.support.inputs, t.support.labels, t.query_inputs, t.query_labels) for t in tasks]


def hand_written_meta_gradient(net, episodes, second_order: bool) -> list[torch.Tensor]:
    """MAML written out with torch.autograd.grad: the mean over episodes of d(query loss)/d(initial parameters).

    The support set passes through the network in training mode (last with the adapted
    parameters), queries in eval mode: what the network's SupportBatchNorm layers need.
    """
    initial = dict(net.named_parameters())
    total = [torch.zeros_like(p) for p in initial.values()]
    for support_inputs, support_labels, query_inputs, query_labels in episodes:
        fast = initial
        net.train()
        for _ in range(INNER_STEPS):
            loss = F.cross_entropy(functional_call(net, fast, (support_inputs,)), support_labels)
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=second_order)
            fast = {name: p - INNER_LR * g for (name, p), g in zip(fast.items(), grads)}
        functional_call(net, fast, (support_inputs,))
        net.eval()
        query_loss = F.cross_entropy(functional_call(net, fast, (query_inputs,)), query_labels)
        for i, g in enumerate(torch.autograd.grad(query_loss, list(initial.values()))):
            total[i] += g / len(episodes)
    return total


def plugin_meta_gradient(net, episodes, first_order: bool) -> list[torch.Tensor]:
    learner = meta_learner(copy.deepcopy(net), INNER_LR, first_order)
    accumulate_meta_gradient(learner, episodes, INNER_STEPS)
    return [p.grad for p in learner.parameters()]


@pytest.mark.parametrize("norm", ["support", "layer"])
def test_the_meta_gradient_equals_hand_written_second_order_maml(norm):
    torch.manual_seed(0)
    net = build_classifier((1, 8, 8), 5, "conv4", hidden=4, norm=norm)  # a tiny network: 541 parameters
    episodes = digit_episodes(2)
    second = plugin_meta_gradient(net, episodes, first_order=False)
    first = plugin_meta_gradient(net, episodes, first_order=True)
    expected_second = hand_written_meta_gradient(net, episodes, second_order=True)
    expected_first = hand_written_meta_gradient(net, episodes, second_order=False)

    def gap(a, b):
        return max((x - y).abs().max().item() for x, y in zip(a, b))
    assert gap(second, expected_second) < 1e-5
    assert gap(first, expected_first) < 1e-5
    # The test can tell the two apart: second-order terms are far larger than the tolerance.
    assert gap(second, first) > 1e-3


def omniglot(shared_data, which: str, characters: int, size: int) -> LabelledData:
    """The first ``characters`` characters of Omniglot's background or evaluation set, ink = 1, at ``size`` px."""
    with np.load(shared_data / "omniglot" / f"images_{which}.npz") as arrays:
        images = arrays["images"][:characters]  # [characters, 20 drawers, 105, 105] bool, True = paper
    inputs = shifts.to_shape(1.0 - torch.from_numpy(images).float().reshape(-1, 1, 105, 105), 1, (size, size))
    labels = torch.arange(characters).repeat_interleave(images.shape[1])
    return LabelledData(inputs.contiguous(), labels, tuple(f"{which}-{i}" for i in range(characters)), which)


def held_out_accuracies(strategy, source, target, episodes: int, tmp_path) -> np.ndarray:
    """Meta-train on ``source``, then per-episode 5-way 1-shot accuracy on ``target``'s classes, scored as the runner does."""
    task = TaskSpec("episodic", source.input_shape, source.classes, target.classes, 5, 1)
    torch.manual_seed(0)  # the same initial network with and without meta-training
    strategy.pretrain(source, Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), task, tmp_path))
    accuracies = []
    for episode in protocol.episodic_tasks(target, protocol.ClassIndex(target), 5, 1, 5, episodes, 0, "held-out"):
        ctx = Context(torch.device("cpu"), episode.seed, torch.Generator().manual_seed(episode.seed), task, tmp_path)
        scores = predict(strategy.adapt(episode.support, ctx), episode.query_inputs, 5, "cpu")
        accuracies.append((scores.argmax(1) == episode.query_labels).float().mean().item())
    return np.array(accuracies)


def check_meta_training_helps(shared_data, tmp_path, size, characters, episodes, **hparams):
    source = omniglot(shared_data, "background", characters, size)  # 30 alphabets: never evaluated on
    target = omniglot(shared_data, "evaluation", 100, size)          # 20 other alphabets: held-out classes
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: a second thread on a shared 2-core machine only slows them
    try:
        trained = held_out_accuracies(ModelAgnosticMetaLearning(**hparams), source, target, episodes, tmp_path)
        untrained = held_out_accuracies(ModelAgnosticMetaLearning(**{**hparams, "meta_iterations": 0}),
                                        source, target, episodes, tmp_path)
    finally:
        torch.set_num_threads(threads)
    gain = trained - untrained  # paired: the same episodes
    half_width = 1.96 * gain.std(ddof=1) / np.sqrt(len(gain))  # normal CI over episodes
    print(f"\nOmniglot 5-way 1-shot, held-out alphabets, {episodes} episodes, {size} px, {hparams}: "
          f"meta-trained {trained.mean():.3f} vs untrained {untrained.mean():.3f}; "
          f"gain {gain.mean():.3f} +- {half_width:.3f} (95% CI, normal over episodes)")
    return trained.mean(), untrained.mean(), gain.mean(), half_width


def test_meta_training_beats_the_same_network_untrained_on_held_out_classes(shared_data, tmp_path):
    # A budget for the default test run: 320 source episodes (the paper meta-trains on 1.9 million).
    trained, untrained, gain, half_width = check_meta_training_helps(
        shared_data, tmp_path, size=16, characters=300, episodes=100,
        hidden=32, meta_iterations=40, meta_batch=8)
    assert gain - half_width > 0.05, (trained, untrained)


@pytest.mark.slow
def test_meta_training_on_omniglot_at_the_papers_episode_shape(shared_data, tmp_path):
    trained, untrained, gain, half_width = check_meta_training_helps(
        shared_data, tmp_path, size=16, characters=964, episodes=600,
        meta_iterations=300, meta_batch=32)
    assert trained > 0.6 and gain - half_width > 0.2, (trained, untrained)


def test_ways_other_than_the_targets_fails_before_meta_training(tmp_path):
    case = basic_cases()[2]  # a 5-way episodic task
    strategy = ModelAgnosticMetaLearning(ways=3, hidden=4, meta_iterations=1, meta_batch=1)
    with pytest.raises(ValueError, match="ways=3, but the target's support sets are 5-way"):
        strategy.pretrain(case.source, Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task,
                                               tmp_path))
    assert not hasattr(strategy, "maml_")  # refused before building or meta-training anything
