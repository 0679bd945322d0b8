"""Coverage: the cases a check must run for its pass to mean something, and what it ran.

A check that only ever saw axes of size one or empty tensors has tested almost nothing: a
softmax over an axis of one returns 1 whatever the axis, ``x * 2`` and ``x * 3`` agree on
an empty batch. Hypothesis alone does not prevent it (its first, derandomised examples are
the smallest there are, and graph mode draws few), so the rule is stated and enforced here,
the same for every pair:

* a **dim** is an integer param (booleans and other options are not dims);
* a case is **empty** when an input tensor has no element or a dim is 0, and
  **degenerate** when it is empty or when a dim that the pair's strategies let reach 2
  (together with the others) is below 2;
* every check runs the **minimal case** (the smallest params with no empty tensor), its
  edge regimes, the **wide case** (every dim at least 2 where the strategies allow, the
  smallest such case), the **empty case** as one more edge case when a dim can be 0, and
  then hypothesis's examples;
* a record states what it covered (:func:`summary`), and a check whose examples were all
  degenerate is ``inconclusive``, never ``pass``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from harness.cases import Case, draw_params
from harness.spec import LayerPair

__all__ = ["Plan", "dims_of", "minimal_case", "plan", "summary"]

WIDE = 2
_SEARCH = settings(database=None, max_examples=200, derandomize=True, deadline=None,
                   phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))


def dims_of(params: Mapping[str, Any]) -> dict[str, int]:
    """The integer params of a case (``True`` is an int to Python, not a dim)."""
    return {k: v for k, v in params.items() if isinstance(v, int) and not isinstance(v, bool)}


def _empty(pair: LayerPair, params: Mapping[str, Any]) -> str | None:
    """Why a case is empty, if it is: an input with no element, or a dim of 0."""
    for tensor in pair.inputs:
        try:
            shape = tensor.concrete_shape(params)
        except Exception:  # noqa: BLE001 - a shape that cannot be made is the spec's error, reported elsewhere
            continue
        if 0 in shape:
            return f"empty: input {tensor.name} has shape {shape}"
    zero = [d for d, v in dims_of(params).items() if v == 0]
    return f"empty: {', '.join(f'{d}=0' for d in zero)}" if zero else None


def _smallest(pair: LayerPair, mode: str, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    try:
        return find(draw_params(pair, mode), condition, settings=_SEARCH)
    except (NoSuchExample, Unsatisfiable):
        return None


@dataclass(frozen=True)
class Plan:
    """The deterministic cases of a pair in a mode, and which dims its wide case widened."""

    minimal: Case
    wide: Case
    empty: Case | None
    widened: tuple[str, ...]

    def degenerate(self, pair: LayerPair, params: Mapping[str, Any]) -> str | None:
        """Why a case is degenerate (empty, or a widenable dim below 2), or None."""
        empty = _empty(pair, params)
        if empty:
            return empty
        dims = dims_of(params)
        small = [f"{d}={dims[d]}" for d in self.widened if d in dims and dims[d] < WIDE]
        return f"size-1 dims: {', '.join(small)}" if small else None


def _widened(pair: LayerPair, mode: str, minimal: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The smallest case with every dim at >= 2 that the strategies allow together.

    One search for all dims at once; when that is impossible (a dim fixed at 1, or two
    constraints that exclude each other), dims are added one at a time, in declaration
    order, as long as a case still exists.
    """
    def wide(names: Sequence[str]) -> Callable[[dict[str, Any]], bool]:
        return lambda p: _empty(pair, p) is None and all(dims_of(p).get(d, 0) >= WIDE for d in names)

    names = list(dims_of(minimal))
    found = _smallest(pair, mode, wide(names))
    if found is not None:
        return found, tuple(names)
    kept: list[str] = []
    best: dict[str, Any] = dict(minimal)
    for d in names:
        candidate = _smallest(pair, mode, wide([*kept, d]))
        if candidate is not None:
            kept.append(d)
            best = candidate
    return best, tuple(kept)


_PLANS: dict[tuple[int, str], tuple[LayerPair, Plan]] = {}


def plan(pair: LayerPair, mode: str = "eval") -> Plan:
    """The pair's minimal, wide and empty cases in ``mode`` (searched once per process).

    Modes that draw the same dims share one plan: only ``train`` with ``train_dims`` draws
    differently (:func:`harness.cases.draw_params`), so eval, graph and most train records
    of a pair pay for one search, not three.
    """
    mode = "train" if mode == "train" and pair.train_dims else "eval"
    cached = _PLANS.get((id(pair), mode))
    if cached is not None and cached[0] is pair:
        return cached[1]
    smallest = _smallest(pair, mode, lambda _: True)
    if smallest is None:
        raise ValueError(f"pair {pair.name!r}: its dims cannot be drawn in {mode} mode")
    empty = None
    if _empty(pair, smallest):
        empty = Case(smallest, "normal", 0)
        smallest = _smallest(pair, mode, lambda p: _empty(pair, p) is None) or smallest
    wide, widened = _widened(pair, mode, smallest)
    result = Plan(Case(smallest, "normal", 0), Case(wide, "normal", 0), empty, widened)
    _PLANS[(id(pair), mode)] = (pair, result)
    return result


def minimal_case(pair: LayerPair, mode: str = "eval") -> Case:
    """The smallest params with no empty tensor for the pair in a mode, normal values, seed 0."""
    return plan(pair, mode).minimal


def summary(tried: Sequence[tuple[Case, str | None]]) -> dict[str, Any]:
    """What a record covered: examples, how many were non-degenerate, each dim's range, options, regimes."""
    dims: dict[str, list[int]] = {}
    options: dict[str, set[str]] = {}
    for case, _ in tried:
        for name, value in case.params.items():
            if name in dims_of(case.params):
                low, high = dims.get(name, [value, value])
                dims[name] = [min(low, value), max(high, value)]
            else:
                options.setdefault(name, set()).add(repr(value))
    reasons = Counter(why.split(":", 1)[0] for _, why in tried if why)
    return {
        "examples": len(tried),
        "non_degenerate": sum(why is None for _, why in tried),
        "empty": reasons.get("empty", 0),
        "size_1": reasons.get("size-1 dims", 0),
        "dims": dims,
        "options": {k: sorted(v) for k, v in options.items()},
        "regimes": dict(Counter(case.regime for case, _ in tried)),
    }
