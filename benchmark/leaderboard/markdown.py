"""Markdown: per budget a scores table and a gains table (tabulate, GitHub style), then provenance."""

from tabulate import tabulate

from benchmark.leaderboard import wording as text
from benchmark.leaderboard.summary import Board, Entry, Table


def score_cell(entry: Entry | None) -> str:
    if text.no_value(entry):
        return text.no_value(entry)
    half = text.half_width(entry.score)
    value = text.percent(entry.score.mean) + (f" ± {half}" if half else "")
    value = f"**{value}**" if entry.best else value
    return " ".join(part for part in (value, text.marks(entry), text.partial_note(entry)) if part)


def gain_cell(entry: Entry | None) -> str:
    if text.no_value(entry, gain=True):
        return text.no_value(entry, gain=True)
    half = text.half_width(entry.gain)
    value = text.points(entry.gain.mean) + (f" ± {half}" if half else "")
    return f"{value} {text.gain_marks(entry)}" if text.gain_marks(entry) else value


def markdown_table(headers: list, rows: list) -> str:
    align = ["left"] + ["right"] * (len(headers) - 1)
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True, colalign=align)


def scores(board: Board, table: Table) -> str:
    def cell(entry):
        return " ".join(part for part in (score_cell(entry), text.oracle_mark(board, entry)) if part)

    search = ["search"] if board.searched else []
    rows = [[v] + [cell(table.entries.get((v, p))) for p in table.pairs]
            + [text.rank_text(table.mean_rank[v])] * len(text.rank_columns(table))
            + [text.seconds_text(table.pretrain_s[v]), text.seconds_text(table.adapt_s[v])]
            + ([text.search_text(table, v)] if search else []) for v in table.rows]
    return markdown_table(["strategy", *table.pairs, *text.rank_columns(table), "pretrain s", "adapt s", *search], rows)


def gains(board: Board, table: Table) -> str:
    rows = [[v] + [gain_cell(table.entries.get((v, p))) for p in table.pairs] for v in text.gain_rows(board, table)]
    return markdown_table(["strategy", *table.pairs], rows)


def render(board: Board) -> str:
    parts = [f"# {text.title(board)}"]
    for table in board.tables:
        parts += [f"## {text.table_title(board, table)}", text.caption(board, table), scores(board, table)]
        if board.baseline and text.gain_rows(board, table):
            parts += [text.gain_caption(board, table), gains(board, table)]
    parts.append("## Provenance\n\n" + "\n".join(f"- {key}: {value}" for key, value in board.footer.items()))
    if board.warnings:
        parts.append("## Warnings\n\n" + "\n".join(f"- {w}" for w in board.warnings))
    return "\n\n".join(parts) + "\n"
