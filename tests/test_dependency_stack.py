"""The dependency stack is the current one: numpy 2, pandas 3, and learn2learn running on them.

learn2learn 0.2.0 is installed by scripts/setup.sh with --no-deps, because its requirement
qpth declares numpy<2 (see pyproject.toml). These tests check that what that decision relies
on holds: learn2learn's MAML and its task pipeline (MetaDataset, Taskset (alias TaskDataset) and the NWays /
KShots / LoadData / RemapLabels transforms) give correct results under the installed numpy 2,
and a pin that brings numpy 1.x or pandas 2.x back is caught here.
"""

import contextlib
import io
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# The first major of each library that the code and this suite are kept working on.
CURRENT_MAJORS = {"numpy": 2, "pandas": 3}


@pytest.fixture(scope="module")
def l2l():
    # learn2learn imports gym, which prints an unrelated deprecation notice on every import.
    with contextlib.redirect_stderr(io.StringIO()):
        import learn2learn
    return learn2learn


def project_requirements() -> list[Requirement]:
    return [Requirement(text) for text in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]]


@pytest.mark.parametrize("name", sorted(CURRENT_MAJORS))
def test_the_installed_major_is_the_current_one(name):
    installed = Version(version(name))
    assert installed.major >= CURRENT_MAJORS[name], (
        f"{name} {installed} is installed; transferbench runs on {name} {CURRENT_MAJORS[name]}.x "
        "(did a pin come back in pyproject.toml?)")


@pytest.mark.parametrize("name", ["numpy", "pandas", "pyarrow"])
def test_pyproject_admits_the_installed_version(name):
    installed = version(name)
    for requirement in project_requirements():
        if requirement.name == name:
            assert requirement.specifier.contains(installed), f"pyproject.toml: {requirement} excludes {installed}"


def test_learn2learn_is_not_a_hard_requirement():
    """Listed, its requirement qpth (numpy<2) would make pip hold the whole stack at numpy 1.x."""
    assert "learn2learn" not in {requirement.name for requirement in project_requirements()}


def test_numpy_is_the_one_imported():
    # the module actually imported, not only the installed metadata (a stale numpy on sys.path)
    assert int(np.__version__.split(".")[0]) >= CURRENT_MAJORS["numpy"]
    assert int(pd.__version__.split(".")[0]) >= CURRENT_MAJORS["pandas"]


def test_maml_adapts_by_one_gradient_step_and_meta_gradient_reaches_the_initialisation(l2l):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    inputs = torch.from_numpy(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    labels = torch.from_numpy(np.array([0, 1, 2, 0, 1, 2]))
    lr = 0.3
    maml = l2l.algorithms.MAML(net, lr=lr, first_order=False)

    learner = maml.clone()
    loss = F.cross_entropy(learner(inputs), labels)
    grads = torch.autograd.grad(loss, list(net.parameters()), retain_graph=True)
    learner.adapt(loss)
    for before, grad, after in zip(net.parameters(), grads, learner.parameters()):
        torch.testing.assert_close(after, before - lr * grad)

    # Second order: the query loss of the adapted clone has a gradient on every initial weight.
    F.cross_entropy(learner(inputs), labels).backward()
    assert all(p.grad is not None and torch.count_nonzero(p.grad) > 0 for p in net.parameters())


def test_task_transforms_sample_n_way_k_shot_tasks_with_remapped_labels(l2l):
    ways, shots, classes, per_class = 3, 2, 5, 4
    # Each example's feature is its class times 100 plus its index: the class can be read back.
    original = np.repeat(np.arange(classes), per_class)
    features = torch.from_numpy((original * 100 + np.arange(original.size)).astype(np.float32)[:, None])
    dataset = l2l.data.MetaDataset(torch.utils.data.TensorDataset(features, torch.from_numpy(original)))
    assert sorted(dataset.labels) == list(range(classes))

    tasks = l2l.data.Taskset(dataset, task_transforms=[  # TaskDataset is its deprecated alias
        l2l.data.transforms.NWays(dataset, n=ways),
        l2l.data.transforms.KShots(dataset, k=shots),
        l2l.data.transforms.LoadData(dataset),
        l2l.data.transforms.RemapLabels(dataset),
    ], num_tasks=4)
    for task in range(4):
        x, y = tasks[task]
        assert x.shape == (ways * shots, 1) and y.shape == (ways * shots,)
        true_class = (x[:, 0] // 100).long()
        # ways distinct original classes, each seen shots times, relabelled 0..ways-1 one to one
        assert sorted(torch.bincount(y).tolist()) == [shots] * ways
        assert sorted(y.unique().tolist()) == list(range(ways))
        assert len(true_class.unique()) == ways
        assert all(len(true_class[y == label].unique()) == 1 for label in range(ways))
        assert len(x[:, 0].unique()) == ways * shots  # no example drawn twice


@pytest.fixture
def without_learn2learn(monkeypatch):
    """learn2learn absent, as after a plain `pip install transferbench` (None in sys.modules: not importable)."""
    for name in ("learn2learn", "learn2learn.algorithms", "learn2learn.vision", "learn2learn.vision.datasets"):
        monkeypatch.setitem(sys.modules, name, None)


def test_maml_without_learn2learn_says_how_to_install_it(without_learn2learn):
    from plugins.maml import meta_learner

    with pytest.raises(ModuleNotFoundError, match="maml needs learn2learn 0.2.0.*scripts/setup.sh"):
        meta_learner(torch.nn.Linear(2, 2), inner_lr=0.1, first_order=True)


def test_learn2learn_provider_without_learn2learn_says_how_to_install_it(without_learn2learn):
    from benchmark import DataError
    from plugins.datasets.learn2learn_datasets import Learn2LearnDatasets

    with pytest.raises(DataError, match="provider 'learn2learn' needs learn2learn 0.2.0.*scripts/setup.sh"):
        Learn2LearnDatasets(dataset="MiniImagenet").dataset_class()
