"""The gate's HTML diff page: the same findings as the text table, plus the drift of every pair.

Self-contained like the report (inline CSS, no script needed), written beside the
candidate's report so a reviewer opens both from one directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.gate import cpu_difference
from harness.report.assets import CSS
from harness.report.fmt import e, fmt_num

__all__ = ["write_page"]


def _environment(label: str, side: Any) -> str:
    env = side.environment
    vector = env.get("cpu_vector_extensions") or {}
    cpu = f"{env.get('cpu', '')} ({vector.get('torch_cpu_capability', 'torch capability unknown')})"
    return (f'<tr><th scope="row">{e(label)}</th><td>{e(", ".join(map(str, side.directories)))}</td>'
            f"<td>{e(env.get('torch_version'))}</td><td>{e(env.get('tensorflow_version'))}</td>"
            f"<td>{e(env.get('keras_version'))}</td><td>{e(cpu)}</td><td>{len(side.records)}</td>"
            f"<td>{len(side.benchmarks)}</td></tr>")


def _findings(findings: Sequence[Any]) -> str:
    if not findings:
        return "<p>No differences: every record, benchmark and replayed tensor is as in the baseline.</p>"
    rows = "".join(
        f'<tr class="{"v-fail" if f.crosses else "v-pass"}"><td>{"✗ crosses" if f.crosses else "· within"}</td>'
        f"<td>{e(f.kind)}</td><th scope=\"row\">{e(f.pair)}</th><td>{e(f.what)}</td><td>{e(f.baseline)}</td>"
        f"<td>{e(f.candidate)}</td></tr>" for f in findings)
    return ('<table><thead><tr><th scope="col">threshold</th><th scope="col">kind</th><th scope="col">pair</th>'
            '<th scope="col">what</th><th scope="col">baseline</th><th scope="col">candidate</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _drift(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "<p>The baseline has no snapshot (or the replay was skipped): no golden drift measured.</p>"
    body = "".join(
        f"<tr><th scope=\"row\">{e(r['pair'])}</th><td>{e(r['framework'])}</td><td>{e(r['dtype'])}</td>"
        f"<td>{'bit-identical' if r['identical'] else e(r['tensor'])}</td><td class=\"num\">{e(fmt_num(r['max_abs']))}"
        f"</td><td class=\"num\">{e(fmt_num(r['max_rel']))}</td><td class=\"num\">{e(fmt_num(r['headroom']))}</td></tr>"
        for r in rows)
    return ('<table><thead><tr><th scope="col">pair</th><th scope="col">framework</th><th scope="col">dtype</th>'
            '<th scope="col">worst tensor</th><th scope="col">max abs</th><th scope="col">max rel</th>'
            f'<th scope="col">of tolerance</th></tr></thead><tbody>{body}</tbody></table>')


def write_page(verdict: Any, thresholds: Any, target: Path) -> Path:
    """Write the page to ``target`` and return it."""
    state = "FAIL (exit 1): " + ", ".join(verdict.failing_pairs) if verdict.code else "PASS (exit 0)"
    cpu = cpu_difference(verdict.base, verdict.cand)
    note = f'<p class="note">{e(cpu)}</p>' if cpu else ""
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>conform gate</title>'
        f"<style>{CSS}</style></head><body><header><h1>Upgrade gate: {e(state)}</h1>"
        f'<p class="muted">Thresholds: error growth {e(fmt_num(thresholds.max_error_growth))}x, slowdown '
        f"{e(fmt_num(thresholds.max_slowdown))}%, drift {e(fmt_num(thresholds.max_drift))} tolerance(s).</p></header>"
        '<main><section><h2>Runs</h2><table><thead><tr><th scope="col">side</th><th scope="col">directories</th>'
        '<th scope="col">torch</th><th scope="col">tensorflow</th><th scope="col">keras</th><th scope="col">cpu</th>'
        '<th scope="col">records</th><th scope="col">benchmarks</th></tr></thead><tbody>'
        f"{_environment('baseline', verdict.base)}{_environment('candidate', verdict.cand)}</tbody></table>{note}"
        "</section>"
        f"<section><h2>Findings</h2>{_findings(verdict.findings)}</section>"
        f"<section><h2>Golden drift per framework</h2>{_drift(verdict.drift)}</section></main></body></html>\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
