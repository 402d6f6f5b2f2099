"""A run's progress on stderr: cells done, what runs now, and time that keeps moving.

    data: loading and preprocessing the pairs
    pretrain finetune / digits→rotated / seed 0  42%      (the fraction the strategy passes to ctx.progress)
    cell finetune / digits→rotated / seed 0 / budget 5: 120/600 episodes

On a terminal it is a tqdm bar whose postfix names the phase; a thread redraws it every
second, so its elapsed time moves during a long pretraining that reports nothing. When
stderr is not a terminal (a file, a pipe, a batch job's log), a bar's carriage returns
would pile up in one endless line: one plain line is printed instead every ``interval_s``
seconds (``$TRANSFERBENCH_PROGRESS_INTERVAL``, default 30), and a last one at the end.
"""

import os
import sys
import threading
import time

from tqdm.auto import tqdm

INTERVAL_ENV = "TRANSFERBENCH_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 30.0  # plain lines: often enough to see life in a log, rarely enough to read it
REDRAW_S = 1.0             # the bar: elapsed time moves once a second


def elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class Progress:
    """What a runner shows while it works; ``enabled=False`` shows nothing.

    ``update(n)`` counts finished cells, ``phase(text, fraction)`` names what runs now,
    ``write(line)`` prints a line without breaking the bar. Use it as a context manager
    (or call ``close``) so its thread stops and the bar's line is ended.
    """

    def __init__(self, desc: str, total: int | None = None, enabled: bool = True, stream=None,
                 interval_s: float | None = None):
        self.desc, self.total, self.enabled = desc, total, enabled
        self.stream = stream or sys.stderr
        self.done, self.text, self.fraction = 0, "starting", None
        self.started = time.monotonic()
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        if interval_s is None:
            interval_s = float(os.environ.get(INTERVAL_ENV) or DEFAULT_INTERVAL_S)
        self.interval_s = REDRAW_S if self.tty else interval_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = tqdm(total=total, unit="cell", desc=desc, dynamic_ncols=True, file=self.stream) \
            if self.tty else None
        self._thread = None
        if enabled:
            self._thread = threading.Thread(target=self._tick, name="transferbench-progress", daemon=True)
            self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def line(self) -> str:
        """The plain progress line, e.g. 'tiny: 3/8 cells, pretrain finetune / a→b / seed 0 42%, 0:05:12 elapsed'."""
        cells = f"{self.done}/{self.total if self.total is not None else '?'} cells"
        phase = self.text + (f" {self.fraction:.0%}" if self.fraction is not None else "")
        return f"{self.desc}: {cells}, {phase}, {elapsed_text(time.monotonic() - self.started)} elapsed"

    def set_total(self, total: int) -> None:
        with self._lock:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def phase(self, text: str, fraction: float | None = None) -> None:
        """Name what runs now; ``fraction`` in [0, 1] of it done, when known (clamped: a plugin's guess)."""
        with self._lock:
            self.text = text
            self.fraction = None if fraction is None else min(max(float(fraction), 0.0), 1.0)
            if self._bar is not None:
                self._bar.set_postfix_str(self.text + (f" {self.fraction:.0%}" if self.fraction is not None else ""),
                                          refresh=False)

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)

    def write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()
                else:
                    print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if not self.enabled or self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        with self._lock:
            if self._bar is not None:
                self._bar.close()  # ends the bar's line, also when a signal stopped the run
            elif self.total is not None:  # not when the suite failed its checks before any cell was planned
                self.text, self.fraction = ("done", None) if self.total is not None and self.done >= self.total \
                    else ("stopped", None)
                print(self.line(), file=self.stream, flush=True)
