"""The float64 oracle: when float32 results disagree, which framework is off, and by how much.

Two frameworks that disagree in float32 may both be right to within float32 rounding: they
sum in different orders, and a cancellation or a saturating function turns a few ulps into
a visible difference. Whether the *port* is right is settled by float64: the same case
(every input, weight and cotangent rounded to float32 first, so both precisions answer the
same question) replayed in float64. If the frameworks agree there, the float64 result is the
truth for this case, and each framework's float32 result is judged by its distance from it,
the way PyTorch's own reference tests judge a low-precision result against a high-precision
answer. The record then says ``precision`` (neither ``pass`` nor ``fail``) and names the less
accurate framework, with its distance in ulps and in multiples of the float32 tolerance.

In float64 itself there is no higher precision to ask. A float64 divergence is ``fail``;
when its size is that of float32 rounding, the record says so, and names the side whose
float64 run computes in float32 somewhere (the operations are listed as evidence).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from harness.compare import DEFAULT_POLICY, Policy, TensorMetrics, compare

__all__ = ["REFERENCE", "float32_sized", "judge", "name_float64_side"]

REFERENCE = "float64 replay of the same case, every drawn value rounded to float32 first"

Arrays = Mapping[str, tuple[np.ndarray, np.ndarray, float]]


def _distance(name: str, x: np.ndarray, truth: np.ndarray, scale: float, policy: Policy) -> dict[str, Any]:
    """One side's float32 result against the float64 truth, at its worst element (in multiples of the tolerance).

    ``ulps`` counts float32 steps at the larger of the two magnitudes there: against a true
    0, the ulp of 0 itself would make any difference look like 1e40 ulps.
    """
    m = compare(name, x, truth, policy, group_scale=scale, nonfinite_in=True)
    value, exact = (np.asarray(a, dtype=np.float64)[m.worst_index] if a.size else 0.0 for a in (x, truth))
    step = float(np.spacing(np.float32(max(abs(value), abs(exact)))))
    ulps = abs(value - exact) / step if np.isfinite(value) and np.isfinite(exact) else float("inf")
    return {"max_abs": m.max_abs_error, "tolerances": m.headroom, "ulps": ulps, "index": list(m.worst_index),
            "value": float(value), "float64": float(exact)}


def _ratio(worse: float, better: float) -> float | None:
    return worse / better if better > 0 else None


def judge(e32: Arrays, e64: Arrays, metrics: Iterable[TensorMetrics], policy: Policy) -> dict[str, Any]:
    """Each failing float32 tensor's two sides measured against the float64 result.

    ``e32`` and ``e64`` map metric names to the arrays compared (``engine.Tally.arrays``);
    the float64 sides agree, and the first is taken as the truth.
    """
    tensors: dict[str, Any] = {}
    for m in metrics:
        if m.ok or m.name not in e32 or m.name not in e64:
            continue
        a, b, scale = e32[m.name]
        truth = e64[m.name][0]
        if a.shape != truth.shape or b.shape != truth.shape:
            continue
        da, db = (_distance(m.name, x, truth, scale, policy) for x in (a, b))
        worse, better = (0, 1) if da["tolerances"] >= db["tolerances"] else (1, 0)
        d = (da, db)
        tensors[m.name] = {"sides": list(m.sides), m.sides[0]: da, m.sides[1]: db,
                           "less_accurate": m.sides[worse],
                           "ratio": _ratio(d[worse]["tolerances"], d[better]["tolerances"])}
    if not tensors:
        return {"reference": REFERENCE, "tensors": {}, "less_accurate": None,
                "summary": "no float32 tensor could be measured against the float64 result"}
    # the headline is the question "which framework": a cross-framework tensor first, then a framework against itself
    cross = {n: r for n, r in tensors.items() if tuple(r["sides"]) == ("torch", "tf")} or tensors
    name, row = max(cross.items(), key=lambda kv: max(kv[1][s]["tolerances"] for s in kv[1]["sides"]))
    worse = row["less_accurate"]
    better = next(s for s in row["sides"] if s != worse)
    w, b = row[worse], row[better]
    if row["ratio"] is None:
        how = f"{worse}'s float32 {name} is off the float64 result where {better}'s matches it exactly"
    else:
        how = f"{worse}'s float32 {name} is {row['ratio']:.3g}x further from the float64 result than {better}'s"
    text = (f"{how}: {worse} {w['max_abs']:.3g} ({w['ulps']:.3g} ulps, {w['tolerances']:.3g}x the float32 "
            f"tolerance) vs {better} {b['max_abs']:.3g} ({b['ulps']:.3g} ulps, {b['tolerances']:.3g}x)")
    return {"reference": REFERENCE, "tensors": tensors, "less_accurate": worse, "summary": text}


def float32_sized(metrics: Iterable[TensorMetrics], arrays: Arrays) -> bool:
    """Whether every failing float64 tensor would pass the float32 policy: an error the size of float32 rounding."""
    failing = [m for m in metrics if not m.ok]
    if not failing or any(m.name not in arrays for m in failing):
        return False
    f32 = DEFAULT_POLICY["float32"]
    return all(compare(m.name, a, b, f32, group_scale=scale).ok
               for m in failing for a, b, scale in [arrays[m.name]])


def name_float64_side(ops: Mapping[str, list[str]]) -> dict[str, Any]:
    """Which side computes in float32 inside a float64 run, from the operations each side showed."""
    low = [side for side, found in ops.items() if found]
    if len(low) == 1:
        side = low[0]
        text = f"{side} computes in float32 inside this float64 run ({', '.join(ops[side])})"
    elif low:
        text = "both sides compute in float32 somewhere inside this float64 run: " + \
            "; ".join(f"{s}: {', '.join(ops[s])}" for s in low)
        side = None
    else:
        text = "neither side shows a float32 operation in this float64 run (a constant rounded before it " \
               "reached the graph, or an accumulation in another order)"
        side = None
    return {"low_precision_ops": dict(ops), "side": side, "summary": text}
