"""A suite's estimators: which transferability estimators score its models, with which options.

    estimators = ["logme", "leep", "hscore", "hscore:shrunk"]   # "name" or "name:variant"
    [estimator_options."hscore:shrunk"]                        # options of one entry
    shrinkage = true

``parse`` reads the two keys when the suite file is loaded (shapes only); ``check`` checks them
against the installed estimators before any data is read. Every error is one line naming the file.
"""

from benchmark.errors import PluginError, SuiteError, did_you_mean


def parse(raw: dict, check) -> tuple[tuple[str, ...], dict]:
    """(entries, {entry: {option: value}}) from a suite file's TOML; ``check``: its SuiteChecker."""
    entries = raw.get("estimators", [])
    if not (isinstance(entries, list) and all(isinstance(e, str) and e for e in entries)):
        check.fail('estimators must be a list of names, e.g. ["logme", "leep"]', "estimators")
    if len(set(entries)) < len(entries):
        check.fail("an estimator is listed twice", "estimators")
    options = raw.get("estimator_options", {})
    if not (isinstance(options, dict) and all(isinstance(v, dict) for v in options.values())):
        check.fail('estimator_options must hold one table per estimator, e.g. [estimator_options.hscore]',
                   "estimator_options")
    for entry in options:
        if entry not in entries:
            check.fail(f'[estimator_options."{entry}"] sets options of an estimator the suite does not list'
                       f'{did_you_mean(entry, entries)}', f"estimator_options.{entry}")
    return tuple(entries), options


def check(suite, registry) -> list[tuple[str, object, dict]]:
    """[(entry, Provided, options)] of the suite's estimators, each installed and its options its own.

    :raises SuiteError: an unknown name (with did-you-mean), an unknown option, or estimators in an
        episodic suite (an estimator scores a model on one target support, the transfer protocol's task).
    """
    entries = getattr(suite, "estimators", ())
    if entries and suite.protocol != "transfer":
        raise SuiteError(f"{suite.path}: estimators score a model on a transfer pair; the {suite.protocol} "
                         f"protocol has none")
    chosen = []
    for entry in entries:
        try:
            provided = registry.estimator(entry.partition(":")[0])
        except PluginError as error:
            raise SuiteError(f"{suite.path}: {error}") from None
        options = getattr(suite, "estimator_options", {}).get(entry, {})
        try:
            provided.cls(**options)
        except TypeError as error:
            raise SuiteError(f"{suite.path}: [estimator_options.\"{entry}\"]: {error}") from None
        chosen.append((entry, provided, options))
    return chosen
