"""The pair spec: one declarative, frozen description of a twin layer.

Why a spec and not a test per layer: every check (forward, gradient, later training mode,
serialisation, benchmarks) is derived from the same data, so adding a pair is adding one
object, and a user's own pairs are driven by exactly the machinery of the built-in ones.

A spec never imports a framework: factories are plain callables, the weight map is names and
numpy layout transforms. That keeps ``conform list`` fast and the spec testable alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from harness.bridge import IDENTITY, Transform

__all__ = [
    "CHECKS",
    "DTYPES",
    "MODES",
    "KnownDivergence",
    "LayerPair",
    "Link",
    "Origin",
    "Params",
    "SpecError",
    "Stage",
    "Tensor",
    "Tolerance",
    "TorchOnly",
]

Params = Mapping[str, Any]
"""The drawn dimensions and options of one case, e.g. ``{"batch": 3, "units": 5}``."""

CHECKS = ("parameters", "forward", "gradient")
DEFAULT_CHECKS = ("forward", "gradient")
DTYPES = ("float32", "float64")
MODES = ("eval", "train")
LAYOUTS = ("feature_last", "channels_first")
INITS = ("normal", "positive", "keep")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SpecError(ValueError):
    """A pair spec that cannot work; raised when the spec is declared, not when it runs."""


@dataclass(frozen=True)
class Origin:
    """Where a pair comes from: the tutorial file and the tutorial's own name for it.

    ``shown`` says which frameworks the tutorial itself writes; the other side is ours.
    """

    seed: str
    tutorial_name: str
    shown: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Tensor:
    """One input tensor: its name, its shape in dimension names or integers, its layout.

    ``layout="channels_first"`` means the torch side receives it as generated (N, C, ...)
    and the TF side receives it permuted to (N, ..., C); gradients come back the same way.
    ``regimes`` restricts the value regimes drawn for it (None: all of them).
    """

    name: str
    shape: tuple[str | int, ...]
    layout: str = "feature_last"
    regimes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise SpecError(
                f"Tensor {self.name!r}: layout must be one of {LAYOUTS}. "
                f"Received: layout={self.layout!r}"
            )

    def concrete_shape(self, params: Params) -> tuple[int, ...]:
        try:
            return tuple(d if isinstance(d, int) else int(params[d]) for d in self.shape)
        except KeyError as missing:
            raise SpecError(
                f"Tensor {self.name!r} has shape {self.shape} but dimension {missing} is "
                f"not among the pair's dims {sorted(params)}"
            ) from None


@dataclass(frozen=True)
class Link:
    """One weight-map entry: the TF variable's attribute path and the layout transform.

    The canonical layout is torch's ``state_dict``; ``transform`` maps canonical → TF and
    its inverse brings TF gradients back. ``*`` in both paths matches a list index, so
    ``"layers.*.weight" -> Link("layers.*.kernel", TRANSPOSE)`` covers any depth.
    ``init`` is how the harness draws the value: ``normal`` (scaled by fan-in, the default),
    ``positive`` (for variances) or ``keep`` (the torch module's own value).
    """

    tf: str
    transform: Transform = IDENTITY
    init: str = "normal"

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise SpecError(f"Link({self.tf!r}): init must be one of {INITS}. Received: init={self.init!r}")


@dataclass(frozen=True)
class TorchOnly:
    """A torch *buffer* with no TF counterpart (``num_batches_tracked``), with the reason.

    Parameters cannot be torch-only: the two frameworks would train different parameter
    sets, which the ``parameters`` check reports instead.
    """

    reason: str


@dataclass(frozen=True)
class Stage:
    """A sublayer of a composite pair, for first-divergence localisation.

    ``torch`` and ``tf`` are attribute paths from the pair's layers (integers index lists
    and ``nn.Sequential``; a Keras functional model also resolves layer names). Every call
    of the sublayer is one stage, in call order, compared on its first input's gradient and
    its output; ``layout`` is that of both.
    """

    name: str
    torch: str
    tf: str
    layout: str = "feature_last"


@dataclass(frozen=True)
class Tolerance:
    """A per-pair tolerance override. A reason is required: it is printed in the report."""

    rtol: float
    atol: float
    reason: str
    dtypes: tuple[str, ...] = DTYPES
    checks: tuple[str, ...] = CHECKS

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise SpecError("Tolerance override needs a reason; received an empty one")
        if self.rtol < 0 or self.atol < 0:
            raise SpecError(f"Tolerances must be >= 0. Received: rtol={self.rtol}, atol={self.atol}")


@dataclass(frozen=True)
class KnownDivergence:
    """A divergence the pair is declared to have (a strict xfail).

    It must reproduce: a declared divergence that no longer diverges is a failure, so a
    fixed bug or a changed framework cannot hide behind an old declaration.
    """

    check: str
    reason: str
    dtypes: tuple[str, ...] = DTYPES

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise SpecError(f"KnownDivergence.check must be one of {CHECKS}. Received: {self.check!r}")
        if not self.reason.strip():
            raise SpecError("KnownDivergence needs a reason; received an empty one")


DimValue = st.SearchStrategy | Callable[[Params], Any] | int | float | bool | str


@dataclass(frozen=True)
class LayerPair:
    """A torch layer and a Keras layer that claim to compute the same function.

    Args:
        name: unique snake_case id used on the command line and in records.
        origin: tutorial file and name (see :class:`Origin`).
        torch: ``params -> torch callable`` (an ``nn.Module`` or a plain function).
        tf: ``params -> TF callable`` (a Keras layer/model or a plain function).
        dims: ordered named draws. A value is a hypothesis strategy, a constant, or a
            callable taking the params drawn so far and returning either; the latter
            expresses constraints (``embed`` a multiple of ``heads``) without filtering.
        inputs: the positional tensor arguments, in call order.
        call_args: names of params passed to both calls as keyword arguments
            (non-tensor arguments such as a branch condition).
        weights: canonical (torch ``state_dict``) name → :class:`Link` or TF path.
        output_layout: layout of every output, as for inputs.
        special_values: ``params -> values`` planted by the ``special`` value regime
            (an activation's threshold, say).
        tolerances: overrides of the dtype policy, each with a reason.
        known_divergences: declared divergences, each with a reason.
        checks: which checks apply: ``parameters`` (the weight map fits: names, shapes,
            trainability), ``forward`` (outputs, and every buffer after ``calls`` calls),
            ``gradient`` (VJP for inputs and parameters).
        modes: ``eval`` (inference) and/or ``train``.
        skip_modes: mode -> reason, recorded as ``skip`` (a mode not yet checkable).
        calls: forward calls per example; >1 for stateful layers (buffers updated in forward).
        stages: sublayers of a composite, in call order, for first-divergence localisation.
    """

    name: str
    origin: Origin
    torch: Callable[[Params], Any]
    tf: Callable[[Params], Any]
    dims: Mapping[str, DimValue]
    inputs: tuple[Tensor, ...]
    call_args: tuple[str, ...] = ()
    weights: Mapping[str, Link | TorchOnly | str] = field(default_factory=dict)
    output_layout: str = "feature_last"
    special_values: Callable[[Params], Sequence[float]] | None = None
    tolerances: tuple[Tolerance, ...] = ()
    known_divergences: tuple[KnownDivergence, ...] = ()
    checks: tuple[str, ...] = DEFAULT_CHECKS
    modes: tuple[str, ...] = ("eval",)
    skip_modes: Mapping[str, str] = field(default_factory=dict)
    calls: int = 1
    stages: tuple[Stage, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise SpecError(f"Pair name must be snake_case ([a-z][a-z0-9_]*). Received: name={self.name!r}")
        if not self.inputs:
            raise SpecError(f"Pair {self.name!r} declares no inputs; a pair needs at least one Tensor")
        unknown = [c for c in self.checks if c not in CHECKS]
        if unknown:
            raise SpecError(f"Pair {self.name!r}: unknown checks {unknown}; known: {CHECKS}")
        missing = [a for a in self.call_args if a not in self.dims]
        if missing:
            raise SpecError(f"Pair {self.name!r}: call_args {missing} are not declared in dims")
        if self.output_layout not in LAYOUTS:
            raise SpecError(f"Pair {self.name!r}: output_layout must be one of {LAYOUTS}")
        bad_modes = [m for m in (*self.modes, *self.skip_modes) if m not in MODES]
        if bad_modes or not self.modes:
            raise SpecError(f"Pair {self.name!r}: modes must be a non-empty subset of {MODES}; got {bad_modes}")
        if self.calls < 1:
            raise SpecError(f"Pair {self.name!r}: calls must be >= 1. Received: calls={self.calls}")
        object.__setattr__(
            self, "weights", {k: Link(v) if isinstance(v, str) else v for k, v in self.weights.items()}
        )

    def known_divergence(self, check: str, dtype: str) -> KnownDivergence | None:
        return next((k for k in self.known_divergences if k.check == check and dtype in k.dtypes), None)

    def tolerance_override(self, check: str, dtype: str) -> Tolerance | None:
        return next((t for t in self.tolerances if check in t.checks and dtype in t.dtypes), None)

    def describe(self) -> dict[str, Any]:
        """The JSON-able summary ``conform list --format json`` prints."""
        return {
            "name": self.name,
            "origin": {"seed": self.origin.seed, "tutorial_name": self.origin.tutorial_name,
                       "shown": list(self.origin.shown), "note": self.origin.note},
            "checks": list(self.checks),
            "inputs": [{"name": t.name, "shape": list(t.shape), "layout": t.layout} for t in self.inputs],
            "weights": {k: {"tf": v.tf, "transform": v.transform.name} if isinstance(v, Link)
                        else {"torch_only": v.reason} for k, v in self.weights.items()},
            "modes": list(self.modes),
            "skip_modes": dict(self.skip_modes),
            "stages": [s.name for s in self.stages],
            "known_divergences": [{"check": k.check, "reason": k.reason, "dtypes": list(k.dtypes)}
                                  for k in self.known_divergences],
            "tolerances": [{"rtol": t.rtol, "atol": t.atol, "reason": t.reason} for t in self.tolerances],
            "description": self.description,
        }
