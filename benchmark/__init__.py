"""transferbench: the public face for plugin authors.

Everything a strategy, dataset provider or model provider needs is imported from here, as
pytest's users import ``pytest`` and never ``_pytest``::

    from benchmark import Strategy, LabelledData, hookimpl, fit, build_classifier

The core's packages (``benchmark.run``, ``benchmark.data``, ...) are internal and may move;
the names below do not. They load on first use, so ``import benchmark`` stays cheap (the CLI
imports torch only when a verb needs it). ``docs/strategies.md`` documents each of them.
"""

import importlib

__version__ = "0.1.0"

# name -> the module that defines it, grouped by use; docs/strategies.md lists them all (generated).
PUBLIC_NAMES = {
    # the plugin contract
    "hookimpl": "benchmark.discovery.hookspecs",
    "Strategy": "benchmark.strategy.base",
    "Context": "benchmark.strategy.context",
    "TaskSpec": "benchmark.strategy.context",
    "LabelledData": "benchmark.data.labelled",
    "DatasetProvider": "benchmark.data.providers",
    "slice_each_class": "benchmark.data.providers",
    "ModelProvider": "benchmark.models.base",
    "PretrainedModel": "benchmark.models.loaded",
    "Preprocessing": "benchmark.models.base",
    "load_matching": "benchmark.models.base",
    "sha256_of": "benchmark.models.base",
    "feature_dim_of": "benchmark.models.base",
    "Metric": "benchmark.scoring.registered",
    # errors a plugin raises or catches
    "TransferbenchError": "benchmark.errors",
    "DataError": "benchmark.errors",
    "MissingDataError": "benchmark.errors",
    "ModelError": "benchmark.models.base",
    "NotApplicable": "benchmark.errors",
    "did_you_mean": "benchmark.errors",
    # checking and running a strategy
    "check_strategy": "benchmark.checks.contract",
    "ContractError": "benchmark.checks.contract",
    "Estimator": "benchmark.estimators.base",
    "check_estimator": "benchmark.checks.estimator_contract",
    "run_suite": "benchmark.run.api",
    # the toolkit: what the built-ins are written with
    "BACKBONES": "benchmark.toolkit.backbones",
    "NORMS": "benchmark.toolkit.backbones",
    "Classifier": "benchmark.toolkit.backbones",
    "SupportBatchNorm": "benchmark.toolkit.backbones",
    "build_trunk": "benchmark.toolkit.backbones",
    "build_classifier": "benchmark.toolkit.backbones",
    "fit": "benchmark.toolkit.training",
    "fit_tensors": "benchmark.toolkit.training",
    "forward_in_batches": "benchmark.toolkit.training",
    "epochs_to_steps": "benchmark.toolkit.training",
    "adam": "benchmark.toolkit.training",
    "minibatches": "benchmark.toolkit.training",
    "step_progress": "benchmark.toolkit.training",
    "linear_probe": "benchmark.models.features",
    "CachedFeatureClassifier": "benchmark.models.features",
    "fit_probe": "benchmark.toolkit.probe",
    "fit_logistic": "benchmark.toolkit.probe",
    "C_GRID": "benchmark.toolkit.probe",
    "FIXED_C": "benchmark.toolkit.probe",
    "MAX_FOLDS": "benchmark.toolkit.probe",
    "feature_scale": "benchmark.toolkit.probe",
    "stratified_folds": "benchmark.toolkit.probe",
    "Texts": "benchmark.data.text",
    "ClassIndex": "benchmark.scoring.tasks",
    "episodic_tasks": "benchmark.scoring.tasks",
    "to_shape": "benchmark.data.shifts",
    # texts: token ids [N, 2, L] (ids + mask), see benchmark.data.text
    "TextData": "benchmark.data.text",
    "PairTokenizer": "benchmark.data.text",
    "StaticEmbeddingTrunk": "benchmark.data.text",
    "tokenise": "benchmark.data.text",
    "tokenizer_from_file": "benchmark.data.text",
    "unpack": "benchmark.data.text",
    "token_dropout": "benchmark.data.text",
}
# Modules public as a whole: the batched (stacked) training of many episodes' models.
PUBLIC_MODULES = {"batched": "benchmark.toolkit.batched",
                  # the runner's scoring functions (score, auroc), which the built-in metrics reuse
                  "metrics": "benchmark.scoring.metrics"}

__all__ = sorted([*PUBLIC_NAMES, *PUBLIC_MODULES])


def __getattr__(name: str):
    if name in PUBLIC_NAMES:
        value = getattr(importlib.import_module(PUBLIC_NAMES[name]), name)
    elif name in PUBLIC_MODULES:
        value = importlib.import_module(PUBLIC_MODULES[name])
    else:
        raise AttributeError(f"module 'benchmark' has no attribute {name!r}")
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

