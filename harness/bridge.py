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

__all__ = ["Entry", "Slot", "WeightMapError", "from_tf", "plan", "to_tf"]


@dataclass(frozen=True)
class Entry:
    """What the bridge needs to know of one parameter or buffer on either side."""

    shape: tuple[int, ...]
    trainable: bool


@dataclass(frozen=True)
class Slot:
    """One resolved map entry: a torch name, the TF key it fills, and how."""

    canonical: str
    tf_key: str
    tf_path: str
    transform: Transform
    trainable: bool
    init: str = "normal"


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


def _expand(weight_map: Mapping[str, Any], name: str) -> tuple[str, Any] | None:
    """The map key matching a torch name, with ``*`` indices substituted into the TF path."""
    if name in weight_map:
        return name, weight_map[name]
    for key, link in weight_map.items():
        if "*" in key and (m := _pattern(key).match(name)):
            if not hasattr(link, "tf"):
                return key, link
            path = link.tf
            for index in m.groups():
                path = path.replace("*", index, 1)
            return key, replace(link, tf=path)
    return None


def _listing(entries: Mapping[str, Entry]) -> str:
    return ", ".join(f"{k} {e.shape}" for k, e in entries.items()) or "none"


TFResolver = Callable[[str], "tuple[str, Entry] | None"]


def plan(
    pair: str,
    weight_map: Mapping[str, Any],
    torch_entries: Mapping[str, Entry],
    tf_resolve: TFResolver,
    tf_entries: Mapping[str, Entry],
) -> list[Slot]:
    """Match every torch entry to a TF variable, or raise one error listing every misfit.

    ``tf_resolve`` turns an attribute path into ``(key, entry)`` (None if it leads nowhere);
    ``tf_entries`` holds every TF variable by the same key, so unclaimed ones are reported.
    """
    problems: list[str] = []
    slots: list[Slot] = []
    used_keys: set[str] = set()
    claimed: dict[str, str] = {}
    for name, entry in torch_entries.items():
        found = _expand(weight_map, name)
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
        resolved = tf_resolve(link.tf)
        if resolved is None:
            problems.append(
                f"missing: torch {kind} {name!r} shape {entry.shape} maps to TF {link.tf!r}, but no TF "
                f"variable is at that path (TF variables: {_listing(tf_entries)})"
            )
            continue
        tf_key, tf_entry = resolved
        if tf_key in claimed:
            problems.append(f"duplicate: TF variable {tf_key!r} is claimed by {claimed[tf_key]!r} and {name!r}")
        claimed[tf_key] = name
        try:
            expected = link.transform.shape(entry.shape)
        except ValueError as exc:
            problems.append(f"mis-shaped: {name!r} {entry.shape} -> {link.tf!r}: {exc}")
            continue
        if expected != tf_entry.shape:
            problems.append(
                f"mis-shaped: torch {name!r} has shape {entry.shape}, {link.transform.name} gives "
                f"{expected}, but TF {link.tf!r} has shape {tf_entry.shape}"
            )
        elif entry.trainable != tf_entry.trainable:
            tf_kind = "trainable" if tf_entry.trainable else "non-trainable"
            problems.append(f"trainability: torch {name!r} is a {kind} but TF {link.tf!r} is {tf_kind}")
        else:
            slots.append(Slot(name, tf_key, link.tf, link.transform, entry.trainable, link.init))
    for key in weight_map:
        if key not in used_keys:
            problems.append(f"extra: map entry {key!r} matches no torch parameter or buffer")
    for tf_key, tf_entry in tf_entries.items():
        if tf_key not in claimed:
            kind = "trainable" if tf_entry.trainable else "non-trainable"
            problems.append(
                f"extra: TF {kind} variable {tf_key!r} shape {tf_entry.shape} is not filled by any torch entry"
            )
    if problems:
        raise WeightMapError(pair, problems)
    return slots


def to_tf(canonical: Mapping[str, np.ndarray], slots: list[Slot]) -> dict[str, np.ndarray]:
    """Canonical (torch-layout) arrays -> TF-layout arrays keyed by TF variable key."""
    return {s.tf_key: s.transform.forward(canonical[s.canonical]) for s in slots}


def from_tf(tf_arrays: Mapping[str, np.ndarray], slots: list[Slot]) -> dict[str, np.ndarray]:
    """TF-layout arrays (values or gradients) -> canonical names and layouts."""
    return {s.canonical: s.transform.inverse(tf_arrays[s.tf_key]) for s in slots if s.tf_key in tf_arrays}
