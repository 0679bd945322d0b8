"""A ``train_step`` record's trajectory: how far the two frameworks' weights drift, step by step.

Why a chart and a table: the verdict says whether the weights still agree after the last SGD
step; the trajectory says how they got there. Headroom that grows by the same factor every
step is an update rule that differs; a jump at one step is one bad gradient; steady and below
1 is float noise. The table keeps the exact numbers the chart can only place on a log axis.
"""

from __future__ import annotations

from typing import Any

from harness.report.fmt import e, fmt_num, num
from harness.report.svg import trajectory_chart
from harness.results import Record

__all__ = ["trajectory_block"]


def _ok(step: dict[str, Any]) -> bool:
    """Not ok when the step says so or its headroom is not below 1 (NaN included), as the chart draws it."""
    h = num(step.get("headroom"))
    return step.get("ok") is not False and (h is None or h < 1)


def _label(step: dict[str, Any], i: int) -> str:
    """The step number as recorded, or its position."""
    return str(step.get("step", i))


def describe(steps: list[dict[str, Any]]) -> str:
    """The trajectory in one sentence: steps, largest headroom and error, first step past the tolerance."""
    heads = [h for h in (num(s.get("headroom")) for s in steps) if h is not None]
    errors = [v for v in (num(s.get("max_abs_error")) for s in steps) if v is not None]
    worst_h = max(heads, key=lambda h: h if h == h else float("inf"), default=None)
    worst_e = max(errors, key=lambda v: v if v == v else float("inf"), default=None)
    bad = [_label(s, i) for i, s in enumerate(steps) if not _ok(s)]
    verdict = (f"first at or above the tolerance (headroom 1) at step {bad[0]}" if bad
               else "every step below the tolerance (headroom 1)")
    return (f"Weight divergence between torch and TF over {len(steps)} steps "
            f"({_label(steps[0], 0)} to {_label(steps[-1], len(steps) - 1)}): largest headroom "
            f"{fmt_num(worst_h)}, largest max abs error {fmt_num(worst_e)}; {verdict}.")


def _table(steps: list[dict[str, Any]]) -> str:
    """Every step's numbers."""
    rows = "".join(
        f'<tr class="{"" if _ok(s) else "bad"}"><th scope="row">{e(_label(s, i))}</th>'
        f'<td class="num">{e(fmt_num(s.get("max_abs_error")))}</td>'
        f'<td class="num">{e(fmt_num(s.get("max_rel_error")))}</td>'
        f'<td class="num">{e(fmt_num(s.get("headroom")))}</td><td>{"✓ ok" if _ok(s) else "✗ diverges"}</td></tr>'
        for i, s in enumerate(steps))
    return ('<table class="trajectory"><thead><tr><th scope="col">step</th><th scope="col">max abs error</th>'
            '<th scope="col">max rel error</th><th scope="col">headroom</th><th scope="col">ok</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def trajectory_block(r: Record) -> str:
    """Chart and table of ``r.trajectory``; nothing for a record without one."""
    steps = [s for s in (r.trajectory or []) if isinstance(s, dict)]
    if not steps:
        return ""
    which = "the failing example" if r.verdict in ("fail", "known-divergence") else "the worst example"
    text = describe(steps)
    return (f"<h4>Weights after each SGD step ({which}; step 0: the loaded weights)</h4>"
            f'<p>{e(text)}</p><div class="trajectory">{trajectory_chart(steps, text)}{_table(steps)}</div>')
