"""What the runner hands a strategy: the ``TaskSpec`` of a cell (shapes and class names, never
labels) and the ``Context`` of each call (device, seed, generator, scratch space, progress,
the pair's pretrained model, and ``report`` for facts about a pretraining)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

if TYPE_CHECKING:  # for the annotation only: models import the toolkit, which imports strategies' seeding
    from benchmark.models.loaded import PretrainedModel

# [N, C, H, W] images or [N, 2, L] token ids (or N raw texts, for a strategy that wants_texts) -> [N, n_classes]
Predictor = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TaskSpec:
    """What is known about a cell before any data is seen: shapes and class names, never labels."""

    protocol: str                    # "transfer" or "episodic"
    input_shape: tuple[int, ...]     # (C, H, W) every image is brought to; (2, L) for texts (ids, mask)
    source_classes: tuple[str, ...]  # the source's class names; () when the pair has no source
    target_classes: tuple[str, ...]  # all target classes (transfer) or the novel-class pool (episodic)
    n_way: int                       # classes per support set
    k_shot: int | None               # labelled examples per class; None = the whole target train split
    model: str | None = None         # the key of the model the pair starts from (ctx.model); None: own backbone
    modality: str = "image"          # "image": inputs [N, C, H, W]; "text": [N, 2, L] token ids + mask


@dataclass
class Context:
    """What the runner gives a strategy besides data."""

    device: torch.device             # where source, support and query tensors arrive; put models here
    seed: int                        # this call's seed: the cell's for pretrain, the task's (episode's) for adapt
    generator: torch.Generator       # CPU generator seeded for this call; use it for every random draw
    task: TaskSpec                   # the cell's shapes and class names, never labels
    cache_dir: Path                  # scratch space that outlives the run (OUT/SUITE/.cache); not the pretrain cache
    progress: Callable[[float], None] = field(default=lambda fraction: None)  # fraction of this phase done
    # The pair's model (benchmark.models.loaded.PretrainedModel): ``model.trunk()`` is a fresh
    # copy of the pretrained trunk [inputs -> N, D] each call. None: the strategy builds its own.
    model: "PretrainedModel | None" = None
    reported: dict = field(default_factory=dict)  # what ``report`` was told, by name

    def fork(self, seed: int, task: TaskSpec | None = None) -> "Context":
        """The same context with a fresh generator (and the cell's task), for one adapt call.
        It has its own ``reported``: facts reported while adapting are not recorded."""
        return Context(self.device, seed, torch.Generator().manual_seed(seed), task or self.task,
                       self.cache_dir, self.progress, self.model)

    def report(self, **facts) -> None:
        """Record facts about this pretraining that its hyperparameters do not say, e.g.
        ``ctx.report(episodes_run=546, final_loss=0.31, stopped_by="time budget")``.

        Call it from ``pretrain`` (a later call with the same name replaces the value). The
        runner stores the facts in every record of the cells that share this pretrained state
        (``record["reported"]``), also when the state is restored from the pretrain cache, and
        leaderboards list them in their provenance. Values must be plain data: bool, int,
        float, str, None, or a list of those; a tensor raises TypeError (use ``loss.item()``).
        Facts reported while adapting (a forked context) are not recorded: a cell has many episodes.
        """
        for name, value in facts.items():
            items = value if isinstance(value, (list, tuple)) else [value]
            if not all(item is None or isinstance(item, (bool, int, float, str)) for item in items):
                raise TypeError(f"ctx.report({name}=...): a {type(value).__name__} is not plain data; report a "
                                f"bool, int, float, str, None or a list of those (e.g. loss.item())")
            self.reported[name] = list(value) if isinstance(value, (list, tuple)) else value


def seed_torch(seed: int, device) -> None:
    """Seed torch's global generator for one ``adapt``, as ``torch.manual_seed`` would for ``device``.

    ``torch.manual_seed`` also queues a seed for every accelerator backend, recording a stack
    trace for each (3 ms per call on CPU, as much as a metric-based episode's scoring): only
    the CPU generator (layer initialisers) and that of ``device`` are seeded here.
    """
    torch.default_generator.manual_seed(seed)
    device = torch.device(device)
    if device.type != "cpu":
        getattr(torch, device.type).manual_seed_all(seed)
