"""multitask shares one trunk between two heads: both tasks' gradients reach it, each head gets only its own."""

import pytest
import torch

from benchmark import Context
from benchmark.checks.contract import basic_cases
from plugins.multitask import MultiTask, task_losses


def pretrained(tmp_path, **hparams):
    case = basic_cases()[0]  # real digits: source classes 0-4, a 2-shot support set of classes 5-9
    strategy = MultiTask(pretrain_epochs=1, **hparams)
    torch.manual_seed(0)
    strategy.pretrain(case.source, Context(torch.device("cpu"), 0, torch.Generator().manual_seed(0), case.task, tmp_path))
    return strategy, case


@pytest.mark.parametrize("source_replay", [True, False], ids=["replay", "distillation"])
def test_gradients_reach_the_shared_trunk_from_both_heads(tmp_path, source_replay):
    strategy, case = pretrained(tmp_path, source_replay=source_replay)
    support = case.support
    model = strategy.joint_model(support.num_classes, torch.device("cpu")).train()
    if source_replay:
        target_batch, source_batch = (support.inputs, support.labels), (case.source.inputs[:32], case.source.labels[:32])
    else:
        with torch.no_grad():
            reference = strategy.model_(support.inputs)
        target_batch, source_batch = (support.inputs, support.labels, reference), ()
    target_loss, source_loss = task_losses(model, target_batch, source_batch)

    def grads(loss, module):
        return torch.autograd.grad(loss, list(module.parameters()), retain_graph=True, allow_unused=True)
    from_target, from_source = grads(target_loss, model.trunk), grads(source_loss, model.trunk)
    assert all(g is not None and g.abs().sum() > 0 for g in from_target + from_source)
    assert any(not torch.allclose(a, b) for a, b in zip(from_target, from_source))
    assert all(g is None for g in grads(target_loss, model.source_head))  # each head serves its own task
    assert all(g is None for g in grads(source_loss, model.target_head))


def test_adapt_trains_the_source_head_jointly_unless_its_weight_is_zero(tmp_path):
    for source_weight, moves in ((1.0, True), (0.0, False)):
        strategy, case = pretrained(tmp_path, source_weight=source_weight, weight_decay=0.0, adapt_steps=5)
        torch.manual_seed(1)
        predictor = strategy.adapt(case.support, Context(torch.device("cpu"), 1, torch.Generator().manual_seed(1),
                                                        case.task, tmp_path))
        assert (not torch.equal(predictor.source_head.weight, strategy.model_.head.weight)) == moves
        assert not torch.equal(predictor.trunk[0][0].weight, strategy.model_.trunk[0][0].weight)
