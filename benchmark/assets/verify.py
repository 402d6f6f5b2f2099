"""Is an asset laid out as the manifest says? What ``run`` asks before any data is read, and ``fetch`` before
it skips an asset.

Every declared file must exist under DATA_ROOT/NAME with its sha256, and no undeclared file may be
there (a reader globbing a folder would read it unverified). Every file is hashed every time: ELPV's
2,626 files (90 MB) take about 0.2 s, so no cache of hashes could pay for what it might miss.
"""

import hashlib
import os
from pathlib import Path

from benchmark.assets.manifest import Asset
from benchmark.errors import MissingAssetError
from benchmark.suite.paths import describe_data_root

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_command(asset: Asset, data_root: Path) -> str:
    return f"transferbench fetch {asset.name} --data-root {data_root}"


def verify(asset: Asset, data_root: Path) -> int:
    """Check DATA_ROOT/NAME against ``asset.files``, hashing every file.

    :return: the bytes laid out
    :raises MissingAssetError: a file is missing, altered or undeclared: one line naming the asset,
        the file and the fetch command.
    """
    folder = Path(data_root) / asset.name
    if not folder.is_dir():
        raise MissingAssetError(problem(asset, data_root, folder, "is missing (not fetched into this data root)"))
    total = 0
    for relative, expected in sorted(asset.files.items()):
        path = folder / relative
        try:
            total += path.stat().st_size
            found = sha256_file(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise MissingAssetError(problem(asset, data_root, path, "is missing")) from None
        if found != expected:
            raise MissingAssetError(problem(asset, data_root, path, "does not match its sha256 in the manifest"))
    undeclared = sorted(set(walk(folder)) - set(asset.files))
    if undeclared:
        raise MissingAssetError(problem(asset, data_root, folder / undeclared[0],
                                        "is not one of the asset's files (the manifest lists every one)"))
    return total


def problem(asset: Asset, data_root: Path, path: Path, what: str) -> str:
    """One line: the asset, the file, what is wrong, the data root it was looked for under (and where that
    was chosen: ``benchmark.suite.paths.DataRoot``), and the command that lays it out."""
    return f"asset '{asset.name}': {path} {what} (looked for {describe_data_root(data_root)}); " \
           f"run `{fetch_command(asset, data_root)}`"


def walk(folder: Path) -> list[str]:
    """Every file below ``folder``, "/"-separated and relative to it."""
    found = []
    for parent, _, files in os.walk(folder):
        base = Path(parent).relative_to(folder)
        found += [(base / name).as_posix() for name in files]
    return found
