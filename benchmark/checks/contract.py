"""The public contract battery: ``check_strategy(MyStrategy)``.

The same checks every built-in passes, for a plugin author to run on their own class
(like scikit-learn's ``check_estimator``). They run on real data that ships with
scikit-learn (``load_digits``), brought to 1x16x16, with the class's ``quick_hparams``, on
CPU unless told otherwise (the data is moved to the device, as the runner moves it).

    from benchmark.checks.contract import check_strategy
    check_strategy(MyStrategy)                  # raises ContractError listing every failed check
    check_strategy(MyStrategy, device="cuda")   # the same checks with the data and ctx.device on a GPU
    check_strategy(MyStrategy, full=True)       # also the determinism check with its real pretraining

Every check on data runs twice: on the strategy's own backbone, and from a pretrained model
(``ctx.model``: a builtin lenet with fixed weights) with no source split, as a pair with a
``[model]`` table and no source runs it (``pretrain(None, ctx)``). A strategy that cannot
start from a model says so in ``supports`` and is not checked there. The model + source case
(intermediate-task transfer) is checked for prediction shapes.

Texts get the same checks: packed token ids [N, 2, L] (``benchmark.data.text``) of a small
corpus written here, through a static token embedding with fixed weights as ``ctx.model``,
with a source split and without one. A strategy that does not handle texts says so through
``modalities`` and is not checked there.
"""

import copy
import inspect
import itertools
import json
import tempfile
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Callable

import torch

from benchmark.data import shifts
from benchmark.data.labelled import LabelledData
from benchmark.data.text import Texts
from benchmark.errors import NotApplicable
from benchmark.run.timeout import CellTimeout, time_limit
from benchmark.scoring import query_independence
from benchmark.strategy.base import Strategy
from benchmark.strategy.context import Context, TaskSpec
from benchmark.suite.spec import TASK_PROTOCOLS


class ContractError(AssertionError):
    """One or more contract checks failed; the message lists each with its reason."""


@dataclass
class Case:
    """A small task: source to pretrain on, a labelled support set, unlabelled queries, all on ``device``."""

    task: TaskSpec
    source: LabelledData
    support: LabelledData
    query: torch.Tensor   # [Q, 1, 16, 16] (texts: [Q, 2, 8]); its labels are never needed by any check
    device: torch.device = torch.device("cpu")  # the strategy's ctx.device
    model: object | None = None  # ctx.model (a PretrainedModel); None: the strategy's own backbone
    label: str = ""
    progress: Callable[[str, float], None] | None = None  # (phase, fraction): what ctx.progress reports
    query_texts: Texts | None = None  # texts: the queries' raw strings [Q]

    def for_strategy(self, cls) -> "Case":
        """The case as the runner hands it to ``cls``: raw texts where it ``wants_texts``, else none."""
        if getattr(cls, "wants_texts", False) and self.query_texts is not None:
            return dataclass_replace(self, query=self.query_texts)
        source = self.source.without_texts() if self.source is not None else None
        return dataclass_replace(self, source=source, support=self.support.without_texts())

    def to(self, device: torch.device) -> "Case":
        """The case with its data on ``device``, as the runner moves a cell's data to ctx.device."""
        return dataclass_replace(self, source=self.source.to(device) if self.source is not None else None,
                                 support=self.support.to(device), query=self.query.to(device), device=device)

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor a strategy receives, by name."""
        source = {"source inputs": self.source.inputs, "source labels": self.source.labels} if self.source else {}
        queries = {"queries": self.query} if isinstance(self.query, torch.Tensor) else {}
        return {**source, "support inputs": self.support.inputs, "support labels": self.support.labels, **queries}


def _digits(classes: range, split: str) -> LabelledData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target)
    rows = torch.nonzero(torch.isin(labels, torch.tensor(list(classes)))).flatten()
    rows = rows[: len(rows) // 2] if split == "a" else rows[len(rows) // 2:]
    remap = {c: i for i, c in enumerate(classes)}
    return LabelledData(shifts.to_shape(images[rows], 1, (16, 16)),
                        torch.tensor([remap[int(label)] for label in labels[rows]]),
                        tuple(str(c) for c in classes), f"digits {list(classes)}")


def basic_cases() -> list[Case]:
    """New-class transfer, shared-label transfer and a 5-way 2-shot episode, in that order."""
    cases = []
    for source_classes, target_classes, protocol in ((range(0, 5), range(5, 10), "transfer"),
                                                    (range(0, 10), range(0, 10), "transfer"),
                                                    (range(0, 5), range(5, 10), "episodic")):
        source, target = _digits(source_classes, "a"), _digits(target_classes, "b")
        generator = torch.Generator().manual_seed(0)
        order = torch.randperm(len(target), generator=generator)
        support_rows = torch.cat([order[target.labels[order] == c][:2] for c in range(target.num_classes)])
        task = TaskSpec(protocol, (1, 16, 16), source.classes, target.classes, target.num_classes, 2)
        cases.append(Case(task, source.subset(torch.arange(min(len(source), 300))),
                          target.subset(support_rows, "support"), target.inputs[order[:60]],
                          label=f"{protocol} task ({task.n_way} classes)"))
    return cases


class _ImageProvider:
    """The part of a ModelProvider a PretrainedModel uses: the toolkit's lenet for 1x16x16 inputs,
    whose 'pretrained' weights are a fixed draw (PretrainedModel builds its template under seed 0)."""

    kind = "image"

    def build(self, pretrained=True):
        from benchmark.toolkit.backbones import build_trunk

        return build_trunk((1, 16, 16), "lenet", hidden=64, norm="batch")

    def classes(self):
        return None

    def tokenizer(self):
        return None


def _pretrained_model():
    from benchmark.models.base import Preprocessing
    from benchmark.models.loaded import PretrainedModel

    return PretrainedModel(_ImageProvider(), {"key": "check:lenet"},
                           Preprocessing(1, (16, 16), source="the builtin model's channels and size"))


def _model_cases() -> list[Case]:
    """From a pretrained model: without a source split (first), and with one (intermediate-task)."""
    model, (new_classes, shared, *_) = _pretrained_model(), basic_cases()
    without = TaskSpec("transfer", (1, 16, 16), (), new_classes.task.target_classes, new_classes.task.n_way, 2,
                       model="check:lenet")
    return [Case(without, None, new_classes.support, new_classes.query, model=model,
                 label="pretrained model, no source"),
            Case(dataclass_replace(new_classes.task, model="check:lenet"), new_classes.source, new_classes.support,
                 new_classes.query, model=model, label="pretrained model + source"),
            Case(dataclass_replace(shared.task, model="check:lenet"), shared.source, shared.support,
                 shared.query, model=model, label="pretrained model + source, shared labels")]


class _TextProvider:
    """The part of a ModelProvider a PretrainedModel uses: a static token embedding (fixed draw, D = 16)
    with a word-level ``tokenizers`` tokenizer over ``vocabulary``."""

    kind = "text"

    def __init__(self, vocabulary: list[str]):
        from tokenizers import Tokenizer, models, pre_tokenizers

        from benchmark.data.text import PairTokenizer

        words = Tokenizer(models.WordLevel({word: i for i, word in enumerate(vocabulary)}, unk_token="[UNK]"))
        words.pre_tokenizer = pre_tokenizers.Whitespace()
        self.pair_tokenizer = PairTokenizer(words, {"check": "word-level"}, pad_id=0, vocab_size=len(vocabulary))
        self.weight = torch.randn(len(vocabulary), 16, generator=torch.Generator().manual_seed(0))

    def build(self, pretrained=True):
        from benchmark.data.text import StaticEmbeddingTrunk

        return StaticEmbeddingTrunk(self.weight if pretrained else torch.randn(self.weight.shape)), 16

    def classes(self):
        return None

    def tokenizer(self):
        return self.pair_tokenizer


def _text_cases() -> list[Case]:
    """Texts of 6 classes, each written with its own 5 words (and 2 shared ones): classes 3-5 the
    target, with a source of the same classes (other texts), one of classes 0-2, and none."""
    from benchmark.data.text import tokenise
    from benchmark.models.base import Preprocessing
    from benchmark.models.loaded import PretrainedModel

    words = [[f"w{c}{i}" for i in range(5)] for c in range(6)]
    provider = _TextProvider(["[PAD]", "[UNK]", "the", "and"] + [w for ws in words for w in ws])
    key = "check:static-embedding"
    model = PretrainedModel(provider, {"key": key}, Preprocessing(2, (1, 1), source="its tokenizer"))
    draw = torch.Generator().manual_seed(0)
    # The target's classes carry sentiment names, so a strategy that reads class names (a zero-shot
    # lexicon) has a task it can run; the checks never score accuracy.
    NAMES = ("topic0", "topic1", "topic2", "negative", "neutral", "positive")

    def corpus(classes: range, per_class: int, name: str) -> LabelledData:
        texts, labels = [], []
        for label, c in enumerate(classes):
            for _ in range(per_class):
                picks = torch.randint(0, 7, (6,), generator=draw).tolist()
                texts.append(" ".join((words[c] + ["the", "and"])[p] for p in picks))
                labels.append(label)
        return LabelledData(tokenise(texts, provider.pair_tokenizer.tokenizer, 8), torch.tensor(labels),
                            tuple(NAMES[c] for c in classes), name, tuple(texts))

    source, target = corpus(range(0, 3), 30, "texts 0-2"), corpus(range(3, 6), 22, "texts 3-5")
    support_rows = torch.cat([torch.nonzero(target.labels == c).flatten()[:2] for c in range(3)])
    query_rows = torch.cat([torch.nonzero(target.labels == c).flatten()[2:] for c in range(3)])
    query, query_texts = target.inputs[query_rows], Texts(target.texts[i] for i in query_rows.tolist())
    with_source = TaskSpec("transfer", (2, 8), source.classes, target.classes, 3, 2, model=key, modality="text")
    related = corpus(range(3, 6), 30, "texts 3-5 (source)")  # the target's classes, other texts
    shared = TaskSpec("transfer", (2, 8), related.classes, target.classes, 3, 2, model=key, modality="text")
    return [Case(shared, related, target.subset(support_rows, "support"), query, model=model,
                 label="texts, pretrained model + source of the same classes", query_texts=query_texts),
            Case(with_source, source, target.subset(support_rows, "support"), query, model=model,
                 label="texts, pretrained model + source", query_texts=query_texts),
            Case(dataclass_replace(with_source, source_classes=()), None, target.subset(support_rows, "support"),
                 query, model=model, label="texts, pretrained model, no source", query_texts=query_texts)]


def case_context(case: Case, seed: int, cache_dir: Path, phase: str = "adapt") -> Context:
    progress = (lambda fraction: case.progress(phase, fraction)) if case.progress else (lambda fraction: None)
    return Context(case.device, seed, torch.Generator().manual_seed(seed), case.task, cache_dir, progress,
                   case.model)


def _run(cls, hparams, case: Case, cache_dir, seed: int = 0, pretrain: bool = True):
    """Fresh instance -> pretrain -> adapt -> scores, seeded as the runner seeds."""
    strategy = cls(**hparams)
    torch.manual_seed(seed)
    if pretrain:
        strategy.pretrain(case.source, case_context(case, seed, cache_dir, "pretrain"))
    torch.manual_seed(seed + 1)
    predictor = strategy.adapt(case.support, case_context(case, seed + 1, cache_dir))
    with torch.no_grad():
        return strategy, predictor, predictor(case.query)


def _learned_state(obj, seen=None) -> dict:
    """Every tensor reachable from an instance's attributes, copied: [name -> tensor]."""
    seen = set() if seen is None else seen
    state = {}
    if id(obj) in seen:
        return state
    seen.add(id(obj))
    items = obj.state_dict().items() if isinstance(obj, torch.nn.Module) else \
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else \
        vars(obj).items() if hasattr(obj, "__dict__") and not inspect.isclass(obj) else ()
    for key, value in items:
        if isinstance(value, torch.Tensor):
            state[str(key)] = value.detach().clone()
        elif isinstance(value, (torch.nn.Module, dict, list, tuple)) or (
                hasattr(value, "__dict__") and not inspect.isclass(value) and not inspect.ismodule(value)):
            state.update({f"{key}.{k}": v for k, v in _learned_state(value, seen).items()})
    return state


def _check_class(cls, hparams):
    assert isinstance(cls.name, str) and cls.name, "class attribute 'name' must be a non-empty string"
    assert isinstance(cls.description, str) and cls.description.strip() and "\n" not in cls.description.strip(), \
        "class attribute 'description' must be one non-empty line"
    assert set(cls.protocols) <= set(TASK_PROTOCOLS) and cls.protocols, f"'protocols' must be a non-empty subset of {TASK_PROTOCOLS}"
    unknown = set(hparams) - set(cls.param_names())
    assert not unknown, f"quick_hparams name unknown hyperparameters {sorted(unknown)}"


def _check_init(cls, hparams):
    signature = inspect.signature(cls.__init__)
    no_default = [p.name for p in signature.parameters.values()
                  if p.name != "self" and p.default is inspect.Parameter.empty
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert not no_default, f"every hyperparameter needs a default; {no_default} have none"
    assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()), \
        "__init__ must list its hyperparameters (no *args / **kwargs)"
    strategy = cls()
    assert set(vars(strategy)) == set(cls.param_names()), \
        f"__init__ must only store its hyperparameters; it set {sorted(set(vars(strategy)) - set(cls.param_names()))}" \
        f" and missed {sorted(set(cls.param_names()) - set(vars(strategy)))}"
    for name, parameter in signature.parameters.items():
        if name != "self":
            assert getattr(strategy, name) is parameter.default or getattr(strategy, name) == parameter.default, \
                f"__init__ changed hyperparameter '{name}' instead of storing it"


def _check_params_roundtrip(cls, hparams):
    params = cls(**hparams).get_params()
    assert cls(**params).get_params() == params, "get_params() does not round-trip through __init__"
    json.dumps(params)  # records store hyperparameters as JSON
    try:
        cls(no_such_hyperparameter=1)
    except TypeError as error:
        assert "no_such_hyperparameter" in str(error), f"an unknown hyperparameter's error must name it: {error}"
    else:
        raise AssertionError("an unknown hyperparameter must raise TypeError")


def _check_predictions(cls, hparams, case, cache_dir):
    _, _, scores = _run(cls, hparams, case, cache_dir)
    expected = (len(case.query), case.support.num_classes)
    assert isinstance(scores, torch.Tensor), f"the predictor must return a tensor, got {type(scores).__name__}"
    assert tuple(scores.shape) == expected, f"scores have shape {tuple(scores.shape)}, expected {expected}"
    assert torch.isfinite(scores).all(), "scores contain NaN or infinity"


def _check_determinism(cls, hparams, case, cache_dir):
    _, _, first = _run(cls, hparams, case, cache_dir)
    _, _, second = _run(cls, hparams, case, cache_dir)
    assert torch.allclose(first, second, rtol=0, atol=1e-6), \
        f"two fresh instances with the same seed differ by up to {(first - second).abs().max():.3g}"


def _check_adapt_purity(cls, hparams, case, cache_dir):
    strategy, _, first = _run(cls, hparams, case, cache_dir)
    before = _learned_state(strategy)
    torch.manual_seed(1)
    again = strategy.adapt(case.support, case_context(case, 1, cache_dir))
    with torch.no_grad():
        second = again(case.query)
    after = _learned_state(strategy)
    changed = [k for k in before if k not in after or not torch.equal(before[k], after[k])]
    assert not changed and set(after) == set(before), \
        f"adapt changed what pretrain learned: {(changed or sorted(set(after) ^ set(before)))[:5]}"
    assert torch.allclose(first, second, rtol=0, atol=1e-6), "a second adapt on the same support and seed " \
        "gave different predictions: adapt must start from the pretrained state each time"


def _check_inputs_unchanged(cls, hparams, case, cache_dir):
    """The runner hands every cell the same source, pool and test tensors (on CPU ``.to(device)``
    returns them as they are), so an in-place edit would reach every later cell."""
    before = {name: tensor.clone() for name, tensor in case.tensors().items()}
    _run(cls, hparams, case, cache_dir)
    changed = [name for name, tensor in case.tensors().items() if not torch.equal(tensor, before[name])]
    assert not changed, f"pretrain, adapt or the predictor changed its input tensors in place: {', '.join(changed)}"


def _check_no_query_peeking(cls, hparams, case, cache_dir):
    """Each query is scored on its own: the query set (and so its labels) cannot leak into one score.
    The runner runs the same check on real cells (benchmark.scoring.query_independence); a strategy that
    declares itself transductive scores jointly on purpose and is ranked apart, so it is not checked."""
    if getattr(cls, "transductive", False):
        return
    _, predictor, scores = _run(cls, hparams, case, cache_dir)
    with torch.no_grad():
        reversed_order = predictor(case.query.flip(0)).flip(0)
    problem = query_independence.dependence(predictor, case.query, scores.detach().float().cpu(),
                                            case.device, alone=8)
    assert problem is None, problem
    assert torch.allclose(reversed_order, scores, atol=1e-4), "scores depend on the order of the queries"


def _check_pretrained_state_round_trip(cls, hparams, case, cache_dir):
    """What the pretrain cache relies on: a restored fresh instance predicts exactly as the original."""
    strategy, _, scores = _run(cls, hparams, case, cache_dir)
    state = strategy.pretrained_state()
    if state is None:
        return
    path = cache_dir / "state.pt"
    torch.save(state, path)
    restored = cls(**hparams)
    restored.load_pretrained_state(torch.load(path, weights_only=True), case_context(case, 0, cache_dir))
    torch.manual_seed(1)
    predictor = restored.adapt(case.support, case_context(case, 1, cache_dir))
    with torch.no_grad():
        again = predictor(case.query)
    assert torch.allclose(scores, again, rtol=0, atol=1e-6), \
        "a fresh instance restored from pretrained_state() predicts differently from the original"


def _check_adapt_before_pretrain(cls, hparams, case, cache_dir):
    if cls.pretrain is Strategy.pretrain:
        return
    try:
        _run(cls, hparams, case, cache_dir, pretrain=False)
    except Exception as error:
        assert "pretrain" in str(error), \
            f"adapt before pretrain must work or raise an error that says so; it raised {type(error).__name__}: {error}"


BATCHED_TOLERANCE = 1e-6  # float64 scores; reordering costs ~1e-11 (tests/test_batched.py says why float64)


def _check_batched_episodes(cls, hparams, case, cache_dir):
    """A strategy that implements ``adapt_episodes`` gives, per episode, the predictions ``adapt`` gives.

    Three episodes (the support set, its rows reversed, and the set again) with seeds 1, 2, 3,
    adapted one by one and together; compared in float64, where batching only reorders sums.
    """
    from benchmark.scoring.episodes import batches_episodes

    if not batches_episodes(cls) or case.model is not None:  # a model's weights are float32: checked on own backbones
        return
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        case = dataclass_replace(case, source=_double(case.source), support=_double(case.support),
                                 query=case.query.double())
        strategy = cls(**hparams)
        torch.manual_seed(0)
        strategy.pretrain(case.source, case_context(case, 0, cache_dir, "pretrain"))
        reversed_rows = torch.arange(len(case.support) - 1, -1, -1)
        supports = [case.support, case.support.subset(reversed_rows.to(case.device)), case.support]
        contexts = [case_context(case, seed, cache_dir) for seed in (1, 2, 3)]
        serial = []
        for support, ctx in zip(supports, contexts):
            torch.manual_seed(ctx.seed)
            predictor = strategy.adapt(support, ctx)
            with torch.no_grad():
                serial.append(predictor(case.query))
        predictors = strategy.adapt_episodes(supports, [case_context(case, seed, cache_dir) for seed in (1, 2, 3)])
        assert len(predictors) == len(supports), \
            f"adapt_episodes returned {len(predictors)} predictors for {len(supports)} episodes"
        with torch.no_grad():
            for episode, (predictor, alone) in enumerate(zip(predictors, serial)):
                together = predictor(case.query)
                difference = (together - alone).abs().max().item()
                assert difference <= BATCHED_TOLERANCE, \
                    f"adapt_episodes' episode {episode} scores differ from adapt's by {difference:.3g} (float64)"
    finally:
        torch.set_default_dtype(default)


def _double(data: LabelledData) -> LabelledData:
    return LabelledData(data.inputs.double(), data.labels, data.classes, data.name, data.texts)


CHECKS = {
    "class attributes": _check_class,
    "__init__ only stores defaulted hyperparameters": _check_init,
    "hyperparameters round-trip and unknown ones are named": _check_params_roundtrip,
    "predictor returns finite [n_query, n_classes] scores": _check_predictions,
    "same seed, fresh instance: same predictions": _check_determinism,
    "adapt leaves the pretrained state unchanged": _check_adapt_purity,
    "pretrain, adapt and the predictor leave their input tensors unchanged": _check_inputs_unchanged,
    "queries are scored independently (no query leakage)": _check_no_query_peeking,
    "pretrained state round-trips through torch.save / weights_only load": _check_pretrained_state_round_trip,
    "adapt before pretrain works or says so": _check_adapt_before_pretrain,
    "adapt_episodes, where implemented, predicts as adapt does": _check_batched_episodes,
}


FULL_DETERMINISM = "same seed, fresh instance: same predictions, with its full pretraining"


def check_strategy(cls: type[Strategy], hparams: dict | None = None, report=None,
                   device: str | torch.device = "cpu", *, started=None, progress=None,
                   timeout: float | None = None, full: bool | dict = False) -> list[str]:
    """Run every contract check on ``cls``; return the names of the checks run.

    :param hparams: the hyperparameters of every check; default ``cls.quick_hparams`` (those
        that make a smoke run take seconds; without them, the defaults: its full pretraining).
    :param report: ``report(name, error_or_None)``, called after each check.
    :param started: ``started(name)``, called as each check starts.
    :param progress: ``progress(phase, fraction)``, with ``phase`` "pretrain" or "adapt": what
        the strategy reports through ``ctx.progress`` during the checks.
    :param device: ctx.device, where the data arrives.
    :param timeout: seconds each check may take; one that takes longer fails, and the others
        still run (a SIGALRM timer, as ``--cell-timeout``: main thread only). None: no limit.
    :param full: also run the determinism check (two fresh instances, same seed) with the
        strategy's real pretraining, on the basic task: True for its defaults, or a dict of the
        hyperparameters to use. The other checks keep ``hparams``.
    :raises ContractError: listing every failure, each with its reason.
    """
    hparams = dict(cls.quick_hparams if hparams is None else hparams)
    checks = dict(CHECKS)
    if full is not False:
        full_hparams = dict(full) if isinstance(full, dict) else {}
        checks[FULL_DETERMINISM] = lambda cls, _, case, cache_dir: _check_determinism(cls, full_hparams, case,
                                                                                     cache_dir)
    failures, ran = [], []

    def attempt(name: str, check, args) -> BaseException | None:
        """Run one check under the timeout: None when it passes; NotApplicable passes through."""
        if started is not None:
            started(name)
        try:
            with time_limit(timeout, f"check '{name}'"):
                check(*args)
        except NotApplicable:
            raise
        except CellTimeout:
            error = TimeoutError(f"took longer than the timeout of {timeout:g} s")
            failures.append(f"{name}: {error}")
            return error
        except Exception as raised:  # a crash is as much a contract failure as a wrong answer
            failures.append(f"{name}: {type(raised).__name__ + ': ' if not isinstance(raised, AssertionError) else ''}"
                            f"{raised}")
            return raised
        return None

    with tempfile.TemporaryDirectory() as cache_dir:
        cache_dir = Path(cache_dir)

        # A plain function: deepcopy (one copy of the case per check) shares it, where it would copy
        # a bound method's object, e.g. the printer that shows the progress.
        relay = (lambda phase, fraction: progress(phase, fraction)) if progress is not None else None

        def applicable(cases):
            return [dataclass_replace(c, progress=relay).for_strategy(cls).to(torch.device(device)) for c in cases
                    if cls.supports(c.task) is None]

        runnable, modelled, texts = applicable(basic_cases()), applicable(_model_cases()), applicable(_text_cases())
        # The basic (image) case first; a strategy for texts only is checked on the text case in its place.
        primary = runnable[:1] or ([] if "image" in cls.modalities else texts[:1])
        full_cases = [(primary, "", hparams)] + [([cases[0]], f" [{cases[0].label}]", hparams)
                                                 for cases in (modelled, texts) if cases and cases[0] not in primary]
        with_source = [case for case in modelled if case.source is not None]
        if "source_training" in cls.param_names() and with_source:  # the other choice of what the source trains
            full_cases.append((with_source[:1], f" [{with_source[0].label}, source_training = head]",
                               {**hparams, "source_training": "head"}))
        for (cases, suffix, case_hparams), (name, check) in itertools.product(full_cases, checks.items()):
            needs_data = len(inspect.signature(check).parameters) > 2
            if needs_data and not cases:
                failures.append(f"{name}: the strategy supports none of the check's tasks")
                continue
            if not needs_data and suffix or name == FULL_DETERMINISM and suffix:  # once is enough
                continue
            try:
                # A copy per check: data a strategy edits in place (a failure of its own) spoils no other check.
                error = attempt(name + suffix, check,
                                (cls, case_hparams, *((copy.deepcopy(cases[0]), cache_dir) if needs_data else ())))
            except NotApplicable as reason:  # a model or modality it declines at run time: a skipped cell, not a bug
                if not suffix:  # ... but it must run its own backbone's basic case
                    failures.append(f"{name}: NotApplicable on the basic task: {reason}")
                continue
            ran.append(name + suffix)
            if report is not None:
                report(name + suffix, error)
        for case in runnable[1:] + modelled[1:] + texts[1:]:  # the other tasks it claims: shapes must hold there too
            name = f"predictions on the {case.label}"
            try:
                error = attempt(name, _check_predictions, (cls, hparams, case, cache_dir))
            except NotApplicable:
                continue
            ran.append(name)
            if report is not None:
                report(name, error)
    if failures:
        raise ContractError(f"strategy '{cls.name}' fails {len(failures)} check(s):\n  - " + "\n  - ".join(failures))
    return ran
