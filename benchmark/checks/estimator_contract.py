"""The estimator contract, checked over every discovered estimator (``tests/test_estimator_contract.py``),
as ``benchmark.checks.contract`` checks strategies.

What the runner relies on: a name, a one-line description and a BibTeX citation; options that
survive a JSON round trip (records keep them); ``score`` returning one finite float from the
support alone, the same float for the same inputs, without writing into its inputs.
"""

import json
import math

import numpy as np

from benchmark.errors import NotApplicable, TransferbenchError


class EstimatorContractError(TransferbenchError):
    """An estimator breaks the contract; the message names it and the rule."""


def contract_inputs(n_per_class: int = 5, classes: int = 3, dim: int = 6, source_classes: int = 4, seed: int = 0):
    """(features [N, D] float64, labels [N] int64, source_probs [N, Cs]) of a small separable support, read-only."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class).astype(np.int64)
    features = rng.normal(scale=3.0, size=(classes, dim))[labels] + rng.normal(size=(len(labels), dim))
    source_probs = rng.dirichlet(np.ones(source_classes), size=len(labels))
    for array in (features, labels, source_probs):
        array.flags.writeable = False  # an estimator that writes into the runner's arrays fails loudly
    return features, labels, source_probs


def check_estimator(cls) -> list[str]:
    """The rules ``cls`` passed, in order; raises ``EstimatorContractError`` at the first it breaks."""
    passed = []

    def require(ok: bool, rule: str, detail: str = ""):
        if not ok:
            raise EstimatorContractError(f"estimator '{getattr(cls, 'name', cls)}': {rule}{': ' + detail if detail else ''}")
        passed.append(rule)

    require(isinstance(cls.name, str) and bool(cls.name), "has a name")
    require(isinstance(cls.description, str) and bool(cls.description) and "\n" not in cls.description,
            "has a one-line description")
    require("@" in cls.citation and "{" in cls.citation, "cites its paper in BibTeX")
    require(isinstance(cls.needs_source_predictions, bool), "says whether it needs source predictions")
    estimator = cls()
    params = estimator.get_params()
    require(json.loads(json.dumps(params)) == params, "its options are JSON data", repr(params))
    features, labels, source_probs = contract_inputs()
    given = source_probs if cls.needs_source_predictions else None
    try:
        first = estimator.score(features, labels, given)
    except NotApplicable as reason:
        raise EstimatorContractError(f"estimator '{cls.name}' refused a 5-shot, 3-class support: {reason}") from None
    require(isinstance(first, float) and math.isfinite(first), "returns one finite float", repr(first))
    require(cls().score(features, labels, given) == first, "is deterministic")
    return passed
