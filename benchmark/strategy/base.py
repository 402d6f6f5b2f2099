"""The strategy contract: what a plugin implements and what the runner hands it.

A strategy follows scikit-learn's estimator rules: ``__init__`` takes keyword
hyperparameters, all defaulted, and only stores them under the same names; learned
state lives on the instance. The runner makes a fresh instance per cell and calls

    strategy.pretrain(source, ctx)            # once; may do nothing
    predictor = strategy.adapt(support, ctx)  # once per task (1, or E episodes)
    scores = predictor(query_inputs)          # [n_query, n_support_classes]; raw texts if wants_texts

and scores the predictions itself: a strategy never receives query or test labels.
``adapt`` must leave what ``pretrain`` learned unchanged, because episodes are
independent and share one pretrained instance.

The source, the support set and the query inputs arrive on ``ctx.device``. They are read
only: the runner hands every cell the same tensors (on CPU ``.to(device)`` returns them
as they are), so an in-place edit would reach every later cell.
"""

import inspect
from typing import ClassVar

from benchmark.data.labelled import LabelledData
from benchmark.strategy.context import Context, Predictor, TaskSpec, seed_torch


def init_param_names(cls) -> list[str]:
    """The keyword parameters of ``cls.__init__``: a strategy's hyperparameters, a provider's options."""
    signature = inspect.signature(cls.__init__)
    return [p.name for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class Strategy:
    """Base class of every strategy. Subclasses set the class attributes and the two phases."""

    name: ClassVar[str] = ""          # unique among installed strategies: suites, records and the CLI use it
    description: ClassVar[str] = ""   # one line, shown by `transferbench list`
    citation: ClassVar[str] = ""      # BibTeX of the paper the strategy follows, for `transferbench cite`
    # The protocols it runs (benchmark.scoring.tasks); on the other, its cells are skipped with the reason recorded.
    protocols: ClassVar[frozenset[str]] = frozenset({"transfer", "episodic"})
    # Input modalities it handles: images [N, C, H, W] and/or texts [N, 2, L] (benchmark.data.text); on any
    # other it is skipped, with the reason recorded. Images only by default, so a plugin written for
    # pixels is never handed token ids; one that only trains ctx.model's trunk can declare both.
    modalities: ClassVar[frozenset[str]] = frozenset({"image"})
    # Whether it reads raw texts: on a text pair, its support set carries ``texts`` (the raw strings, row
    # for row with the token ids) and its predictor is called with the queries' raw texts
    # (``benchmark.data.text.Texts``, a tuple of str) instead of token ids. Only text pairs have them.
    wants_texts: ClassVar[bool] = False
    # Hyperparameters that make a smoke run take seconds: used by check_strategy and tests.
    quick_hparams: ClassVar[dict] = {}
    # Whether pretrain needs a source split; None: it does when the class overrides pretrain.
    # A pair with a [model] may have no source: then pretrain(None, ctx) starts from ctx.model.
    needs_source: ClassVar[bool | None] = None
    # Where a hyperparameter search draws from (benchmark.selection): {hyperparameter: optuna
    # distribution}, next to the defaults; {} (the default) searches nothing.
    search_space: ClassVar[dict] = {}
    # Whether its predictor scores the queries jointly on purpose (transductive inference: batch
    # statistics, query-set clustering). The runner checks every other strategy's queries are scored
    # independently (benchmark.scoring.query_independence) and fails its cells otherwise; a transductive
    # one is recorded as such and shown in its own section of every table, ranked only among its kind.
    transductive: ClassVar[bool] = False

    @classmethod
    def param_names(cls) -> list[str]:
        """The hyperparameters: the keyword parameters of ``__init__``, in order."""
        return init_param_names(cls)

    def get_params(self) -> dict:
        """{hyperparameter: value}, as records store them (JSON); ``cls(**get_params())`` is an equal instance."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params) -> "Strategy":
        """Set hyperparameters by name (scikit-learn's ``set_params``); an unknown name raises ``ValueError``."""
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
        if cls.wants_texts and task.modality != "text":
            return f"{cls.name} reads raw texts; this pair's inputs are {task.modality}s"
        if task.modality not in cls.modalities:
            return f"{cls.name} does not handle {task.modality} inputs (it handles {', '.join(sorted(cls.modalities))})"
        needs_source = cls.needs_source if cls.needs_source is not None else cls.pretrain is not Strategy.pretrain
        if not task.source_classes and needs_source:
            return f"{cls.name} pretrains on a source split; this pair has none (it starts from its model)"
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

    def pretrain(self, source: LabelledData | None, ctx: Context) -> None:
        """Learn from the source split (None: the pair has no source; start from ``ctx.model``).
        The default learns nothing."""

    def adapt(self, support: LabelledData, ctx: Context) -> Predictor:
        """Learn from the labelled target support set and return a predictor of its classes."""
        raise NotImplementedError(f"strategy '{self.name}' does not implement adapt")

    def adapt_episodes(self, supports: list[LabelledData], contexts: list[Context]) -> list[Predictor]:
        """Optional: adapt to E episodes at once; one predictor per support set, in order.

        The runner calls it instead of ``adapt`` (episodic protocol only) with chunks of a
        cell's episodes, when the class that defines ``adapt`` (or a subclass of it) implements
        it. It must return what ``adapt`` would: ``predictors[e]`` scores as
        ``adapt(supports[e], contexts[e])`` does after ``torch.manual_seed(contexts[e].seed)``
        (how the runner seeds torch's generator before each ``adapt``), up to floating-point
        reordering; ``check_strategy`` checks it. The default does exactly that, one by one.
        """
        predictors = []
        for support, ctx in zip(supports, contexts):
            seed_torch(ctx.seed, ctx.device)
            predictors.append(self.adapt(support, ctx))
        return predictors

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
