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
from harness.report.fmt import NEEDS_A_LOOK, e, fmt_num, num, slug, verdict_badge
from harness.report.model import Cell, Entry, Report
from harness.report.svg import headroom_sparkline
from harness.report.trajectory import trajectory_block
from harness.results import Record

__all__ = ["coverage_text", "declared", "in_modes", "less_accurate", "pair_id", "pair_sections", "record_id"]

_OPEN = set(NEEDS_A_LOOK)  # what needs a look opens; the expected stays one line
_DEFAULT_SIDES = ("torch", "tf")
# How a metric was compared (schema 3 writes ``comparison``; older records do not say).
_COMPARISONS = {"exact": "bit for bit: any difference fails", "tolerance": "within rtol + atol × scale",
                "finding": "a finding stated in its note, not an element-wise comparison"}


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


def less_accurate(r: Record) -> str | None:
    """The framework whose float32 result is further from float64: the oracle's word, else the examples'."""
    oracle = r.oracle if isinstance(r.oracle, dict) else {}
    if oracle.get("less_accurate"):
        return str(oracle["less_accurate"])
    sides = Counter(str(x["precision"]) for x in r.per_example if isinstance(x, dict) and x.get("precision"))
    return sides.most_common(1)[0][0] if sides else None


def _count(value: Any) -> int | None:
    """A count field as int (not a bool, not text)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def coverage_text(coverage: Any) -> str:
    """``14 of 26 examples non-degenerate (12 with axes of size 1, 0 empty)``; "" without coverage."""
    if not isinstance(coverage, dict):
        return ""
    n, good = _count(coverage.get("examples")), _count(coverage.get("non_degenerate"))
    if n is None or good is None:
        return ""
    why = [f"{k} {word}" for word, key in (("with axes of size 1", "size_1"), ("empty", "empty"))
           if (k := _count(coverage.get(key))) is not None and (k or good < n)]
    return f"{good} of {n} example{'' if n == 1 else 's'} non-degenerate" + (f" ({', '.join(why)})" if why else "")


def _facts(r: Record, entry: Entry, several_sources: bool) -> str:
    """The record's one-line facts: examples, time, tolerance, coverage, divergence kind, directory."""
    items = [("examples", e(r.examples)), ("time", f"{e(fmt_num(r.duration_s))} s"),
             ("tolerance", _tolerance(r.tolerance))]
    if coverage_text(r.coverage):
        items.append(("coverage", e(coverage_text(r.coverage))))
    if r.divergence_kind:
        items.append(("divergence kind", f"<strong>{e(r.divergence_kind)}</strong>"))
    side = less_accurate(r) if r.verdict == "precision" else None
    if side:
        items.append(("less accurate in float32", f"<strong>{e(side)}</strong>"))
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


def _sides(m: dict[str, Any]) -> tuple[str, str]:
    """The two things a metric compared (``torch``/``tf``, ``tf.function``/``tf eager``, ...)."""
    sides = m.get("sides")
    if isinstance(sides, (list, tuple)) and len(sides) == 2:
        return str(sides[0]), str(sides[1])
    return _DEFAULT_SIDES


def _side_label(side: str) -> str:
    """A side as a column header names it (``tf`` reads TF, as everywhere on the page)."""
    return "TF" if side == "tf" else side


def _at_worst(value: Any, side: str, shown: str) -> str:
    """A value at the worst index, prefixed with its side when the column header names another."""
    label = "" if side == shown else f'<span class="muted">{e(side)}</span> '
    return f'<td class="num">{label}{e(fmt_num(value, 8))}</td>'


def _comparison(m: dict[str, Any]) -> str:
    """Which comparison a metric used: exact, tolerance or finding (old records: a dash)."""
    how = m.get("comparison")
    if not how:
        return '<td class="cmp">—</td>'
    hint = _COMPARISONS.get(str(how))
    title = f' title="{e(hint)}"' if hint else ""
    return f'<td class="cmp"{title}>{e(how)}</td>'


def _metric_row(name: str, m: dict[str, Any], header: tuple[str, str]) -> str:
    """One tensor's comparison; headroom at or above 1 is what failed, a not-applicable one is neither."""
    h = num(m.get("headroom"))
    na = _not_applicable(m)
    bad = not na and (h is None or not h < 1)
    ok = "– not applicable" if na else "✓ ok" if m.get("ok") else "✗ mismatch"
    note = f'<div class="muted">{e(m["note"])}</div>' if m.get("note") else ""
    first, second = _sides(m)
    return (f'<tr class="{"bad" if bad else "na" if na else ""}"><th scope="row">{e(name)}{note}</th>'
            f"<td>{e(_index(m.get('shape', [])))}</td><td class=\"num\">{e(fmt_num(m.get('max_abs_error')))}</td>"
            f"<td class=\"num\">{e(fmt_num(m.get('max_rel_error')))}</td>"
            f"<td class=\"num\">{e(m.get('mismatched', '—'))} / {e(m.get('total', '—'))}</td>"
            f"<td>{e(_index(m.get('worst_index', [])))}</td>"
            f"{_at_worst(m.get('torch_value'), first, header[0])}{_at_worst(m.get('tf_value'), second, header[1])}"
            f"<td class=\"num\">{'—' if na else e(fmt_num(h))}</td><td>{ok}</td>{_comparison(m)}</tr>")


def _metric_head(header: tuple[str, str]) -> str:
    """The column headers; the two value columns are named after the sides the rows compared."""
    names = ("tensor", "shape", "max abs error", "max rel error", "mismatched / total", "worst index",
             f"{_side_label(header[0])} at worst", f"{_side_label(header[1])} at worst", "headroom", "ok")
    hint = "; ".join(f"{k}: {v}" for k, v in _COMPARISONS.items())
    return ("".join(f'<th scope="col">{e(h)}</th>' for h in names)
            + f'<th scope="col" title="{e(hint)}">comparison</th>')


_SHOWN = 8  # rows shown before the rest fold away (a U-Net has 30 buffers)


def _metric_table(rows: Sequence[str], caption: str, header: tuple[str, str]) -> str:
    """One metrics table."""
    return (f'<div class="scroll"><table class="metrics"><caption>{caption}</caption><thead><tr>'
            f"{_metric_head(header)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _by_headroom(item: tuple[str, Any]) -> float:
    """Sort key: the tensors nearest to (or past) the tolerance first."""
    h = num(item[1].get("headroom"))
    return -(h if h is not None and h == h else float("inf"))


_METRICS_OF = {"fail": "minimal failing case", "known-divergence": "minimal failing case",
               "precision": "the float32 example furthest past the tolerance"}


def _metrics(r: Record) -> str:
    """The per-tensor metrics table (minimal failing case, or a pass's closest example), worst first."""
    items = sorted(((n, m) for n, m in r.metrics.items() if isinstance(m, dict)), key=_by_headroom)
    if not items:
        return ""
    what = _METRICS_OF.get(r.verdict, "example closest to tolerance")
    caption = f"Per-tensor metrics ({what}); headroom = worst error / allowed error, below 1 passes"
    pairs = {_sides(m) for _, m in items}
    header = next(iter(pairs)) if len(pairs) == 1 else ("first side", "second side")
    rows = [_metric_row(n, m, header) for n, m in items]
    out = _metric_table(rows[:_SHOWN], caption, header)
    if len(rows) > _SHOWN:
        rest = _metric_table(rows[_SHOWN:], "the remaining tensors", header)
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
            f'<ul class="params">{shapes}</ul><p>value regimes: {regime_text}</p>{_example_notes(r)}</div></div>')


def _example_notes(r: Record) -> str:
    """How many examples were degenerate (and why) and how many were float32 precision effects."""
    entries = [x for x in r.per_example if isinstance(x, dict)]
    reasons = Counter(str(x["degenerate"]) for x in entries if x.get("degenerate"))
    precision = Counter(str(x["precision"]) for x in entries if x.get("precision"))
    out = ""
    if reasons:
        listed = "".join(f"<li><code>{e(why)}</code>{f' ×{n}' if n > 1 else ''}</li>"
                         for why, n in reasons.most_common(_SHOWN))
        more = f"<li>and {len(reasons) - _SHOWN} more</li>" if len(reasons) > _SHOWN else ""
        out += (f"<p>{reasons.total()} of {len(entries)} examples degenerate:</p>"
                f'<ul class="params">{listed}{more}</ul>')
    if precision:
        sides = ", ".join(f"{e(side)} {n}" for side, n in precision.most_common())
        out += (f"<p>{precision.total()} example{'s' if precision.total() != 1 else ''} a float32 precision effect "
                f"(the float64 replay agrees); less accurate side: {sides}</p>")
    return out


def _range(value: Any) -> str:
    """A dim's [low, high] as ``1 – 4`` (one value alone when they are equal)."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = value
        return str(low) if low == high else f"{low} – {high}"
    return str(value)


def _coverage(r: Record) -> str:
    """What the examples covered: how many were non-degenerate, each dim's range, the options and regimes."""
    c = r.coverage
    if not isinstance(c, dict) or not c:
        return ""
    rows: list[tuple[str, str, bool]] = []
    n, good = _count(c.get("examples")), _count(c.get("non_degenerate"))
    if n is not None:
        rows.append(("examples", e(n), False))
    if good is not None:
        rows.append(("non-degenerate", e(good), good == 0))
    for key, label in (("size_1", "degenerate: an axis of size 1"), ("empty", "degenerate: empty")):
        if _count(c.get(key)) is not None:
            rows.append((label, e(c[key]), False))
    dims = c.get("dims") if isinstance(c.get("dims"), dict) else {}
    rows += [(f"dim <code>{e(d)}</code>", e(_range(v)), False) for d, v in dims.items()]
    options = c.get("options") if isinstance(c.get("options"), dict) else {}
    rows += [(f"option <code>{e(o)}</code>", ", ".join(f"<code>{e(x)}</code>" for x in
                                                         (v if isinstance(v, list) else [v])), False)
             for o, v in options.items()]
    regimes = c.get("regimes")
    if isinstance(regimes, dict) and regimes:
        drawn = sorted(regimes.items(), key=lambda kv: -(num(kv[1]) or 0))  # most drawn first
        rows.append(("regimes", e(", ".join(f"{k} {v}" for k, v in drawn)), False))
    if not rows:
        return ""
    body = "".join(f'<tr class="{"bad" if bad else ""}"><th scope="row">{k}</th><td>{v}</td></tr>'
                   for k, v, bad in rows)
    text = coverage_text(c)
    lead = f'<p class="coverage">{e(text)}.</p>' if text else ""
    return (f'<h4>Coverage</h4>{lead}<table class="coverage"><caption class="muted">a degenerate example has an '
            "empty tensor or an axis of size 1 that the pair lets grow</caption>"
            f"<tbody>{body}</tbody></table>")


def _oracle_rows(name: str, t: dict[str, Any]) -> str:
    """One tensor's two sides against the float64 result; the less accurate one is marked in words."""
    named = t.get("sides") if isinstance(t.get("sides"), list) else [k for k, v in t.items() if isinstance(v, dict)]
    sides = [str(x) for x in named if isinstance(t.get(str(x)), dict)]
    worse = t.get("less_accurate")
    ratio = num(t.get("ratio"))
    ratio_text = f"{fmt_num(ratio)}×" if ratio is not None else "—"
    rows = []
    for i, side in enumerate(sides):
        d = t[side]
        mark = ' <span title="further from the float64 result">◂ less accurate</span>' if side == worse else ""
        lead = f'<th scope="rowgroup" rowspan="{len(sides)}">{e(name)}</th>' if i == 0 else ""
        tail = f'<td class="num" rowspan="{len(sides)}">{e(ratio_text)}</td>' if i == 0 else ""
        rows.append(
            f'<tr class="{"worse" if side == worse else ""}">{lead}<td class="side">{e(side)}{mark}</td>'
            f'<td class="num">{e(fmt_num(d.get("max_abs")))}</td><td class="num">{e(fmt_num(d.get("ulps")))}</td>'
            f'<td class="num">{e(fmt_num(d.get("tolerances")))}</td><td>{e(_index(d.get("index", [])))}</td>'
            f'<td class="num">{e(fmt_num(d.get("value"), 8))}</td><td class="num">{e(fmt_num(d.get("float64"), 8))}'
            f"</td>{tail}</tr>")
    return f"<tbody>{''.join(rows)}</tbody>" if rows else ""  # one row group per tensor


def _worst_tolerances(t: Any) -> float:
    """Sort key of an oracle tensor: the furthest side's multiples of the tolerance, largest first."""
    if not isinstance(t, dict):
        return 0.0
    found = [num(v.get("tolerances")) for v in t.values() if isinstance(v, dict)]
    return -max((x for x in found if x is not None and x == x), default=0.0)


_ORACLE_HEAD = "".join(f'<th scope="col">{h}</th>' for h in (
    "tensor", "side", "max abs error vs float64", "ulps", "× float32 tolerance", "at index", "float32 value",
    "float64 value", "ratio (less / more accurate)"))


def _judgement(o: dict[str, Any]) -> str:
    """A float32 divergence judged against the float64 replay: who is further off, and by how much."""
    side = o.get("less_accurate")
    lead = (f'<p class="oracle">Less accurate in float32: <strong>{e(side)}</strong> (its float32 result is further '
            "from the float64 result)</p>" if side
            else '<p class="oracle">The oracle could not name a less accurate side.</p>')
    summary = f"<p>{e(o['summary'])}</p>" if o.get("summary") else ""
    tensors = o.get("tensors") if isinstance(o.get("tensors"), dict) else {}
    items = sorted(((str(n), t) for n, t in tensors.items() if isinstance(t, dict)),
                   key=lambda kv: _worst_tolerances(kv[1]))
    table = ""
    if items:
        rows = "".join(_oracle_rows(n, t) for n, t in items)
        table = (f'<div class="scroll"><table class="oracle"><caption>Each side\'s float32 result against the '
                 f"float64 result, per tensor</caption><thead><tr>{_ORACLE_HEAD}</tr></thead>{rows}"
                 "</table></div>")
    return lead + summary + table


def _float64_evidence(o: dict[str, Any]) -> str:
    """A float64 divergence the size of float32 rounding: which side computes in float32, and the operations."""
    summary = f'<p class="oracle">{e(o["summary"])}</p>' if o.get("summary") else ""
    sized = ("<p>The divergence is the size of float32 rounding: it would pass the float32 tolerance.</p>"
             if o.get("float32_sized") else "")
    ops = o.get("low_precision_ops") if isinstance(o.get("low_precision_ops"), dict) else {}
    named = o.get("side")
    rows = "".join(
        f'<tr class="{"worse" if s == named else ""}"><th scope="row">{e(s)}'
        f'{" ◂ computes in float32" if s == named else ""}</th><td>'
        + (", ".join(f"<code>{e(x)}</code>" for x in found) if isinstance(found, list) and found
           else '<span class="muted">none seen</span>' if not found else f"<code>{e(found)}</code>")
        + "</td></tr>" for s, found in ops.items())
    table = ('<table class="oracle"><caption>float32 operations seen inside this float64 run</caption><thead><tr>'
             f'<th scope="col">side</th><th scope="col">operations</th></tr></thead><tbody>{rows}</tbody></table>'
             if rows else "")
    return summary + sized + table


def _oracle(r: Record) -> str:
    """The float64 oracle's account: a float32 record's judgement, or a float64 record's float32 evidence."""
    o = r.oracle
    if not isinstance(o, dict) or not o:
        return ""
    judged = "tensors" in o or "less_accurate" in o
    body = _judgement(o) if judged else _float64_evidence(o)
    ref = f'<p class="muted">reference: {e(o["reference"])}</p>' if o.get("reference") else ""
    title = "Float64 oracle" if judged else "Float32 evidence in a float64 run"
    return f"<h4>{title}</h4>{body}{ref}"


def _noise_floor(r: Record) -> str:
    """The float64 noise floor the record was judged against (harness.noise): the worst example's, per side."""
    nf = r.noise_floor
    if not isinstance(nf, dict) or not nf:
        return ""
    w = nf.get("worst") if isinstance(nf.get("worst"), dict) else None
    how = ("every example (a training check: SGD compounds rounding)" if nf.get("always")
           else "each example that exceeded the fixed float64 tolerance")
    lead = (f"<p>Judged against a measured noise floor in {e(how)}: {e(nf.get('examples'))} example(s), allowed "
            f"{e(fmt_num(nf.get('k')))} x the floor. The floor is how far each side moves from its own result when "
            "every drawn value moves by one ulp.</p>")
    table = ""
    if w is not None:
        sides = w.get("sides") if isinstance(w.get("sides"), list) else []
        cells = "".join(f'<td class="num">{e(fmt_num(v))}</td>' for v in sides)
        table = ('<table class="oracle"><caption>the worst example, its worst tensor</caption><thead><tr>'
                 '<th scope="col">tensor</th><th scope="col">difference</th><th scope="col">torch moves</th>'
                 '<th scope="col">tf moves</th><th scope="col">one ulp of the scale</th>'
                 '<th scope="col">difference / allowed</th></tr></thead><tbody><tr>'
                 f'<th scope="row">{e(w.get("tensor"))}</th><td class="num">{e(fmt_num(w.get("error")))}</td>{cells}'
                 f'<td class="num">{e(fmt_num(w.get("ulp")))}</td><td class="num">{e(fmt_num(w.get("headroom")))}'
                 "</td></tr></tbody></table>")
    unstable = nf.get("unstable") or []
    note = (f'<p class="muted">no floor for {e(", ".join(map(str, unstable)))}: one ulp moves it too far to be '
            "rounding, so the fixed tolerance stands</p>" if unstable else "")
    return f"<h4>Noise floor</h4>{lead}{table}{note}"


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
    return (_facts(r, entry, several_sources) + _message(r) + _error(r) + _oracle(r) + _noise_floor(r)
            + _reproduction(r)
            + _localisation(r) + trajectory_block(r) + _metrics(r) + _coverage(r) + _tried(r) + execution_block(r))


def _worst_headroom(cell: Cell) -> str:
    """The largest recorded headroom of the cell, for the collapsed summary line."""
    values = [num(m.get("headroom")) for en in cell.entries for m in en.record.metrics.values() if isinstance(m, dict)]
    found = [v for v in values if v is not None]
    if not found:
        return ""
    return (f' <span class="muted" title="worst error / allowed error over every tensor; below 1 passes">'
            f"headroom {e(fmt_num(max(found)))}</span>")


def _summary_note(cell: Cell) -> str:
    """What a collapsed precision or inconclusive block says beside its badge."""
    if cell.conflict:
        return ""
    r = cell.entries[0].record
    side = less_accurate(r) if r.verdict == "precision" else None
    if side:
        return f' <span class="muted">{e(side)} less accurate</span>'
    if r.verdict == "inconclusive" and coverage_text(r.coverage):
        return f' <span class="muted">{e(coverage_text(r.coverage))}</span>'
    return ""


def _cell_block(cell: Cell, several_sources: bool) -> str:
    """One key: a collapsible block, open when it needs a look; conflicts side by side."""
    open_attr = " open" if cell.verdict in _OPEN else ""
    summary = (f'<summary><h3>{e(_key_label(cell.key))} {verdict_badge(cell.verdict)}'
               f"{_summary_note(cell)}{_worst_headroom(cell)}</h3></summary>")
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
