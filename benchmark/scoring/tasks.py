"""The two evaluation protocols: which support sets a strategy adapts on and which queries are scored.

transfer:  one task per cell: k labelled examples per class drawn (per seed) from the
           target pool; the query is the whole target test split.
episodic:  E N-way K-shot episodes with Q queries per class drawn from the novel-class
           pool. Episode seeds depend on the pair, shot and seed only, never on the
           strategy, so every strategy is scored on the same episodes (paired comparison).
"""

import hashlib
from dataclasses import dataclass

import torch

from benchmark.data.labelled import LabelledData
from benchmark.data.text import Texts


def derive_seed(*parts) -> int:
    """A stable 63-bit seed from any printable parts (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class Task:
    support: LabelledData        # what adapt receives
    query_inputs: torch.Tensor   # [Q, C, H, W]: what the predictor receives
    query_labels: torch.Tensor   # [Q]: kept by the runner for scoring, never passed to a strategy
    seed: int                    # seeds adapt's generator
    query_texts: Texts | None = None  # [Q] raw texts (text pairs): what a strategy that wants_texts is given

    def for_strategy(self, wants_texts: bool) -> tuple[LabelledData, "torch.Tensor | Texts"]:
        """(support, queries) as the strategy reads them: raw texts where it declares ``wants_texts``
        and the pair has them, else token ids / images, and a support without texts."""
        if wants_texts and self.query_texts is not None:
            return self.support, self.query_texts
        return self.support.without_texts(), self.query_inputs


class ClassIndex:
    """Positions of each class in a dataset, computed once and reused by every draw."""

    def __init__(self, data: LabelledData):
        order = torch.argsort(data.labels, stable=True)
        counts = torch.bincount(data.labels, minlength=data.num_classes).tolist()
        self.members = list(torch.split(order, counts))  # members[c]: [count_c] positions

    def min_count(self) -> int:
        return min(len(m) for m in self.members)


def draw_support(pool: LabelledData, index: ClassIndex, k_shot: int | None, seed: int) -> LabelledData:
    """k examples of every class without replacement (all of the pool when k is None)."""
    if k_shot is None:
        return pool
    generator = torch.Generator().manual_seed(seed)
    chosen = [members[torch.randperm(len(members), generator=generator)[:k_shot]] for members in index.members]
    return pool.subset(torch.sort(torch.cat(chosen)).values, name=f"{pool.name} ({k_shot}-shot)")


def transfer_tasks(pool, index, test: LabelledData, k_shot, seed: int, pair: str):
    task_seed = derive_seed("transfer", pair, k_shot, seed)
    support = draw_support(pool, index, k_shot, task_seed)
    yield Task(support, test.inputs, test.labels, task_seed, Texts(test.texts) if test.texts is not None else None)


def episodic_tasks(pool: LabelledData, index: ClassIndex, n_way: int, k_shot: int, n_query: int,
                   episodes: int, seed: int, pair: str):
    """Yield ``episodes`` tasks; support labels are 0..n_way-1 in the order the classes were drawn.

    Each episode's draws come from a generator seeded with its own seed (one generator object,
    reseeded: the draws are those of a fresh one), so episode e is the same however many are drawn.
    """
    support_labels = torch.arange(n_way).repeat_interleave(k_shot)  # [N*K], the same every episode
    query_labels = torch.arange(n_way).repeat_interleave(n_query)    # [N*Q]
    generator = torch.Generator()
    for episode in range(episodes):
        episode_seed = derive_seed("episode", pair, n_way, k_shot, n_query, seed, episode)
        generator.manual_seed(episode_seed)
        classes = torch.randperm(pool.num_classes, generator=generator)[:n_way].tolist()
        picked = torch.stack([index.members[c][torch.randperm(len(index.members[c]), generator=generator)
                                               [:k_shot + n_query]] for c in classes])  # [N, K+Q] pool rows
        support_rows, query_rows = picked[:, :k_shot].flatten(), picked[:, k_shot:].flatten()
        texts = pool.texts
        support = LabelledData(pool.inputs[support_rows], support_labels, tuple(pool.classes[c] for c in classes),
                               f"{pool.name} episode {episode}",
                               None if texts is None else tuple(texts[i] for i in support_rows.tolist()))
        yield Task(support, pool.inputs[query_rows], query_labels, episode_seed,
                   None if texts is None else Texts(texts[i] for i in query_rows.tolist()))
