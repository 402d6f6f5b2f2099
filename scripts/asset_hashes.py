"""Print the [NAME.files] table (and size) of an asset laid out in a folder, for assets.toml.

    python scripts/asset_hashes.py NAME FOLDER >> assets.toml

FOLDER holds the files exactly as ``transferbench fetch`` lays them out under DATA_ROOT/NAME
(e.g. a wheel unpacked with ``unzip``, its members copied to their laid-out paths). The stamp
``fetch`` writes (.verified.json) is left out.
"""

import hashlib
import sys
from pathlib import Path


def main(argv=None) -> int:
    name, folder = (argv or sys.argv[1:])[:2]
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".verified.json"))
    print(f"# {name}: {len(files)} files, {sum(p.stat().st_size for p in files)} bytes (put size = N in [{name}])")
    print(f"[{name}.files]")
    for path in files:
        print(f'"{path.relative_to(folder).as_posix()}" = "{hashlib.sha256(path.read_bytes()).hexdigest()}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
