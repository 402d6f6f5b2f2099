"""The per-cell time limit (``--cell-timeout``): a strategy that runs too long becomes a failed record.

The limit is a SIGALRM timer whose handler raises ``CellTimeout`` in the code that is
running, so it works in-process and in a Ray worker alike (both run cells on their main
thread). Python delivers the signal between bytecodes: a strategy stuck inside one long
native call is stopped when that call returns.
"""

import signal
import threading
from contextlib import contextmanager


class CellTimeout(BaseException):
    """Raised when a cell exceeds its time limit.

    A BaseException, like KeyboardInterrupt, so that a strategy's own ``except Exception``
    cannot swallow it and keep running.
    """


@contextmanager
def time_limit(seconds: float | None, what: str):
    """Raise ``CellTimeout`` in the body once ``seconds`` have passed; no limit when None or 0."""
    if not seconds:
        yield
        return
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("--cell-timeout needs cells to run on the main thread (signals are delivered there)")

    def expire(signum, frame):
        raise CellTimeout(f"{what} exceeded the cell timeout of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
