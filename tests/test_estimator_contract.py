"""Every discovered estimator (built-in or a plugin's) keeps the estimator contract."""

import numpy as np
import pytest

from benchmark.discovery.registry import discover
from benchmark.estimators.base import Estimator
from benchmark.checks.estimator_contract import EstimatorContractError, check_estimator

REGISTRY = discover()


def test_builtins_are_discovered():
    assert {"logme", "leep", "nce", "hscore", "knn", "linear-probe"} <= set(REGISTRY.estimators)


@pytest.mark.parametrize("name", sorted(REGISTRY.estimators))
def test_contract(name):
    assert len(check_estimator(REGISTRY.estimators[name].cls)) >= 6


def test_a_nondeterministic_estimator_fails_the_contract():
    class Noisy(Estimator):
        name, description, citation = "noisy", "random scores", "@misc{x, title={x}}"

        def score(self, features, labels, source_probs=None):
            return float(np.random.default_rng().normal())

    with pytest.raises(EstimatorContractError, match="'noisy': is deterministic"):
        check_estimator(Noisy)


def test_an_estimator_writing_into_its_inputs_fails():
    class Writer(Estimator):
        name, description, citation = "writer", "centres in place", "@misc{x, title={x}}"

        def score(self, features, labels, source_probs=None):
            features -= features.mean(axis=0)
            return 0.0

    with pytest.raises(ValueError, match="read-only"):
        check_estimator(Writer)


def test_unknown_estimator_name_says_did_you_mean():
    with pytest.raises(Exception, match="unknown estimator 'logm'.*logme"):
        REGISTRY.estimator("logm")
