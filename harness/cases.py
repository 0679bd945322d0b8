"""Cases: what hypothesis draws, and how a drawn case becomes arrays.

A case is small and replayable: the pair's drawn params (dims and options), a value regime
and an integer seed. Hypothesis shrinks the params towards the smallest dims, the regime
towards ``normal`` and the seed towards 0; the arrays themselves are made from the seed by
numpy, so a case printed as JSON re-creates bit-identical inputs, weights and cotangents.

The regimes exist because random normals almost never hit the inputs that split two
frameworks: exact zeros (ReLU's kink, a hand-written gradient's ``<`` vs ``<=``), ties
(max and sort), an activation's own threshold, large magnitudes (overflow, cancellation)
and tiny ones (where an epsilon dominates a variance).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from harness.spec import LayerPair, Params, SpecError, Tensor

__all__ = ["REGIMES", "Case", "case_strategy", "discrete", "draw_params", "fill", "weight_values"]

REGIMES = ("normal", "zeros", "ties", "special", "large", "tiny")
_TIES = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
_LARGE = 1e3
_TINY = 1e-3


@dataclass(frozen=True)
class Case:
    """One replayable example: params, value regime, seed."""

    params: Mapping[str, Any] = field(default_factory=dict)
    regime: str = "normal"
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"params": dict(self.params), "regime": self.regime, "seed": self.seed}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> Case:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ValueError(f"--case is not valid JSON ({exc}). Received: {data!r}") from None
        unknown = set(data) - {"params", "regime", "seed", "input_shapes"}  # a record's minimal_case
        if unknown or not isinstance(data.get("params", {}), dict):
            raise ValueError(
                f"a case is {{'params': {{...}}, 'regime': str, 'seed': int}}. Received keys: {sorted(data)}"
            )
        regime = data.get("regime", "normal")
        if regime not in REGIMES:
            raise ValueError(f"unknown regime {regime!r}; known: {REGIMES}")
        return cls(dict(data.get("params", {})), regime, int(data.get("seed", 0)))


# Checks whose question is not about edge values, so only normal values are drawn: the
# parameter sets and a save/load round trip do not depend on them, the drop statistics need
# inputs that are never zero, and SGD steps from a x1e3 batch measure an explosion, not a port.
_NORMAL_ONLY = ("parameters", "serialization", "statistics", "train_step")


def regimes_for(pair: LayerPair, check: str = "forward") -> tuple[str, ...]:
    """The regimes that make sense for a pair and check (``special`` needs special values)."""
    if check in _NORMAL_ONLY or not any(t.differentiable for t in pair.inputs):
        return ("normal",)  # ids and masks have no value regimes: the others would repeat the normal case
    return tuple(r for r in REGIMES if r != "special" or pair.special_values is not None)


def _resolve(value: Any, params: Params) -> Any:
    if isinstance(value, st.SearchStrategy):
        return value
    if callable(value):
        return _resolve(value(params), params)
    return st.just(value)


@st.composite
def draw_params(draw: st.DrawFn, pair: LayerPair, mode: str = "eval",
                fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Draw the pair's dims in declaration order; later ones may depend on earlier ones.

    In training mode a dim listed in ``train_dims`` is drawn from there instead. A dim in
    ``fixed`` keeps that value (a configuration's, :mod:`harness.configurations`).
    """
    params: dict[str, Any] = {}
    overrides = pair.train_dims if mode == "train" else {}
    for name, value in pair.dims.items():
        if fixed is not None and name in fixed:
            params[name] = fixed[name]
            continue
        try:
            strategy = _resolve(overrides.get(name, value), params)
        except KeyError as missing:
            raise SpecError(f"pair {pair.name!r}: dim {name!r} reads {missing} before it is drawn; declare dims in "
                            f"the order they depend on each other (drawn so far: {sorted(params)})") from None
        params[name] = draw(strategy, label=name)
    return params


@st.composite
def case_strategy(draw: st.DrawFn, pair: LayerPair, mode: str = "eval", check: str = "forward") -> Case:
    params = draw(draw_params(pair, mode), label="params")
    regime = draw(st.sampled_from(regimes_for(pair, check)), label="regime")
    seed = draw(st.integers(0, 2**31 - 1), label="seed")
    return Case(params, regime, seed)


def fill(regime: str, shape: tuple[int, ...], rng: np.random.Generator, special: list[float]) -> np.ndarray:
    """A float64 array of ``shape`` in the given regime. Planting regimes plant at least once."""
    x = rng.standard_normal(shape)
    if x.size == 0 or regime == "normal":
        return x
    if regime == "large":
        return x * _LARGE
    if regime == "tiny":
        return x * _TINY
    if regime == "ties":
        return rng.choice(_TIES, size=shape)
    planted = np.array([0.0]) if regime == "zeros" else np.asarray(special, dtype=np.float64)
    if regime not in ("zeros", "special") or planted.size == 0:
        raise SpecError(f"regime {regime!r} cannot be filled (special values: {special})")
    mask = rng.random(shape) < 1 / 3
    mask.flat[rng.integers(x.size)] = True
    x[mask] = rng.choice(planted, size=int(mask.sum()))
    return x


def discrete(spec: Tensor, params: Params, rng: np.random.Generator) -> np.ndarray:
    """An integer or boolean input: values in ``[low, high)``, or a mask keeping one position per row at least.

    Value regimes do not apply: ids have no "large" or "tiny"; an edge of the id range is
    reached by drawing ``high`` small, which the pair's dims shrink towards anyway.
    """
    shape = spec.concrete_shape(params)
    if spec.mask or spec.dtype == "bool":
        values = rng.random(shape) < 0.75
        if spec.mask and values.size:
            values[..., 0] = True
    else:
        values = rng.integers(spec.low, spec.bound(params), size=shape)
    return values.astype(spec.dtype)


def weight_values(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random, non-zero parameter values, scaled by fan-in so activations stay O(1).

    The harness draws every trainable parameter itself instead of keeping either
    framework's initialiser: a zero-initialised bias would hide a bias that one side forgets
    to add.
    """
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))
