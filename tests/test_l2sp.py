"""l2sp (plugins/l2sp.py): its penalty is L2-SP's, a huge alpha holds the trunk at the pretrained
weights while the head trains, and alpha = beta = 0 is finetune, bit for bit."""

import torch

from benchmark import Classifier, Context, build_trunk
from benchmark.checks.contract import _model_cases, basic_cases
from plugins.finetune import FineTune
from plugins.l2sp import L2SP, StartingPointPenalty

STEPS, LR = 30, 1e-3


def context(case, seed: int, tmp_path, progress=None) -> Context:
    return Context(case.device, seed, torch.Generator().manual_seed(seed), case.task, tmp_path,
                   progress or (lambda fraction: None), case.model)


def adapted(strategy, case, tmp_path):
    """pretrain (seed 0) then adapt (seed 1), torch's generator seeded as the runner seeds it."""
    torch.manual_seed(0)
    strategy.pretrain(case.source, context(case, 0, tmp_path))
    torch.manual_seed(1)
    return strategy.adapt(case.support, context(case, 1, tmp_path))


def largest_move(after: list[torch.Tensor], before: list[torch.Tensor]) -> float:
    return max((a.detach() - b).abs().max().item() for a, b in zip(after, before))


def test_the_penalty_is_alpha_half_drift_plus_beta_half_head_norm():
    torch.manual_seed(0)
    model = Classifier(*build_trunk((1, 16, 16), "lenet"), num_classes=3)
    penalty = StartingPointPenalty(model, alpha=0.3, beta=0.7)
    head_norm = sum(w.pow(2).sum() for w in model.head.parameters()).item()  # ||w_new||^2
    assert abs(penalty(model).item() - 0.7 / 2 * head_norm) < 1e-6 * head_norm
    with torch.no_grad():
        for w in model.trunk.parameters():
            w.add_(0.01)  # every trunk entry moves by 0.01 from w0
    entries = sum(w.numel() for w in model.trunk.parameters())
    expected = 0.3 / 2 * entries * 0.01 ** 2 + 0.7 / 2 * head_norm
    assert abs(penalty(model).item() - expected) < 1e-4 * expected
    assert penalty(model).dim() == 0 and penalty(model).requires_grad
    anchored = StartingPointPenalty(model, alpha=0.3, beta=0.7, anchored=("trunk", "head"))
    assert anchored(model).item() == 0.0  # nothing moved since it was built, and no group is pulled to zero


def test_a_huge_alpha_holds_the_trunk_at_the_pretrained_weights_while_the_head_trains(tmp_path):
    """From a pretrained model without a source: w0 is the checkpoint's trunk itself."""
    case = _model_cases()[0]
    pretrained = list(case.model.trunk().parameters())
    moves = {}
    for alpha in (1e6, 0.0):
        model = adapted(L2SP(alpha=alpha, adapt_steps=STEPS, adapt_lr=LR), case, tmp_path)
        moves[alpha] = largest_move(model.parameter_groups()["trunk"], pretrained)
        with torch.no_grad():
            scores = model(case.support.inputs)
        accuracy = (scores.argmax(1) == case.support.labels).float().mean().item()
        assert accuracy > 0.5, (alpha, accuracy)  # the head learned the support (5 classes: chance is 0.2)
    # Adam's step is about LR per entry whatever the gradient's scale: the pull holds each trunk entry
    # within about one step of w0 (not at it), where alpha = 0 lets the trunk drift many steps away.
    assert moves[1e6] <= LR, moves  # measured: 4.5e-4 after 30 steps; alpha = 0: 2.3e-2
    assert moves[0.0] >= 10 * moves[1e6], moves


def test_alpha_and_beta_zero_is_finetune_bit_for_bit(tmp_path):
    """The same seed, the same pretraining (weight_decay 0 in both: l2sp's adaptation has none), the
    penalty's zero added each step: the same weights and scores, for a new head and a reused one."""
    for case in basic_cases()[:2]:  # new classes (a new head), then the source's classes (the head reused)
        plain = adapted(FineTune(pretrain_epochs=1, adapt_steps=10, weight_decay=0.0), case, tmp_path)
        hooked_strategy = L2SP(pretrain_epochs=1, adapt_steps=10, weight_decay=0.0, alpha=0.0, beta=0.0)
        hooked = adapted(hooked_strategy, case, tmp_path)
        for (name, a), (_, b) in zip(plain.state_dict().items(), hooked.state_dict().items()):
            assert torch.equal(a, b), name
        with torch.no_grad():
            assert torch.equal(plain(case.query), hooked(case.query))
    assert hooked_strategy.adapt_notes()["held_to_start"] == "trunk+head"  # the reused head is pretrained too


def test_the_default_penalty_moves_the_weights_differently_from_finetune(tmp_path):
    case = basic_cases()[0]
    plain = adapted(FineTune(pretrain_epochs=1, adapt_steps=10), case, tmp_path)
    strategy = L2SP(pretrain_epochs=1, adapt_steps=10)
    hooked = adapted(strategy, case, tmp_path)
    assert not torch.equal(plain.head.weight, hooked.head.weight)
    assert strategy.adapt_notes() == {"head": "new", "starts_from": "source-only", "held_to_start": "trunk"}
    assert strategy.pretrain_identity() == FineTune(pretrain_epochs=1, adapt_steps=10).pretrain_identity()
