"""The atlas table: each convention of a built-in counterpart, both defaults, and what this run measured.

Why in the report: the atlas's facts are claims about two framework releases, and a report is
what a run proved about the installed ones. A row says whether the convention reproduced
here (its declared divergence did, or the defaults agreed), with the largest difference of
its minimal case; a row whose pair failed says the convention changed.
"""

from __future__ import annotations

from typing import Any

from harness.report.fmt import e, fmt_num
from harness.report.model import Report
from harness.results import Record

_MEASURED = {"known-divergence": "differ, as declared", "pass": "agree", "precision": "agree (float32 rounding)"}


def conventions(records: list[Record]) -> dict[str, list[Record]]:
    """Every atlas convention pair's records, by pair."""
    found: dict[str, list[Record]] = {}
    for r in records:
        atlas = r.origin.get("atlas")
        if isinstance(atlas, dict) and atlas.get("kind") == "convention":
            found.setdefault(r.pair, []).append(r)
    return found


def outcome(records: list[Record]) -> tuple[str, float | None]:
    """What the run measured for one convention: the verdict in words and the largest difference seen."""
    verdicts = {r.verdict for r in records}
    worst = [m.get("max_abs_error") for r in records for m in r.metrics.values()
             if isinstance(m, dict) and not m.get("ok", True)]
    numbers = [w for w in worst if isinstance(w, (int, float))]
    bad = verdicts - set(_MEASURED)
    agreed = records[0].origin["atlas"].get("agrees") == "yes"
    if bad:
        word = "changed: the declared difference no longer reproduces" if not agreed else "changed: now differs"
        return f"{word} ({', '.join(sorted(bad))})", max(numbers, default=None)
    if "known-divergence" in verdicts:
        return _MEASURED["known-divergence"], max(numbers, default=None)
    return _MEASURED["pass"], None


def atlas_section(report: Report) -> str:
    found = conventions(report.records())
    if not found:
        return ""
    rows = []
    for pair, records in sorted(found.items()):
        atlas: dict[str, Any] = records[0].origin["atlas"]
        measured, worst = outcome(records)
        size = f"; max |torch − Keras| {fmt_num(worst)}" if worst is not None else ""
        klass = "bad" if measured.startswith("changed") else ""
        rows.append(f'<tr class="{klass}"><td>{e(atlas.get("torch", ""))}<br>{e(atlas.get("keras", ""))}</td>'
                    f'<td>{e(atlas.get("setting", ""))}</td><td>{e(atlas.get("torch_default", ""))}</td>'
                    f'<td>{e(atlas.get("keras_default", ""))}</td><td><strong>{e(measured)}</strong>{e(size)}'
                    f'<br><span class="muted">{e(atlas.get("effect", ""))}</span></td>'
                    f'<td><code>{e(pair)}</code></td></tr>')
    return ('<section id="atlas"><h2>Atlas: built-in conventions</h2><p class="muted">Each setting whose default '
            "or meaning differs between a torch.nn module and its Keras counterpart, measured by this run on the "
            "installed versions (see the environment table).</p><table><thead><tr><th>counterpart</th>"
            "<th>setting</th><th>torch default</th><th>Keras default</th><th>measured effect</th><th>pair</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")
