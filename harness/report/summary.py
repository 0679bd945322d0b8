"""The top of the page: what ran, where, and how it went, in counts a reader takes in at once.

Why the environment is a table with one column per directory: merged CPU and CUDA runs (or
shards from different machines) differ exactly there, and side by side the difference shows.
Why counts per check and per mode as well: "3 fail" says little until it says "all three in
graph mode" or "all in serialization", which points at a compiler or a save format at once.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Callable
from typing import Any

from harness.report.details import declared, in_modes, less_accurate, pair_id, record_id
from harness.report.dimensions import meaning, ordered
from harness.report.fmt import NEEDS_A_LOOK, VERDICT_ORDER, e, verdict_badge
from harness.report.model import Cell, Report, Source
from harness.results import MEANINGS, VERDICTS

__all__ = ["environment_table", "summary_section"]

_UNKNOWN = "unknown"


def _get(env: dict[str, Any], *path: str) -> Any:
    """A nested value, or None when any step is missing."""
    value: Any = env
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _command(env: dict[str, Any]) -> Any:
    """The command line as a shell would show it."""
    cmd = env.get("command")
    return shlex.join(str(c) for c in cmd) if isinstance(cmd, list) else cmd


def _numerics(env: dict[str, Any]) -> str:
    """The numerics switches that change float32 results: oneDNN and TF32."""
    s = env.get("settings") if isinstance(env.get("settings"), dict) else {}
    onednn = s.get("TF_ENABLE_ONEDNN_OPTS")
    return (f"TF_ENABLE_ONEDNN_OPTS={onednn if onednn is not None else 'unset'}; "
            f"TF tf32={s.get('tf_tf32')}; torch tf32 matmul={s.get('torch_tf32_matmul')}; "
            f"Keras backend={s.get('keras_backend')}")


def _threads(env: dict[str, Any]) -> str:
    """Thread counts of both frameworks (intra/inter op)."""
    s = env.get("settings") if isinstance(env.get("settings"), dict) else {}
    return (f"torch {s.get('torch_threads')}/{s.get('torch_interop_threads')}, "
            f"TF {s.get('tf_intra_op_threads')}/{s.get('tf_inter_op_threads')} (intra/inter op)")


_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("run id", lambda v: v.get("run_id")),
    ("created", lambda v: v.get("created")),
    ("command", _command),
    ("hypothesis profile", lambda v: v.get("hypothesis_profile")),
    ("max examples", lambda v: v.get("max_examples")),
    ("derandomize", lambda v: v.get("derandomize")),
    ("python", lambda v: v.get("python")),
    ("torch", lambda v: v.get("torch_version")),
    ("tensorflow", lambda v: v.get("tensorflow_version")),
    ("keras", lambda v: v.get("keras_version")),
    ("numpy", lambda v: _get(v, "packages", "numpy")),
    ("CPU", lambda v: v.get("cpu")),
    ("platform", lambda v: v.get("platform")),
    ("threads", _threads),
    ("numerics settings", _numerics),
)


def _value(source: Source, getter: Callable[[dict[str, Any]], Any]) -> str:
    """One environment value; anything missing or unreadable reads 'unknown'."""
    if source.environment is None:
        return _UNKNOWN
    try:
        value = getter(source.environment)
    except (AttributeError, TypeError):
        value = None
    return _UNKNOWN if value is None else str(value)


def _counts_text(source: Source) -> str:
    """A directory's verdict counts, in words."""
    counts = Counter(r.verdict for r in source.records)
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) or "no records"


def environment_table(report: Report) -> str:
    """When, how and where each directory ran; rows that differ between directories are marked."""
    head = "".join(f'<th scope="col"><code>{e(s.label)}</code></th>' for s in report.sources)
    rows = [f'<tr><th scope="row">directory</th>{"".join(f"<td>{e(s.directory)}</td>" for s in report.sources)}</tr>',
            f'<tr><th scope="row">records</th>{"".join(f"<td>{e(_counts_text(s))}</td>" for s in report.sources)}'
            "</tr>"]
    for label, getter in _ROWS:
        values = [_value(s, getter) for s in report.sources]
        differs = len(set(values)) > 1
        mark = ' <span class="differs">(differs)</span>' if differs else ""
        cells = "".join(f"<td>{e(v)}</td>" for v in values)
        rows.append(f'<tr class="{"differ" if differs else ""}"><th scope="row">{e(label)}{mark}</th>{cells}</tr>')
    notes = "".join(f'<p class="muted">environment of <code>{e(s.label)}</code>: {_UNKNOWN} '
                    f"({e(s.environment_note)})</p>" for s in report.sources if s.environment is None)
    return (f'<details class="env" open><summary><h3>Environment and run</h3></summary>{notes}'
            f'<table class="env"><thead><tr><th scope="col">field</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></details>")


def _counts(report: Report) -> str:
    """Verdict counts over all records, each with its symbol and its word."""
    counts = Counter(r.verdict for r in report.records())
    items = "".join(f'<li title="{e(MEANINGS.get(v, ""))}">{verdict_badge(v)} <strong class="count">{counts[v]}'
                    "</strong></li>" for v in VERDICTS)
    conflicts = sum(1 for c in report.cells.values() if c.conflict)
    if conflicts:
        keys = "key" if conflicts == 1 else "keys"
        items += f'<li>{verdict_badge("conflict")} <strong class="count">{conflicts}</strong> {keys}</li>'
    return f'<ul class="counts">{items}</ul>'


def _breakdown_rows(report: Report, dim: str, verdicts: list[str]) -> str:
    """One row per value of a dimension (check or mode): its records' verdict counts and total."""
    index = {"check": 1, "mode": 4}[dim]
    counts: dict[str, Counter[str]] = {}
    for r in report.records():
        counts.setdefault(str(r.key[index]), Counter())[r.verdict] += 1
    rows = []
    for value in ordered(dim, counts):
        c = counts[value]
        hint = f' title="{e(meaning(dim, value))}"' if meaning(dim, value) else ""
        cells = "".join(f'<td class="num{"" if c[v] else " zero"}">{c[v]}</td>' for v in verdicts)
        rows.append(f'<tr><th scope="row"{hint}>{e(value)}</th>{cells}<td class="num">{c.total()}</td></tr>')
    return "".join(rows)


def _breakdown(report: Report) -> str:
    """Records per check and per mode, one column per verdict that occurs: where the problems sit."""
    present = {r.verdict for r in report.records()}
    verdicts = [v for v in VERDICTS if v in present]
    if not verdicts:
        return ""
    head = "".join(f'<th scope="col">{verdict_badge(v, False)}</th>' for v in verdicts)
    groups = "".join(f'<tbody><tr><th scope="rowgroup" colspan="{len(verdicts) + 2}" class="group">per {dim}</th>'
                     f"</tr>{_breakdown_rows(report, dim, verdicts)}</tbody>" for dim in ("check", "mode"))
    return (f'<table class="breakdown"><caption>Records per check and per mode</caption><thead><tr>'
            f'<td></td>{head}<th scope="col">total</th></tr></thead>{groups}</table>')


def _note(cell: Cell) -> str:
    """What a listed cell adds to its badge: the less accurate side of a precision record."""
    side = less_accurate(cell.entries[0].record) if cell.verdict == "precision" else None
    return f' <span class="muted">({e(side)} less accurate)</span>' if side else ""


def _attention(report: Report) -> str:
    """The headline: everything fine, or per pair links to what needs a look.

    Failures, errors and conflicts make the headline bad; precision effects and inconclusive
    checks are listed too (neither is a pass), under a milder headline when they are all there is.
    """
    bad = [c for c in report.cells.values() if c.verdict in NEEDS_A_LOOK]
    if not bad:
        return '<p class="headline ok">✓ Every check passed or reproduced its declared divergence.</p>'
    by_pair: dict[str, list[Cell]] = {}
    for cell in sorted(bad, key=lambda c: (VERDICT_ORDER.index(c.verdict), c.key)):
        by_pair.setdefault(cell.key[0], []).append(cell)
    items = "".join(
        f'<li><a href="#{pair_id(pair)}"><strong>{e(pair)}</strong></a>: '
        + ", ".join(f'<a href="#{record_id(c.key)}">{e(report.short_label(c.key))}</a>'
                    f" {verdict_badge(c.verdict, False)}{_note(c)}"
                    for c in cells) + "</li>"
        for pair, cells in by_pair.items())
    hard = any(c.verdict in ("fail", "error", "conflict") for c in bad)
    mark, cls = ("✗", "bad") if hard else ("?", "warn")
    return (f'<p class="headline {cls}">{mark} {len(bad)} result{"s" if len(bad) != 1 else ""} in {len(by_pair)} '
            f'pair{"s" if len(by_pair) != 1 else ""} need a look:</p><ul class="attention">{items}</ul>')


def _declared(report: Report) -> str:
    """Pairs whose declared divergences reproduced, with the reason: what the run confirmed, not a problem."""
    reasons: dict[str, dict[str, str]] = {}
    for pair in report.pairs:
        found = declared(report.pair_cells(pair), "known-divergence")
        if found:
            reasons[pair] = found
    if not reasons:
        return ""
    items = "".join(f'<li><a href="#{pair_id(p)}"><strong>{e(p)}</strong></a>: '
                    + " / ".join(f"{e(r)}{in_modes(modes)}" for r, modes in rs.items()) + "</li>"
                    for p, rs in sorted(reasons.items()))
    return (f'<details class="declared"><summary><h3>{len(reasons)} pair{"s" if len(reasons) != 1 else ""} '
            f"reproduced a declared divergence</h3> {verdict_badge('known-divergence', False)}</summary>"
            f'<ul class="declared">{items}</ul></details>')


def summary_section(report: Report) -> str:
    """Counts, totals, headline, declared divergences, counts per check and mode, and environment."""
    records = report.records()
    examples = sum(r.examples for r in records)
    seconds = sum(r.duration_s for r in records)
    totals = (f"<p>{len(records)} records over {len(report.pairs)} pairs and {len(report.sources)} "
              f"director{'ies' if len(report.sources) != 1 else 'y'}: {examples} examples in {seconds:.1f} s "
              "of checking.</p>")
    incomplete = "".join(f'<p class="headline bad">⚠ <code>{e(s.label)}</code> is incomplete: {e(s.incomplete)}'
                         "</p>" for s in report.sources if s.incomplete)
    return (f'<section id="summary"><h2>Summary</h2><div class="summary-grid"><div>{incomplete}{_counts(report)}'
            f"{totals}{_attention(report)}{_declared(report)}{_breakdown(report)}</div>"
            f"<div>{environment_table(report)}</div></div></section>")
