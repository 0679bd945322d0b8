"""The framework edges: where torch and TF objects become numpy and back.

Each side builds its layer from a pair spec, reports its parameters to the bridge, and runs
forward and a vector-Jacobian product. Everything past this package is numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Outcome", "Reloaded", "SideError", "StageCall", "first_leaf", "stage_layers", "walk"]


@dataclass
class Outcome:
    """What one framework computed for one case, in canonical (torch) layouts.

    A gradient is ``None`` when the framework reports no path from the outputs to that
    tensor (a detached parameter, an unused branch); the comparison says so explicitly.
    """

    outputs: list[np.ndarray]
    input_grads: list[np.ndarray | None] = field(default_factory=list)
    param_grads: dict[str, np.ndarray | None] = field(default_factory=dict)
    stages: list[StageCall] = field(default_factory=list)
    cotangents: list[np.ndarray] = field(default_factory=list)


@dataclass
class StageCall:
    """One call of a declared sublayer: its output and the gradient at its first input."""

    name: str
    output: np.ndarray
    input_grad: np.ndarray | None = None


@dataclass
class Reloaded:
    """One save/load round trip of a layer, as the serialization check compares it.

    ``run`` gives the reloaded layer's outputs (numpy in, numpy out, the framework's own
    layout). ``weights`` and ``original_weights`` are every saved variable by name, both
    sides of the trip; ``config`` is (original, reloaded) where the format has one.
    ``rewritten`` says the framework recompiles or rewrites the computation on load (a
    SavedModel's graph), so its outputs are compared within the dtype's tolerance, not bit for bit.
    """

    run: Callable[[Sequence[np.ndarray]], list[np.ndarray]]
    weights: dict[str, np.ndarray]
    original_weights: dict[str, np.ndarray]
    config: tuple[Any, Any] | None = None
    rewritten: bool = False


class SideError(RuntimeError):
    """A framework raised while building or running a layer; names which one and where."""

    def __init__(self, framework: str, stage: str, exc: BaseException):
        self.framework = framework
        self.stage = stage
        self.original = exc
        super().__init__(f"{framework} raised during {stage}: {type(exc).__name__}: {exc}")


def walk(root: Any, path: str, *fallbacks: str) -> Any:
    """Follow a dotted attribute path; an integer part indexes, a ``fallback`` method looks up.

    ``"blocks.1.kernel"`` is ``root.blocks[1].kernel``; with ``"get_layer"`` as fallback a
    Keras functional model's layer names resolve too. Raises LookupError naming the part.
    """
    node = root
    for part in path.split("."):
        try:
            node = node[int(part)] if part.isdigit() else getattr(node, part)
            continue
        except (AttributeError, IndexError, KeyError, TypeError):
            pass
        for method in fallbacks:
            try:
                node = getattr(node, method)(part)
                break
            except (AttributeError, ValueError, KeyError):
                continue
        else:
            raise LookupError(f"{path!r}: nothing at {part!r} (from {type(node).__name__})")
    return node


def first_leaf(value: Any) -> Any:
    """The first tensor of a possibly nested tuple/list (a cell's ``(h, [h])``, say)."""
    while isinstance(value, (list, tuple)):
        if not value:
            return None
        value = value[0]
    return value


def stage_layers(root: Any, stages: Any, *fallbacks: str) -> list[tuple[str, Any]]:
    """(label, sublayer) for declared stages; a path ending in ``*`` means every element.

    ``Stage("layers", "layers.*", "layers.*")`` becomes ``layers.0``, ``layers.1``, ... on
    both sides, however many layers the drawn params make.
    """
    found = []
    for name, path in stages:
        if path == "*" or path.endswith(".*"):
            prefix = path[:-1].rstrip(".")
            container = walk(root, prefix, *fallbacks) if prefix else root
            found += [(f"{name}.{i}", item) for i, item in enumerate(container)]
        else:
            found.append((name, walk(root, path, *fallbacks)))
    return found
