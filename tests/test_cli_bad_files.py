"""Every file the command line opens, given as something else, ends in one line naming it, never a traceback.

The things a user hands over by mistake: a directory (``run some_dir/``), a binary file
(``run model.bin``), text in another encoding (Latin-1, UTF-16 from PowerShell's ``>``), a
socket, a link to a file since removed, a file the system will not let them read; each given
where the command reads a suite, an asset manifest, a results folder's records, a
``--plugin`` file or a checkpoint.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main

TINY = Path(__file__).parent / "suites" / "tiny.toml"
AS_ROOT = os.geteuid() == 0  # root reads a chmod-000 file: the socket stands in for "unreadable" there


def one_error_line(capsys, argv) -> str:
    """Run the CLI; assert it failed with exactly one line on stderr and no traceback; return that line."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if not line.startswith("transferbench: warning")]
    assert len(lines) == 1 and lines[0].startswith("transferbench: error: "), err
    return lines[0][len("transferbench: error: "):]


@pytest.fixture
def bad(tmp_path, monkeypatch):
    """name -> a path that is not a readable UTF-8 file, each named ``<case><suffix>`` in the working directory
    (relative names: a socket's path must be short)."""
    monkeypatch.chdir(tmp_path)

    def make(suffix: str) -> dict[str, Path]:
        paths = {case: Path(f"{case}{suffix}") for case in ("directory", "binary", "latin1", "utf16", "socket",
                                                            "dangling", "unreadable")}
        paths["directory"].mkdir()
        (paths["directory"] / f"inside{suffix}").write_text("")
        paths["binary"].write_bytes(b"\x80\x03PK\x00\x00" + bytes(range(256)))  # a pickle/zip-like header
        paths["latin1"].write_bytes("# café\nname = 'x'\n".encode("latin-1"))
        paths["utf16"].write_bytes("name = 'x'\n".encode("utf-16"))
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(paths["socket"]))
        paths["dangling"].symlink_to(tmp_path / f"removed{suffix}")
        paths["unreadable"].write_text("name = 'x'\n")
        paths["unreadable"].chmod(0)
        return paths

    return make


SUITE_ERRORS = {
    "directory": "directory.toml: is a directory, not a suite file; it holds inside.toml: give one of them",
    "binary": "binary.toml:1: not a suite file: not UTF-8 text (byte 0x80); a binary file, or text in another "
              "encoding?",
    "latin1": "latin1.toml:1: not a suite file: not UTF-8 text (byte 0xe9); a binary file, or text in another "
              "encoding?",
    "utf16": "utf16.toml: the suite file is UTF-16 text; save it as UTF-8",
    "socket": "socket.toml: cannot read the suite file: it is a socket",
    "dangling": "dangling.toml: no such suite file (a link to {tmp}/removed.toml, which does not exist)",
    "unreadable": "unreadable.toml: cannot read the suite file: Permission denied",
}


@pytest.mark.parametrize("case", sorted(SUITE_ERRORS))
@pytest.mark.parametrize("verb", ["run", "cite", "fetch"])
def test_a_suite_that_is_not_a_readable_text_file(bad, capsys, tmp_path, case, verb):
    if case == "unreadable" and AS_ROOT:
        pytest.skip("root reads a file of mode 000")
    path = bad(".toml")[case]
    line = one_error_line(capsys, [verb, str(path)])
    if verb == "cite" and case == "dangling":  # cite looks for a suite or a results folder of that name first
        assert line.startswith(f"{path}: no such suite file")
    else:
        assert line == SUITE_ERRORS[case].format(tmp=tmp_path)


def test_run_a_directory_or_a_binary_file_in_the_console_script(tmp_path):
    """The field report, as typed: `transferbench run some_dir/` and `transferbench run model.bin`."""
    script = Path(sys.executable).parent / "transferbench"
    (tmp_path / "some_dir").mkdir()
    (tmp_path / "model.bin").write_bytes(b"\x80\x02}q\x00(X\x06\x00\x00\x00weight" + bytes(200))
    for given, expected in [("some_dir/", "some_dir: is a directory, not a suite file\n"),
                            ("model.bin", "model.bin:1: not a suite file: not UTF-8 text (byte 0x80); a binary "
                                          "file, or text in another encoding?\n")]:
        done = subprocess.run([str(script), "run", given], cwd=tmp_path, capture_output=True, text=True)
        assert (done.returncode, done.stderr) == (2, f"transferbench: error: {expected}")


MANIFEST_ERRORS = {
    "directory": "directory.toml: is a directory, not an asset manifest",
    "binary": "binary.toml:1: not an asset manifest: not UTF-8 text (byte 0x80)",
    "utf16": "utf16.toml: the asset manifest is UTF-16 text; save it as UTF-8",
    "socket": "socket.toml: cannot read the asset manifest: it is a socket",
    "dangling": "dangling.toml: no such asset manifest (a link to ",
}


@pytest.mark.parametrize("case", sorted(MANIFEST_ERRORS))
def test_an_asset_manifest_that_is_not_a_readable_text_file(bad, capsys, monkeypatch, case):
    path = bad(".toml")[case]
    assert one_error_line(capsys, ["fetch", "--manifest", str(path), "--list"]).startswith(MANIFEST_ERRORS[case])
    monkeypatch.setenv("TRANSFERBENCH_ASSETS", str(path))  # the manifest a suite's assets are checked against
    assert one_error_line(capsys, ["fetch", "--list"]).startswith(MANIFEST_ERRORS[case])


@pytest.mark.parametrize("verb", ["leaderboard", "cite"])
def test_records_that_are_not_a_readable_file(bad, capsys, tmp_path, verb):
    paths = bad(".jsonl")
    for case, expected in [("directory", "Is a directory"), ("socket", "No such device or address"),
                           ("unreadable", "Permission denied")]:
        if case == "unreadable" and AS_ROOT:
            continue
        results = tmp_path / f"results-{case}"
        results.mkdir()
        (results / "records.jsonl").symlink_to(tmp_path / paths[case])  # records.jsonl is that thing
        line = one_error_line(capsys, [verb, str(results)] + (["--out", str(tmp_path / "board")]
                                                             if verb == "leaderboard" else []))
        assert line == f"{results / 'records.jsonl'}: {expected}"
    # A results folder given as a binary file, and records of garbage bytes: one line, no traceback.
    one_error_line(capsys, [verb, str(paths["binary"])])
    garbage = tmp_path / "results-garbage"
    garbage.mkdir()
    (garbage / "records.jsonl").write_bytes(paths["binary"].read_bytes() + b"\n" + "caf\xe9\n".encode("latin-1"))
    assert one_error_line(capsys, [verb, str(garbage)]).endswith("no records to " + ("render" if verb ==
                                                                                      "leaderboard" else "cite")
                                                                  + (" (give a results directory or a suite .toml)"
                                                                     if verb == "cite" else ""))


PLUGIN_ERRORS = {
    "directory": "--plugin directory.py: is a directory, not a Python file",
    "binary": "--plugin binary.py: executing it raised SyntaxError",
    "socket": "--plugin socket.py: not a regular file",
    "dangling": "--plugin dangling.py: no such file (a link to ",
    "unreadable": "--plugin unreadable.py: cannot read it: Permission denied",
}


@pytest.mark.parametrize("case", sorted(PLUGIN_ERRORS))
def test_a_plugin_path_that_is_not_a_readable_python_file(bad, capsys, case):
    if case == "unreadable" and AS_ROOT:
        pytest.skip("root reads a file of mode 000")
    path = bad(".py")[case]
    assert one_error_line(capsys, ["list", "--plugin", str(path)]).startswith(PLUGIN_ERRORS[case])


def test_a_plugin_in_another_encoding_is_one_line(bad, capsys):
    """Latin-1 source without a coding line: Python's own decoding error, named, in one line."""
    path = Path("latin1_strategy.py")
    path.write_bytes("NAME = 'café'\n".encode("latin-1"))
    assert one_error_line(capsys, ["list", "--plugin", str(path)]).startswith(
        "--plugin latin1_strategy.py: executing it raised SyntaxError")


CHECKPOINT_SUITE = """name = "checkpoint"
seeds = [0]
budgets = [1]
strategies = ["frozen-feature"]
[model]
provider = "file"
path = "{path}"
[[pairs]]
name = "digits"
target = {{ provider = "sklearn-digits", split = "train", test_split = "test" }}
"""
@pytest.mark.parametrize("case", ["directory", "binary", "latin1-sidecar"])
def test_a_checkpoint_that_is_not_a_readable_checkpoint(tmp_path, capsys, case):
    import shutil

    shipped = Path(__file__).parent.parent / "checkpoints" / "mnist-lenet.safetensors"
    checkpoint = tmp_path / f"{case}.safetensors"
    shutil.copy(shipped.with_suffix(".safetensors.json"), checkpoint.with_suffix(".safetensors.json"))
    if case == "directory":
        checkpoint.mkdir()
    elif case == "binary":
        checkpoint.write_bytes(b"\xff" * 64 + bytes(range(256)))  # not safetensors: a header length of 2**64-1
    else:
        shutil.copy(shipped, checkpoint)
        checkpoint.with_suffix(".safetensors.json").write_bytes('{"architecture": "café"}'.encode("latin-1"))
    suite = tmp_path / "suite.toml"
    suite.write_text(CHECKPOINT_SUITE.format(path=checkpoint.name), encoding="utf-8")
    line = one_error_line(capsys, ["run", str(suite), "--out", str(tmp_path / "out"), "--no-progress",
                                   "--threads", "1"])
    assert str(checkpoint) in line
