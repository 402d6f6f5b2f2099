import torch

from benchmark import ClassIndex, LabelledData, episodic_tasks
from benchmark.scoring.tasks import draw_support


def pool(n_classes=12, per_class=20):
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    inputs = torch.arange(len(labels), dtype=torch.float32).reshape(-1, 1, 1, 1)  # pixel = row id
    return LabelledData(inputs, labels, tuple(f"c{i}" for i in range(n_classes)), "pool")


def test_support_has_k_distinct_examples_of_every_class_and_depends_on_the_seed():
    data = pool()
    first = draw_support(data, ClassIndex(data), 3, seed=1)
    assert torch.bincount(first.labels).tolist() == [3] * 12
    assert len(set(first.inputs.flatten().tolist())) == 36
    assert torch.equal(first.inputs, draw_support(data, ClassIndex(data), 3, seed=1).inputs)
    assert not torch.equal(first.inputs, draw_support(data, ClassIndex(data), 3, seed=2).inputs)
    assert draw_support(data, ClassIndex(data), None, seed=1) is data


def test_episodes_never_overlap_draw_only_pool_classes_and_repeat_exactly():
    data = pool()
    episodes = list(episodic_tasks(data, ClassIndex(data), n_way=5, k_shot=2, n_query=4, episodes=30, seed=0, pair="p"))
    again = list(episodic_tasks(data, ClassIndex(data), n_way=5, k_shot=2, n_query=4, episodes=30, seed=0, pair="p"))
    for task, same in zip(episodes, again):
        support_rows = set(task.support.inputs.flatten().long().tolist())
        query_rows = set(task.query_inputs.flatten().long().tolist())
        assert not support_rows & query_rows
        assert len(support_rows) == 10 and len(query_rows) == 20
        # an episode label always denotes the pool class named in support.classes
        for row, label in zip(task.support.inputs.flatten().long().tolist(), task.support.labels.tolist()):
            assert data.classes[data.labels[row]] == task.support.classes[label]
        for row, label in zip(task.query_inputs.flatten().long().tolist(), task.query_labels.tolist()):
            assert data.classes[data.labels[row]] == task.support.classes[label]
        assert torch.equal(task.query_inputs, same.query_inputs) and task.seed == same.seed
    assert len({t.support.classes for t in episodes}) > 1
