"""Atlas pairs: every counterpart's correct configurations, and every convention at the defaults.

Why generated: a counterpart's facts live once, in the atlas; its pairs are derived, so a
fact the pairs prove is the fact ``conform map`` and ``weights="auto"`` use. A correct
configuration is the torch module against the atlas's own Keras translation of it, with the
weight map resolved by the atlas (``weights="auto"``): it must pass every check it runs. A
convention is the torch module at torch's defaults against the Keras layer at Keras's, with
the difference declared, its measured effect as the reason: strict, so it must reproduce,
and a release that changes the convention turns it red (the gate says which).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness import ledger
from harness.atlas.core import Convention, Counterpart, Example
from harness.spec import KnownDivergence, LayerPair, Origin, Params

SEED = "harness/atlas"


def _origin(cp: Counterpart, extra: dict[str, str]) -> Origin:
    torch_name = "/".join(f"nn.{t}" for t in cp.torch) or cp.label
    keras_name = "/".join(f"keras.layers.{k}" for k in cp.keras)
    return Origin(seed=SEED, tutorial_name=f"{torch_name} / {keras_name}",
                  atlas={"counterpart": cp.name, "torch": torch_name, "keras": keras_name, **extra})


def _translated(cp: Counterpart, example: Example) -> Any:
    def tf(p: Params) -> Any:
        return cp.to_keras(example.torch(p))

    return tf


def _wrapped(cp: Counterpart, example: Example) -> Callable[[Params], bool]:
    def where(p: Params) -> bool:
        import keras

        return isinstance(cp.to_keras(example.torch(p)), keras.Sequential)

    return where


def correct_pair(cp: Counterpart, example: Example) -> LayerPair:
    spec = dict(example.spec)
    if cp.wraps and "serialization" in example.checks:
        spec["known_divergences"] = (*spec.get("known_divergences", ()), ledger.declared(
            "keras-sequential-dtype-reload", "serialization", dtypes=("float64",), tensors=("*: config",),
            where=_wrapped(cp, example)))
    return LayerPair(
        name=f"atlas_{example.name}",
        origin=_origin(cp, {"setting": "", "kind": "counterpart"}),
        torch=example.torch,
        tf=_translated(cp, example),
        dims=example.dims,
        inputs=example.inputs,
        weights="auto",
        output_layout=example.output_layout,
        checks=example.checks,
        modes=example.modes,
        description=example.description,
        **spec,
    )


def convention_pair(cp: Counterpart, conv: Convention) -> LayerPair:
    declared = () if conv.agrees else (KnownDivergence(
        conv.check,
        reason=(f"{conv.setting}: torch {conv.torch_default}, Keras {conv.keras_default}. {conv.effect}"),
        modes=conv.modes,
        tensors=conv.tensors,
        regimes=conv.regimes,
    ),)
    return LayerPair(
        name=f"atlas_{cp.name}_{conv.name}",
        origin=_origin(cp, {"setting": conv.setting, "kind": "convention", "torch_default": conv.torch_default,
                            "keras_default": conv.keras_default, "effect": conv.effect,
                            "agrees": "yes" if conv.agrees else "no"}),
        torch=conv.torch,
        tf=conv.tf,
        dims=conv.dims,
        inputs=conv.inputs,
        weights="auto" if conv.weights is None else conv.weights,
        output_layout=conv.output_layout,
        checks=conv.checks,
        modes=tuple(dict.fromkeys((*conv.modes, "eval"))),
        known_divergences=declared,
        description=(f"{conv.setting} at each framework's default (torch {conv.torch_default}, Keras "
                     f"{conv.keras_default}): {conv.effect}"),
        **dict(conv.spec),
    )


def pairs(counterparts: tuple[Counterpart, ...]) -> list[LayerPair]:
    """Every atlas pair: the correct configurations first, then the conventions, counterpart by counterpart."""
    made = []
    for cp in counterparts:
        made += [correct_pair(cp, e) for e in cp.examples]
        made += [convention_pair(cp, c) for c in cp.conventions]
    return made
