"""Reading a manifest (a table listing images) and choosing its rows: the manifest provider's half
that knows pandas and nothing of images (``plugins.datasets.manifest`` decodes them).

Every error is one line naming the manifest, and the row (1-based, the header not counted) of a
row at fault.
"""

import math
from dataclasses import dataclass
from numbers import Real
from pathlib import Path

import numpy as np

from benchmark import DataError, did_you_mean

JSON_LINES = (".jsonl", ".ndjson")
TABS = (".tsv", ".tab")
RULE_EXAMPLE = 'label_rule = { column = "defect_probability", threshold = 0.5, names = ["functional", "defective"] }'


@dataclass(frozen=True)
class LabelRule:
    """Classes from a numeric column: a value v takes names[i], i = how many thresholds are <= v."""

    column: str
    thresholds: tuple[float, ...]  # ascending
    names: tuple[str, ...]         # len(thresholds) + 1

    @classmethod
    def parse(cls, rule) -> "LabelRule":
        """From the suite's table; a DataError showing the expected form when it does not fit."""
        if not isinstance(rule, dict) or not {"column", "threshold"} <= rule.keys() <= {"column", "threshold", "names"}:
            raise DataError(f"manifest: label_rule takes column, threshold and names, e.g. {RULE_EXAMPLE}")
        thresholds = rule["threshold"] if isinstance(rule["threshold"], list) else [rule["threshold"]]
        if not thresholds or not all(isinstance(t, Real) and not isinstance(t, bool) for t in thresholds) \
                or any(a >= b for a, b in zip(thresholds, thresholds[1:])):
            raise DataError(f"manifest: label_rule threshold must be a number or a list of ascending numbers, "
                            f"got {rule['threshold']!r}")
        bounds = [f"{t:g}" for t in thresholds]
        default = [f"<{bounds[0]}", *(f"{a}-{b}" for a, b in zip(bounds, bounds[1:])), f">={bounds[-1]}"]
        names = tuple(str(name) for name in rule.get("names", default))
        if len(names) != len(thresholds) + 1 or len(set(names)) != len(names):
            raise DataError(f"manifest: label_rule needs {len(thresholds) + 1} distinct names for "
                            f"{len(thresholds)} threshold{'s' if len(thresholds) > 1 else ''}, got {list(names)}")
        return cls(str(rule["column"]), tuple(float(t) for t in thresholds), names)


@dataclass(frozen=True)
class Rows:
    """The manifest's chosen rows, in file order."""

    paths: list[Path]              # [N] image files, absolute or relative to the working directory
    rows: list[int]                # [N] 1-based row numbers, for messages
    labels: list[int]              # [N] indices into classes
    classes: tuple[str, ...]
    groups: tuple[str, ...] | None  # [N] group names; None without a group column


def read_table(path: Path, sep: str | None, columns: list | None):
    """The manifest as a pandas DataFrame: JSON Lines by suffix, else delimited text (``sep``, default
    "," or a tab for .tsv; "whitespace" for runs of spaces); ``columns`` names a header-less file's columns."""
    import pandas as pd

    try:
        if sep is None and path.suffix.lower() in JSON_LINES:
            frame = pd.read_json(path, lines=True)
        else:
            delimiter = r"\s+" if sep == "whitespace" else sep or ("\t" if path.suffix.lower() in TABS else ",")
            frame = pd.read_csv(path, sep=delimiter, header=None if columns else "infer", names=columns)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:  # pandas' EmptyDataError is a ValueError
        raise DataError(f"manifest {path}: cannot read it as a table: {str(error).splitlines()[0]}") from None
    frame.columns = [str(column).strip() for column in frame.columns]  # "path, label" is read as " label"
    return frame


def column(frame, name: str, option: str, path: Path):
    """A column by name; a DataError with did-you-mean, the columns there are and the option that named it."""
    if name not in frame.columns:
        raise DataError(f"manifest {path}: no column '{name}'{did_you_mean(name, frame.columns)}; it has "
                        f"{list(frame.columns)} (set options {option})")
    return frame[name]


def matches(values, wanted):
    """[N] bool: the values equal to ``wanted`` (one value or a list), as numbers where both are numbers."""
    import pandas as pd

    wanted = wanted if isinstance(wanted, list) else [wanted]
    numbers = all(isinstance(w, Real) and not isinstance(w, bool) for w in wanted)
    if numbers and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.isin(wanted)
    return values.astype(str).isin([str(w) for w in wanted])


def blank(value) -> bool:
    """An empty cell: None, NaN, pandas' NA, or only spaces."""
    import pandas as pd

    return value is None or bool(pd.isna(value)) or str(value).strip() == ""


def choose(frame, path: Path, split: str, options) -> Rows:
    """The rows of ``split`` that pass ``options.where``, with paths, labels and groups.

    ``options``: the provider (path_column, label_column, label_rule, where, split_column, group_column).
    """
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise DataError(f"manifest {path} lists no rows (columns {list(frame.columns)})")
    keep = np.ones(len(frame), dtype=bool)  # [rows]: still chosen
    for name, wanted in options.where.items():
        keep &= matches(column(frame, name, "where", path), wanted).to_numpy()
    after_where = frame[keep]
    said = [f"where = {options.where}"] if options.where else []
    if split != "all":
        if options.split_column is None:
            raise DataError(f"manifest {path} has one split, 'all', not '{split}' (set options split_column to "
                            f"the column that names each row's split)")
        splits = column(frame, options.split_column, "split_column", path).astype(str)
        if split not in set(splits):
            raise DataError(f"manifest {path}: no row has {options.split_column} = '{split}'"
                            f"{did_you_mean(split, set(splits))}; it has {sorted(set(splits))[:10]}")
        keep &= (splits == split).to_numpy()
        said.append(f"{options.split_column} = '{split}'")
    chosen = frame[keep]
    if chosen.empty:
        seen = "; ".join(f"{name} has {sorted(set(frame[name].astype(str)))[:10]}" for name in options.where)
        raise DataError(f"manifest {path}: no row is left of its {len(frame)} after {' and '.join(said)}"
                        f"{' (' + seen + ')' if seen else ''}")
    rows = [int(i) + 1 for i in chosen.index]
    labels, classes = labelled(after_where, chosen, rows, path, options)
    groups = None
    if options.group_column is not None:
        groups = tuple(text(value, row, options.group_column, path)
                       for value, row in zip(column(frame, options.group_column, "group_column", path)[keep], rows))
    paths = [image_path(text(value, row, options.path_column, path), path)
             for value, row in zip(column(frame, options.path_column, "path_column", path)[keep], rows)]
    return Rows(paths, rows, labels, classes, groups)


def labelled(after_where, chosen, rows: list[int], path: Path, options) -> tuple[list[int], tuple[str, ...]]:
    """(labels [N], classes): by the label rule, or the label column's distinct values (sorted) after ``where``,
    so every split of one manifest has the same classes."""
    import pandas as pd

    if options.label_rule is not None:
        rule = options.label_rule
        raw = column(chosen, rule.column, "label_rule", path)
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = next((i for i, v in enumerate(values) if math.isnan(v)), None)
        if bad is not None:
            raise DataError(f"manifest {path} row {rows[bad]}: {rule.column} = {raw.iloc[bad]!r} is not a number "
                            f"(label_rule cuts a numeric column)")
        return np.searchsorted(rule.thresholds, values, side="right").tolist(), rule.names
    name = options.label_column
    every = column(after_where, name, "label_column", path)
    distinct = sorted({value for value in every if not blank(value)}, key=lambda v: (isinstance(v, str), v))
    classes = tuple(dict.fromkeys(str(value).strip() for value in distinct))  # as text() reads each row's
    index = {value: i for i, value in enumerate(classes)}
    return [index[text(value, row, name, path)] for value, row in zip(column(chosen, name, "label_column", path),
                                                                        rows)], classes


def text(value, row: int, name: str, path: Path) -> str:
    """A cell as text; a blank one (empty, NaN) is a DataError naming its row."""
    if blank(value):
        raise DataError(f"manifest {path} row {row}: {name} is empty")
    return str(value).strip()


def image_path(value: str, manifest: Path) -> Path:
    """A row's image: absolute as written, else relative to the manifest's folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else manifest.parent / path
