"""Labelled texts from files: the readers behind the text dataset providers.

Each reader returns ``(texts, labels, classes)``: ``texts[i]`` is a string, ``labels[i]``
indexes ``classes`` (sorted class names, so the order does not depend on file order).
Errors are one line naming the file and the column or set at fault.

    read_table(path, text_column, label_column)   CSV (.csv, .tsv) or JSON lines (.jsonl)
    read_folders(root)                             root/<class>/*.txt, one text per file
    read_spamassassin(root, sets)                  the corpus's original tar.bz2 archives
"""

import csv
import json
import tarfile
from pathlib import Path

from benchmark import DataError, did_you_mean
from plugins.datasets.mail import mail_to_text

SPAMASSASSIN_SETS = ("easy_ham", "easy_ham_2", "hard_ham", "spam", "spam_2")
SPAMASSASSIN_RELEASE = "20030228"


def labelled(texts: list[str], names: list[str]) -> tuple[list[str], list[int], tuple[str, ...]]:
    classes = tuple(sorted(set(names)))
    lookup = {name: i for i, name in enumerate(classes)}
    return texts, [lookup[name] for name in names], classes


def read_rows(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise DataError(f"{path}:{number}: not valid JSON: {error.msg}") from None
        return rows
    if path.suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", newline="") as lines:
            return list(csv.DictReader(lines, delimiter="\t" if path.suffix == ".tsv" else ","))
    raise DataError(f"{path}: unsupported file type '{path.suffix}'; use .csv, .tsv or .jsonl")


def read_table(path: Path, text_column: str, label_column: str):
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path}: no rows")
    for column in (text_column, label_column):
        if column not in rows[0]:
            raise DataError(f"{path}: no column '{column}'{did_you_mean(column, list(rows[0]))}; "
                            f"it has {', '.join(map(str, rows[0]))}")
    texts, names = [], []
    for number, row in enumerate(rows, start=1):
        text = row.get(text_column)
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}: row {number} has an empty '{text_column}'")
        texts.append(text)
        names.append(str(row[label_column]))
    return labelled(texts, names)


def read_folders(root: Path):
    """root/<class name>/*.txt: every file one text, the folder its class."""
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise DataError(f"{root}: no class folders (expected {root}/<class>/*.txt)")
    texts, names = [], []
    for folder in folders:
        for file in sorted(folder.glob("*.txt")):
            text = file.read_text(encoding="utf-8", errors="replace")
            if not text.strip():
                raise DataError(f"{file}: empty text")
            texts.append(text)
            names.append(folder.name)
    return labelled(texts, names)


def spamassassin_archive(root: Path, name: str) -> Path:
    return root / f"{SPAMASSASSIN_RELEASE}_{name}.tar.bz2"


def read_spamassassin(root: Path, sets: dict[str, list[str]]):
    """``sets`` maps a class name to corpus sets, e.g. ``{"ham": ["easy_ham"], "spam": ["spam"]}``.
    Mails keep the archive's order (by file name), so per-class slices are reproducible."""
    texts, names = [], []
    for class_name, set_names in sets.items():
        for set_name in set_names:
            if set_name not in SPAMASSASSIN_SETS:
                raise DataError(f"spamassassin: unknown set '{set_name}'{did_you_mean(set_name, SPAMASSASSIN_SETS)}; "
                                f"the corpus has {', '.join(SPAMASSASSIN_SETS)}")
            with tarfile.open(spamassassin_archive(root, set_name)) as archive:
                members = sorted((m for m in archive.getmembers() if m.isfile() and "/cmds" not in m.name),
                                 key=lambda m: m.name)
                for member in members:
                    texts.append(mail_to_text(archive.extractfile(member).read()))
                    names.append(class_name)
    return labelled(texts, names)
