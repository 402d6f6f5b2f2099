"""The strategy contract: what a plugin implements and what the runner hands it.

A strategy follows scikit-learn's estimator rules: ``__init__`` takes keyword
hyperparameters, all defaulted, and only stores them under the same names; learned
state lives on the instance. The runner makes a fresh instance per cell and calls

    strategy.pretrain(source, ctx)            # once; may do nothing
    predictor = strategy.adapt(support, ctx)  # once per task (1, or E episodes)
    scores = predictor(query_inputs)          # [n_query, n_support_classes]

and scores the predictions itself: a strategy never receives query or test labels.
``adapt`` must leave what ``pretrain`` learned unchanged, because episodes are
independent and share one pretrained instance.

The source, the support set and the query inputs arrive on ``ctx.device``. They are read
only: the runner hands every cell the same tensors (on CPU ``.to(device)`` returns them
as they are), so an in-place edit would reach every later cell.
"""

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

import torch

from benchmark.data import LabelledData

Predictor = Callable[[torch.Tensor], torch.Tensor]  # [N, C, H, W] -> [N, n_classes] scores


@dataclass(frozen=True)
class TaskSpec:
    """What is known about a cell before any data is seen: shapes and class names, never labels."""

    protocol: str                    # "transfer" or "episodic"
    input_shape: tuple[int, int, int]  # (C, H, W) every input is brought to
    source_classes: tuple[str, ...]
    target_classes: tuple[str, ...]  # all target classes (transfer) or the novel-class pool (episodic)
    n_way: int                       # classes per support set
    k_shot: int | None               # labelled examples per class; None = the whole target train split


@dataclass
class Context:
    """What the runner gives a strategy besides data."""

    device: torch.device             # where source, support and query tensors arrive; put models here
    seed: int
    generator: torch.Generator       # CPU generator seeded for this call; use it for every random draw
    task: TaskSpec
    cache_dir: Path
    progress: Callable[[float], None] = field(default=lambda fraction: None)  # fraction of this phase done

    def fork(self, seed: int, task: TaskSpec | None = None) -> "Context":
        """The same context with a fresh generator (and the cell's task), for one adapt call."""
        return Context(self.device, seed, torch.Generator().manual_seed(seed), task or self.task,
                       self.cache_dir, self.progress)


def init_param_names(cls) -> list[str]:
    """The keyword parameters of ``cls.__init__``: a strategy's hyperparameters, a provider's options."""
    signature = inspect.signature(cls.__init__)
    return [p.name for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class Strategy:
    """Base class of every strategy. Subclasses set the class attributes and the two phases."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""   # one line, shown by `transferbench list`
    citation: ClassVar[str] = ""      # BibTeX of the paper the strategy follows, for `transferbench cite`
    protocols: ClassVar[frozenset[str]] = frozenset({"transfer", "episodic"})
    # Hyperparameters that make a smoke run take seconds: used by check_strategy and tests.
    quick_hparams: ClassVar[dict] = {}
    # Where a hyperparameter search draws from (benchmark.selection): {hyperparameter: optuna
    # distribution}, next to the defaults; {} (the default) searches nothing.
    search_space: ClassVar[dict] = {}

    @classmethod
    def param_names(cls) -> list[str]:
        return init_param_names(cls)

    def get_params(self) -> dict:
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params) -> "Strategy":
        for key, value in params.items():
            if key not in self.param_names():
                raise ValueError(f"strategy '{self.name}' has no hyperparameter '{key}'")
            setattr(self, key, value)
        return self

    @classmethod
    def supports(cls, task: TaskSpec) -> str | None:
        """None when the strategy can run this task, else the reason it is skipped."""
        if task.protocol not in cls.protocols:
            return f"{cls.name} does not run the {task.protocol} protocol"
        return None

    def pretrain_task_key(self, task: TaskSpec) -> tuple:
        """What of ``task`` (beyond the input shape) ``pretrain`` reads; () when nothing.

        Cells whose keys differ cannot share one pretrained state: e.g. MAML meta-trains on
        episodes of the target's N-way K-shot shape unless its hyperparameters fix the shape.
        """
        return ()

    def pretrain_identity(self) -> tuple[str, dict]:
        """(what pretrains, the hyperparameters it reads): the pretrain cache keys on these.

        Strategies whose identities match share one cached state, so a shared identity must
        name code whose state each of them restores. The default, this class and all its
        hyperparameters, shares nothing and is always safe.
        """
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}", self.get_params()

    def pretrain(self, source: LabelledData, ctx: Context) -> None:
        """Learn from the source split. The default learns nothing."""

    def adapt(self, support: LabelledData, ctx: Context) -> Predictor:
        """Learn from the labelled target support set and return a predictor of its classes."""
        raise NotImplementedError(f"strategy '{self.name}' does not implement adapt")

    def adapt_notes(self) -> dict:
        """What the last ``adapt`` decided that its hyperparameters do not say (e.g. finetune's
        head under head="auto"), as plain data; the runner stores it in the record. Default: {}."""
        return {}

    def pretrained_state(self) -> dict | None:
        """Everything ``pretrain`` learned, as tensors and plain data, or None (the default)
        when the strategy does not support caching.

        The runner saves it with ``torch.save`` and restores it, in a fresh instance with
        the same hyperparameters, through ``load_pretrained_state``; it is loaded with
        ``torch.load(weights_only=True)``, so it may hold only tensors, numbers, strings,
        and lists / tuples / dicts of those (a ``state_dict()`` qualifies).
        """
        return None

    def load_pretrained_state(self, state: dict, ctx: Context) -> None:
        """Restore what ``pretrained_state`` returned, on ``ctx.device``, instead of pretraining."""
        raise NotImplementedError(f"strategy '{self.name}' cannot restore a pretrained state")

    def check_pretrained(self, *attributes: str) -> None:
        """Raise a clear error when adapt runs before pretrain set ``attributes``."""
        missing = [a for a in attributes if not hasattr(self, a)]
        if missing:
            raise RuntimeError(f"strategy '{self.name}': adapt called before pretrain (no {', '.join(missing)})")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
