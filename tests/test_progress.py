"""Progress and messages: the phase and elapsed time move, plain lines off a terminal, SIGTERM as Ctrl-C."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from benchmark.run.progress import Progress

SLOW_PLUGIN = '''
import time
from benchmark import hookimpl
from plugins.target_only import TargetOnly


class Slow(TargetOnly):
    """target-only after a pretraining that reports its progress and lasts ``pretrain_s`` seconds."""

    name = "slow"
    description = "sleeps in pretrain, telling ctx.progress"

    def __init__(self, adapt_steps=5, pretrain_s=0.0):
        super().__init__(adapt_steps=adapt_steps)
        self.pretrain_s = pretrain_s

    def pretrain(self, source, ctx):
        for step in range(20):
            time.sleep(self.pretrain_s / 20)
            ctx.progress((step + 1) / 20)
        ctx.report(steps_run=20)
        self.pretrained = True

    def pretrained_state(self):
        return {"steps": 20}

    def load_pretrained_state(self, state, ctx):
        self.pretrained = True
'''


def test_plain_lines_name_the_phase_with_its_fraction_and_the_elapsed_time_moves():
    stream = io.StringIO()  # not a terminal: plain lines, no bar
    with Progress("tiny", enabled=True, stream=stream, interval_s=0.05) as progress:
        progress.set_total(4)
        progress.phase("pretrain slow / a→b / seed 0", 0.42)
        time.sleep(0.3)
        progress.update(4)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3 and "\r" not in stream.getvalue()
    assert "tiny: 0/4 cells, pretrain slow / a→b / seed 0 42%, 0:00:00 elapsed" in lines
    assert lines[-1].startswith("tiny: 4/4 cells, done, ")


def test_the_line_shows_hours_and_a_disabled_progress_prints_nothing():
    progress = Progress("s", total=2, enabled=False, stream=io.StringIO())
    progress.started -= 3725
    assert progress.line() == "s: 0/2 cells, starting, 1:02:05 elapsed"
    progress.phase("cell x", 7)  # a plugin's fraction beyond 1 is clamped
    assert "cell x 100%" in progress.line()
    progress.close()
    assert progress.stream.getvalue() == ""


def slow_suite(tmp_path: Path) -> tuple[Path, dict]:
    """A one-pair suite: target-only (fast) then 'slow', a plugin loaded through PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    info = site / "slow_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[transferbench]\nslow = slow_plugin\n")
    (site / "slow_plugin.py").write_text(SLOW_PLUGIN + "\n\n@hookimpl\ndef transferbench_strategies():\n"
                                         "    return [Slow]\n")
    suite = tmp_path / "slow.toml"
    suite.write_text(textwrap.dedent("""
        name = "slow"
        protocol = "transfer"
        seeds = [0]
        budgets = [2, 5]
        input = { channels = 1, size = [16, 16] }
        strategies = ["target-only", "slow"]

        [[pairs]]
        name = "digits→rotated"
        source = { provider = "sklearn-digits", split = "train[:50%]" }
        target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", shifts = [{ rotate = 30 }] }

        [hparams.target-only]
        adapt_steps = 5

        [hparams.slow]
        pretrain_s = 60.0
    """))
    env = {**os.environ, "PYTHONPATH": str(site), "TRANSFERBENCH_PROGRESS_INTERVAL": "0.2"}
    return suite, env


def run_cli(suite: Path, out: Path, env: dict, stderr) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmark.cli", "run", str(suite), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)


def wait_for(path: Path, text: str, process: subprocess.Popen, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = path.read_text(encoding="utf-8")
        if text in found:
            return found
        assert process.poll() is None, f"the run ended before showing {text!r}:\n{found}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared on stderr:\n{path.read_text(encoding='utf-8')}")


def test_sigterm_during_pretraining_stops_like_ctrl_c_keeps_finished_cells_and_says_so(tmp_path):
    """stderr to a file: plain progress lines with the pretrain's fraction; then SIGTERM mid-pretraining."""
    suite, env = slow_suite(tmp_path)
    log = tmp_path / "stderr.txt"
    with open(log, "w", encoding="utf-8") as stderr:
        process = run_cli(suite, tmp_path / "out", env, stderr)
        try:
            wait_for(log, "cells, pretrain slow / digits→rotated / seed 0 ", process)
            before = wait_for(log, "%, ", process)  # the pretrain's fraction is shown
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    said = log.read_text(encoding="utf-8")
    assert process.returncode == 143, said
    assert "transferbench: terminated (SIGTERM); every finished cell is recorded, a pretraining that was running " \
           "is not kept" in said
    assert said.endswith("\n")  # the progress line is ended, not left open
    assert "\r" not in said  # not a terminal: no bar
    assert "slow: 2/4 cells" in before  # target-only's two cells were done before the pretraining
    recorded = [json.loads(line) for line in (tmp_path / "out" / "slow" / "records.jsonl").read_text().splitlines()]
    assert sorted((r["strategy"], r["budget"], r["status"]) for r in recorded) == \
        [("target-only", "2", "ok"), ("target-only", "5", "ok")]
    assert not list((tmp_path / "out" / ".pretrain-cache").glob("*.pt"))  # the interrupted state was not kept


def test_a_warning_from_a_plugin_names_its_module(capsys):
    import plugins.finetune as module
    from benchmark.cli import one_line_warning, warning_source

    assert warning_source(module.__file__) == "plugins.finetune"
    import benchmark.records

    assert warning_source(benchmark.records.__file__) is None
    with warnings.catch_warnings():
        one_line_warning("loss is NaN", UserWarning, module.__file__, 3)
        one_line_warning("a partial line", UserWarning, benchmark.records.__file__, 3)
    err = capsys.readouterr().err.splitlines()
    assert err == ["transferbench: warning from plugins.finetune: loss is NaN",
                   "transferbench: warning: a partial line"]


class Phases:
    """A stand-in for benchmark.run.progress.Progress that keeps every phase it is shown."""

    def __init__(self):
        self.seen = []

    def phase(self, text, fraction=None):
        self.seen.append((text, fraction))


@pytest.mark.parametrize("batched", [True, False])
def test_a_cell_shows_its_episodes_done_and_adapt_progress_is_labelled_as_the_cell(registry, tmp_path, batched):
    from dataclasses import replace

    from benchmark.run import execute
    from benchmark.run.prepare import prepare_pairs
    from benchmark.run.runner import Runner
    from benchmark.suite.check import check_strategies
    from benchmark.suite.load import load_suite

    suite = load_suite(Path(__file__).parent / "suites" / "tiny.toml")
    pair = replace(suite.pairs[1], ways=5, queries=3)
    suite = replace(suite, protocol="episodic", pairs=(pair,), budgets=(2,), seeds=(0,), episodes=4,
                    strategies=("finetune",), hparams={"finetune": {"pretrain_epochs": 1, "adapt_steps": 2}})
    runner = Runner(suite, registry, tmp_path, tmp_path, show_progress=False, pretrain_cache=False)
    (provided,) = check_strategies(runner.suite, runner.registry)
    pairs = prepare_pairs(runner.suite, runner.loader)
    (job,), _, _ = runner.plan([provided], pairs, set())
    phases = Phases()
    settings = replace(runner.settings, batched=batched, episode_chunk=2)
    (record,) = execute.run_job(job, pairs[job.pair], settings, phases)
    assert record["status"] == "ok"
    cell = "cell finetune / digits0-4→5-9 / seed 0 / budget 2"
    texts = [text for text, _ in phases.seen]
    assert texts[0] == "pretrain finetune / digits0-4→5-9 / seed 0" and cell in texts
    expected = [f"{cell}: {n}/4 episodes" for n in ((2, 4) if batched else (1, 2, 3, 4))]
    assert [t for t in texts if "episodes" in t] == expected
    assert any(text.startswith("pretrain") and fraction is not None for text, fraction in phases.seen)
