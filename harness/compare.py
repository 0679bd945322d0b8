"""Comparison of two frameworks' arrays under a per-dtype tolerance policy.

The default policy, and why each number (an element passes when
``|a - b| <= atol * scale + rtol * max(|a|, |b|)``, ``scale`` = the largest magnitude on
either side in the tensor's *comparison group*: all outputs of one call, or all gradients
of one VJP):

* float32: ``rtol = 1.3e-6``, ``atol = 1e-5`` -- ``torch.testing``'s float32 defaults
  (rtol is ~11 ulps). Two frameworks sum in different orders; a reduction's rounding error
  scales with the magnitude of what it adds, not with a possibly cancelled result, so atol
  is taken relative to the scale. That keeps the check meaningful for the ``large`` (x1e3)
  and ``tiny`` (x1e-3) regimes alike instead of being blind in one and hair-trigger in the
  other. The scale is the group's, not the tensor's own, because a gradient that is zero in
  exact arithmetic (a bias before a softmax, which is shift-invariant) comes out of both
  frameworks as rounding noise of the terms that cancel in it -- terms of the size of the
  other gradients of the same VJP, not of the noise.
* float64: ``rtol = atol = 1e-9``. Rounding differences of float64 reductions over the
  sizes we draw are below 1e-13; 1e-9 leaves four orders of margin and still catches the
  smallest semantic slips we plant (an epsilon of 1e-5 instead of 1e-6 moves a unit-variance
  normalisation by ~5e-6).

Differences below the dtype's smallest normal number (``floor``) never count: TF runs its
CPU kernels with flush-to-zero, so where torch keeps a subnormal (a saturated softmax's
1e-40 gradient) TF has an exact 0. That is a property of the float format, not of a layer.

Non-finite values (NaN, inf) agree only where both sides hold the same one at the same
position *and* non-finite values were put in (``nonfinite_in``: an input, or a regime's
special value, was NaN or inf). From finite inputs a non-finite output is a finding, not an
agreement: two sides that both overflow to NaN have tested nothing, so every such position
counts as a mismatch and the metric's note lists where each side went non-finite.

Shapes are compared first: a shape mismatch is a failure that names both shapes.

The comparison is symmetric (neither framework is the truth). Every comparison returns full
metrics, pass or fail, so reports can show headroom (``headroom`` = worst ``|a-b| /
allowed``; below 1 passes), and says which comparison it made (``exact`` or ``tolerance``; a float64
example judged against its measured rounding is ``noise-floor``, see :mod:`harness.noise`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["DEFAULT_POLICY", "Policy", "TensorMetrics", "compare", "magnitude", "policy_for"]


@dataclass(frozen=True)
class Policy:
    rtol: float
    atol: float
    source: str
    floor: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_FLOOR = {"float32": float(np.finfo(np.float32).tiny), "float64": float(np.finfo(np.float64).tiny)}
DEFAULT_POLICY: dict[str, Policy] = {
    "float32": Policy(1.3e-6, 1e-5, "default float32 policy (torch.testing's numbers, atol relative to scale)",
                      _FLOOR["float32"]),
    "float64": Policy(1e-9, 1e-9, "default float64 policy", _FLOOR["float64"]),
}


def policy_for(dtype: str, override: Any = None) -> Policy:
    """The dtype's default policy, or a pair's override (which carries its reason)."""
    if override is not None:
        return Policy(override.rtol, override.atol, f"pair override: {override.reason}", _FLOOR.get(dtype, 0.0))
    try:
        return DEFAULT_POLICY[dtype]
    except KeyError:
        raise ValueError(f"no tolerance policy for dtype {dtype!r}; known: {sorted(DEFAULT_POLICY)}") from None


@dataclass(frozen=True)
class TensorMetrics:
    """How one tensor compares. ``worst_index`` is where ``|a-b| / allowed`` peaks."""

    name: str
    shape: tuple[int, ...]
    ok: bool
    max_abs_error: float
    max_rel_error: float
    mismatched: int
    total: int
    worst_index: tuple[int, ...]
    torch_value: float | None
    tf_value: float | None
    headroom: float
    note: str = ""
    sides: tuple[str, str] = ("torch", "tf")
    comparison: str = "tolerance"

    @property
    def mismatch_fraction(self) -> float:
        return self.mismatched / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["mismatch_fraction"] = self.mismatch_fraction
        return out

    def _allowed(self, policy: Policy) -> str:
        if self.comparison == "noise-floor":  # harness.noise: the note says what was measured
            return "allowed: a multiple of the measured noise floor, not rtol/atol"
        return f"rtol {policy.rtol:g}, atol {policy.atol:g} x scale"

    def describe(self, policy: Policy) -> str:
        """torch.testing's message shape: what, how many, how much, where."""
        if self.note and (not self.total or (self.torch_value is None and self.tf_value is None)):
            return f"{self.name}: {self.note}"  # a finding, not an element-wise comparison
        pct = 100.0 * self.mismatch_fraction
        lines = [
            f"{self.name}: Mismatched elements: {self.mismatched} / {self.total} ({pct:.1f}%)",
            f"  Greatest absolute difference: {self.max_abs_error:.3g} at index {self.worst_index} "
            f"({self.sides[0]} {self.torch_value!r} vs {self.sides[1]} {self.tf_value!r})",
            f"  Greatest relative difference: {self.max_rel_error:.3g} ({self._allowed(policy)}; "
            f"worst error/allowed = {self.headroom:.3g})",
        ]
        if self.note:
            lines.append(f"  Note: {self.note}")
        return "\n".join(lines)


def magnitude(*arrays: np.ndarray | None) -> float:
    """The largest finite magnitude among arrays: the reference scale of a comparison group."""
    finite = [np.abs(x[np.isfinite(x)]).max() for x in arrays if x is not None and np.isfinite(x).any()]
    return float(max(finite, default=0.0))


def _positions(mask: np.ndarray, limit: int = 4) -> str:
    where = [tuple(int(i) for i in p) for p in np.argwhere(mask)[:limit]]
    more = f" and {int(mask.sum()) - limit} more" if mask.sum() > limit else ""
    return f"{int(mask.sum())} at {where}{more}"


def _nonfinite_note(a: np.ndarray, b: np.ndarray, sides: tuple[str, str]) -> str:
    """Where each side went non-finite although nothing non-finite was put in."""
    parts = [f"{side}: {_positions(~np.isfinite(x))}" for side, x in zip(sides, (a, b), strict=True)
             if not np.isfinite(x).all()]
    return "non-finite output from finite inputs (" + "; ".join(parts) + ")"


def compare(name: str, torch_arr: np.ndarray, tf_arr: np.ndarray, policy: Policy, note: str = "",
            group_scale: float = 0.0, *, sides: tuple[str, str] = ("torch", "tf"),
            nonfinite_in: bool = False) -> TensorMetrics:
    """Metrics of one tensor; ``group_scale`` is the largest magnitude of its comparison group.

    ``sides`` names the two arrays (``torch``/``tf``, or ``tf.function``/``tf eager``);
    ``nonfinite_in`` says whether non-finite values were put in, the only case where NaN and
    inf may agree (see the module docstring).
    """
    comparison = "exact" if policy.rtol == 0 and policy.atol == 0 else "tolerance"
    a = np.asarray(torch_arr, dtype=np.float64)
    b = np.asarray(tf_arr, dtype=np.float64)
    if a.shape != b.shape:
        return TensorMetrics(name, a.shape, False, float("inf"), float("inf"), max(a.size, b.size),
                             max(a.size, b.size), (), None, None, float("inf"),
                             f"shape mismatch: {sides[0]} {a.shape} vs {sides[1]} {b.shape}", sides, comparison)
    if a.size == 0:
        return TensorMetrics(name, a.shape, True, 0.0, 0.0, 0, 0, (), None, None, 0.0, note or "empty tensor", sides,
                             comparison)
    finite = np.isfinite(a) & np.isfinite(b)
    if nonfinite_in:
        same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    else:
        same_special = np.zeros(a.shape, dtype=bool)
        if not finite.all():
            note = "; ".join(n for n in (note, _nonfinite_note(a, b, sides)) if n)
    mag = np.where(finite, np.maximum(np.abs(a), np.abs(b)), 0.0)
    scale = max(float(mag.max()), group_scale, np.finfo(np.float64).tiny)
    allowed = max(policy.atol * scale, policy.floor) + policy.rtol * mag
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(a - b), np.inf)
        err = np.where(same_special, 0.0, err)
        ratio = np.where(err == 0, 0.0, err / allowed)
        rel = np.where(err == 0, 0.0, err / mag)
    worst = np.unravel_index(int(np.argmax(ratio)), a.shape)
    mismatched = int(np.count_nonzero(ratio > 1.0))
    return TensorMetrics(
        name=name,
        shape=a.shape,
        ok=mismatched == 0,
        max_abs_error=float(err.max()),
        max_rel_error=float(rel.max()),
        mismatched=mismatched,
        total=int(a.size),
        worst_index=tuple(int(i) for i in worst),
        torch_value=float(a[worst]),
        tf_value=float(b[worst]),
        headroom=float(ratio.max()),
        note=note,
        sides=sides,
        comparison=comparison,
    )
