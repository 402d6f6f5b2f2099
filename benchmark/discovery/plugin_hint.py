"""What to add after "unknown strategy 'l2sp'" when the strategy is likely the user's own file.

The usual cause of an unknown name that is close to no installed one is a strategy written in a
file of one's own and run without ``--plugin``. The working directory is looked at for that file
(only on this error path, never at import): one named like the strategy (``l2sp.py``, ``l2_sp.py``,
``L2SP.py``), else one that says ``name = "l2sp"``.
"""

import re
from pathlib import Path

MAX_FILES = 200          # a working directory holding more .py files than this is not searched further
MAX_BYTES = 1_000_000    # a larger file is no strategy someone forgot to pass; never read for the hint


def squashed(name: str) -> str:
    """A name as file names spell it loosely: 'L2-SP' and 'l2_sp' are both 'l2sp'."""
    return re.sub(r"[-_.\s]", "", name).lower()


def defining_file(name: str, directory: Path) -> Path | None:
    """The .py file in ``directory`` that is likely to hold plugin ``name`` (a strategy, an estimator), else None."""
    try:
        candidates = sorted(p for p in directory.glob("*.py") if p.is_file())[:MAX_FILES]
    except OSError:  # an unreadable working directory: no hint, never a second error
        return None
    named = [p for p in candidates if squashed(p.stem) == squashed(name)]
    if named:
        return named[0]
    declares = re.compile(rf"""\bname\s*(?::\s*\w+\s*)?=\s*["']{re.escape(name)}["']""")
    for path in candidates:
        try:
            if path.stat().st_size <= MAX_BYTES and declares.search(path.read_text(encoding="utf-8", errors="replace")):
                return path
        except OSError:
            continue
    return None


def plugin_hint(name: str, close_match: bool, directory: Path | None = None) -> str:
    """'; a strategy in a file of yours needs --plugin l2sp.py' when ``directory`` (default: the working
    directory) holds the likely file; the same with FILE.py when it holds none and no installed name is
    close (``close_match``: a did-you-mean was given, so a typo is the likelier cause); else ''."""
    try:
        found = defining_file(name, Path.cwd() if directory is None else directory)
    except OSError:  # the working directory was removed: no hint, never a second error
        found = None
    if found is not None:
        return f"; a strategy in a file of yours needs --plugin {found.name}"
    return "" if close_match else "; a strategy in a file of yours needs --plugin FILE.py"
