"""Layout transforms: invertible, pure-numpy changes of axis order between the two frameworks.

Why a module of its own: the pair spec names transforms (a ``Link``'s ``TRANSPOSE``), the
weight bridge applies them to parameters, and the case engine applies them to activations
(NCHW <-> NHWC). None of those should import another just to reach a transform, so the
transforms live below all three. A transform moves bits and never rounds, so every round
trip is exact (tests/test_bridge.py checks it with hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CONV2D_OIHW_TO_HWIO",
    "CONV_TRANSPOSE2D_IOHW_TO_HWOI",
    "IDENTITY",
    "LAYOUTS",
    "TRANSPOSE",
    "Permute",
    "Transform",
    "channels_last",
    "layout_of",
]

# How a pair's activations are laid out: as generated (feature last), or torch's NCHW that TF
# receives as NHWC.
LAYOUTS = ("feature_last", "channels_first")


@dataclass(frozen=True)
class Transform:
    """An invertible layout change. The identity is the base case."""

    name: str = "identity"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return x

    def shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(shape)


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
