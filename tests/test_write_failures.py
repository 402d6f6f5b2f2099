"""A results file the system refuses to grow (a size limit, a full disk, a read-only folder):
the run stops in one line naming the file, keeps every record whole, and resumes once it can."""

import os
import re
import resource
import subprocess

import pytest

from benchmark import records
from benchmark.errors import WriteError
from test_resume import CELLS, transferbench


def limit_file_size(limit_bytes: int):
    def preexec():  # in the child only: RLIMIT_FSIZE makes a write past it fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return preexec


def test_a_file_size_limit_stops_the_run_in_one_line_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "out"
    path = out / "tiny" / "records.jsonl"
    first = subprocess.run(transferbench(out, "--no-pretrain-cache"), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == CELLS
    # Keep 3 records, and allow one more and a half: the fifth append crosses the limit mid-line.
    kept = b"".join(lines[:3])
    path.write_bytes(kept)
    limit = len(kept) + max(map(len, lines)) + max(map(len, lines)) // 2
    stopped = subprocess.run(transferbench(out, "--no-pretrain-cache"), capture_output=True, text=True,
                             timeout=600, preexec_fn=limit_file_size(limit))
    assert stopped.returncode == 2, stopped.stderr
    errors = [line for line in stopped.stderr.splitlines() if line.startswith("transferbench: error")]
    assert errors == [f"transferbench: error: {path}: cannot write (File too large); every record written "
                      f"before is kept; free space or make it writable and run again to resume"], stopped.stderr
    assert "Traceback" not in stopped.stderr
    data = path.read_bytes()
    assert data.startswith(kept) and data.endswith(b"\n")  # the refused line was cut back: no torn line
    assert len(records.read(path)) == data.count(b"\n") == 4

    resumed = subprocess.run(transferbench(out, "--no-pretrain-cache"), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "4 already recorded" in resumed.stdout
    keys = [records.cell_key(r) for r in records.read(path)]
    assert len(keys) == len(set(keys)) == CELLS


@pytest.fixture
def read_only():
    """``make(folder)``: ``folder`` made read-only, really: by its mode, or, for root (whom modes do
    not stop), by a read-only tmpfs mounted over it with the folder's files copied in. Undone after."""
    mounted = []

    def make(folder):
        if os.geteuid() != 0:
            folder.chmod(0o555)
            mounted.append(lambda: folder.chmod(0o755))
            return
        files = {path.name: path.read_bytes() for path in folder.iterdir()}
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True).returncode:
            pytest.skip("running as root without the right to mount: no way to make a folder read-only to root")
        mounted.append(lambda: subprocess.run(["umount", str(folder)], check=True))
        for name, data in files.items():
            (folder / name).write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

    yield make
    for undo in reversed(mounted):
        undo()


REFUSED = "(Permission denied|Read-only file system)"  # a read-only mode / a read-only mount


def test_a_read_only_results_folder_fails_before_any_training_in_one_line(tmp_path, read_only):
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    read_only(out / "tiny")
    result = subprocess.run(transferbench(out), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    path = out / "tiny" / "records.jsonl"
    assert re.fullmatch(f"transferbench: error: {re.escape(str(path))}.lock: cannot write \\({REFUSED}\\); .*",
                        result.stderr.strip().splitlines()[-1]), result.stderr
    assert "ok," not in result.stdout  # stopped before planning, let alone training, a cell


def test_a_read_only_records_file_is_refused_before_the_run_and_left_as_it_was(tmp_path, read_only):
    folder = tmp_path / "tiny"
    folder.mkdir()
    path = folder / "records.jsonl"
    path.write_bytes(b"")
    (folder / "records.jsonl.lock").write_bytes(b"")
    read_only(folder)
    with pytest.raises(WriteError, match=f"^{re.escape(str(path))}(.lock)?: cannot write \\({REFUSED}\\)"):
        records.check_writable(path)
    assert path.read_bytes() == b""


def test_an_append_the_system_refuses_leaves_the_file_ending_in_a_whole_line(tmp_path):
    path = tmp_path / "records.jsonl"
    log = records.Log(path)
    record = {"schema": 1, "pair": "p", "strategy": "s", "hparams": {}, "budget": "1", "status": "ok", "seed": 0,
              "padding": "x" * 5000}
    assert log.append(record)
    size = path.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard))  # this process: restored below
    try:
        with pytest.raises(WriteError, match="File too large"):
            log.append({**record, "seed": 1})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert path.stat().st_size == size  # the 100 bytes that got through were cut back
    assert log.append({**record, "seed": 1})  # and the log appends again once it may
    assert [r["seed"] for r in records.read(path)] == [0, 1]
