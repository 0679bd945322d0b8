"""Inline SVG charts: a headroom sparkline per record, a line chart of a training step's
divergence per SGD step, and a bar chart per benchmarked pair.

Why SVG by hand: the page must open from file:// with no network and no library; a few
dozen shapes per chart keep the whole catalogue's page small. Every chart has a <title>
(and role="img" with an aria-label) saying in words what it shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from harness.report.fmt import e, fmt_num, fmt_seconds, num

__all__ = ["bar_chart", "headroom_sparkline", "trajectory_chart"]

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


def _sparkline_title(values: Sequence[float], precision: int = 0) -> str:
    """The chart in words, for screen readers and hover."""
    over = sum(1 for h in values if _failed(h))
    finite = [h for h in values if not math.isnan(h)]
    prec = f", {precision} of them float32 precision effects (float64 agrees)" if precision else ""
    return (f"headroom (error / allowed, log scale) over {len(values)} examples in the order tried: "
            f"lowest {fmt_num(min(finite, default=0))}, highest {fmt_num(max(finite, default=0))}; "
            f"{over} at or above the tolerance edge 1.0 (dashed line){prec}")


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
    """Headroom per example in the order tried; dots on or above the dashed line (1.0) failed.

    An example the float64 oracle judged a float32 precision effect (``precision`` set) is a dot
    of its own colour, and the title counts them.
    """
    shown = [(h, bool(x.get("precision"))) for x in per_example if isinstance(x, dict)
             if (h := num(x.get("headroom"))) is not None]
    values = [h for h, _ in shown]
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
    kinds = ["prec" if prec and _failed(h) else "bad" if _failed(h) else "ok" for h, prec in shown]
    dots = "".join(_dots(cls, [p for p, k in zip(points, kinds, strict=True) if k == cls])
                   for cls in ("ok", "prec", "bad"))
    edge = y(0.0)
    title = _sparkline_title(values, kinds.count("prec"))
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


# The trajectory chart: the plot area inside a fixed canvas (legend above, step axis below).
_TW, _TH, _TL, _TR, _TT, _TB = 480, 220, 62, 14, 28, 36
_SERIES = (("headroom", "headroom (error / allowed)", "s-headroom"), ("max_abs_error", "max abs error", "s-abs"))


class _LogScale:
    """Decades from a floor to a top; zeros sit on the floor and non-finite values one decade above the top.

    Why a floor and a band: a log axis has no place for 0 (the frameworks agree exactly at step 0)
    nor for inf/NaN (a step that blew up), and both are what a reader most needs to see.
    """

    def __init__(self, values: Sequence[float]):
        positive = [v for v in values if math.isfinite(v) and v > 0]
        logs = [math.log10(v) for v in positive]
        self.floor = (math.floor(min(logs)) if logs else 0) - 1  # one decade below the smallest nonzero
        self.floor = min(self.floor, -1)  # the tolerance edge (headroom 1, log 0) is always in range
        self.top = max(math.ceil(max(logs)) if logs else 1, 1)
        self.zeros = any(v == 0 for v in values)
        self.nonfinite = any(not math.isfinite(v) for v in values)
        self.high = self.top + (1 if self.nonfinite else 0)

    def log(self, v: float) -> float:
        """The plotted log10 of a value: zeros (and negatives) on the floor, inf and NaN in the top band."""
        if not math.isfinite(v):
            return float(self.high)
        return self.floor if v <= 0 else max(math.log10(v), self.floor)

    def row(self, log: float) -> float:
        """Pixel row of a plotted log10 (up is larger)."""
        return _TT + (self.high - log) / (self.high - self.floor) * (_TH - _TT - _TB)

    def y(self, v: float) -> float:
        """Pixel row of a value."""
        return self.row(self.log(v))

    def ticks(self) -> list[tuple[float, str]]:
        """(log10, label) per labelled decade: at most about 7, the floor reading 0 when it stands for zeros."""
        every = max(1, math.ceil((self.top - self.floor) / 6))  # multiples of it, so 1 (the tolerance) is one
        out = [(float(d), "1" if d == 0 else f"1e{d}") for d in range(self.top, self.floor, -1) if d % every == 0]
        out.append((float(self.floor), "0" if self.zeros else f"1e{self.floor}"))
        if self.nonfinite:
            out.append((float(self.high), "inf/NaN"))
        return out


def _step_x(steps: Sequence[int]) -> Callable[[int], float]:
    """Pixel column of a step number (one step only: the middle)."""
    first, last = min(steps), max(steps)
    width = _TW - _TL - _TR
    return lambda s: _TL + (width / 2 if last == first else (s - first) / (last - first) * width)


def _series(points: Sequence[tuple[int, float | None, bool]], scale: _LogScale, x: Callable[[int], float],
            name: str, cls: str) -> str:
    """One series: its line (broken where a step has no value) and a circle per step that has one.

    ``points`` are (step, value, bad); a bad point is drawn in the failure colour.
    """
    path, circles, pen = [], [], "M"
    for step, v, failed in points:
        if v is None:
            pen = "M"
            continue
        px, py = x(step), scale.y(v)
        path.append(f"{pen}{px:.1f} {py:.1f}")
        pen = "L"
        bad = " bad" if failed else ""
        circles.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" class="{cls}{bad}">'
                       f"<title>step {step}: {e(name)} {e(fmt_num(v))}</title></circle>")
    line = f'<path class="{cls}" d="{" ".join(path)}"/>' if any(p.startswith("L") for p in path) else ""
    return line + "".join(circles)


def _frame(scale: _LogScale, steps: Sequence[int], x: Callable[[int], float]) -> str:
    """Axes, decade ticks, step ticks, axis labels, the tolerance line and the legend."""
    bottom, every = _TH - _TB, max(1, math.ceil(len(steps) / 12))
    parts = [f'<line class="axis-line" x1="{_TL}" x2="{_TL}" y1="{_TT}" y2="{bottom}"/>'
             f'<line class="axis-line" x1="{_TL}" x2="{_TW - _TR}" y1="{bottom}" y2="{bottom}"/>']
    for log, label in scale.ticks():
        yy = scale.row(log)
        parts.append(f'<line class="grid" x1="{_TL}" x2="{_TW - _TR}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
                     f'<text class="tick" x="{_TL - 4}" y="{yy + 3:.1f}" text-anchor="end">{e(label)}</text>')
    for s in steps[::every]:
        parts.append(f'<text class="tick" x="{x(s):.1f}" y="{bottom + 13}" text-anchor="middle">{s}</text>')
    edge = scale.y(1.0)
    parts.append(f'<line class="edge" x1="{_TL}" x2="{_TW - _TR}" y1="{edge:.1f}" y2="{edge:.1f}"/>'
                 f'<text class="axis-label" x="{(_TL + _TW - _TR) / 2:.0f}" y="{_TH - 6}" text-anchor="middle">'
                 "SGD step</text>"
                 f'<text class="axis-label" transform="translate(11 {(_TT + bottom) / 2:.0f}) rotate(-90)" '
                 'text-anchor="middle">value (log scale)</text>')
    lx = 8.0
    for cls, label in [(cls, label) for _, label, cls in _SERIES] + [("edge", "tolerance (headroom 1)")]:
        parts.append(f'<line class="{cls}" x1="{lx:.0f}" x2="{lx + 16:.0f}" y1="10" y2="10"/>'
                     f'<text class="legend" x="{lx + 20:.0f}" y="13">{e(label)}</text>')
        lx += 34 + 5.6 * len(label)  # about the width of 10px text
    return "".join(parts)


def trajectory_chart(trajectory: Sequence[dict[str, Any]], title: str) -> str:
    """max abs error and headroom per SGD step on one log axis; headroom at or above the dashed line failed.

    Values are read with ``num``: the strings "inf" and "nan" that results.py writes for non-finite
    errors plot in the top band, a missing value leaves its step without a point. A step's
    ``ok: false`` or headroom not below 1 colours its headroom point as failed.
    """
    rows = [t for t in trajectory if isinstance(t, dict)]
    if not rows:
        return ""
    steps = [int(s) if isinstance(s := t.get("step"), int) and not isinstance(s, bool) else i
             for i, t in enumerate(rows)]
    values = {key: [num(t.get(key)) for t in rows] for key, _, _ in _SERIES}
    scale = _LogScale([v for vs in values.values() for v in vs if v is not None])
    x = _step_x(steps)
    # a step failed when it says so or its headroom is not below 1 (NaN included); its headroom point shows it
    failed = [t.get("ok") is False or (h is not None and not h < 1) for t, h in zip(rows, values["headroom"],
                                                                                   strict=True)]
    series = "".join(_series(list(zip(steps, values[key], [f and key == "headroom" for f in failed], strict=True)),
                             scale, x, label.split(" (")[0], cls)
                     for key, label, cls in reversed(_SERIES))  # headroom last: on top where the two meet
    return (f'<svg class="traj" width="{_TW}" height="{_TH}" viewBox="0 0 {_TW} {_TH}" role="img" '
            f'aria-label="{e(title)}"><title>{e(title)}</title>{_frame(scale, steps, x)}{series}</svg>')
