"""Per-pair sections: every record's verdict, tolerance, metrics, evidence and reproduction.

Why this much per record: the matrix says *where*; this says *why* and *what to run next*
(the minimal case and its one-line command), so a reader never needs the JSONL. A training
step's trajectory (``trajectory``) and a compiled record's execution (``execution``) have
modules of their own; this one places them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.report.dimensions import ordered
from harness.report.execution import execution_block
from harness.report.fmt import e, fmt_num, num, slug, verdict_badge
from harness.report.model import Cell, Entry, Report
from harness.report.svg import headroom_sparkline
from harness.report.trajectory import trajectory_block
from harness.results import Record

__all__ = ["declared", "in_modes", "pair_id", "pair_sections", "record_id"]

_OPEN = {"fail", "error", "conflict"}  # what needs a look opens; the expected stays one line


def pair_id(pair: str) -> str:
    """The anchor of a pair's section."""
    return "pair-" + slug(pair)


def record_id(key: Sequence[str]) -> str:
    """The anchor of one key's block (the matrix cells link here)."""
    return "rec-" + slug(*key)


def _key_label(key: Sequence[str]) -> str:
    """check · dtype · device · mode, as a heading."""
    return " · ".join(key[1:])


def _tolerance(tol: dict[str, Any]) -> str:
    """rtol, atol and where the numbers come from."""
    if not tol:
        return "—"
    return (f"rtol {e(fmt_num(tol.get('rtol')))}, atol {e(fmt_num(tol.get('atol')))} × scale"
            f" <span class=\"muted\">({e(tol.get('source', 'no source recorded'))})</span>")


def _facts(r: Record, entry: Entry, several_sources: bool) -> str:
    """The record's one-line facts: examples, time, tolerance, divergence kind, directory."""
    items = [("examples", e(r.examples)), ("time", f"{e(fmt_num(r.duration_s))} s"),
             ("tolerance", _tolerance(r.tolerance))]
    if r.divergence_kind:
        items.append(("divergence kind", f"<strong>{e(r.divergence_kind)}</strong>"))
    if several_sources:
        items.append(("from", f"<code>{e(entry.source.label)}</code>"))
    return '<dl class="facts">' + "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items) + "</dl>"


def _index(value: Any) -> str:
    """A worst index as a tuple, like the failure message prints it."""
    if not isinstance(value, list):
        return e(value)
    return f"({value[0]},)" if len(value) == 1 else "(" + ", ".join(str(i) for i in value) + ")"


def _not_applicable(m: dict[str, Any]) -> bool:
    """A round trip that does not apply (serialization): ok, nothing compared, a note saying why."""
    return m.get("total") == 0 and str(m.get("note", "")).startswith("not applicable")


def _metric_row(name: str, m: dict[str, Any]) -> str:
    """One tensor's comparison; headroom at or above 1 is what failed, a not-applicable one is neither."""
    h = num(m.get("headroom"))
    na = _not_applicable(m)
    bad = not na and (h is None or not h < 1)
    ok = "– not applicable" if na else "✓ ok" if m.get("ok") else "✗ mismatch"
    note = f'<div class="muted">{e(m["note"])}</div>' if m.get("note") else ""
    return (f'<tr class="{"bad" if bad else "na" if na else ""}"><th scope="row">{e(name)}{note}</th>'
            f"<td>{e(_index(m.get('shape', [])))}</td><td class=\"num\">{e(fmt_num(m.get('max_abs_error')))}</td>"
            f"<td class=\"num\">{e(fmt_num(m.get('max_rel_error')))}</td>"
            f"<td class=\"num\">{e(m.get('mismatched', '—'))} / {e(m.get('total', '—'))}</td>"
            f"<td>{e(_index(m.get('worst_index', [])))}</td>"
            f"<td class=\"num\">{e(fmt_num(m.get('torch_value'), 8))}</td>"
            f"<td class=\"num\">{e(fmt_num(m.get('tf_value'), 8))}</td>"
            f"<td class=\"num\">{'—' if na else e(fmt_num(h))}</td><td>{ok}</td></tr>")


_METRIC_HEAD = "".join(f'<th scope="col">{h}</th>' for h in (
    "tensor", "shape", "max abs error", "max rel error", "mismatched / total", "worst index",
    "torch at worst", "TF at worst", "headroom", "ok"))
_SHOWN = 8  # rows shown before the rest fold away (a U-Net has 30 buffers)


def _metric_table(rows: Sequence[str], caption: str) -> str:
    """One metrics table."""
    return (f'<div class="scroll"><table class="metrics"><caption>{caption}</caption><thead><tr>{_METRIC_HEAD}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _by_headroom(item: tuple[str, Any]) -> float:
    """Sort key: the tensors nearest to (or past) the tolerance first."""
    h = num(item[1].get("headroom"))
    return -(h if h is not None and h == h else float("inf"))


def _metrics(r: Record) -> str:
    """The per-tensor metrics table (minimal failing case, or a pass's closest example), worst first."""
    items = sorted(((n, m) for n, m in r.metrics.items() if isinstance(m, dict)), key=_by_headroom)
    if not items:
        return ""
    what = "minimal failing case" if r.verdict in ("fail", "known-divergence") else "example closest to tolerance"
    caption = f"Per-tensor metrics ({what}); headroom = worst error / allowed error, below 1 passes"
    rows = [_metric_row(n, m) for n, m in items]
    out = _metric_table(rows[:_SHOWN], caption)
    if len(rows) > _SHOWN:
        rest = _metric_table(rows[_SHOWN:], "the remaining tensors")
        out += f"<details><summary>{len(rows) - _SHOWN} more tensors</summary>{rest}</details>"
    return out


def _params_text(params: Any) -> str:
    """A params dict as ``batch=1 features=2``."""
    if not isinstance(params, dict):
        return json.dumps(params)
    return " ".join(f"{k}={v}" for k, v in params.items())


def _tried(r: Record) -> str:
    """The headroom chart and the distinct params and regimes hypothesis tried."""
    cases = [x.get("case", {}) for x in r.per_example if isinstance(x, dict)]
    if not cases:
        return ""
    params = Counter(_params_text(c.get("params", {})) for c in cases if isinstance(c, dict))
    regimes = Counter(str(c.get("regime", "?")) for c in cases if isinstance(c, dict))
    shapes = "".join(f"<li><code>{e(p)}</code>{f' ×{n}' if n > 1 else ''}</li>" for p, n in params.items())
    regime_text = ", ".join(f"{e(k)} {n}" for k, n in regimes.most_common())
    return (f'<div class="tried">{headroom_sparkline(r.per_example)}<div><p><strong>{len(params)} distinct '
            f"params</strong> over {len(cases)} examples, in the order tried (×n: tried n times):</p>"
            f'<ul class="params">{shapes}</ul><p>value regimes: {regime_text}</p></div></div>')


def _reproduction(r: Record) -> str:
    """The minimal case (JSON) and the command that replays it."""
    out = []
    if r.minimal_case is not None:
        shapes = r.minimal_case.get("input_shapes") if isinstance(r.minimal_case, dict) else None
        shape_text = f" — input shapes {e(json.dumps(shapes))}" if shapes else ""
        out.append(f'<h4>Minimal case{shape_text}</h4><pre class="case">'
                   f"{e(json.dumps(r.minimal_case, sort_keys=True))}</pre>")
    if r.repro:
        out.append(f'<h4>Reproduce</h4><pre class="repro"><code>{e(r.repro)}</code></pre>')
    return "".join(out)


def _error(r: Record) -> str:
    """An error's exception, framework, stage and traceback."""
    if not r.error:
        return ""
    err = r.error
    where = ", ".join(f"{k} {e(err[k])}" for k in ("framework", "stage") if err.get(k))
    return (f"<h4>Exception: <code>{e(err.get('type', '?'))}</code>{f' ({where})' if where else ''}</h4>"
            f'<pre class="message">{e(err.get("message", ""))}</pre>'
            f'<details open><summary>traceback</summary><pre class="traceback">{e(err.get("traceback", ""))}'
            "</pre></details>")


def _localisation(r: Record) -> str:
    """A composite's first divergent stage and every stage's error, in the order walked."""
    loc = r.localisation
    if not loc:
        return ""
    first = loc.get("first")
    lead = (f"first divergent stage ({e(loc.get('direction', '?'))}): <strong>{e(first)}</strong>" if first
            else "no declared stage diverges: the divergence is in the composite's own code around them")
    note = f'<p class="muted">{e(loc["note"])}</p>' if loc.get("note") else ""
    rows = "".join(
        f'<tr class="{"" if s.get("ok") else "bad"}"><th scope="row">{e(s.get("stage"))}</th>'
        f'<td class="num">{e(fmt_num(s.get("max_abs_error")))}</td><td class="num">{e(fmt_num(s.get("headroom")))}'
        f'</td><td>{"✓ ok" if s.get("ok") else "✗ diverges"}</td></tr>'
        for s in loc.get("stages", []) if isinstance(s, dict))
    return (f"<h4>Localisation</h4><p>{lead}</p>{note}<table class=\"stages\"><thead><tr>"
            '<th scope="col">stage</th><th scope="col">max abs error</th><th scope="col">headroom</th>'
            f'<th scope="col">ok</th></tr></thead><tbody>{rows}</tbody></table>')


def _message(r: Record) -> str:
    """The declared reason and the record's own message (a skip's reason, a failure's text)."""
    out = []
    if r.known_divergence:
        out.append(f'<p class="reason"><strong>Declared known divergence:</strong> {e(r.known_divergence)}</p>')
    if r.message and not r.error:
        tag = "p" if r.verdict == "skip" else "pre"
        out.append(f'<{tag} class="message">{e(r.message)}</{tag}>')
    return "".join(out)


def _body(entry: Entry, several_sources: bool) -> str:
    """Everything recorded about one record, most decisive first."""
    r = entry.record
    return (_facts(r, entry, several_sources) + _message(r) + _error(r) + _reproduction(r) + _localisation(r)
            + trajectory_block(r) + _metrics(r) + _tried(r) + execution_block(r))


def _worst_headroom(cell: Cell) -> str:
    """The largest recorded headroom of the cell, for the collapsed summary line."""
    values = [num(m.get("headroom")) for en in cell.entries for m in en.record.metrics.values() if isinstance(m, dict)]
    found = [v for v in values if v is not None]
    if not found:
        return ""
    return (f' <span class="muted" title="worst error / allowed error over every tensor; below 1 passes">'
            f"headroom {e(fmt_num(max(found)))}</span>")


def _cell_block(cell: Cell, several_sources: bool) -> str:
    """One key: a collapsible block, open when it needs a look; conflicts side by side."""
    open_attr = " open" if cell.verdict in _OPEN else ""
    summary = (f'<summary><h3>{e(_key_label(cell.key))} {verdict_badge(cell.verdict)}'
               f"{_worst_headroom(cell)}</h3></summary>")
    if cell.conflict:
        sides = "".join(f'<div class="side"><h4>from <code>{e(en.source.label)}</code>: '
                        f"{verdict_badge(en.record.verdict)}</h4>{_body(en, False)}</div>" for en in cell.entries)
        body = (f'<p class="reason"><strong>Conflict:</strong> {len(cell.entries)} records for this key; '
                f'each is shown with the directory it came from.</p><div class="sides">{sides}</div>')
    else:
        body = _body(cell.entries[0], several_sources)
    return (f'<details class="record r-{e(cell.verdict)}" id="{record_id(cell.key)}"{open_attr}>'
            f"{summary}{body}</details>")


def declared(cells: Sequence[Cell], verdict: str | None = None) -> dict[str, str]:
    """A pair's declared divergence reasons, each with the modes it was recorded in ("" when all of them).

    Divergences may be declared per mode (say graph only): the reason alone would read as if
    it held everywhere. ``verdict`` keeps only the records with that verdict (those reproduced).
    """
    modes: dict[str, set[str]] = {}
    for cell in cells:
        for en in cell.entries:
            if en.record.known_divergence and verdict in (None, en.record.verdict):
                modes.setdefault(en.record.known_divergence, set()).add(cell.key[4])
    every = {c.key[4] for c in cells}
    return {reason: "" if ms == every else ", ".join(ordered("mode", ms)) for reason, ms in modes.items()}


def in_modes(modes: str) -> str:
    """`` (in graph mode)`` for a reason recorded in some modes only."""
    return f" (in {e(modes)} mode{'s' if ',' in modes else ''})" if modes else ""


def _origin(cells: Sequence[Cell]) -> str:
    """Where a pair comes from, the divergences it declares and why modes were skipped (said once, not per record)."""
    origin = cells[0].entries[0].record.origin or {}
    seed, name = origin.get("seed"), origin.get("tutorial_name")
    text = (f'<p class="origin">origin: <code>{e(seed or "?")}</code>'
            f"{f', tutorial name <strong>{e(name)}</strong>' if name else ''}</p>" if seed or name
            else '<p class="origin muted">origin not recorded</p>')
    skips = dict.fromkeys(en.record.message for c in cells for en in c.entries if en.record.verdict == "skip")
    return (text + "".join(f'<p class="reason"><strong>Declared known divergence</strong>'
                           f"{in_modes(modes)}: {e(r)}</p>" for r, modes in declared(cells).items())
            + "".join(f'<p class="muted">Skipped: {e(m)}</p>' for m in skips))


def pair_sections(report: Report) -> str:
    """One section per pair, in the matrix's order."""
    several = len(report.sources) > 1
    out = []
    for pair in report.pairs:
        cells = report.pair_cells(pair)
        blocks = "".join(_cell_block(c, several) for c in cells)
        out.append(f'<section class="pair" id="{pair_id(pair)}" data-pair="{e(pair)}"><h2>{e(pair)} '
                   f'<a class="up" href="#matrix">↑ matrix</a></h2>{_origin(cells)}{blocks}</section>')
    return '<div id="pairs">' + "".join(out) + "</div>"
