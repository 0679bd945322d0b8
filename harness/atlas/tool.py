"""``conform map``: build a pair's two layers at given dims, match them through the atlas, print the map.

Why from a pair: the pair already says how to build both sides and what their inputs are;
``conform map`` needs nothing else, and its output pastes back into that pair. With
``--compare``, a pair that already has a hand-written map is checked against the atlas's: per
torch tensor, the same Keras variable and a transform that moves the same numbers to the same
places (applied to one random array), which is what "the same entry" means for the bridge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, find, settings

from harness import bridge, converters
from harness.atlas.match import Mapping, entry_source, map_layers
from harness.cases import Case, draw_params
from harness.engine import draw_inputs, side_call
from harness.layouts import layout_of
from harness.spec import LayerPair

__all__ = ["Comparison", "build", "compare", "params_for", "probed"]


def params_for(pair: LayerPair, fixed: MappingABC[str, Any]) -> dict[str, Any]:
    """The pair's dims with ``fixed`` ones set and the rest at their smallest draw (hypothesis's minimal example)."""
    unknown = sorted(set(fixed) - set(pair.dims))
    if unknown:
        raise ValueError(f"--dims {unknown}: not dims of pair {pair.name!r} (its dims: {sorted(pair.dims)})")
    pinned = dataclasses.replace(pair, dims={**pair.dims, **fixed})
    return dict(find(draw_params(pinned), lambda _p: True,
                     settings=settings(database=None, max_examples=50, suppress_health_check=list(HealthCheck))))


def build(pair: LayerPair, params: MappingABC[str, Any]) -> tuple[Any, Any, tuple[Any, Any]]:
    """Both layers at ``params`` in float32 on the CPU, the Keras one built by a call on the pair's inputs,
    and a call of each on those inputs (what :func:`map_layers` orders sublayers by)."""
    from harness.sides import tf_side, torch_side

    case = Case(params, "normal", 0)
    probe = draw_inputs(pair, case, np.random.default_rng(0), "float32")
    tf_probe = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, probe, strict=True)]
    kwargs = {name: params[name] for name in pair.call_args}
    th = side_call("torch", "construction",
                   lambda: torch_side.build(pair.torch, params, "float32", "cpu", 0, pair.convention("torch")))
    tf = side_call("tf", "construction",
                   lambda: tf_side.build(pair.tf, params, "float32", tf_probe, kwargs, pair.convention("tf")))
    return th, tf, (lambda: side_call("torch", "forward", lambda: torch_side.run(th, probe, kwargs, None, mode="eval",
                                                                                 device="cpu")),
                    lambda: side_call("tf", "forward", lambda: tf_side.run(tf, tf_probe, kwargs, None, mode="eval")))


@dataclass
class Comparison:
    """How the atlas's map compares with a hand-written one, tensor by tensor."""

    same: list[str]
    different: list[str]

    def summary(self, pair: str) -> str:
        total = len(self.same) + len(self.different)
        lines = [f"# {pair}: the atlas reproduces {len(self.same)} of {total} hand-written entries exactly"]
        lines += [f"#   differs: {d}" for d in self.different]
        return "\n".join(lines)


def _plan(pair: LayerPair, weight_map: MappingABC[str, Any], th: Any, tf: Any, params: MappingABC[str, Any]
          ) -> dict[str, bridge.Slot]:
    from harness.sides import tf_side, torch_side

    slots = bridge.plan(pair.name, weight_map, torch_side.entries(th), lambda p: tf_side.resolve(tf, p),
                        tf_side.entries(tf), lambda: tf_side.attribute_paths(tf), params)
    return {s.canonical: s for s in slots}


def compare(pair: LayerPair, mapping: Mapping, th: Any, tf: Any, params: MappingABC[str, Any]) -> Comparison:
    """Each tensor of the pair's own map against the atlas's: the same TF variable(s), the same numbers there."""
    from harness.sides import torch_side

    hand = _plan(pair, pair.weights, th, tf, params)
    try:  # the atlas's entries, completed by the hand-written ones for what it left unmatched
        auto = _plan(pair, {**{k: v for k, v in hand_entries(pair, hand).items() if k not in mapping.weights},
                            **mapping.weights}, th, tf, params)
        auto = {k: v for k, v in auto.items() if k in mapping.weights}
    except bridge.WeightMapError:
        auto = {}
    values = {k: np.random.default_rng(1).standard_normal(v.shape) for k, v in torch_side.state(th).items()}
    same, different = [], []
    for name, slot in hand.items():
        mine = auto.get(name)
        if mine is None:
            different.append(f"{name}: not mapped by the atlas")
        elif mine.tf_keys != slot.tf_keys or mine.span != slot.span or mine.summed != slot.summed:
            different.append(f"{name}: atlas {list(mine.tf_paths)}, hand-written {list(slot.tf_paths)}")
        elif not _same_numbers(bridge.to_tf(values, [slot]), bridge.to_tf(values, [mine])):
            different.append(f"{name}: the same variable, other layout ({entry_source(mapping.weights[name])})")
        else:
            same.append(name)
    return Comparison(same, different)


def hand_entries(pair: LayerPair, slots: MappingABC[str, bridge.Slot]) -> dict[str, Any]:
    """The pair's own map entry of every torch tensor, its ``*`` patterns expanded (as the bridge planned them)."""
    from harness.spec import Link

    out: dict[str, Any] = {}
    for name, slot in slots.items():
        source = next((v for k, v in pair.weights.items() if k == name), None)
        out[name] = source if source is not None else Link(slot.tf_paths[0] if len(slot.tf_paths) == 1
                                                           else slot.tf_paths, slot.transform)
    return out


def _same_numbers(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and np.array_equal(a[k], b[k]) for k in a)


def map_pair(pair: LayerPair, fixed: MappingABC[str, Any]) -> tuple[Mapping, dict[str, Any], Any, Any]:
    params = params_for(pair, fixed)
    th, tf, run = build(pair, params)
    return map_layers(th, tf, run), params, th, tf


def probed(pair: LayerPair, fixed: MappingABC[str, Any]) -> tuple[str, int]:
    """A converter pair's map at ``fixed`` dims, read off its converter (float32, CPU), as ``conform map`` prints it.

    Returns the text and how many findings it holds: gaps between the parameter sets, or the
    arithmetic that refuses a map.
    """
    from harness.sides import tf_side, torch_side

    params = params_for(pair, fixed)
    case = Case(params, "normal", 0)
    inputs = draw_inputs(pair, case, np.random.default_rng(0), "float32")
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    kwargs = {name: params[name] for name in pair.call_args}
    th = torch_side.build(pair.torch, params, "float32", "cpu", 0, pair.convention("torch"))

    def convert() -> Any:
        return tf_side.build(lambda _: pair.tf.convert(th), params, "float32", tf_inputs, kwargs, pair.convention("tf"))

    try:
        index = converters.probe(pair.name, pair.tf.name, th, convert, "float32")
    except converters.ConverterMapError as exc:
        return f"# {exc}", len(exc.problems)
    model = convert()
    keys = [k for k, v in tf_side.state(model).items() if np.issubdtype(v.dtype, np.floating)]
    return converters.render(index, keys, tf_side.attribute_paths(model)), len(index.gaps())
