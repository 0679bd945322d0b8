"""Inline SVG charts: a headroom sparkline per record and a bar chart per benchmarked pair.

Why SVG by hand: the page must open from file:// with no network and no library; a few
dozen shapes per chart keep the whole catalogue's page small. Every chart has a <title>
(and role="img" with an aria-label) saying in words what it shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from harness.report.fmt import e, fmt_num, fmt_seconds, num

__all__ = ["bar_chart", "headroom_sparkline"]

_W, _H, _PAD, _LEFT = 260, 56, 6, 30
_LOW, _HIGH = -6, 6  # log10 headroom clamp: 1e-6 .. 1e6 covers "exact" to "nothing alike"


def _log(h: float) -> float:
    """log10 of a headroom, clamped; 0 (bit-identical) sits at the bottom, inf and NaN at the top."""
    if math.isnan(h) or h == math.inf:
        return _HIGH
    if h <= 0:
        return _LOW
    return min(max(math.log10(h), _LOW), _HIGH)


def _y_range(logs: Sequence[float]) -> tuple[float, float]:
    """The plotted range: the data's, always including the tolerance edge (log 0) with margin."""
    low, high = min([*logs, -1.0]), max([*logs, 0.5])
    return low - 0.3, high + 0.3


def _failed(h: float) -> bool:
    """At or beyond the tolerance edge (NaN counts as failed)."""
    return not h < 1


def _sparkline_title(values: Sequence[float]) -> str:
    """The chart in words, for screen readers and hover."""
    over = sum(1 for h in values if _failed(h))
    finite = [h for h in values if not math.isnan(h)]
    return (f"headroom (error / allowed, log scale) over {len(values)} examples in the order tried: "
            f"lowest {fmt_num(min(finite, default=0))}, highest {fmt_num(max(finite, default=0))}; "
            f"{over} at or above the tolerance edge 1.0 (dashed line)")


def _dots(cls: str, points: Sequence[tuple[float, float]]) -> str:
    """Round-capped zero-length segments: one path per colour is far smaller than a circle per dot."""
    if not points:
        return ""
    return f'<path class="{cls}" d="' + "".join(f"M{x:.1f} {y:.1f}h0" for x, y in points) + '"/>'


def _axis(low: float, high: float, y: Callable[[float], float], zero: bool) -> str:
    """Ticks at the highest and lowest whole decade in range, so the log scale can be read.

    Exact agreement (headroom 0) sits on the clamp line, which is then labelled 0.
    """
    ticks = sorted({math.floor(high), math.ceil(low)} - {0})
    label = {t: ("0" if zero and t == _LOW else f"1e{t}") for t in ticks}
    return "".join(f'<text x="2" y="{y(t) + 3:.1f}" class="axis">{label[t]}</text>' for t in ticks)


def headroom_sparkline(per_example: Sequence[dict[str, Any]]) -> str:
    """Headroom per example in the order tried; dots on or above the dashed line (1.0) failed."""
    values = [h for h in (num(x.get("headroom")) for x in per_example if isinstance(x, dict)) if h is not None]
    if not values:
        return ""
    logs = [_log(h) for h in values]
    low, high = _y_range(logs)
    step = (_W - _LEFT - _PAD) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        """Pixel row of a log10 headroom (up is worse)."""
        return _PAD + (high - v) / (high - low) * (_H - 2 * _PAD)

    points = [(_LEFT + i * step, y(v)) for i, v in enumerate(logs)]
    path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
    dots = "".join(_dots(cls, [p for p, h in zip(points, values, strict=True) if _failed(h) == (cls == "bad")])
                   for cls in ("ok", "bad"))
    edge = y(0.0)
    title = _sparkline_title(values)
    return (f'<svg class="spark" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img" '
            f'aria-label="{e(title)}"><title>{e(title)}</title>'
            f'<line x1="{_LEFT - 4}" x2="{_W}" y1="{edge:.1f}" y2="{edge:.1f}" class="edge"/>'
            f'<text x="2" y="{edge + 3:.1f}" class="edge-label">1.0</text>'
            f'{_axis(low, high, y, 0.0 in values)}<polyline points="{path}" class="trace"/>{dots}</svg>')


def bar_chart(title: str, rows: Sequence[tuple[str, float | None, float | None]]) -> str:
    """Horizontal bars of torch vs TF medians per row (label, torch s, tf s), one scale per chart."""
    values = [v for _, a, b in rows for v in (a, b) if v is not None and v > 0]
    if not values:
        return ""
    top = max(values)
    label_w, bar_w, row_h = 170, 300, 30
    height = row_h * len(rows) + 8
    parts = [f'<svg class="bars" width="{label_w + bar_w + 110}" height="{height}" role="img" '
             f'aria-label="{e(title)}"><title>{e(title)}</title>']
    for i, (label, torch_s, tf_s) in enumerate(rows):
        y0 = 4 + i * row_h
        parts.append(f'<text x="0" y="{y0 + 15}" class="bar-label">{e(label)}</text>')
        for j, (name, value) in enumerate((("torch", torch_s), ("tf", tf_s))):
            if value is None:
                continue
            width = max(value / top * bar_w, 1.0)
            yy = y0 + j * 12
            parts.append(f'<rect x="{label_w}" y="{yy}" width="{width:.1f}" height="10" class="bar-{name}"/>'
                         f'<text x="{label_w + width + 4:.1f}" y="{yy + 9}" class="bar-value">'
                         f'{name} {e(fmt_seconds(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)
