"""The noise floor: how far each framework moves from itself when every drawn value moves by one ulp.

Why: a fixed float64 tolerance assumes how much rounding a computation amplifies. Five SGD
steps through batch norms over batches of two amplify float64 rounding to 3.5e-9, past the
fixed 1e-9, on an AMD EPYC and not on a Xeon: which side's rounding, and how much, depends on
the CPU's kernels and the thread count. The amplification is a property of the computation at
that case, so it is measured there instead of assumed.

How: the case runs ``DRAWS`` more times with every drawn value (inputs, weights, cotangent,
targets) one ulp up or down at random (:func:`harness.engine.jittered`). Per compared tensor,
each side's *spread* is its largest move from its own unperturbed result; the *floor* is the
larger spread over both sides and both draws, and at least one ulp of the tensor's comparison
scale (a result's own rounding, which a saturated function does not pass on from its inputs).
The tensors of one comparison group share its widest floor (:func:`_pooled`). A
cross-framework difference within ``K`` times the floor is rounding, on any CPU; beyond it,
a divergence. The floor is recorded with every example it judged, and shown.

Where:

* a float64 ``train_step`` is always judged against its floor, both ways: SGD compounds
  rounding step by step, so a fixed tolerance is either blind there or flaky. A difference
  below the fixed tolerance but far above the floor fails.
* otherwise, in float64 and float32 alike, the fixed tolerance is the first, cheap judge (four
  orders above the rounding of a well-conditioned float64 computation), and the floor is
  measured only for an example that exceeds it: a long recurrence, a normalisation over a tiny
  batch or a deep composite that amplifies rounding is then rounding, on any CPU, not a
  ``fail`` (float64) nor a ``precision`` record (float32). Where which side of a fixed line a
  rounding falls depended on the CPU's kernels, the verdict no longer does (``conform robust``
  found layer norms' float32 gradients ``precision`` with AVX-512 kernels and ``pass`` with the
  default ones). A float32 difference beyond its floor goes to the float64 oracle
  (:mod:`harness.oracle`), which tells ``precision`` from ``fail``.

Never: in the ``ties`` and ``special`` regimes, whose values sit exactly on a discontinuity
that one ulp crosses; for a structural finding or a non-finite value; nor where a floor comes
out above the square root of the dtype's epsilon times the scale: one ulp moving a result by
more than half its digits is a chaotic computation (or one side quantising its values, as
``3 * ((x + 1e4) - 1e4)`` does in float32), not rounding, and the fixed tolerance stands (the
record says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from harness.cases import Case
from harness.checks import evaluate as evaluate_check
from harness.compare import TensorMetrics
from harness.engine import Evaluation, jittered

__all__ = ["ALWAYS", "DRAWS", "K", "applies", "evaluate", "measure", "present", "unstable"]

# How many rounding spreads a cross-framework difference may span. Over 2,911 float64 examples of the catalogue's
# correct pairs (forward, gradient, state, train_step; each judged against its floor whatever its fixed headroom) the
# largest difference was 3 floors, but for one degenerate case (a layer norm over one feature: 49 floors, a
# cancellation no input perturbation moves, which the fixed tolerance judges first); 16 leaves a factor 5 for a CPU
# or a thread count that rounds differently, and stays orders below a planted epsilon slip.
K = 16.0
DRAWS = 2
ALWAYS = ("train_step",)
CHECKS = ("forward", "gradient", "state", "train_step")
_CROSSES = ("ties", "special")  # regimes that put values on a discontinuity


def unstable(dtype: Any) -> float:
    """The fraction of the scale past which one ulp's move is not rounding: half the dtype's digits."""
    return float(np.sqrt(np.finfo(dtype).eps))


def applies(check: str, dtype: str, regime: str) -> bool:
    """Whether a case of this check, dtype and regime may be judged against a noise floor."""
    return dtype in ("float32", "float64") and check in CHECKS and regime not in _CROSSES


def _judgeable(m: TensorMetrics, arrays: dict[str, Any]) -> bool:
    if m.comparison != "tolerance" or m.name not in arrays or not m.total:
        return False
    a, b, _ = arrays[m.name]
    return a.shape == b.shape and bool(np.isfinite(a).all() and np.isfinite(b).all())


def _with_groupmates(names: set[str], base: Evaluation) -> list[str]:
    """The judgeable ones of ``names`` and of their comparison groups' other tensors (whose spreads measure the
    group's floor: :func:`_pooled`), in comparison order."""
    chosen = set(names)
    for group in base.groups:
        if chosen.intersection(group):
            chosen.update(group)
    return [m.name for m in base.compared if m.name in chosen and _judgeable(m, base.arrays)]


def measure(target: Any, case: Case, base: Evaluation, dtype: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Each named tensor's spread on each side under ``DRAWS`` one-ulp perturbations of the case.

    A perturbed run that raises or changes a tensor's shape measures nothing for it.
    """
    spreads: dict[str, list[float]] = {}
    for draw in range(DRAWS):
        try:
            with jittered(case.seed * DRAWS + draw):
                moved = evaluate_check(target, case, dtype)
        except Exception:  # noqa: BLE001 - a perturbed run that raises measures nothing; the fixed tolerance stands
            continue
        for name in names:
            a, b, _ = base.arrays[name]
            if name not in moved.arrays or moved.arrays[name][0].shape != a.shape \
                    or moved.arrays[name][1].shape != b.shape:
                continue
            a2, b2, _ = moved.arrays[name]
            with np.errstate(invalid="ignore"):
                found = [float(np.max(np.abs(a2 - a))), float(np.max(np.abs(b2 - b)))]
            prior = spreads.setdefault(name, [0.0, 0.0])
            spreads[name] = [max(p, f) for p, f in zip(prior, found, strict=True)]
    floors = {}
    for name, (sa, sb) in spreads.items():
        a, b, scale = base.arrays[name]
        scale = float(max(scale, np.max(np.abs(a)), np.max(np.abs(b)), np.finfo(np.float64).tiny))
        ulp = float(np.finfo(a.dtype).eps) * scale
        floor = max(sa, sb, ulp)
        floors[name] = {"sides": [sa, sb], "ulp": ulp, "floor": floor, "scale": scale,
                        "stable": bool(np.isfinite(floor) and floor <= unstable(a.dtype) * scale)}
    for group in base.groups:  # one computation's tensors share its floor (see _pooled)
        _pooled({n: floors[n] for n in group if n in floors})
    return floors


def _pooled(group: dict[str, dict[str, Any]]) -> None:
    """Raise each stable floor of one comparison group to the group's widest stable floor, naming where it came from.

    Why: a tensor's spread is the largest move seen among its elements over ``DRAWS`` perturbed
    runs; for a tensor of one element (a bias, a batch norm's scale) that is ``DRAWS`` samples
    of a move that varies 100-fold from draw to draw (a DownBlock's batch-norm bias after one
    SGD step: 1.1e-16 to 8.1e-15), so its own floor can come out a fraction of the rounding its
    computation carries. A group's tensors (one call's outputs, one VJP's gradients, one step's
    weights) come out of one computation and share one scale; its rounding is measured on all
    their elements at once. A chaotic tensor (an unstable floor) lends the others nothing.
    """
    stable = {n: f for n, f in group.items() if f["stable"]}
    widest = max(stable, key=lambda n: stable[n]["floor"], default=None)
    for f in stable.values():
        if f["floor"] < stable[widest]["floor"]:
            f.update(own=f["floor"], floor=stable[widest]["floor"], pooled_from=widest)


def _judge(m: TensorMetrics, arrays: tuple[np.ndarray, np.ndarray, float], f: dict[str, Any]) -> TensorMetrics:
    """One tensor judged against ``K`` times its floor instead of the fixed tolerance."""
    a, b, _ = arrays
    allowed = K * f["floor"]
    err = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    ratio = err / allowed
    worst = np.unravel_index(int(np.argmax(ratio)), err.shape)
    note = (f"judged against the measured noise floor: one ulp of every drawn value moves {m.sides[0]} by "
            f"{f['sides'][0]:.3g} and {m.sides[1]} by {f['sides'][1]:.3g} (one ulp of the scale: {f['ulp']:.3g}); "
            + (f"its comparison group's floor, measured on {f['pooled_from']}: {f['floor']:.3g}; " if "pooled_from" in f
               else "") + f"allowed {K:g} x {f['floor']:.3g} = {allowed:.3g}")
    return replace(m, ok=bool(ratio.max() <= 1.0), mismatched=int(np.count_nonzero(ratio > 1.0)),
                   worst_index=tuple(int(i) for i in worst), torch_value=float(np.asarray(a)[worst]),
                   tf_value=float(np.asarray(b)[worst]), headroom=float(ratio.max()),
                   note="; ".join(n for n in (m.note, note) if n), comparison="noise-floor")


def evaluate(target: Any, case: Case, dtype: str | None = None) -> Evaluation:
    """The check's evaluation of ``case``, judged against its noise floor where that applies (see above)."""
    dtype = dtype or target.dtype
    base = evaluate_check(target, case, dtype)
    if not applies(target.check, dtype, case.regime):
        return base
    everywhere = target.check in ALWAYS and dtype == "float64"
    wanted = {m.name for m in base.compared if everywhere or not m.ok}
    names = _with_groupmates(wanted, base)
    if not names:
        return base
    floors = measure(target, case, base, dtype, names)
    judged = {m.name: _judge(m, base.arrays[m.name], floors[m.name]) for m in base.compared
              if m.name in wanted and m.name in floors and floors[m.name]["stable"]}
    unstable = sorted(n for n, f in floors.items() if n in wanted and not f["stable"])
    worst = max(judged.values(), key=lambda m: m.headroom, default=None)
    noise = {"k": K, "draws": DRAWS, "judged": len(judged), "always": everywhere,
             "unstable": unstable, "unmeasured": sorted(wanted.intersection(names) - set(floors)),
             "worst": None if worst is None else {"tensor": worst.name, "headroom": worst.headroom,
                                                  "error": worst.max_abs_error, **floors[worst.name]}}
    return base.rejudged(judged, noise)


def present(target: Any, case: Case, covers: Callable[[str], bool]) -> TensorMetrics | None:
    """The worst tensor ``covers`` admits that differs by more than ``K`` floors at ``case``, if one does.

    Why: a declared divergence whose size follows the drawn values (a constant rounded through
    float32 scales every logit it multiplies) can fall below the fixed tolerance on a draw and
    still be there, thousands of rounding spreads wide. That is the effect present, not gone; a
    fixed framework brings the difference back within its floor.
    """
    if not applies(target.check, target.dtype, case.regime):
        return None
    base = evaluate_check(target, case, target.dtype)
    wanted = {m.name for m in base.compared if covers(m.name)}
    names = _with_groupmates(wanted, base)
    floors = measure(target, case, base, target.dtype, names) if names else {}
    judged = [_judge(m, base.arrays[m.name], floors[m.name]) for m in base.compared
              if m.name in wanted and m.name in floors and floors[m.name]["stable"]]
    worst = max(judged, key=lambda m: m.headroom, default=None)
    return worst if worst is not None and not worst.ok else None
