"""The networks every built-in strategy shares: a trunk that makes features and a linear head.

Keeping trunk and head apart makes "freeze the trunk" and "new head" mean the same
thing in every strategy. Backbones (input [N, C, H, W] -> features [N, D]):

    lenet     two 5x5 conv blocks + a 128-unit layer; for small digits (< 28 px)
    conv4     four 3x3 conv blocks of ``hidden`` channels, as in Vinyals et al. 2016 and Finn et al.
              2017 but with ceil-mode pooling: 28 px ends at 2x2 (4 * hidden features), not at 1x1
    resnet18  torchvision's ResNet-18, weights=None (nothing is downloaded); for larger images

Normalisation layers (``norm``):

    batch     BatchNorm with running statistics (the default): batch statistics while
              training, running statistics at prediction time, so each query is scored alone
    support   BatchNorm whose statistics are those of the last batch seen in training mode
              (MetaBN, Bronskill et al. 2020): a strategy passes the support set through last in
              training mode, then predicts in eval mode, so queries are normalised with the
              support set's statistics, each query alone. MAML uses it (see plugins/maml.py)
    layer     GroupNorm with one group (layer norm over C, H, W of each example): no batch
              dependence and no buffers
    none      no normalisation
"""

import math

import torch
from torch import nn


class Classifier(nn.Module):
    """A trunk and a linear head: inputs -> features [N, D] -> scores [N, num_classes].

    ``Classifier(trunk, feature_dim, num_classes)``: ``trunk`` maps a batch of inputs (images
    [N, C, H, W], token ids [N, 2, L]) to features [N, feature_dim]; ``head`` is a new
    ``nn.Linear(feature_dim, num_classes)`` (PyTorch's default initialisation, drawn from torch's
    global generator: the runner seeds it before each ``adapt``). The output is unnormalised
    scores (logits) [N, num_classes], what ``fit``'s cross-entropy and the runner expect.

    ``trunk`` and ``head`` are attributes, so a strategy can freeze, replace or regularise either
    (a linear probe trains ``head`` alone; fine-tuning trains both; finetune's head "reuse"
    assigns a copy of source rows to ``head``). ``parameter_groups()`` names their parameters,
    for a penalty or an optimiser that treats them apart (L2-SP, plugins/l2sp.py).
    """

    def __init__(self, trunk: nn.Module, feature_dim: int, num_classes: int):
        super().__init__()
        self.trunk, self.feature_dim = trunk, feature_dim
        self.head = nn.Linear(feature_dim, num_classes)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(inputs))  # [N, C, H, W] -> [N, D] -> [N, num_classes]

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """{"trunk": the trunk's parameters, "head": the head's}, each in ``named_parameters`` order.

        Read at call time, so a replaced ``head`` or ``trunk`` is the one listed. Every parameter
        is listed, trainable or not (``requires_grad`` says which: lora and bitfit freeze most of
        the trunk); the two lists hold all of ``parameters()`` between them. Each list keeps a
        fixed order: a snapshot ``[w.detach().clone() for w in groups["trunk"]]`` zips with a later
        call's list, and ``[{"params": ps, "lr": ...} for ps in groups.values()]``
        gives ``torch.optim`` one parameter group per part.
        """
        return {"trunk": list(self.trunk.parameters()), "head": list(self.head.parameters())}


NORMS = ("batch", "support", "layer", "none")


class ConvTrunk(nn.Sequential):
    """``nn.Sequential`` of conv blocks that runs in channels-last memory on the CPU.

    oneDNN's max_pool2d and batch_norm on CPU are several times slower on NCHW tensors
    than on NHWC ones (bench/results/episodes_profile_*.txt: max pooling of NCHW queries
    took half the convolutions' time; channels-last: a conv4 forward of 75 Omniglot queries
    73 -> 37 ms, a 5-image training step 10 -> 6.4 ms, one core). Converting the input is
    enough: a convolution's output follows its input's layout and the element-wise layers
    keep it. Only the layout changes: the values, the parameters' names and shapes, and
    the flattened feature order (nn.Flatten reads the logical [N, C, H, W] order) are
    those of an ``nn.Sequential``, up to floating-point reordering inside the kernels.
    GPUs keep the default layout (not measured there). Inside ``torch.func.vmap`` the
    layout cannot be queried, so batched tensors pass unchanged (``benchmark.toolkit.batched``
    runs the built-in trunks as grouped convolutions instead, channels-last too).
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() == 4 and inputs.device.type == "cpu" and not torch._C._functorch.is_batchedtensor(inputs):
            inputs = channels_last(inputs)
        return super().forward(inputs)


def channels_last(images: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] in channels-last memory. One channel (Omniglot, digits) is a view with the
    channels-last strides: a contiguous [N, 1, H, W] already counts as channels-last, so
    ``contiguous(memory_format=...)`` would return it as it is, with NCHW strides, and the
    convolution would keep NCHW (measured: its output stayed NCHW)."""
    if images.shape[1] == 1:
        count, _, height, width = images.shape
        return images.contiguous().as_strided(images.shape, (height * width, 1, width, 1))
    return images.contiguous(memory_format=torch.channels_last)


class SupportBatchNorm(nn.Module):
    """BatchNorm2d that normalises by the statistics of the last batch it saw in training mode.

    Training mode: a batch [N, C, H, W] is normalised by its own per-channel mean and
    variance, which are kept (as tensors in the autograd graph, so second-order
    meta-gradients flow through them). Eval mode: every input is normalised by the kept
    statistics, so an example's output does not depend on the others in its batch. No
    buffers: the statistics belong to the module object, so a learn2learn clone keeps its own.
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps
        self.statistics = None  # (mean, variance), each [1, C, 1, 1]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.training:
            variance, mean = torch.var_mean(inputs, dim=(0, 2, 3), unbiased=False, keepdim=True)
            self.statistics = (mean, variance)
        elif self.statistics is None:
            raise RuntimeError("SupportBatchNorm in eval mode has no statistics: pass the support set through "
                               "in training mode first")
        mean, variance = self.statistics
        scale = torch.rsqrt(variance + self.eps) * self.weight[None, :, None, None]
        return (inputs - mean) * scale + self.bias[None, :, None, None]


def norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "support":
        return SupportBatchNorm(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm '{norm}'; choose one of {NORMS}")


def conv_block(in_channels: int, out_channels: int, kernel: int, norm: str = "batch") -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2),
                         norm_layer(norm, out_channels), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))


def lenet(channels: int, norm: str = "batch") -> tuple[nn.Module, int]:
    # [N, C, H, W] -> [N, 64, H/4, W/4] -> pooled to [N, 64, 4, 4] so any size >= 4 px fits
    trunk = ConvTrunk(conv_block(channels, 32, 5, norm), conv_block(32, 64, 5, norm), nn.AdaptiveAvgPool2d(4),
                      nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU())
    return trunk, 128


def conv4(channels: int, size: tuple[int, int], hidden: int = 64, norm: str = "batch") -> tuple[nn.Module, int]:
    trunk = ConvTrunk(*(conv_block(channels if i == 0 else hidden, hidden, 3, norm) for i in range(4)),
                      nn.Flatten())
    # The flattened size, by arithmetic: a forward pass here would run in training mode and
    # leave BatchNorm running statistics (and SupportBatchNorm's) set from a dummy input.
    # Padded 3x3 convolutions keep H x W; each ceil-mode 2x2 pool halves it, rounding up:
    # 28 px -> 14, 7, 4, 2 (2x2); 84 px -> 42, 21, 11, 6 (6x6).
    height, width = size
    for _ in range(4):
        height, width = math.ceil(height / 2), math.ceil(width / 2)
    return trunk, hidden * height * width


def resnet18(channels: int, norm: str = "batch") -> tuple[nn.Module, int]:
    norm_layer(norm, 1)  # validates the name before building
    import torchvision  # here: importing torchvision costs ~1.5 s (it loads torch._dynamo), the CLI's fail-fast path skips it

    net = torchvision.models.resnet18(weights=None, norm_layer=lambda width: norm_layer(norm, width))
    if channels != 3:
        net.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    feature_dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, feature_dim


BACKBONES = ("lenet", "conv4", "resnet18")


def default_backbone(input_shape: tuple[int, int, int]) -> str:
    smallest = min(input_shape[1:])
    return "lenet" if smallest < 28 else "conv4" if smallest <= 84 else "resnet18"


def build_trunk(input_shape: tuple[int, int, int], backbone: str | None = None, hidden: int = 64,
                norm: str = "batch"):
    """(trunk, feature_dim) for inputs of ``input_shape`` (C, H, W); the default follows the image size."""
    name = backbone or default_backbone(input_shape)
    channels, size = input_shape[0], tuple(input_shape[1:])
    if name == "lenet":
        return lenet(channels, norm)
    if name == "conv4":
        return conv4(channels, size, hidden, norm)
    if name == "resnet18":
        return resnet18(channels, norm)
    raise ValueError(f"unknown backbone '{name}'; choose one of {BACKBONES}")


def build_classifier(input_shape, num_classes: int, backbone: str | None = None, hidden: int = 64,
                     norm: str = "batch") -> Classifier:
    """A ``Classifier`` of ``build_trunk(input_shape, backbone, hidden, norm)`` and a new head of ``num_classes``."""
    trunk, feature_dim = build_trunk(input_shape, backbone, hidden, norm)
    return Classifier(trunk, feature_dim, num_classes)
