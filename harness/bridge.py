"""The numpy weight-transfer bridge: named arrays, a weight map, and its validation.

Why pure numpy: the bridge is the one place where both frameworks' parameters meet, so it
must be testable without either, and its round trips must be exact (the layout transforms of
:mod:`harness.layouts` move bits, they never round). The canonical form is torch's
``state_dict`` (names and layouts); each map entry says which Keras variable holds the same
numbers and how they are laid out.

A weight map that does not fit the real parameters is refused *before anything runs*, with
one error that lists every problem: missing, extra, mis-shaped and trainable-vs-buffer
mismatches, each with both names and both shapes.

The bridge reads map entries by shape (an entry with a ``tf`` path is a link, one without
is torch-only), so it needs nothing from the spec module that declares them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from harness.layouts import Transform

__all__ = ["Entry", "Slot", "WeightMapError", "from_tf", "lookup", "plan", "to_tf"]


@dataclass(frozen=True)
class Entry:
    """What the bridge needs to know of one parameter or buffer on either side."""

    shape: tuple[int, ...]
    trainable: bool


@dataclass(frozen=True)
class Slot:
    """One resolved map entry: a torch name, the TF variables it fills, and how.

    Usually one TF variable; several where the transform splits (a packed ``in_proj_weight``
    is three kernels); or a slice of one (``span``: start, stop, axis) where several torch
    tensors fill one TF variable together (separate q, k, v weights into a fused kernel);
    or a summand of one (``summed``: torch's two recurrent biases are Keras's one).
    ``transform`` is bound to the case (its dims resolved).
    """

    canonical: str
    tf_keys: tuple[str, ...]
    tf_paths: tuple[str, ...]
    transform: Transform
    trainable: bool
    init: str = "normal"
    shapes: tuple[tuple[int, ...], ...] = ()
    span: tuple[int, int, int] | None = None
    summed: bool = False


class WeightMapError(ValueError):
    """The weight map does not fit the real parameters; ``problems`` lists every misfit."""

    def __init__(self, pair: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"weight map of pair {pair!r} does not fit the layers ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n{lines}\n"
            "Fix the pair's `weights=` mapping (torch state_dict name -> Link(tf attribute path, transform))."
        )


def _pattern(key: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(key).replace(r"\*", r"(\d+)") + "$")


def lookup(weight_map: Mapping[str, Any], name: str) -> tuple[str, Any] | None:
    """The map key matching a torch name, with ``*`` indices substituted into the TF path(s)."""
    if name in weight_map:
        return name, weight_map[name]
    for key, link in weight_map.items():
        if "*" in key and (m := _pattern(key).match(name)):
            if not hasattr(link, "tf"):
                return key, link
            paths = []
            for path in _paths(link):
                for index in m.groups():
                    path = path.replace("*", index, 1)
                paths.append(path)
            return key, replace(link, tf=paths[0] if isinstance(link.tf, str) else tuple(paths))
    return None


def _paths(link: Any) -> tuple[str, ...]:
    return (link.tf,) if isinstance(link.tf, str) else tuple(link.tf)


def _listing(entries: Mapping[str, Entry], paths: Mapping[str, str]) -> str:
    """TF variables as a map needs them: the attribute path (what ``Link`` takes), then Keras's own path."""
    return ", ".join(f"{paths[k]!r} ({k}) {e.shape}" if paths.get(k) else f"{k!r} {e.shape}"
                     for k, e in entries.items()) or "none"


TFResolver = Callable[[str], "tuple[str, Entry] | None"]


def plan(
    pair: str,
    weight_map: Mapping[str, Any],
    torch_entries: Mapping[str, Entry],
    tf_resolve: TFResolver,
    tf_entries: Mapping[str, Entry],
    tf_paths: Callable[[], Mapping[str, str]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[Slot]:
    """Match every torch entry to its TF variable(s), or raise one error listing every misfit.

    ``tf_resolve`` turns an attribute path into ``(key, entry)`` (None if it leads nowhere);
    ``tf_entries`` holds every TF variable by the same key, so unclaimed ones are reported;
    ``tf_paths`` gives each key's attribute path, so a problem names what to write in the map
    (called only when there is a problem: walking a model's attributes is not free);
    ``params`` are the case's drawn dims, which a transform may name.
    """
    paths: dict[str, str] = {}

    def path_of() -> dict[str, str]:
        if not paths and tf_paths is not None:
            paths.update(tf_paths())
        return paths

    problems: list[str] = []
    slots: list[Slot] = []
    used_keys: set[str] = set()
    claimed: dict[str, list[str]] = {}
    parts: dict[str, list[tuple[Any, Slot]]] = {}
    for name, entry in torch_entries.items():
        found = lookup(weight_map, name)
        kind = "parameter" if entry.trainable else "buffer"
        if found is None:
            problems.append(
                f"missing: torch {kind} {name!r} shape {entry.shape} has no entry in the weight map"
            )
            continue
        key, link = found
        used_keys.add(key)
        if not hasattr(link, "tf"):  # TorchOnly: allowed for buffers, never for parameters
            if entry.trainable:
                problems.append(
                    f"torch-only: torch parameter {name!r} shape {entry.shape} is declared torch-only, but "
                    "a trainable parameter must exist on both sides (or the two train different sets)"
                )
            continue
        slot = _slot(name, entry, link, tf_resolve, params or {}, problems, lambda: _listing(tf_entries, path_of()))
        if slot is None:
            continue
        for tf_key in slot.tf_keys:
            claimed.setdefault(tf_key, []).append(name)
        part = getattr(link, "part", None)
        if part is not None:
            parts.setdefault(slot.tf_keys[0], []).append((part, slot))
        elif _fits(slot, entry, tf_entries, problems):
            slots.append(slot)
    for tf_key, pieces in parts.items():
        slots += _assemble(tf_key, pieces, tf_entries[tf_key], problems)
    for tf_key, names in claimed.items():
        if len(names) > 1 and tf_key not in parts:
            problems.append(f"duplicate: TF variable {tf_key!r} is claimed by {names}")
    for key in weight_map:
        if key not in used_keys:
            problems.append(f"extra: map entry {key!r} matches no torch parameter or buffer")
    for tf_key, tf_entry in tf_entries.items():
        if tf_key not in claimed:
            kind = "trainable" if tf_entry.trainable else "non-trainable"
            path = f" (attribute path {path_of()[tf_key]!r})" if path_of().get(tf_key) else ""
            problems.append(
                f"extra: TF {kind} variable {tf_key!r}{path} shape {tf_entry.shape} is not filled by any torch entry"
            )
    if problems:
        raise WeightMapError(pair, problems)
    return slots


def to_tf(canonical: Mapping[str, np.ndarray], slots: list[Slot]) -> dict[str, np.ndarray]:
    """Canonical (torch-layout) arrays -> TF-layout arrays keyed by TF variable key."""
    out: dict[str, np.ndarray] = {}
    joined: dict[str, list[tuple[int, int, np.ndarray]]] = {}
    for s in slots:
        made = s.transform.forward(canonical[s.canonical])
        if s.summed:
            out[s.tf_keys[0]] = out[s.tf_keys[0]] + made if s.tf_keys[0] in out else made
        elif s.span is not None:
            joined.setdefault(s.tf_keys[0], []).append((s.span[0], s.span[2], made))
        else:
            out.update(zip(s.tf_keys, made if s.transform.parts > 1 else (made,), strict=True))
    for key, pieces in joined.items():
        out[key] = np.ascontiguousarray(np.concatenate([a for _, _, a in sorted(pieces, key=lambda p: p[0])],
                                                       axis=pieces[0][1]))
    return out


def from_tf(tf_arrays: Mapping[str, np.ndarray], slots: list[Slot]) -> dict[str, np.ndarray]:
    """TF-layout arrays (values or gradients) -> canonical names and layouts.

    A split entry whose TF variables are only partly present (no gradient path to one of
    them) gets zeros for the absent parts; one with none present is absent too.
    """
    out: dict[str, np.ndarray] = {}
    for s in slots:
        if s.summed:  # d(a + b)/da = d(a + b)/db: each summand gets TF's whole gradient
            if s.tf_keys[0] in tf_arrays:
                out[s.canonical] = s.transform.inverse(tf_arrays[s.tf_keys[0]])
            continue
        if s.span is not None:
            if s.tf_keys[0] in tf_arrays:
                start, stop, axis = s.span
                piece = np.take(tf_arrays[s.tf_keys[0]], np.arange(start, stop), axis=axis)
                out[s.canonical] = s.transform.inverse(piece)
            continue
        if not any(k in tf_arrays for k in s.tf_keys):
            continue
        arrays = [tf_arrays[k] if k in tf_arrays else np.zeros(shape)
                  for k, shape in zip(s.tf_keys, s.shapes, strict=True)]
        out[s.canonical] = s.transform.inverse(arrays if s.transform.parts > 1 else arrays[0])
    return out


def _slot(name: str, entry: Entry, link: Any, tf_resolve: TFResolver, params: Mapping[str, Any],
          problems: list[str], listing: Callable[[], str]) -> Slot | None:
    """The entry's slot: its transform bound to the case, every TF path resolved; None (and a problem) if not."""
    kind = "parameter" if entry.trainable else "buffer"
    paths = _paths(link)
    try:
        transform = link.transform.bind(params, entry.shape)
        expected = transform.shape(entry.shape)
    except ValueError as exc:
        problems.append(f"mis-shaped: {name!r} {entry.shape} -> {link.tf!r}: {exc}")
        return None
    if transform.parts != len(paths):
        problems.append(f"mis-mapped: {name!r} -> {len(paths)} TF path(s) {list(paths)}, but {transform.name} "
                        f"makes {transform.parts} part(s)")
        return None
    resolved = []
    for path in paths:
        found = tf_resolve(path)
        if found is None:
            problems.append(
                f"missing: torch {kind} {name!r} shape {entry.shape} maps to TF {path!r}, but no TF "
                f"variable is at that path (TF variables: {listing()})"
            )
            return None
        resolved.append(found)
    shapes = tuple(expected) if transform.parts > 1 else (tuple(expected),)
    return Slot(name, tuple(k for k, _ in resolved), paths, transform, entry.trainable, link.init, shapes)


def _fits(slot: Slot, entry: Entry, tf_entries: Mapping[str, Entry], problems: list[str]) -> bool:
    """Each TF variable has the shape the transform gives, and the same trainability."""
    ok = True
    for key, path, shape in zip(slot.tf_keys, slot.tf_paths, slot.shapes, strict=True):
        tf_entry = tf_entries[key]
        if shape != tf_entry.shape:
            problems.append(
                f"mis-shaped: torch {slot.canonical!r} has shape {entry.shape}, {slot.transform.name} gives "
                f"{shape}, but TF {path!r} has shape {tf_entry.shape}"
            )
            ok = False
        elif slot.trainable != tf_entry.trainable:
            kind = "parameter" if slot.trainable else "buffer"
            tf_kind = "trainable" if tf_entry.trainable else "non-trainable"
            problems.append(f"trainability: torch {slot.canonical!r} is a {kind} but TF {path!r} is {tf_kind}")
            ok = False
    return ok


def _assemble(tf_key: str, pieces: list[tuple[Any, Slot]], tf_entry: Entry, problems: list[str]) -> list[Slot]:
    """Slots that fill one TF variable together, each with its slice; checked to tile it exactly."""
    names = [s.canonical for _, s in pieces]
    summed = {getattr(p, "summed", False) for p, _ in pieces}
    if summed == {True}:
        return _summands(tf_key, pieces, tf_entry, problems)
    if len(summed) > 1:
        problems.append(f"mis-mapped: {names} fill TF {tf_key!r} partly summed, partly joined; one or the other")
        return []
    counts = {p.of for p, _ in pieces}
    axes = {p.axis for p, _ in pieces}
    indices = sorted(p.index for p, _ in pieces)
    if len(counts) != 1 or len(axes) != 1 or indices != list(range(next(iter(counts)))):
        problems.append(f"mis-mapped: {names} fill TF {tf_key!r} as parts {indices} of {sorted(counts)} along "
                        f"axes {sorted(axes)}; the parts must be 0..of-1 of one count, along one axis")
        return []
    axis = next(iter(axes))
    ordered = sorted(pieces, key=lambda ps: ps[0].index)
    shapes = [s.shapes[0] for _, s in ordered]
    rank = len(tf_entry.shape)
    if any(len(sh) != rank for sh in shapes) or not -rank <= axis < rank:
        problems.append(f"mis-shaped: {names} {shapes} cannot be joined along axis {axis} into TF {tf_key!r} "
                        f"{tf_entry.shape}")
        return []
    axis %= rank
    joined = [*shapes[0][:axis], sum(sh[axis] for sh in shapes), *shapes[0][axis + 1:]]
    if any(sh[:axis] + sh[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:] for sh in shapes) or \
            tuple(joined) != tf_entry.shape:
        problems.append(f"mis-shaped: {names} {shapes} joined along axis {axis} do not make TF {tf_key!r} "
                        f"shape {tf_entry.shape}")
        return []
    slots, start = [], 0
    for _, slot in ordered:
        if slot.trainable != tf_entry.trainable:
            problems.append(f"trainability: torch {slot.canonical!r} and TF {tf_key!r} differ in trainability")
        stop = start + slot.shapes[0][axis]
        slots.append(replace(slot, span=(start, stop, axis)))
        start = stop
    return slots


def _summands(tf_key: str, pieces: list[tuple[Any, Slot]], tf_entry: Entry, problems: list[str]) -> list[Slot]:
    """Slots whose sum is one TF variable: all of its shape, parts 0..of-1 each once."""
    names = [s.canonical for _, s in pieces]
    indices = sorted(p.index for p, _ in pieces)
    if len({p.of for p, _ in pieces}) != 1 or indices != list(range(pieces[0][0].of)):
        problems.append(f"mis-mapped: {names} sum into TF {tf_key!r} as parts {indices}; the parts must be 0..of-1")
        return []
    slots = []
    for _, slot in sorted(pieces, key=lambda ps: ps[0].index):
        if slot.shapes[0] != tf_entry.shape:
            problems.append(f"mis-shaped: torch {slot.canonical!r} gives {slot.shapes[0]} but TF {tf_key!r}, "
                            f"which it is summed into, has shape {tf_entry.shape}")
        elif slot.trainable != tf_entry.trainable:
            problems.append(f"trainability: torch {slot.canonical!r} and TF {tf_key!r} differ in trainability")
        else:
            slots.append(replace(slot, summed=True))
    return slots
