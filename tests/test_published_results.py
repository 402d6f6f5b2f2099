"""What results/ publishes still matches the code, or says which version produced it.

``results/published.toml`` lists every published suite folder with the command that writes it.
For each, the current code plans the cells (``run --dry-run``: data loaded, nothing trained):
a folder whose records match the cell identities the code plans has nothing to run; one that no
longer matches must name, in ``produced_by``, the commit that produced it, and the README's
"Published results" section must say so. A change that alters a cell's identity (a new
hyperparameter, a new built-in) therefore fails here until the records are regenerated or the
README says which version they come from.
"""

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.suite.load import load_suite

REPO = Path(__file__).resolve().parent.parent
MANIFEST = tomllib.loads((REPO / "results" / "published.toml").read_text(encoding="utf-8"))
DATA = REPO.parent / "shared" / "data"


def test_every_results_folder_is_listed_and_every_listed_one_exists():
    folders = {p.parent.name for p in (REPO / "results").glob("*/records.jsonl")}
    assert folders == set(MANIFEST)


@pytest.mark.parametrize("folder", sorted(MANIFEST))
def test_published_records_match_the_cells_the_code_plans(folder, monkeypatch, capsys):
    entry = MANIFEST[folder]
    argv = shlex.split(entry["command"])
    assert argv[:2] == ["transferbench", "run"] and "--out" in argv and argv[argv.index("--out") + 1] == "results"
    if "--data-root" in argv and not DATA.is_dir():
        pytest.skip(f"the shared data is not at {DATA}")
    absent = [name for name in load_suite(REPO / argv[2]).assets if not (REPO / "data" / name).is_dir()]
    if absent and "--data-root" not in argv:
        pytest.skip(f"assets {absent} are not under {REPO / 'data'}: run `transferbench fetch {argv[2]}`")
    monkeypatch.chdir(REPO)
    assert main(argv[1:] + ["--dry-run", "--no-progress"]) == 0
    planned = int(re.search(r"^(\d+) cells? to run", capsys.readouterr().out, flags=re.M).group(1))
    if "produced_by" not in entry:
        assert planned == 0, (f"results/{folder}: the current code plans {planned} cells its records do not "
                              f"hold: regenerate them ({entry['command']}) or set produced_by in "
                              f"results/published.toml and say so in the README")
        return
    assert planned > 0, f"results/{folder} matches the current code: remove its produced_by"
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## Published results", 1)[1].split("\n## ")[0]
    assert f"`results/{folder}`" in readme and entry["produced_by"][:8] in readme
