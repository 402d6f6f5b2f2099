"""What ``transferbench check`` says while it works: its hyperparameters, each check as it
starts and ends, and the pretraining's progress, as plain lines (readable in a log file too)."""

import sys
import time
import tomllib

from benchmark.errors import TransferbenchError, did_you_mean

PROGRESS_STEP = 0.1      # a progress line at each tenth of the pretraining ...
PROGRESS_EVERY_S = 10.0  # ... and at least this often while it reports progress


def parse_value(text: str):
    """A ``--hparams`` value read as a TOML value, as in a suite's [hparams] (2, 1e-3, true,
    [1, 2], "x"); anything that is not one (e.g. auto) is the string itself."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def parse_hparams(cls, pairs: list[str]) -> dict:
    """``["key=value", ...]`` -> {key: value}; a malformed pair or an unknown key is a one-line error."""
    known, given = cls.param_names(), {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise TransferbenchError(f"--hparams: '{pair}' is not KEY=VALUE")
        if key not in known:
            raise TransferbenchError(f"--hparams: strategy '{cls.name}' has no hyperparameter '{key}'"
                                     f"{did_you_mean(key, known)}; it has {', '.join(known) or 'none'}")
        given[key] = parse_value(value.strip())
    return given


def check_hparams(cls, pairs: list[str], full: bool) -> tuple[dict, bool | dict, list[str]]:
    """(hyperparameters of the battery, ``check_strategy``'s ``full``, lines saying what was chosen and why)."""
    given = parse_hparams(cls, pairs)
    quick = dict(cls.quick_hparams)
    if quick:
        notes = [f"hyperparameters: its quick_hparams {quick}" + (f", with --hparams {given} over them" if given else "")]
    else:
        notes = [f"note: '{cls.name}' has no quick_hparams, so the checks fall back to its default hyperparameters"
                 + (f" with --hparams {given} over them" if given else "")
                 + ": its full pretraining, run once per check (a strategy's quick_hparams, or --hparams, shorten"
                   " it; --timeout bounds each check)"]
    if full:
        notes.append("--full: the determinism check also pretrains twice with its defaults"
                     + (f" and --hparams {given}" if given else "") + " (its real pretraining)")
    return {**quick, **given}, (given if full else False), notes


class CheckPrinter:
    """``check_strategy``'s started / progress / report callbacks, as plain text: "NAME ... ok (0.3 s)"
    on one line when nothing comes between, else the progress lines and then the verdict."""

    def __init__(self, write=None, clock=time.monotonic):
        self.write = write or (lambda text: (sys.stdout.write(text), sys.stdout.flush()))
        self.clock = clock
        self.started_at = self.printed_at = clock()
        self.printed_fraction, self.open_line = 0.0, False

    def started(self, name: str) -> None:
        self.started_at = self.printed_at = self.clock()
        self.printed_fraction, self.open_line = 0.0, True
        self.write(f"  {name} ...")

    def progress(self, phase: str, fraction: float) -> None:
        """Pretraining progress only: an adapt reports once per task, far too often to print."""
        if phase != "pretrain":
            return
        now = self.clock()
        if fraction + 1e-9 >= min(self.printed_fraction + PROGRESS_STEP, 1.0) or now - self.printed_at >= PROGRESS_EVERY_S:
            self.printed_fraction, self.printed_at = fraction, now
            self.write(f"{chr(10) if self.open_line else ''}      pretrain {fraction:4.0%} after {now - self.started_at:.0f} s\n")
            self.open_line = False

    def finished(self, name: str, error) -> None:
        verdict = f"{'ok' if error is None else 'FAIL'} ({self.clock() - self.started_at:.1f} s)" + \
            (f": {str(error).splitlines()[0] if str(error) else type(error).__name__}" if error is not None else "")
        self.write(f" {verdict}\n" if self.open_line else f"  {name}: {verdict}\n")
        self.open_line = False
