"""Layout transforms: invertible, pure-numpy changes of layout between the two frameworks.

Why a module of its own: the pair spec names transforms (a ``Link``'s ``TRANSPOSE``), the
weight bridge applies them to parameters, and the case engine applies them to activations
(NCHW <-> NHWC). None of those should import another just to reach a transform, so the
transforms live below all three. A transform moves bits and never rounds, so every round
trip is exact (tests/test_bridge.py checks it with hypothesis).

Real ports need more than permutations: a ``Linear`` weight ``(heads*head_dim, hidden)`` is an
``EinsumDense`` kernel ``(hidden, heads, head_dim)`` (:class:`Reshape` after ``TRANSPOSE``,
chained with :meth:`Transform.then`), a packed ``in_proj_weight`` is three Keras kernels
(:class:`Split`), a GRU's gates come in another order (:class:`Blocks`). A transform that
depends on the drawn dims (the head count) names them; the bridge binds it
(:meth:`Transform.bind`) to each case's params and the torch tensor's shape before use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

__all__ = [
    "CONV2D_OIHW_TO_HWIO",
    "CONV_TRANSPOSE2D_IOHW_TO_HWOI",
    "IDENTITY",
    "LAYOUTS",
    "TRANSPOSE",
    "Blocks",
    "Chain",
    "Permute",
    "Reshape",
    "Split",
    "Transform",
    "channels_last",
    "layout_of",
]

# How a pair's activations are laid out: as generated (feature last), or torch's NCHW that TF
# receives as NHWC.
LAYOUTS = ("feature_last", "channels_first")


@dataclass(frozen=True)
class Transform:
    """An invertible layout change. The identity is the base case.

    ``parts`` is how many arrays ``forward`` returns: 1, or more for a :class:`Split` (then
    ``forward`` returns a tuple, ``inverse`` takes one and ``shape`` gives one shape per part).
    """

    name: str = "identity"

    @property
    def parts(self) -> int:
        return 1

    def forward(self, x: np.ndarray) -> Any:
        return x

    def inverse(self, x: Any) -> np.ndarray:
        return x

    def shape(self, shape: tuple[int, ...]) -> Any:
        return tuple(shape)

    def bind(self, params: Mapping[str, Any], shape: tuple[int, ...]) -> Transform:
        """This transform for one case: dims named in it resolved from ``params``, ``shape`` the torch tensor's."""
        return self

    def then(self, other: Transform) -> Chain:
        """``self`` followed by ``other`` (``TRANSPOSE.then(Reshape(...))``)."""
        return Chain(f"{self.name}+{other.name}", (self, other))


@dataclass(frozen=True)
class Permute(Transform):
    """An axis permutation: ``forward`` is ``np.transpose(x, axes)``."""

    axes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if sorted(self.axes) != list(range(len(self.axes))):
            raise ValueError(f"Permute axes must be a permutation of 0..n-1. Received: axes={self.axes}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check_rank(x.shape)
        return np.ascontiguousarray(np.transpose(x, self.axes))

    def inverse(self, x: np.ndarray) -> np.ndarray:
        self._check_rank(x.shape)
        return np.ascontiguousarray(np.transpose(x, np.argsort(self.axes)))

    def shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        self._check_rank(shape)
        return tuple(shape[a] for a in self.axes)

    def _check_rank(self, shape: tuple[int, ...]) -> None:
        if len(shape) != len(self.axes):
            raise ValueError(
                f"transform {self.name!r} permutes {len(self.axes)} axes but got an array of "
                f"shape {tuple(shape)} (rank {len(shape)})"
            )


@dataclass(frozen=True)
class Chain(Transform):
    """Transforms applied in order (inverted in reverse order); only the last may split."""

    steps: tuple[Transform, ...] = ()

    def __post_init__(self) -> None:
        if any(step.parts != 1 for step in self.steps[:-1]):
            raise ValueError(f"Chain {self.name!r}: only its last step may split into parts")

    @property
    def parts(self) -> int:
        return self.steps[-1].parts if self.steps else 1

    def forward(self, x: np.ndarray) -> Any:
        for step in self.steps:
            x = step.forward(x)
        return x

    def inverse(self, x: Any) -> np.ndarray:
        for step in reversed(self.steps):
            x = step.inverse(x)
        return x

    def shape(self, shape: tuple[int, ...]) -> Any:
        for step in self.steps:
            shape = step.shape(shape)
        return shape

    def bind(self, params: Mapping[str, Any], shape: tuple[int, ...]) -> Transform:
        bound = []
        for step in self.steps:
            bound.append(step.bind(params, shape))
            shape = bound[-1].shape(shape) if bound[-1].parts == 1 else shape
        return replace(self, steps=tuple(bound))

    def then(self, other: Transform) -> Chain:
        return Chain(f"{self.name}+{other.name}", (*self.steps, other))


Dims = tuple[int | str, ...] | Callable[[Mapping[str, Any]], Sequence[int]]


@dataclass(frozen=True)
class Reshape(Transform):
    """``forward`` reshapes to ``to``; ``inverse`` back to the shape the bridge bound it to.

    ``to`` holds integers, ``-1`` (the rest) and names of drawn dims (``(-1, "heads",
    "head_dim")``), or is a callable of the params giving the shape, so one map serves every
    drawn head count.
    """

    to: Dims = ()
    source: tuple[int, ...] | None = None

    def bind(self, params: Mapping[str, Any], shape: tuple[int, ...]) -> Transform:
        try:
            to = self.to(params) if callable(self.to) else [params[d] if isinstance(d, str) else d for d in self.to]
        except KeyError as missing:
            raise ValueError(f"transform {self.name!r} names dim {missing} that the pair does not draw") from None
        return replace(self, to=tuple(int(d) for d in to), source=tuple(shape))

    def _target(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if callable(self.to) or any(isinstance(d, str) for d in self.to):
            raise ValueError(f"transform {self.name!r} must be bound to a case's params before use")
        size, known = int(np.prod(shape)), int(np.prod([d for d in self.to if d != -1]))
        target = tuple(size // known if d == -1 and known else d for d in self.to)
        if int(np.prod(target)) != size:
            raise ValueError(f"transform {self.name!r} cannot reshape {tuple(shape)} ({size} values) to {self.to}")
        return target

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.reshape(x, self._target(x.shape)))

    def inverse(self, x: np.ndarray) -> np.ndarray:
        if self.source is None:
            raise ValueError(f"transform {self.name!r} must be bound to the torch shape before it can invert")
        return np.ascontiguousarray(np.reshape(x, self.source))

    def shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return self._target(tuple(shape))


@dataclass(frozen=True)
class Split(Transform):
    """One torch tensor as several TF variables: ``parts`` equal blocks along ``axis``, each through ``each``.

    A packed ``in_proj_weight`` ``(3*E, E)`` is Keras's query, key and value kernels:
    ``Split("qkv", count=3, axis=0, each=TRANSPOSE.then(Reshape(...)))``. ``inverse``
    concatenates, so TF's three gradients come back as one.
    """

    count: int = 2
    axis: int = 0
    each: Transform = Transform()

    @property
    def parts(self) -> int:
        return self.count

    def _blocks(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if not shape or shape[self.axis] % self.count:
            raise ValueError(f"transform {self.name!r} cannot split axis {self.axis} of {tuple(shape)} into "
                             f"{self.count} equal parts")
        block = list(shape)
        block[self.axis] //= self.count
        return tuple(block)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        self._blocks(x.shape)
        return tuple(self.each.forward(np.ascontiguousarray(p)) for p in np.split(x, self.count, axis=self.axis))

    def inverse(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate([self.each.inverse(x) for x in xs], axis=self.axis))

    def shape(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
        return (self.each.shape(self._blocks(tuple(shape))),) * self.count

    def bind(self, params: Mapping[str, Any], shape: tuple[int, ...]) -> Transform:
        return replace(self, each=self.each.bind(params, self._blocks(tuple(shape))))


@dataclass(frozen=True)
class Blocks(Transform):
    """Equal blocks along ``axis`` put in another order: gate layouts of recurrent layers.

    torch's GRU stacks its gates (reset, update, new), Keras's (update, reset, candidate):
    ``Blocks("gru_gates", order=(1, 0, 2))``. Block ``i`` of the result is block ``order[i]``
    of the input.
    """

    order: tuple[int, ...] = ()
    axis: int = 0

    def __post_init__(self) -> None:
        if sorted(self.order) != list(range(len(self.order))):
            raise ValueError(f"Blocks order must be a permutation of 0..n-1. Received: order={self.order}")

    def _split(self, x: np.ndarray) -> list[np.ndarray]:
        if not x.ndim or x.shape[self.axis] % len(self.order):
            raise ValueError(f"transform {self.name!r} cannot cut axis {self.axis} of {x.shape} into "
                             f"{len(self.order)} equal blocks")
        return np.split(x, len(self.order), axis=self.axis)

    def forward(self, x: np.ndarray) -> np.ndarray:
        blocks = self._split(x)
        return np.ascontiguousarray(np.concatenate([blocks[i] for i in self.order], axis=self.axis))

    def inverse(self, x: np.ndarray) -> np.ndarray:
        blocks = self._split(x)
        return np.ascontiguousarray(np.concatenate([blocks[i] for i in np.argsort(self.order)], axis=self.axis))

    def shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        self._split(np.broadcast_to(np.float64(0), shape))
        return tuple(shape)


IDENTITY = Transform()
TRANSPOSE = Permute("transpose", (1, 0))
# torch Conv2d weight (out, in, kH, kW) -> Keras Conv2D kernel (kH, kW, in, out)
CONV2D_OIHW_TO_HWIO = Permute("conv2d_oihw_to_hwio", (2, 3, 1, 0))
# torch ConvTranspose2d weight (in, out, kH, kW) -> Keras Conv2DTranspose kernel (kH, kW, out, in)
CONV_TRANSPOSE2D_IOHW_TO_HWOI = Permute("conv_transpose2d_iohw_to_hwoi", (2, 3, 1, 0))


def channels_last(rank: int) -> Transform:
    """(N, C, d1, ..., dk) -> (N, d1, ..., dk, C): torch's activation layout to Keras's."""
    if rank < 3:
        return IDENTITY
    return Permute(f"channels_last_{rank}d", (0, *range(2, rank), 1))


def layout_of(layout: str, rank: int) -> Transform:
    """The transform from torch's activation layout to TF's for a tensor of ``rank``."""
    return channels_last(rank) if layout == "channels_first" else IDENTITY
