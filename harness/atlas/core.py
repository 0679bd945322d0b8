"""The atlas's data model: a torch.nn built-in, its Keras counterpart, and where the two differ.

Why data and not converters: the same facts serve four users. The atlas pairs run them (each
counterpart correctly configured must pass; each convention difference reproduces at the two
frameworks' defaults), ``conform map`` matches sublayers and writes weight maps from them,
the lint compares the settings of matched sublayers, and ``weights="auto"`` resolves a pair's
map at run time. A fact written once cannot disagree with itself across the four.

Nothing here imports a framework: every callable takes a built module or layer (or a case's
params) and imports what it needs itself, so loading the atlas stays as cheap as a spec.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.spec import DEFAULT_CHECKS, Link, Params, SpecError, Tensor, TorchOnly

__all__ = ["ALL_MODES", "Convention", "Counterpart", "Example", "Setting", "keras", "torch_nn"]

ALL_MODES = ("eval", "train", "graph")
WeightMap = Mapping[str, Link | TorchOnly | str]


def torch_nn() -> Any:
    import torch

    return torch.nn


def keras() -> Any:
    import keras as k

    return k


def _same(value: Any) -> Any:
    return value


def _read(obj: Any, how: str | Callable[[Any], Any]) -> Any:
    if callable(how):
        return how(obj)
    if hasattr(obj, "get_config") and not hasattr(obj, "state_dict"):  # a Keras layer: its config is the truth
        config = obj.get_config()
        if how in config:
            return config[how]
    return getattr(obj, how)


def _canonical(value: Any) -> Any:
    """Settings compare as plain data: tuples for lists, one tuple per spatial axis for scalars left alone."""
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    return value


def agree(a: Any, b: Any) -> bool:
    """Whether two settings' values mean the same: floats to float32's precision (Keras keeps many as float32)."""
    a, b = _canonical(a), _canonical(b)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(agree(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@dataclass(frozen=True)
class Setting:
    """One setting both frameworks have, under their own names and meanings.

    ``torch`` and ``keras`` say how to read it off a built module and layer: an attribute
    (a Keras layer's config key first), or a callable. ``to_keras`` turns torch's value into
    the Keras value that means the same (BatchNorm's momentum: ``1 - m``); the lint reports a
    matched pair of sublayers whose translated torch value differs from Keras's, with
    ``meaning`` (how the two read the setting) where they read it differently. The defaults
    are what each constructor uses when the setting is not given (``None``: it must be given).
    """

    name: str
    torch: str | Callable[[Any], Any]
    keras: str | Callable[[Any], Any]
    torch_default: Any = None
    keras_default: Any = None
    to_keras: Callable[[Any], Any] = _same
    meaning: str = ""

    def values(self, module: Any, layer: Any) -> tuple[Any, Any, Any]:
        """torch's value, what it means in Keras, and Keras's value."""
        torch_value = _read(module, self.torch)
        return torch_value, self.to_keras(torch_value), _read(layer, self.keras)

    def label(self, side: str) -> str:
        how = self.torch if side == "torch" else self.keras
        return how if isinstance(how, str) else self.name


@dataclass(frozen=True)
class Example:
    """One correctly configured instance of a counterpart, as its atlas pair draws it.

    ``torch`` builds the module from a case's params; the Keras side is always the atlas's
    own translation of that module (``Counterpart.to_keras``), so the pair tests the
    translation as much as the frameworks. ``spec`` holds any further :class:`LayerPair`
    arguments (``train_dims``, ``dropout``, ``side_kwargs``, ...).
    """

    name: str
    torch: Callable[[Params], Any]
    dims: Mapping[str, Any]
    inputs: tuple[Tensor, ...]
    description: str
    output_layout: str = "feature_last"
    modes: tuple[str, ...] = ALL_MODES
    checks: tuple[str, ...] = DEFAULT_CHECKS
    spec: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Convention:
    """A setting whose default or meaning differs: one declared pair at the two frameworks' defaults.

    ``torch`` and ``tf`` build each side as a port that trusts the defaults would (the same
    weights, moved by the counterpart's map; ``weights`` overrides it where the defaults
    change a shape). ``effect`` is what the difference does, measured (the number and the
    command that measured it); the pair's declaration carries it as its reason, and it must
    reproduce on every run, so a release that changes the convention fails the declaration.
    ``agrees`` marks a setting where the defaults agree (ELU's alpha): the pair must pass,
    and the atlas table says "agree". ``check`` / ``modes`` / ``tensors`` / ``regimes`` say where
    it shows (a difference only at an input of exactly 0 is scoped to the regimes that draw one).
    """

    name: str
    setting: str
    torch_default: str
    keras_default: str
    effect: str
    torch: Callable[[Params], Any]
    tf: Callable[[Params], Any]
    dims: Mapping[str, Any]
    inputs: tuple[Tensor, ...]
    check: str = "forward"
    modes: tuple[str, ...] = ("eval",)
    tensors: tuple[str, ...] = ()
    regimes: tuple[str, ...] | None = None
    agrees: bool = False
    weights: WeightMap | None = None
    output_layout: str = "feature_last"
    checks: tuple[str, ...] = ("forward",)
    spec: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.effect.strip():
            raise SpecError(f"convention {self.name!r}: the measured effect is required")


@dataclass(frozen=True)
class Counterpart:
    """A torch.nn module type and the Keras layer that computes the same function.

    Args:
        name: snake_case id, the stem of its atlas pairs' names (``atlas_<name>...``).
        torch: the torch.nn class names it covers (``("Conv1d", "Conv2d", "Conv3d")``).
        keras: the Keras class names a matched sublayer may have.
        to_keras: a built torch module -> the Keras layer with the same settings (a
            ``keras.Sequential`` where Keras needs two layers for one torch module).
        to_torch: a built Keras layer -> the torch module with the same settings.
        weights: a built torch module -> its weight map (local names; Link paths from the
            Keras layer ``to_keras`` returns).
        settings: every setting the lint compares between matched sublayers.
        conventions: every setting whose default or meaning differs, each a declared pair.
        examples: correct configurations, each an atlas pair that must pass.
        accepts: whether ``to_keras`` can express a given module (a ``padding_mode`` Keras
            lacks); a sublayer it refuses is reported by ``conform map``, not mis-mapped.
        wraps: whether ``to_keras`` may return a ``keras.Sequential`` (a padding or a crop Keras
            has no argument for): its atlas pairs then carry Keras's Sequential reload finding.
        label: how the torch side reads where ``torch`` is empty (a separable convolution is
            two ``nn.Conv2d`` in an ``nn.Sequential``).
        keeps_layout: the output is laid out as the input (an activation, a dropout): as a
            stage, it takes the layout of the stage beside it, not its examples' own.
    """

    name: str
    torch: tuple[str, ...]
    keras: tuple[str, ...]
    to_keras: Callable[[Any], Any]
    to_torch: Callable[[Any], Any]
    weights: Callable[[Any], WeightMap] = lambda _m: {}
    settings: tuple[Setting, ...] = ()
    conventions: tuple[Convention, ...] = ()
    examples: tuple[Example, ...] = ()
    accepts: Callable[[Any], str | None] = lambda _m: None
    wraps: bool = False
    label: str = ""
    keeps_layout: bool = False

    def differences(self, module: Any, layer: Any) -> list[str]:
        """Each setting whose Keras value does not mean what the torch module's does, in words."""
        found = []
        for s in self.settings:
            try:
                torch_value, meant, keras_value = s.values(module, layer)
            except (AttributeError, KeyError, TypeError, ValueError):
                continue  # a setting this configuration does not have (no bias, say)
            if not agree(meant, keras_value):
                if isinstance(meant, str) and " " in meant:  # no Keras value means this: the reason why
                    means = f" (no Keras {s.label('keras')} means this: {meant})"
                else:
                    means = "" if agree(meant, torch_value) else f" (means {s.label('keras')}={meant!r} in Keras)"
                why = f" [{s.meaning}]" if s.meaning else ""
                found.append(f"torch {type(module).__name__} {s.label('torch')} {torch_value!r}{means}, "
                             f"Keras {layer.name} {s.label('keras')} {keras_value!r}{why}")
        return found
