"""One cell: every task of a budget adapted to and scored, as an ``Outcome``.

    for task in tasks(pair, budget, seed):            # 1 task (transfer) or E episodes
        predictor = strategy.adapt(task.support, ctx)
        metrics(predictor(task.query_inputs), task.query_labels)
    the scores and labels of every task, kept: the record's predictions file (benchmark.scoring.predictions)

The runner scores: a strategy never sees query labels. Anything it does wrong (raises, returns
bad scores, scores queries jointly undeclared, exceeds the cell timeout) becomes a failed
outcome; ``NotApplicable`` a skipped one.
"""

import time

import torch

from benchmark.errors import NotApplicable
from benchmark.records import prediction_files
from benchmark.run.jobs import Job, Settings
from benchmark.run.prepare import PreparedPair
from benchmark.run.recording import Outcome, failure, skipped
from benchmark.run.timeout import CellTimeout, time_limit
from benchmark.scoring import episodes, predictions, query_independence
from benchmark.scoring import metrics as metric_fns
from benchmark.scoring import tasks as task_protocols
from benchmark.scoring.aggregate import summarise
from benchmark.strategy.context import Context, seed_torch
from benchmark.toolkit.training import forward_in_batches

# What a strategy may raise and still only fail its own cells: a sys.exit() in a plugin must not
# end the suite. KeyboardInterrupt is not here: Ctrl-C stops the run (every finished cell is kept).
STRATEGY_FAILURES = (Exception, CellTimeout, SystemExit)


class QueryDependence(ValueError):
    """A predictor that scores queries jointly in a strategy that does not declare itself transductive."""


def predict(predictor, inputs, n_classes: int, device) -> torch.Tensor:
    """Scores [N, n_classes] on CPU, computed in batches without gradients; checked for shape and NaN.
    ``inputs``: images / token ids [N, ...], or raw texts (``benchmark.data.text.Texts``)."""
    # Each batch goes to the device and its scores come back: the device never holds the whole split.
    scores = forward_in_batches(lambda batch: predictor(batch.to(device)).detach().float().cpu(), inputs)
    if scores.shape != (len(inputs), n_classes):
        raise ValueError(f"predictor returned scores of shape {tuple(scores.shape)}, "
                         f"expected {(len(inputs), n_classes)}")
    if not torch.isfinite(scores).all():
        raise ValueError("predictor returned NaN or infinite scores")
    return scores


def tasks(settings: Settings, prepared: PreparedPair, seed: int, budget):
    if settings.protocol == "episodic":
        return task_protocols.episodic_tasks(prepared.pool, prepared.pool_index, prepared.pair.ways, budget,
                                             prepared.pair.queries, settings.episodes, seed, prepared.pair.name)
    return task_protocols.transfer_tasks(prepared.pool, prepared.pool_index, prepared.test, budget, seed,
                                         prepared.pair.name)


def episode_chunk(settings: Settings, prepared: PreparedPair, budget) -> int:
    """Episodes per ``adapt_episodes`` call: the setting's, else what the memory bound holds."""
    if settings.episode_chunk:
        return settings.episode_chunk
    pool = prepared.pool.inputs
    rows = prepared.pair.ways * (budget + prepared.pair.queries)  # support + query inputs of one episode
    return episodes.chunk_size(settings.episodes, rows * pool[0].numel() * pool.element_size())


def run_cell(strategy, ctx: Context, job: Job, prepared: PreparedPair, settings: Settings, budget,
             pretrain_share: float, cache_status, episodes_done=None) -> Outcome:
    """One cell's outcome. ``episodes_done(n)``, when given, is told the tasks scored so far."""
    done = episodes_done or (lambda n: None)
    started = time.perf_counter()
    spec = prepared.task_spec(settings.protocol, budget)
    device = torch.device(settings.device)
    per_task = []
    wants_texts = bool(getattr(type(strategy), "wants_texts", False))  # raw texts, not token ids
    batched = settings.batched and settings.protocol == "episodic" and episodes.batches_episodes(type(strategy)) \
        and not wants_texts
    checked = bool(getattr(type(strategy), "transductive", False))  # declared: scores jointly on purpose, ranked apart
    transfer = settings.protocol == "transfer"
    # What every task was scored from, in task order: scores [Q, C] and labels [Q], kept in the record's file.
    kept_scores, kept_labels, class_names = [], [], ()

    def predict_checked(predictor, inputs, n_classes, device):
        """``predict``; the cell's first task also checks its queries are scored independently (cheap)."""
        nonlocal checked
        scores = predict(predictor, inputs, n_classes, device)
        if not checked:
            checked = True
            problem = query_independence.dependence(predictor, inputs, scores, device)
            if problem:
                raise QueryDependence(problem)
        kept_scores.append(scores)
        return scores

    def labels_kept(all_tasks):
        """The tasks, each one's labels kept as it is handed out: a chunk's tasks are scored in the order drawn."""
        for task in all_tasks:
            kept_labels.append(task.query_labels)
            yield task
    try:
        with time_limit(settings.cell_timeout, f"cell {job.describe(budget)}"):
            if batched:
                drawn = labels_kept(tasks(settings, prepared, job.seed, budget))
                per_task = episodes.evaluate_in_chunks(strategy, ctx, drawn, spec, device,
                                                       episode_chunk(settings, prepared, budget),
                                                       predict_checked, done)
            else:
                predicted = []  # [Q] per task, scored together (episodes.score_episodes)
                for task in labels_kept(tasks(settings, prepared, job.seed, budget)):
                    task_ctx = ctx.fork(task.seed, spec)
                    seed_torch(task.seed, device)
                    support, queries = task.for_strategy(wants_texts)
                    predictor = strategy.adapt(support.to(device), task_ctx)
                    scores = predict_checked(predictor, queries, task.support.num_classes, device)
                    predicted.append(scores.argmax(dim=1))
                    done(len(predicted))
                # Per-class recall only where a label is a class (transfer); an episode's are renumbered.
                class_names = tuple(task.support.classes) if transfer else ()
                per_task = episodes.score_episodes(torch.stack(predicted), torch.stack(kept_labels),
                                                   task.support.num_classes, class_names or None)
                if transfer and task.support.num_classes == 2:  # threshold-free, for unequal classes
                    for metrics, task_scores, task_labels in zip(per_task, kept_scores, kept_labels):
                        area = metric_fns.auroc(task_scores, task_labels)
                        if area is not None:
                            metrics["auroc"] = area
            notes = strategy.adapt_notes() or None  # e.g. which head finetune started from
    except NotApplicable as reason:
        return skipped(job, reason)
    except STRATEGY_FAILURES as error:
        return failure(error, time.perf_counter() - started + pretrain_share)
    per_episode = {"accuracy": [round(t["accuracy"], 6) for t in per_task]} if len(per_task) > 1 else None
    kept = predictions.from_scores(torch.stack(kept_scores).numpy(), torch.stack(kept_labels).cpu().numpy(),
                                   class_names)  # [T, Q, C], [T, Q]; class names: transfer only
    return Outcome("ok", round(time.perf_counter() - started + pretrain_share, 4), metrics=summarise(per_task),
                   per_episode=per_episode, adapt_notes=notes, batched=batched,
                   pretrain_s=round(pretrain_share, 4), pretrain_cache=cache_status,
                   predictions=prediction_files.pending(kept))
