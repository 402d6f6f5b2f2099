"""Batched episodic evaluation: the runner hands a strategy chunks of episodes (``adapt_episodes``).

    for chunk of the cell's episodes (at most ``chunk_size`` of them):
        predictors = strategy.adapt_episodes([task.support ...], [ctx.fork(task.seed) ...])
        scores of each predictor on its own episode's queries -> metrics, episode by episode

The episodes, their seeds and their order are exactly those of the serial loop
(``benchmark.scoring.tasks.episodic_tasks``), so a strategy whose ``adapt_episodes`` equals its
``adapt`` (the contract; ``check_strategy`` tests it) gets the same record either way.
"""

import torch

from benchmark.scoring import metrics as metric_fns
from benchmark.strategy.base import Strategy

# Bound on the episode data (support and query inputs) one chunk holds; the strategy bounds
# its own working memory within a chunk (benchmark.toolkit.batched.TRAIN_MEMORY_BYTES for the built-ins).
CHUNK_MEMORY_BYTES = 256 * 2 ** 20
MAX_CHUNK = 200  # episodes: beyond this a chunk gains nothing and delays the first scores


def defining_class(cls: type, method: str) -> type:
    return next(klass for klass in cls.__mro__ if method in vars(klass))


def batches_episodes(cls: type) -> bool:
    """Whether ``cls`` adapts episodes in batches of its own: it implements ``adapt_episodes``, in
    the class that defines its ``adapt`` or a subclass of it. A subclass that overrides only
    ``adapt`` (e.g. of finetune) must not inherit a batched version of its parent's ``adapt``."""
    owner = defining_class(cls, "adapt_episodes")
    return owner is not Strategy and issubclass(owner, defining_class(cls, "adapt"))


def chunk_size(episodes: int, episode_bytes: int, budget: int = CHUNK_MEMORY_BYTES) -> int:
    """Episodes per chunk: as many as ``budget`` bytes of episode data hold, 1 to ``MAX_CHUNK``."""
    return max(1, min(episodes, MAX_CHUNK, budget // max(1, episode_bytes)))


def score_episodes(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int,
                   class_names=None) -> list[dict[str, float]]:
    """``metrics.score`` of E episodes in one call: predicted, labels [E, Q] int64 -> E metric dicts,
    each equal to ``metrics.score(predicted[e], labels[e], num_classes, class_names)``."""
    count, queries = labels.shape
    offsets = torch.arange(count, device=labels.device)[:, None] * num_classes ** 2  # [E, 1]
    confusion = torch.bincount((offsets + labels * num_classes + predicted).flatten(),
                               minlength=count * num_classes ** 2)
    confusion = confusion.reshape(count, num_classes, num_classes).double()  # [E, true, predicted]
    true_positive = confusion.diagonal(dim1=1, dim2=2)
    support = confusion.sum(dim=2)
    predicted_count = confusion.sum(dim=1)
    recall = torch.where(support > 0, true_positive / support.clamp(min=1), 0.0)
    f1_denominator = support + predicted_count
    f1 = torch.where(f1_denominator > 0, 2 * true_positive / f1_denominator.clamp(min=1), 0.0)
    columns = {"accuracy": (true_positive.sum(dim=1) / max(queries, 1)).tolist(),
               "macro_f1": f1.mean(dim=1).tolist(), "macro_recall": recall.mean(dim=1).tolist()}
    assert tuple(columns) == metric_fns.METRICS
    for index, name in enumerate(class_names or ()):
        columns[metric_fns.class_recall(name)] = recall[:, index].tolist()
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def evaluate_in_chunks(strategy, ctx, tasks, spec, device, chunk: int, predict, done=None) -> list[dict]:
    """Per-episode metrics of ``tasks`` (an iterator of ``protocol.Task``), adapted ``chunk`` at a time.

    ``predict(predictor, inputs, n_classes, device)`` is the runner's checked prediction
    (``benchmark.run.cell.predict``); ``ctx`` is the cell's context, forked per episode;
    ``done(episodes scored so far)``, when given, is told after each chunk (the progress line).
    """
    per_task, tasks = [], iter(tasks)
    while batch := [task for _, task in zip(range(chunk), tasks)]:
        contexts = [ctx.fork(task.seed, spec) for task in batch]
        predictors = strategy.adapt_episodes([task.support.to(device) for task in batch], contexts)
        if len(predictors) != len(batch):
            raise ValueError(f"adapt_episodes returned {len(predictors)} predictors for {len(batch)} episodes")
        num_classes = batch[0].support.num_classes
        predicted = torch.stack([predict(predictor, task.query_inputs, num_classes, device).argmax(dim=1)
                                 for predictor, task in zip(predictors, batch)])        # [E, Q]
        per_task += score_episodes(predicted, torch.stack([task.query_labels for task in batch]), num_classes)
        if done is not None:
            done(len(per_task))
    return per_task
