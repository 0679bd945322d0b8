"""The matrix: one row per pair, one column per check x dtype x device x mode.

Why a matrix: 50 pairs x 8 columns is what a reader scans first; each cell says its verdict
in a symbol and a word (colour only helps) and links to the record's details. Columns come
in the order of ``dimensions`` (checks parameters ... train_step, modes eval, train, graph),
unknown values after the known ones; a check or mode header says on hover what it compares.
The filter controls are hidden until the script shows them, so with JavaScript off every
row shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.report.details import less_accurate, pair_id, record_id
from harness.report.dimensions import DIMENSIONS, meaning, ordered
from harness.report.fmt import SHORT, SYMBOL, VERDICT_ORDER, e, verdict_badge
from harness.report.model import Cell, Column, Report
from harness.results import MEANINGS, VERDICTS

__all__ = ["matrix_section"]

def _spans(columns: Sequence[Column], level: int) -> list[tuple[str, int]]:
    """Adjacent columns that share every value up to ``level`` merge into one header cell."""
    spans: list[tuple[str, int]] = []
    i = 0
    while i < len(columns):
        j = i
        while j < len(columns) and columns[j][: level + 1] == columns[i][: level + 1]:
            j += 1
        spans.append((columns[i][level], j - i))
        i = j
    return spans


def _hint(dim: str, value: str) -> str:
    """A header's hover text: what the check or mode compares (nothing for dtype and device)."""
    text = meaning(dim, value)
    return f' title="{e(value)}: {e(text)}"' if text else ""


def _head(columns: Sequence[Column]) -> str:
    """Four header rows (check, dtype, device, mode), merged where values repeat."""
    rows = []
    for level, dim in enumerate(DIMENSIONS):
        first = (f'<th scope="col" rowspan="{len(DIMENSIONS)}" class="pair-col">pair</th>' if level == 0 else "")
        cells = "".join(
            f'<th scope="{"colgroup" if n > 1 else "col"}" colspan="{n}"{_hint(dim, v)} class="dim-{dim}">'
            f"{e(v)}</th>" for v, n in _spans(columns, level))
        rows.append(f"<tr>{first}{cells}</tr>")
    return "<thead>" + "".join(rows) + "</thead>"


def _title(cell: Cell) -> str:
    """Hover text: the key and, for a conflict, every directory's verdict."""
    where = " · ".join(cell.key)
    if cell.conflict:
        return f"{where}: conflict — " + "; ".join(f"{en.source.label}: {en.record.verdict}" for en in cell.entries)
    side = less_accurate(cell.entries[0].record) if cell.verdict == "precision" else None
    return f"{where}: {cell.verdict}" + (f" ({side}'s float32 result is less accurate)" if side else "")


def _cell(report: Report, pair: str, column: Column) -> str:
    """One matrix cell: symbol + short word, linked to the record's block."""
    cell = report.cells.get((pair, *column))
    if cell is None:
        return '<td class="c c-none" title="not run">·</td>'
    v = cell.verdict
    return (f'<td class="c v-{e(v)}"><a href="#{record_id(cell.key)}" title="{e(_title(cell))}">'
            f"{e(SYMBOL[v])} {e(SHORT[v])}</a></td>")


def _row(report: Report, pair: str) -> str:
    """A pair's row; data attributes carry what the filter and the sort need."""
    verdicts = sorted({c.verdict for c in report.pair_cells(pair)}, key=VERDICT_ORDER.index)
    rank = VERDICT_ORDER.index(verdicts[0]) if verdicts else len(VERDICT_ORDER)
    cells = "".join(_cell(report, pair, c) for c in report.columns)
    return (f'<tr data-pair="{e(pair)}" data-verdicts="{e(" ".join(verdicts))}" data-rank="{rank}" '
            f'data-target="{pair_id(pair)}"><th scope="row"><a href="#{pair_id(pair)}">{e(pair)}</a></th>'
            f"{cells}</tr>")


def _filters(report: Report) -> str:
    """Verdict checkboxes, a name filter and a sort; hidden until the script runs."""
    present = {c.verdict for c in report.cells.values()}
    boxes = "".join(f'<label><input type="checkbox" name="verdict" value="{e(v)}" checked> {verdict_badge(v)}'
                    "</label>" for v in VERDICT_ORDER if v in present)
    return ('<form id="filters" class="filters" hidden onsubmit="return false">'
            f'<fieldset><legend>Show pairs with a verdict of</legend>{boxes}</fieldset>'
            '<label>pair name contains <input type="search" id="pair-filter" placeholder="e.g. conv"></label> '
            '<label>order <select id="pair-sort"><option value="rank">needs a look first</option>'
            '<option value="name">by name</option></select></label> <output id="shown" aria-live="polite">'
            "</output></form>")


_CONFLICT = "two records for one key (merged runs)"


def _legend() -> str:
    """What the symbols mean, in words: every verdict a record can have (``MEANINGS``), then conflict."""
    items = [(v, MEANINGS.get(v, "")) for v in VERDICTS] + [("conflict", _CONFLICT)]
    text = "".join(f"<li>{verdict_badge(v)} {e(why)}</li>" for v, why in items)
    return f'<ul class="legend">{text}<li><span class="v c-none">·</span> not run</li></ul>'


def _columns_key(report: Report) -> str:
    """The checks and modes of this report and what each compares, in column order."""
    items = []
    for level, dim in ((0, "check"), (3, "mode")):
        for value in ordered(dim, (c[level] for c in report.columns)):
            text = meaning(dim, value) or "not described by this version of the report"
            items.append(f"<div><dt>{dim} <code>{e(value)}</code></dt><dd>{e(text)}</dd></div>")
    return (f'<details class="columns"><summary>What the checks and modes compare</summary><dl class="columns">'
            f"{''.join(items)}</dl></details>")


def matrix_section(report: Report) -> str:
    """The section: legend, filters, and the table (rows worst first, then by name)."""
    body = "".join(_row(report, p) for p in report.pairs)
    return (f'<section id="matrix"><h2>Matrix</h2>{_legend()}{_columns_key(report)}<p>Rows are ordered with what '
            "needs a look first; click a cell for its details.</p>"
            f"{_filters(report)}<div class=\"scroll\"><table class=\"matrix\">"
            f"{_head(report.columns)}<tbody>{body}</tbody></table></div></section>")
