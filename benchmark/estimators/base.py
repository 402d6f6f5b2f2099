"""What an estimator is: a score of how well a model will transfer to a target, from the labelled support alone.

A plugin provides estimators through the ``transferbench_estimators`` hook, as it provides
strategies::

    @hookimpl
    def transferbench_estimators():
        return [MyEstimator]

The runner hands ``score`` the frozen trunk's features of the support set (the same draw, for a
budget and seed, as a strategy's support; never the test split), the support's labels and, for
an estimator that says it needs them, the source classifier's probabilities on that support.
Higher means the model is predicted to transfer better; only the order of scores over models of
one target is ever compared (``benchmark.leaderboard.transferability``), never their scale.
"""

import numpy as np


class Estimator:
    """Base class of a transferability estimator (You et al. 2021 review the family: LogME, ICML).

    Subclasses set ``name`` (unique across installed plugins), ``description`` (one line),
    ``citation`` (BibTeX of the paper whose formula ``score`` computes) and
    ``needs_source_predictions``, and implement ``score``. Constructor keyword arguments are the
    estimator's options (e.g. H-score's ``shrinkage``); ``get_params`` returns them for records.
    """

    name: str = ""
    description: str = ""
    citation: str = ""
    needs_source_predictions: bool = False  # True: score reads source_probs; a pair without a source classifier skips it

    def __init__(self, **params):
        unknown = sorted(set(params) - set(self.default_params()))
        if unknown:
            raise TypeError(f"estimator '{self.name}' has no option {', '.join(unknown)}; "
                            f"options: {', '.join(sorted(self.default_params())) or 'none'}")
        self.params = {**self.default_params(), **params}

    @classmethod
    def default_params(cls) -> dict:
        """The options and their defaults ({} for none); override to add some."""
        return {}

    def get_params(self) -> dict:
        """Every option as it was set (records' ``hparams``: part of an estimate's cell identity)."""
        return dict(self.params)

    def score(self, features: np.ndarray, labels: np.ndarray, source_probs: np.ndarray | None) -> float:
        """The predicted transferability of the model to the target: higher is better.

        :param features: [N, D] float64, the frozen trunk's features of the N labelled support examples.
        :param labels: [N] int64 in [0, C), the support's target labels (every class present).
        :param source_probs: [N, Cs] float64, rows summing to 1: the source classifier's class
            probabilities on the support; None unless ``needs_source_predictions``.
        :return: a finite float. Deterministic: the same inputs give the same score.
        """
        raise NotImplementedError
