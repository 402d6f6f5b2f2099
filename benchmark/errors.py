"""User-facing errors: each carries one line that names the file, field or plugin at fault."""

import difflib


class TransferbenchError(Exception):
    """An error the command line prints as one line, without a traceback."""


class SuiteError(TransferbenchError):
    """A suite file that does not parse or does not validate."""


class PluginError(TransferbenchError):
    """A plugin that cannot be loaded, or two plugins that clash."""


class DataError(TransferbenchError):
    """A dataset that is missing, malformed or cannot be brought to the declared shape."""


class MissingDataError(DataError):
    """A dataset's files are not where the suite and data root say; nothing is downloaded."""


class AssetError(TransferbenchError):
    """assets.toml that does not validate, or an asset that cannot be fetched (``transferbench fetch``)."""


class MissingAssetError(MissingDataError):
    """A declared asset's files are missing or altered under the data root; ``transferbench fetch`` lays them out."""


class WriteError(TransferbenchError):
    """A results file that cannot be written (disk full, a file-size limit, a read-only directory):
    the run stops; what was recorded before stays readable and a rerun resumes from it."""


class NotApplicable(Exception):
    """Raised by a strategy that finds, once it sees the cell's model or data, that it cannot run
    there (e.g. bitfit on a trunk without biases). Its cells are recorded as skipped, with this
    message as the reason, not as failed. Prefer ``Strategy.supports`` when the task alone tells."""


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
