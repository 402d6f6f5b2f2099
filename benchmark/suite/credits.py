"""What a suite asks to be cited, and under which terms: ``citation`` and ``licence`` keys.

The suite itself (top level), each ``[model]`` table and each dataset table may carry both:

    citation = "@inproceedings{tan2019efficientnet, ...}"   # BibTeX; a multi-line string for several entries
    licence = "Apache-2.0"                                  # an SPDX id, or free text

``transferbench cite SUITE`` prints them with the strategies', the dataset providers' and the assets'
(assets.toml); every record carries the licences of what its cell used (``licences``), and the
leaderboard lists them and says so in its caption when one forbids commercial use.
"""

import re
from dataclasses import dataclass

KEYS = ("citation", "licence")
# CC's NC element (CC-BY-NC-4.0, CC-BY-NC-SA-4.0, "CC BY-NC-ND") or the words: uses that are not commercial only.
_NON_COMMERCIAL = re.compile(r"(?<![A-Za-z])NC(?![A-Za-z])|non[-\s]?commercial", re.IGNORECASE)


@dataclass(frozen=True)
class Credit:
    """The citation and licence one part of a suite states."""

    what: str           # e.g. "the suite", "model timm tf_efficientnet_lite0", "dataset elpv"
    citation: str = ""  # BibTeX
    licence: str = ""   # an SPDX id or free text


def parse(table: dict, what: str, fail) -> Credit | None:
    """The table's ``citation`` and ``licence`` as a Credit; None when it has neither.

    ``fail(message, key)`` raises the suite's error (file:line) for a value that is not a non-empty string.
    """
    values = {}
    for key in KEYS:
        value = table.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            fail(f"{what}: {key} must be a non-empty string (BibTeX for citation; an SPDX id such as "
                 f"\"CC-BY-4.0\" or free text for licence), got {value!r}", key)
        values[key] = (value or "").strip()
    return Credit(what, **values) if any(values.values()) else None


def of_model(table: dict | None, fail) -> Credit | None:
    """A [model] table's credit, named by its provider and name ("model timm tf_efficientnet_lite0")."""
    if not table:
        return None
    named = table.get("name") or table.get("path") or table.get("file")
    return parse(table, f"model {table.get('provider')}{f' {named}' if named else ''}", fail)


def of_dataset(table: dict, fail) -> Credit | None:
    """A dataset table's credit, named by its provider and dataset or root ("dataset imagefolder (solar/)")."""
    named = f" {table['name']}" if table.get("name") else f" ({table['root']})" if table.get("root") else ""
    return parse(table, f"dataset {table.get('provider')}{named}", fail)


def non_commercial(licence: str) -> bool:
    """Whether a licence forbids commercial use, by its SPDX NC element or the words 'non-commercial'."""
    return bool(_NON_COMMERCIAL.search(licence or ""))


def unique(credits) -> tuple[Credit, ...]:
    """``credits`` without None and without repeats, in order."""
    seen, out = set(), []
    for credit in credits:
        if credit is not None and credit not in seen:
            seen.add(credit)
            out.append(credit)
    return tuple(out)


def licences_by_pair(suite) -> dict[str, dict[str, str]]:
    """{pair: {what: licence}}: what each pair's records carry (``licences``): the suite's own licence,
    its model's and datasets', and every asset's the suite declares (assets.toml); {} for a pair of none."""
    assets = {}
    if suite.assets:
        from benchmark.assets import manifest

        declared = manifest.load()
        assets = {f"asset {name}": declared[name].licence for name in suite.assets if name in declared}
    return {pair.name: {**{c.what: c.licence for c in unique([suite.credit, *pair.credits]) if c.licence}, **assets}
            for pair in suite.pairs}
