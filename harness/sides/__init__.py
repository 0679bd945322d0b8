"""The framework edges: where torch and TF objects become numpy and back.

Each side builds its layer from a pair spec, reports its parameters to the bridge, and runs
forward and a vector-Jacobian product. Everything past this package is numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Outcome", "SideError"]


@dataclass
class Outcome:
    """What one framework computed for one case, in canonical (torch) layouts.

    A gradient is ``None`` when the framework reports no path from the outputs to that
    tensor (a detached parameter, an unused branch); the comparison says so explicitly.
    """

    outputs: list[np.ndarray]
    input_grads: list[np.ndarray | None] = field(default_factory=list)
    param_grads: dict[str, np.ndarray | None] = field(default_factory=dict)


class SideError(RuntimeError):
    """A framework raised while building or running a layer; names which one and where."""

    def __init__(self, framework: str, stage: str, exc: BaseException):
        self.framework = framework
        self.stage = stage
        self.original = exc
        super().__init__(f"{framework} raised during {stage}: {type(exc).__name__}: {exc}")
