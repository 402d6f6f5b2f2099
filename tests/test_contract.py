"""The contract battery over EVERY discovered strategy: a new built-in or an installed plugin gets it free."""

import pytest
import torch

from benchmark import ContractError, Strategy, check_strategy
from benchmark.checks.contract import CHECKS
from benchmark.cli import main
from benchmark.discovery.registry import discover

STRATEGIES = sorted(discover().strategies.values(), key=lambda p: p.name)


@pytest.mark.parametrize("provided", STRATEGIES, ids=[p.name for p in STRATEGIES])
def test_every_strategy_passes_the_contract(provided):
    ran = check_strategy(provided.cls)
    assert ran[:len(CHECKS)] == list(CHECKS)
    # and again from a pretrained model without a source, unless the strategy says why it cannot start from one
    from_model = [name for name in ran[len(CHECKS):] if name.endswith("[pretrained model, no source]")]
    assert len(from_model) in (0, len(CHECKS) - 3)  # the three class-level checks run once
    # and, where it takes source_training, with the source training only a head on the pretrained trunk
    head_only = [name for name in ran if name.endswith("source_training = head]")]
    assert len(head_only) == (len(CHECKS) - 3 if "source_training" in provided.cls.param_names() else 0)


BUILTINS = {"finetune", "frozen-feature", "maml", "multitask", "augment-only", "target-only", "source-only", "lora",
            "bitfit", "source+target", "l2sp"}


def test_the_builtins_are_discovered_through_entry_points():
    assert BUILTINS <= {p.name for p in STRATEGIES}
    assert all(p.dist == "transferbench" for p in STRATEGIES if p.plugin in BUILTINS)


def test_every_builtin_cites_its_paper():
    for provided in STRATEGIES:
        if provided.name in BUILTINS - {"target-only", "source-only"}:  # the two baselines follow no paper
            assert provided.cls.citation.lstrip().startswith("@") and "year" in provided.cls.citation, provided.name


class Leaky(Strategy):
    """Breaks three rules: does work in __init__, mutates its pretrained state in adapt, batch-dependent scores."""

    name = "leaky"
    description = "A deliberately broken strategy."

    def __init__(self, scale=1.0):
        self.scale = scale
        self.calls = 0

    def pretrain(self, source, ctx):
        import torch
        self.bias_ = torch.zeros(1)

    def adapt(self, support, ctx):
        self.check_pretrained("bias_")
        self.bias_ += 1  # mutates what pretrain learned
        n = support.num_classes
        return lambda x: x.flatten(1)[:, :n] - x.flatten(1)[:, :n].mean(0)  # depends on the other queries


def test_the_battery_catches_a_broken_strategy():
    with pytest.raises(ContractError) as caught:
        check_strategy(Leaky)
    message = str(caught.value)
    assert "only store its hyperparameters" in message
    assert "adapt changed what pretrain learned" in message
    assert "depend on the other queries" in message


class Scribbler(Strategy):
    """Edits one of its input tensors in place (as an in-place normalisation would); predicts zeros."""

    name = "scribbler"
    description = "A strategy that writes into the data it is given."

    def __init__(self, edits="source"):
        self.edits = edits

    def pretrain(self, source, ctx):
        if self.edits == "source":
            source.inputs.mul_(2)

    def adapt(self, support, ctx):
        if self.edits == "support":
            support.inputs.sub_(support.inputs.mean())

        def predictor(queries):
            if self.edits == "queries":
                queries.clamp_(max=0.5)
            return torch.zeros(len(queries), support.num_classes, device=queries.device)
        return predictor


@pytest.mark.parametrize("edits, named", [("source", "source inputs"), ("support", "support inputs"),
                                          ("queries", "queries")])
def test_the_battery_catches_an_in_place_edit_of_the_inputs(edits, named):
    with pytest.raises(ContractError) as caught:
        check_strategy(Scribbler, {"edits": edits})
    assert f"changed its input tensors in place: {named}" in str(caught.value)
    check_strategy(Scribbler, {"edits": None})  # the same strategy without the edit passes


class DeviceRecorder(Strategy):
    """Records the device of its data and of ctx in each phase; predicts zeros."""

    name = "device-recorder"
    description = "A strategy that notes where its data arrives."
    seen = []  # (phase, data device, ctx.device); on the class: instances may only store hyperparameters

    def __init__(self):  # no hyperparameters
        pass

    def pretrain(self, source, ctx):
        self.seen.append(("pretrain", source.inputs.device, ctx.device))

    def adapt(self, support, ctx):
        self.seen.append(("adapt", support.inputs.device, ctx.device))

        def predictor(queries):
            self.seen.append(("predictor", queries.device, ctx.device))
            return torch.zeros(len(queries), support.num_classes, device=ctx.device)
        return predictor


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_the_battery_hands_data_and_ctx_on_the_device_it_is_given(device):
    DeviceRecorder.seen.clear()
    check_strategy(DeviceRecorder, device=device)
    assert {phase for phase, _, _ in DeviceRecorder.seen} == {"pretrain", "adapt", "predictor"}
    assert all(data.type == ctx.type == device for _, data, ctx in DeviceRecorder.seen)


def test_check_takes_a_device_on_the_command_line(capsys):
    assert main(["check", "target-only", "--device", "cpu"]) == 0
    assert "all checks passed" in capsys.readouterr().out
