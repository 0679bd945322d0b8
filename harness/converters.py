"""Converter pairs: the Keras side made by a converter from the torch side's weights, and the weight map read off it.

Porting is rarely done by hand: keras_hub converts Hugging Face checkpoints, users write their
own scripts, and what a user relies on is the converter. So a converter pair compares the
converter's own output: every example draws the torch side's weights and converts them
(:class:`~harness.spec.Converter`; :func:`from_pretrained` is keras_hub's form).

Parameter gradients need a weight map, which nobody wrote. A converter that only moves values
(copies, transposes, reshapes, splits, joins, ties) is read exactly instead: every torch element
gets a distinct integer code, and where each code lands in every Keras variable is the map
(:func:`probe`, once per layer configuration and dtype). TF's gradients come back to torch's
names by scatter-adding through it (:class:`Gather`): a torch value that feeds several Keras
places gets the sum of their gradients, as the chain rule says.

A converter that computes on values is told apart and named, never read as a wrong map. A
second probe with the codes permuted shows a code that landed but changed; all-zero and all-one
probes give a changed element's scale and offset; one probe per torch tensor shows what an
element mixes. Scaling, offsetting, mixing and any other function are refused
(:class:`ConverterMapError`), naming the Keras variable, the torch tensors and what happened.
Rounding through a lower precision (a cast) puts the value in the right place and is a finding
of the example, not a refusal: every example checks that the converter's output is exactly
what the map moves (:func:`weight_map`), which is also how a float32 cast in a float64 run
shows (the integer codes survive it).
"""

from __future__ import annotations

import functools
import itertools
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.bridge import Slot, WeightMapError
from harness.layouts import Transform
from harness.spec import Converter, SpecError

__all__ = [
    "OFFSET", "ConverterMapError", "Gather", "IndexMap", "Landing", "Tensors", "from_pretrained", "probe", "render",
    "reused", "weight_map",
]

# Element i's code is the odd integer OFFSET + 2i + 1: exact in float32 below 2**24, far from what a converter
# leaves that is not torch's (0, 1, an initialiser's 0.02), and odd where float16 and bfloat16 hold only even
# integers (from 2048 and 256 up): a converter that rounds through them never turns one code into another.
OFFSET = 4096
_EXACT = {"float32": 2**24, "float64": 2**53}
_PERMUTATION_SEED = 0x636F6465
_LOWER = (("float16", np.float16), ("float32", np.float32))  # precisions a converter may round through
_CACHE_LIMIT = 64
UNMOVED = "not moved by the converter"


def from_pretrained(backbone: str) -> Converter:
    """keras_hub's Hugging Face converter for ``keras_hub.models.<backbone>``, run as ``from_preset`` runs it.

    The torch module (a ``transformers`` model) is written with ``save_pretrained`` into a
    temporary directory, which ``keras_hub.models.<backbone>.from_preset`` reads as a
    Transformers checkpoint (its ``config.json`` has a ``model_type``): keras_hub converts the
    config and the weights, as it does for every checkpoint on the Hub. The module must be of the
    class released checkpoints are saved from (``LlamaForCausalLM``, not ``LlamaModel``): their
    tensor names are what the converter reads.
    """
    if not backbone.isidentifier():
        raise SpecError(f"from_pretrained: backbone is a keras_hub.models class name, e.g. 'Llama3Backbone'. "
                        f"Received: backbone={backbone!r}")

    def convert(module: Any) -> Any:
        import keras_hub

        cls = getattr(keras_hub.models, backbone, None)
        if cls is None:
            raise ValueError(f"from_pretrained({backbone!r}): keras_hub.models has no class {backbone!r}; name a "
                             "backbone keras_hub converts Hugging Face checkpoints for, e.g. 'Llama3Backbone'")
        with tempfile.TemporaryDirectory(prefix="conform-checkpoint-") as directory:
            module.save_pretrained(directory)
            return cls.from_preset(directory)

    return Converter(convert, name=f"keras_hub.models.{backbone}.from_preset(save_pretrained)")


class ConverterMapError(WeightMapError):
    """A converter whose weight map cannot serve: ``problems`` names each Keras variable, torch tensor and why.

    A :class:`~harness.WeightMapError`, so every check treats it as it treats a hand-written
    map that does not fit: an error record where a check needs the map, a failing finding in the
    ``parameters`` check.
    """

    def __init__(self, pair: str, what: str, problems: list[str], fix: str):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        ValueError.__init__(self, f"pair {pair!r}: {what} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"
                                  f"\n{lines}\n{fix}")


_ARITHMETIC_FIX = ("A converter read by probing may only move values (copy, transpose, reshape, split, join, tie); one "
                   "that computes on them has no exact weight map, so its parameter gradients cannot be brought back. "
                   "Move the arithmetic into the Keras model, or check this converter's forward pass only.")


@dataclass(frozen=True)
class Tensors:
    """The torch side's floating tensors in code order: a global element index finds its tensor and place."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    trainable: tuple[bool, ...]

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """Where each tensor's elements begin in the joined flat array (one more entry: the total)."""
        return np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in self.shapes])]).astype(np.int64)

    @property
    def size(self) -> int:
        return int(self.starts[-1])

    def split(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        starts = self.starts
        return {n: flat[a:b].reshape(s) for n, s, a, b in zip(self.names, self.shapes, starts[:-1], starts[1:],
                                                              strict=True)}

    def joined(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(values[n], np.float64).ravel() for n in self.names] or [np.zeros(0)])

    def owners(self, index: np.ndarray) -> np.ndarray:
        """The tensor (its position in ``names``) of each global element index."""
        return np.searchsorted(self.starts, index, side="right") - 1

    def named(self, index: np.ndarray) -> list[str]:
        return [self.names[t] for t in np.unique(self.owners(index[index >= 0]))]


@dataclass(frozen=True, eq=False)
class Landing:
    """One floating Keras variable as the probe read it: each element's torch source (a global index; -1: none)."""

    key: str
    shape: tuple[int, ...]
    trainable: bool
    source: np.ndarray


@dataclass(frozen=True, eq=False)
class IndexMap:
    """Where every element of every floating Keras variable came from, in the order of the model's ``weights``."""

    tensors: Tensors
    landings: tuple[Landing, ...]

    def slots(self, keys: Sequence[str]) -> list[Slot]:
        """One bridge slot per torch tensor, its TF variables (``keys``: the example's model's) and a :class:`Gather`.

        A tensor the converter puts nowhere keeps a slot with no TF variable: its gradient is
        then compared with none, which fails wherever torch's is not zero.
        """
        slots = []
        starts = self.tensors.starts
        owners = [self.tensors.owners(landing.source) for landing in self.landings]
        for t, (name, shape, trainable) in enumerate(zip(self.tensors.names, self.tensors.shapes,
                                                         self.tensors.trainable, strict=True)):
            local = [(key, landing.shape, np.where(owner == t, landing.source - starts[t], -1))
                     for key, landing, owner in zip(keys, self.landings, owners, strict=True)]
            parts = [(key, shape_, source) for key, shape_, source in local if (source >= 0).any()]
            tf_keys = tuple(key for key, _, _ in parts)
            slots.append(Slot(name, tf_keys, tf_keys, Gather(f"probed:{name}", shape, tuple(s for _, _, s in parts)),
                              trainable, shapes=tuple(shape_ for _, shape_, _ in parts)))
        return slots

    def gather(self, values: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The Keras variables the map makes of torch ``values`` (NaN where the converter puts no torch value)."""
        flat = self.tensors.joined(values)
        return [np.where(landing.source >= 0, flat[np.maximum(landing.source, 0)], np.nan)
                for landing in self.landings]

    def gaps(self) -> list[str]:
        """What makes the parameter sets differ: torch parameters moved nowhere, Keras trainables not from torch."""
        moved = np.zeros(self.tensors.size, bool)
        for landing in self.landings:
            moved[landing.source[landing.source >= 0]] = True
        starts = self.tensors.starts
        problems = []
        for t, (name, shape, trainable) in enumerate(zip(self.tensors.names, self.tensors.shapes,
                                                         self.tensors.trainable, strict=True)):
            count, total = int(moved[starts[t]:starts[t + 1]].sum()), int(starts[t + 1] - starts[t])
            if trainable and count < total:
                problems.append(f"torch parameter {name!r} {shape}: the converter moves {count} of its {total} "
                                "elements into the Keras model")
        for landing in self.landings:
            missing = int((landing.source < 0).sum())
            if landing.trainable and missing:
                problems.append(f"Keras trainable variable {landing.key!r} {landing.shape}: {missing} of its "
                                f"{landing.source.size} elements do not come from torch (the converter leaves them)")
        return problems

    def describe(self, landing: Landing) -> str:
        """How one Keras variable is made of torch's: its sources, and the transform where one is recognised."""
        owners, how = self._made(landing)
        if not owners:
            return how
        if len(owners) == 1:
            t = self.tensors.names.index(owners[0])
            return f"{owners[0]!r} {self.tensors.shapes[t]}: {how}"
        return f"{how} from {', '.join(repr(n) for n in owners)}"

    def _made(self, landing: Landing) -> tuple[list[str], str]:
        owners = self.tensors.named(landing.source)
        if not owners:
            return owners, "no torch value"
        if len(owners) > 1 or (landing.source < 0).any():
            return owners, "index map"
        t = self.tensors.names.index(owners[0])
        return owners, _recognise(landing.source - self.tensors.starts[t], self.tensors.shapes[t], landing.shape)

    def summary(self, keys: Sequence[str]) -> dict[str, str]:
        """torch name -> where it lands, as a record's ``weight_map`` lists it (each Keras variable, its transform)."""
        lines: dict[str, list[str]] = {n: [] for n in self.tensors.names}
        for key, landing in zip(keys, self.landings, strict=True):
            owners, how = self._made(landing)
            for name in owners:
                lines[name].append(f"{key} ({how})")
        return {n: "; ".join(v) or UNMOVED for n, v in lines.items()}


def _recognise(local: np.ndarray, torch_shape: tuple[int, ...], keras_shape: tuple[int, ...]) -> str:
    """The slice, permutation and reshape that reproduce ``local`` (flat torch indices), named; else "index map"."""
    shape, keras_shape = torch_shape or (1,), tuple(keras_shape) or (1,)  # scalars as one element
    coords = np.unravel_index(local.ravel(), shape)
    lo = [int(c.min()) for c in coords]
    box = tuple(int(c.max()) + 1 - low for c, low in zip(coords, lo, strict=True))
    if int(np.prod(box)) != local.size or len(np.unique(local)) != local.size or len(box) > 5:
        return "index map"
    inner = np.ravel_multi_index(tuple(c - low for c, low in zip(coords, lo, strict=True)), box)
    steps = []
    if box != shape:
        steps.append("slice [" + ", ".join(":" if b == d else f"{low}:{low + b}"
                                           for low, b, d in zip(lo, box, shape, strict=True)) + "]")
    grid = np.arange(inner.size).reshape(box)
    for perm in itertools.permutations(range(len(box))):
        if np.array_equal(np.transpose(grid, perm).ravel(), inner):
            if perm != tuple(range(len(box))):
                steps.append("transpose" if perm == (1, 0) else f"permute {perm}")
            if tuple(box[p] for p in perm) != keras_shape:
                steps.append(f"reshape {keras_shape}")
            return ", ".join(steps) or "identity"
    return "index map"


@dataclass(frozen=True, eq=False)
class Gather(Transform):
    """One torch tensor's elements as a converter placed them in Keras variables, read off its probe.

    ``sources`` holds, per Keras variable, each element's flat index in the torch tensor (-1
    where another tensor's element, or no torch value, sits). ``forward`` is this tensor's part
    of each variable; ``inverse`` scatter-adds gradients back: the adjoint of the gather, so an
    element that feeds several places (tied weights) gets the sum.
    """

    torch_shape: tuple[int, ...] = ()
    sources: tuple[np.ndarray, ...] = ()

    @property
    def parts(self) -> int:
        return len(self.sources)

    def forward(self, x: np.ndarray) -> Any:
        flat = np.asarray(x).ravel()
        made = tuple(np.where(s >= 0, flat[np.maximum(s, 0)], 0).astype(flat.dtype) for s in self.sources)
        return made if self.parts > 1 else made[0]

    def inverse(self, x: Any) -> np.ndarray:
        grads = [np.asarray(g) for g in (x if self.parts > 1 else (x,))]
        out = np.zeros(int(np.prod(self.torch_shape)), dtype=np.result_type(*grads))
        for source, grad in zip(self.sources, grads, strict=True):
            placed = source >= 0
            np.add.at(out, source[placed], grad[placed])
        return out.reshape(self.torch_shape)

    def shape(self, shape: tuple[int, ...]) -> Any:
        shapes = tuple(tuple(s.shape) for s in self.sources)
        return shapes if self.parts > 1 else shapes[0]


class _Reader:
    """Loads flat values into the torch module, converts, and returns the Keras model's floating variables."""

    def __init__(self, pair: str, th: Any, tensors: Tensors, convert: Callable[[], Any]):
        self.pair, self.th, self.tensors, self.convert = pair, th, tensors, convert
        self.layout: list[tuple[str, tuple[int, ...], bool]] | None = None
        self.first: Any = None
        self.paths: dict[str, str] | None = None

    def label(self, key: str) -> str:
        """A Keras variable as a message names it: its path, and its attribute path (stable across models)."""
        from harness.sides import tf_side

        if self.paths is None:
            self.paths = tf_side.attribute_paths(self.first)
        path = self.paths.get(key)
        return f"{key!r} ({path})" if path and path != key else repr(key)

    def __call__(self, flat: np.ndarray) -> list[np.ndarray]:
        from harness.sides import tf_side, torch_side

        torch_side.load(self.th, self.tensors.split(flat))
        model = self.convert()
        entries, state = tf_side.entries(model), tf_side.state(model)
        floating = [(k, e) for k, e in entries.items() if np.issubdtype(state[k].dtype, np.floating)]
        layout = [(k, e.shape, e.trainable) for k, e in floating]
        if self.layout is None:
            self.layout, self.first = layout, model
        elif [s for _, s, _ in layout] != [s for _, s, _ in self.layout]:
            raise ConverterMapError(self.pair, "the converter made Keras models with different variables from one "
                                               "torch configuration, as its values changed",
                                    [f"first: {[s for _, s, _ in self.layout]}", f"then: {[s for _, s, _ in layout]}"],
                                    "A probe reads a converter whose output's structure depends on the torch module's "
                                    "configuration only.")
        return [np.asarray(state[k], np.float64) for k, _ in floating]


def probe(pair: str, converter: str, th: Any, convert: Callable[[], Any], dtype: str) -> IndexMap:
    """Read the converter's weight map off coded weights; raise :class:`ConverterMapError` naming any arithmetic.

    ``convert`` makes a Keras model from the torch module ``th`` as it stands; the module's
    values are restored afterwards. Two conversions read a converter that only moves values;
    one that computes costs two more, and one per torch tensor if an element mixes several.
    """
    from harness.sides import torch_side

    floating = torch_side.floating(th)
    saved = torch_side.state(th)
    tensors = Tensors(tuple(floating), tuple(tuple(saved[n].shape) for n in floating), tuple(floating.values()))
    if _code(np.array(tensors.size)) > _EXACT[dtype]:
        raise ConverterMapError(pair, f"the probe cannot code {tensors.size} torch elements exactly in {dtype}",
                                [f"{dtype} holds integers exactly up to {_EXACT[dtype]}"],
                                "Draw a smaller configuration for the converter pair (fewer layers, a smaller hidden "
                                "size or vocabulary).")
    reader = _Reader(pair, th, tensors, convert)
    try:
        return _decode(pair, converter, tensors, reader)
    finally:
        torch_side.load(th, {n: saved[n] for n in floating})


def _decode(pair: str, converter: str, tensors: Tensors, read: _Reader) -> IndexMap:
    n = tensors.size
    codes_a = _code(np.arange(n))
    codes_b = _code(np.random.default_rng(_PERMUTATION_SEED).permutation(n))
    a, b = read(codes_a), read(codes_b)
    sources = [_moved(x, y, codes_b) for x, y in zip(a, b, strict=True)]
    if any((s < 0).any() for s in sources):
        problems = _explain(tensors, read, a, b, codes_b, sources)
        if problems:
            raise ConverterMapError(pair, f"the converter {converter} does arithmetic on the weights it converts",
                                    problems, _ARITHMETIC_FIX)
    assert read.layout is not None
    return IndexMap(tensors, tuple(Landing(k, shape, trainable, source)
                                   for (k, shape, trainable), source in zip(read.layout, sources, strict=True)))


def _code(index: np.ndarray) -> np.ndarray:
    return OFFSET + 2 * np.asarray(index, np.float64) + 1


def _index(value: np.ndarray, slack: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The element whose code ``value`` is (within ``slack`` of its code), and where there is one."""
    index = (value - OFFSET - 1) / 2
    whole = np.abs(index - np.rint(index)) <= slack / 2
    return np.where(whole, np.rint(index), -1).astype(np.int64), whole


def _moved(a: np.ndarray, b: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """Each element's global source where both probes show the same source's code exactly; -1 elsewhere."""
    index, whole = _index(a)
    whole &= (index >= 0) & (index < codes_b.size)
    index = np.where(whole, index, 0)
    return np.where(whole & (b == codes_b[index]), index, -1)


def _explain(tensors: Tensors, read: _Reader, a: list[np.ndarray], b: list[np.ndarray], codes_b: np.ndarray,
             sources: list[np.ndarray]) -> list[str]:
    """Every element no code explains: constant, rounded (kept, in ``sources``), or arithmetic (a problem, named)."""
    assert read.layout is not None
    zero, one = read(np.zeros(tensors.size)), read(np.ones(tensors.size))
    per_tensor: list[list[np.ndarray]] | None = None
    problems = []
    for i, (key, shape, _) in enumerate(read.layout):
        open_ = sources[i] < 0
        if not open_.any():
            continue
        z, scale = zero[i], one[i] - zero[i]
        constant = open_ & (scale == 0) & (a[i] == z) & (b[i] == z)
        affine, found = _affine(a[i], b[i], z, scale, codes_b, open_ & ~constant)
        if affine.any():
            placed = _placed(tensors, found, shape) if affine.all() else ""
            problems.append(f"Keras {read.label(key)} {shape}: "
                            f"{_arithmetic(tensors, found[affine], scale[affine], z[affine])}"
                            f"{placed}{_share(affine)}")
        rest = open_ & ~constant & ~affine
        if rest.any():
            if per_tensor is None:  # one conversion per torch tensor: paid only for what codes cannot explain
                per_tensor = [read(_one_tensor(tensors, t)) for t in range(len(tensors.names))]
            problem = _mixed(tensors, read.label(key), shape, rest, per_tensor, i, z, a[i], sources[i])
            if problem:
                problems.append(problem)
    return problems


def _affine(a: np.ndarray, b: np.ndarray, z: np.ndarray, scale: np.ndarray, codes_b: np.ndarray,
            where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elements that are ``scale * code + z`` of one torch element in both probes, and that element."""
    safe = np.where(scale == 0, 1.0, scale)
    x, y = (a - z) / safe, (b - z) / safe  # codes, if the element is one code scaled and offset
    index, whole = _index(x, slack=0.25)
    ok = where & (scale != 0) & whole & (index >= 0) & (index < codes_b.size)
    index = np.where(ok, index, 0)
    ok &= np.abs(y - codes_b[index]) <= 0.25
    return ok, index


def _arithmetic(tensors: Tensors, index: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> str:
    names = ", ".join(repr(n) for n in tensors.named(index))
    factor = _spread(scale)
    shift = _spread(offset)
    if shift == "0":
        return f"torch {names} scaled by {factor}"
    if factor == "1":
        return f"torch {names} offset by {shift}"
    return f"torch {names} scaled by {factor} and offset by {shift}"


def _placed(tensors: Tensors, index: np.ndarray, shape: tuple[int, ...]) -> str:
    """How a changed variable's elements are laid out from their one torch tensor, where one transform says it."""
    owners = np.unique(tensors.owners(index))
    if owners.size != 1:
        return ""
    t = int(owners[0])
    how = _recognise(index - tensors.starts[t], tensors.shapes[t], shape)
    return "" if how == "identity" else f", laid out by {how}"


def _spread(values: np.ndarray) -> str:
    low, high = float(values.min()), float(values.max())
    return f"{low:.6g}" if low == high else f"factors from {low:.6g} to {high:.6g}"


def _share(where: np.ndarray) -> str:
    return "" if where.all() else f" (at {int(where.sum())} of its {where.size} elements)"


def _one_tensor(tensors: Tensors, t: int) -> np.ndarray:
    """Torch tensor ``t`` coded 1, 2, ... (small: exact even in float16), every other tensor zero."""
    flat = np.zeros(tensors.size)
    lo, hi = tensors.starts[t], tensors.starts[t + 1]
    flat[lo:hi] = 1 + np.arange(hi - lo)
    return flat


def _mixed(tensors: Tensors, label: str, shape: tuple[int, ...], rest: np.ndarray, per_tensor: list[list[np.ndarray]],
           i: int, z: np.ndarray, a: np.ndarray, source: np.ndarray) -> str | None:
    """Elements of Keras variable ``i`` no global code explains: a move that rounds (kept in ``source``), or named.

    An element that depends on one torch tensor only, takes that tensor's small code exactly
    and is zero without it was moved, and lost only the low bits of the large code: a converter
    that rounds through a lower precision. Its source is kept; the example's value check names
    the rounding. Anything else is arithmetic.
    """
    stacked = np.stack([r[i] for r in per_tensor])  # (tensor, *shape): the element with only that tensor coded
    moves = stacked != z
    depends = moves.sum(axis=0)
    owner = np.argmax(moves, axis=0)
    local = np.take_along_axis(stacked, owner[None], axis=0)[0] - 1
    starts = tensors.starts
    rounded = rest & (depends == 1) & (z == 0) & (local == np.rint(local)) & (local >= 0) & \
        (local < starts[owner + 1] - starts[owner])
    index = np.where(rounded, starts[owner] + np.where(rounded, local, 0).astype(np.int64), -1)
    rounded &= _rounded_code(a, index)
    source[rounded] = index[rounded]
    left = rest & ~rounded
    if not left.any():
        return None

    def names(where: np.ndarray) -> str:
        return ", ".join(repr(tensors.names[t]) for t in np.flatnonzero(moves[:, where].any(axis=1)))

    several = left & (depends > 1)
    if several.any():
        return f"Keras {label} {shape}: elements combine several torch tensors ({names(several)}){_share(several)}"
    if (left & (depends == 0)).any():
        return (f"Keras {label} {shape}: elements change with the torch weights as a whole but with no one torch "
                f"tensor (a value computed from all of them){_share(left)}")
    return (f"Keras {label} {shape}: torch {names(left)} through a function that is no move, scale or offset"
            f"{_share(left)}")


def _rounded_code(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Whether the large-code probe's value is the element's code rounded through a lower precision."""
    code = _code(np.maximum(index, 0))
    return (index >= 0) & np.logical_or.reduce([a == code.astype(t).astype(np.float64) for _, t in _LOWER])


_PROBED: OrderedDict[Any, IndexMap | ConverterMapError] = OrderedDict()


def _probed(key: Any, pair: str, converter: str, th: Any, convert: Callable[[], Any], dtype: str) -> IndexMap:
    """The probe of one layer configuration and dtype, made once (a refusal is remembered too)."""
    found = _PROBED.get(key)
    if found is None:
        try:
            found = probe(pair, converter, th, convert, dtype)
        except ConverterMapError as exc:
            found = exc
        _PROBED[key] = found
        while len(_PROBED) > _CACHE_LIMIT:
            _PROBED.popitem(last=False)
    _PROBED.move_to_end(key)
    if isinstance(found, ConverterMapError):
        raise found
    return found


def weight_map(pair: str, converter: str, key: Any, th: Any, model: Any, convert: Callable[[], Any], dtype: str,
               values: Mapping[str, np.ndarray], *, strict: bool) -> tuple[list[Slot], list[tuple[str, str]],
                                                                          dict[str, str]]:
    """The probed map of ``model``'s configuration, bound to ``model``, checked against what the converter made.

    ``key`` names the configuration (probes are cached under it); ``values`` are the torch
    weights ``model`` was converted from. Returns the map's bridge slots, findings ``(name,
    note)`` (variables the converter rounded) and the map as a record lists it. ``strict`` (the
    ``parameters`` check) refuses those findings and every gap between the parameter sets as well.
    """
    from harness.sides import tf_side

    index = _probed(key, pair, converter, th, convert, dtype)
    state = tf_side.state(model)
    keys = [k for k in state if np.issubdtype(state[k].dtype, np.floating)]
    shapes = [tuple(state[k].shape) for k in keys]
    if shapes != [landing.shape for landing in index.landings]:
        raise ConverterMapError(pair, f"the converter {converter} made a Keras model unlike the one it made at the "
                                      "probe of the same configuration",
                                [f"probe: {[landing.shape for landing in index.landings]}", f"now: {shapes}"],
                                "A converter's output must depend on the torch module's configuration only.")
    findings = _value_findings(pair, converter, index, keys, [state[k] for k in keys], values)
    problems = (index.gaps() + [note for _, note in findings]) if strict else []
    if problems:
        raise ConverterMapError(pair, f"the parameter sets differ through the converter {converter}", problems,
                                "A converter must move every torch parameter, and fill every trainable Keras "
                                "variable from torch, exactly.")
    return index.slots(keys), findings, index.summary(keys)


def _value_findings(pair: str, converter: str, index: IndexMap, keys: Sequence[str], made: Sequence[np.ndarray],
                    values: Mapping[str, np.ndarray]) -> list[tuple[str, str]]:
    """Variables whose converted values are not exactly the torch values the map moves there.

    Rounded through float16 or float32 (a cast): a finding, named. Any other difference is a
    computation the codes did not show (one that depends on the values): refused.
    """
    findings, problems = [], []
    for key, landing, actual, expected in zip(keys, index.landings, made, index.gather(values), strict=True):
        placed = landing.source >= 0
        got, want = np.asarray(actual, np.float64)[placed], expected[placed]
        if np.array_equal(got, want):
            continue
        sources = ", ".join(repr(n) for n in index.tensors.named(landing.source))
        gap = float(np.max(np.abs(got - want)))
        through = next((name for name, t in _LOWER if np.array_equal(got, want.astype(t).astype(np.float64))), None)
        if through is None:
            problems.append(f"Keras {key!r} {landing.shape} from torch {sources}: the converter's values differ from "
                            f"the values it moved at the probe by up to {gap:.3g} (a computation that depends on the "
                            "values, which integer codes do not show)")
        else:
            findings.append((f"converter {key}", f"the converter rounds torch {sources} through {through} into Keras "
                                                 f"{key!r}: its values differ from torch's by up to {gap:.3g}"))
    if problems:
        raise ConverterMapError(pair, f"the converter {converter} does arithmetic on the weights it converts",
                                problems, _ARITHMETIC_FIX)
    return findings


_REUSED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def reused(th: Any, fresh: Any) -> Any:
    """The Keras model first converted from ``th``, holding ``fresh``'s values: what graph mode compiled, kept.

    Graph mode reuses a configuration's torch module across examples so that nothing is traced
    twice; the converter still runs on every example's weights, and what it made is copied, value
    for value, into the model already traced.
    """
    from harness.sides import tf_side

    held = _REUSED.get(th)
    if held is None or held is fresh:
        _REUSED[th] = fresh
        return fresh
    made, kept = tf_side.state(fresh), tf_side.state(held)
    if [v.shape for v in made.values()] != [v.shape for v in kept.values()]:
        _REUSED[th] = fresh
        return fresh
    tf_side.load(held, dict(zip(kept, made.values(), strict=True)))
    return held


def render(index: IndexMap, keys: Sequence[str], paths: Mapping[str, str]) -> str:
    """The probed map as ``conform map`` prints it: each Keras variable, its torch sources and the transform."""
    lines = []
    for key, landing in zip(keys, index.landings, strict=True):
        path = f" ({paths[key]})" if paths.get(key) and paths[key] != key else ""
        lines.append(f"{key!r}{path} {landing.shape} <- {index.describe(landing)}")
    lines.append(f"# {len(index.landings)} Keras variable(s), {len(index.tensors.names)} torch tensor(s), read off "
                 "the converter by probing")
    lines += [f"# gap: {g}" for g in index.gaps()]
    frozen = {n for n, trainable in zip(index.tensors.names, index.tensors.trainable, strict=True) if not trainable}
    lines += [f"# not moved: torch buffer or frozen parameter {n!r}" for n, line in index.summary(keys).items()
              if line == UNMOVED and n in frozen]  # a trainable one is a gap, above
    return "\n".join(lines)
