"""A self-contained static HTML page: the same tables, sortable by clicking a header, no network resources.

Every cell carries ``data-value`` (the unrounded mean, empty for failed / skipped /
not run), so sorting is numeric and cells without a value always sort last.
"""

from html import escape

from benchmark.leaderboard import wording as text
from benchmark.leaderboard.summary import Board, Entry, Table

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #1b1b1b; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 2em; }
caption { caption-side: top; text-align: left; max-width: 60em; color: #444; padding-bottom: 0.5em; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th[scope=row], thead th:first-child { text-align: left; }
thead th { border-bottom: 2px solid #333; }
thead button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0; cursor: pointer; }
thead th[aria-sort=ascending] button::after { content: " \\25B2"; }
thead th[aria-sort=descending] button::after { content: " \\25BC"; }
td.negative { background: #fde4e4; }
.mark { font-weight: bold; margin-left: 0.2em; }
.mark.negative { color: #b00020; }
.mark.flag { color: #a04a00; }
.status, .note { color: #777; font-style: italic; }
footer { color: #444; border-top: 1px solid #ccc; margin-top: 2em; }
footer dt { font-weight: bold; float: left; clear: left; width: 9em; }
footer dd { margin-left: 10em; }
"""

# Sorts the clicked column's rows by data-value: numbers numerically, text alphabetically,
# empty values last in either direction; a second click reverses.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) { return row.cells[column].getAttribute("data-value"); }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var nx = parseFloat(x), ny = parseFloat(y), order;
        order = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

MARK_TITLES = {text.TIED: "tied with best (not significantly worse)", text.NEGATIVE: "negative transfer",
               text.NOT_TESTED: "not tested: fewer than two paired runs, neither tied nor worse",
               text.BELOW_MAJORITY: "below the majority-class rate of its test split",
               text.BELOW_START: "below its start: the model and head it reused score more"}
MARK_CLASSES = {text.NEGATIVE: " negative", text.BELOW_MAJORITY: " flag", text.BELOW_START: " flag"}


def _number(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.6f}"  # NaN, not recorded -> "" (sorts last)


def _marks(marks: str) -> str:
    return "".join(f'<span class="mark{MARK_CLASSES.get(m, "")}" title="{MARK_TITLES[m]}">{m}</span>'
                   for m in marks)


def score_cell(entry: Entry | None) -> str:
    if text.no_value(entry):
        return f'<td data-value=""><span class="status">{escape(text.no_value(entry))}</span></td>'
    half = text.half_width(entry.score)
    value = text.percent(entry.score.mean) + (f" ± {half}" if half else "")
    value = f"<strong>{value}</strong>" if entry.best else value
    note = text.partial_note(entry)
    note = f' <span class="note">{escape(note)}</span>' if note else ""
    css = ' class="negative"' if entry.negative_transfer else ""
    return f'<td{css} data-value="{_number(entry.score.mean)}">{value}{_marks(text.marks(entry))}{note}</td>'


def gain_cell(entry: Entry | None) -> str:
    if text.no_value(entry, gain=True):
        return f'<td data-value=""><span class="status">{escape(text.no_value(entry, gain=True))}</span></td>'
    half = text.half_width(entry.gain)
    value = text.points(entry.gain.mean) + (f" ± {half}" if half else "")
    css = ' class="negative"' if entry.negative_transfer else ""
    mark = _marks(text.gain_marks(entry))
    return f'<td{css} data-value="{_number(entry.gain.mean)}">{value}{mark}</td>'


def html_table(table_id: str, caption: str, headers: list, rows: list) -> str:
    head = "".join(f'<th scope="col" aria-sort="none"><button type="button">{escape(h)}</button></th>'
                   for h in headers)
    body = "\n".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return (f'<table class="sortable" id="{table_id}">\n<caption>{escape(caption)}</caption>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>")


def row_header(variant: str) -> str:
    return f'<th scope="row" data-value="{escape(variant)}">{escape(variant)}</th>'


def marked(board: Board, entry: Entry | None) -> str:
    """score_cell with "oracle" inside the cell of a row tuned on the target test split."""
    cell, mark = score_cell(entry), text.oracle_mark(board, entry)
    return cell.replace("</td>", f' <span class="note">{mark}</span></td>') if mark else cell


def search_cell(table: Table, variant: str) -> str:
    trials, seconds = table.search.get(variant, (0, 0.0))
    return f'<td data-value="{trials or ""}">{escape(text.search_text(table, variant))}</td>'


def section(board: Board, table: Table) -> str:
    search = ["search"] if board.searched else []
    rows = [[row_header(v)] + [marked(board, table.entries.get((v, p))) for p in table.pairs]
            + [f'<td data-value="{_number(table.mean_rank[v])}">{text.rank_text(table.mean_rank[v])}</td>']
            * len(text.rank_columns(table))
            + [*(f'<td data-value="{_number(seconds)}">{text.seconds_text(seconds)}</td>'
                 for seconds in (table.pretrain_s[v], table.adapt_s[v]))]
            + ([search_cell(table, v)] if search else []) for v in table.rows]
    parts = [f"<section>\n<h2>{escape(text.table_title(board, table))}</h2>",
             html_table(f"scores-{escape(table.budget)}", text.caption(board, table),
                        ["strategy", *table.pairs, *text.rank_columns(table), "pretrain s", "adapt s", *search], rows)]
    if board.baseline and text.gain_rows(board, table):
        rows = [[row_header(v)] + [gain_cell(table.entries.get((v, p))) for p in table.pairs]
                for v in text.gain_rows(board, table)]
        parts.append(html_table(f"gains-{escape(table.budget)}", text.gain_caption(board, table),
                                ["strategy", *table.pairs], rows))
    return "\n".join(parts) + "\n</section>"


def render(board: Board) -> str:
    details = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in board.footer.items())
    warnings = "".join(f"<li>{escape(w)}</li>" for w in board.warnings)
    warnings = f"<h3>Warnings</h3>\n<ul>{warnings}</ul>\n" if warnings else ""
    sections = "\n".join(section(board, table) for table in board.tables)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(text.title(board))}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(text.title(board))}</h1>\n{sections}\n"
            f"<footer>\n<h2>Provenance</h2>\n<dl>\n{details}\n</dl>\n{warnings}</footer>\n"
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
