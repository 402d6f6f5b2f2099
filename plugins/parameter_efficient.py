"""What ``lora`` and ``bitfit`` share: a trunk whose normalisation statistics stay as pretrained.

Both adapt a copy of the pretrained trunk in which only a few parameters move. BatchNorm's
running statistics are buffers, not parameters: in training mode they would drift towards
the support set's, changing the base network by another door. ``FrozenNorms`` keeps every
BatchNorm layer in eval mode whatever ``train()`` says, so the base network is exactly the
pretrained one and only the chosen parameters (and the new head) change.
"""

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class FrozenNorms(nn.Module):
    """Wraps a trunk [inputs -> N, D]; its BatchNorm layers always normalise with the running statistics."""

    def __init__(self, trunk: nn.Module):
        super().__init__()
        self.trunk = trunk

    def train(self, mode: bool = True):
        super().train(mode)
        for module in self.trunk.modules():
            if isinstance(module, _BatchNorm):
                module.eval()
        return self

    def forward(self, inputs):
        return self.trunk(inputs)


def trainable_only(module: nn.Module, keep) -> list[str]:
    """Freeze every parameter of ``module`` whose name ``keep(name)`` rejects; the names left trainable."""
    kept = []
    for name, parameter in module.named_parameters():
        parameter.requires_grad_(bool(keep(name)))
        if parameter.requires_grad:
            kept.append(name)
    return kept
