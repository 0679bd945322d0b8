"""The framework edges: where torch and TF objects become numpy and back.

Each side builds its layer from a pair spec, reports its parameters to the bridge, and runs
forward and a vector-Jacobian product. Everything past this package is numpy only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "POSITIONAL", "Convention", "Outcome", "Reloaded", "SideError", "StageCall", "differentiable", "first_leaf",
    "in_order", "invoke", "keyed", "leaves", "named_leaves", "stage_layers", "walk",
]


@dataclass
class Outcome:
    """What one framework computed for one case, in canonical (torch) layouts.

    A gradient is ``None`` when the framework reports no path from the outputs to that
    tensor (a detached parameter, an unused branch); the comparison says so explicitly.
    ``names`` are the outputs' keys in the structure the layer returned (see :func:`named_leaves`).
    ``execution`` says how the call ran where that is not obvious (cuDNN switched off for it).
    """

    outputs: list[np.ndarray]
    names: list[str] = field(default_factory=list)
    input_grads: list[np.ndarray | None] = field(default_factory=list)
    param_grads: dict[str, np.ndarray | None] = field(default_factory=dict)
    stages: list[StageCall] = field(default_factory=list)
    cotangents: list[np.ndarray] = field(default_factory=list)
    execution: dict[str, str] = field(default_factory=dict)


@dataclass
class StageCall:
    """One call of a declared sublayer: its output and the gradient at its first input."""

    name: str
    output: np.ndarray
    input_grad: np.ndarray | None = None


@dataclass
class Reloaded:
    """One save/load round trip of a layer, as the serialization check compares it.

    ``run`` gives the reloaded layer's outputs with their keys (numpy in, numpy out, the
    framework's own layout): a SavedModel hands a dict back in an order of its own, so a
    round trip's outputs are matched by key. ``weights`` and ``original_weights`` are every saved variable by name, both
    sides of the trip; ``config`` is (original, reloaded) where the format has one.
    ``rewritten`` says the framework recompiles or rewrites the computation on load (a
    SavedModel's graph), so its outputs are compared within the dtype's tolerance, not bit for bit.
    """

    run: Callable[[Sequence[np.ndarray]], list[tuple[str, np.ndarray]]]
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


Convention = tuple[str, tuple[str, ...], tuple[tuple[str, Any], ...]]
"""How a layer is called: ``("args", (), fixed)``, or ``("kwargs" | "dict", keys, fixed)``.

The style and keys are ``LayerPair.inputs_as``; ``fixed`` are the side's own keyword
arguments (``LayerPair.side_kwargs``), passed on every call of it.
"""
POSITIONAL: Convention = ("args", (), ())


def invoke(fn: Callable[..., Any], xs: Sequence[Any], call_kwargs: Mapping[str, Any], convention: Convention,
           **extra: Any) -> Any:
    """Call ``fn`` on the input tensors the way its side takes them: positionally, by keyword, or as one dict."""
    style, keys, fixed = convention
    extra = {**dict(fixed), **extra}
    if style == "kwargs":
        return fn(**dict(zip(keys, xs, strict=True)), **call_kwargs, **extra)
    if style == "dict":
        return fn(dict(zip(keys, xs, strict=True)), **call_kwargs, **extra)
    return fn(*xs, **call_kwargs, **extra)


def named_leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The tensors of a layer's return value, each with its key path, in the order returned.

    Tuples and lists are keyed by position (``"0"``, ``"1.0"``), mappings by key (a Keras
    dict, a HF ``ModelOutput``, which is an ordered dict of its set fields), dataclasses and
    named tuples by field. ``None`` (an optional output that was not asked for) is no output.
    A bare tensor has the key ``""``.
    """
    if value is None:
        return []
    if isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        items = list(zip(value._fields, value, strict=True))
    elif isinstance(value, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return [(prefix, value)]
    return [leaf for key, item in items for leaf in named_leaves(item, f"{prefix}.{key}" if prefix else key)]


def in_order(named: Sequence[tuple[str, Any]], order: Sequence[str] | None) -> tuple[list[str], list[Any]]:
    """Keyed outputs in the order asked for (the other side's, by key); all of them as returned if the keys differ.

    Both the cross-framework comparison (TF asked for torch's order) and a save/load round trip
    (a SavedModel returns its dict in an order of its own) line outputs up this way.
    """
    by_name = dict(named)
    if order is not None and len(by_name) == len(named) == len(order) and set(order) == set(by_name):
        return list(order), [by_name[k] for k in order]
    return [n for n, _ in named], [o for _, o in named]


def leaves(value: Any) -> list[Any]:
    """The tensors of a return value in order, without their keys."""
    return [leaf for _, leaf in named_leaves(value)]


def keyed(names: Sequence[str]) -> bool:
    """Whether outputs carry names (a dict's keys), not only positions: then they are matched by name."""
    return any(part and not part.isdigit() for name in names for part in name.split("."))


def differentiable(array: np.ndarray) -> bool:
    """Whether an input takes a gradient: floating point, not token ids or a mask."""
    return np.asarray(array).dtype.kind in "fc"


def first_leaf(value: Any) -> Any:
    """The first tensor of a possibly nested return value or argument tuple (a cell's ``(h, [h])``, say)."""
    found = leaves(value)
    return found[0] if found else None


def _elements(container: Any, where: str) -> list[Any]:
    try:
        return list(container)
    except TypeError:
        raise LookupError(f"{where!r}: a {type(container).__name__} has no elements for '*'") from None


def stage_layers(root: Any, stages: Any, *fallbacks: str) -> list[tuple[str, Any]]:
    """(label, sublayer) for declared stages; a ``*`` anywhere in a path means every element there.

    ``Stage("attention", "encoder.layer.*.attention", ...)`` becomes ``attention.0``,
    ``attention.1``, ... on both sides, however many layers the drawn params make; two ``*``
    give ``name.i.j``. Raises LookupError naming the part of the path that leads nowhere.
    """
    found = []
    for name, path in stages:
        matches: list[tuple[str, Any]] = [(name, root)]
        done: list[str] = []
        for part in path.split(".") if path else []:
            where = ".".join(done) or "(the layer itself)"
            if part == "*":
                matches = [(f"{label}.{i}", item) for label, node in matches
                           for i, item in enumerate(_elements(node, where))]
            else:
                try:
                    matches = [(label, walk(node, part, *fallbacks)) for label, node in matches]
                except LookupError:
                    raise LookupError(f"stage {name!r}: path {path!r} leads nowhere: nothing at {part!r} "
                                      f"after {where!r}") from None
            done.append(part)
        found += matches
    return found
