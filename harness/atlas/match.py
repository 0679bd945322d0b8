"""Match a torch model's sublayers to a Keras model's through the atlas: the weight map, stages, and lint.

Why matching and not naming rules: a port rarely keeps torch's names (``encoder.layer.0.
attention.self.query`` is ``transformer_layer_0/self_attention_layer/query``), but it keeps
the order of the sublayers and their types. Both trees are walked in definition order down to
the first sublayer the atlas knows (a torch ``nn.Linear``, a Keras ``Dense`` or
``EinsumDense``); the two sequences are aligned (the longest sequence of pairs whose types
the atlas pairs and whose weights fit its map, shape by shape); each aligned pair contributes
its counterpart's weight map under its two paths, one stage, and the settings that differ.
What is left over on either side is reported with the reason, never guessed.

Both layers must be built (the Keras one called once), since shapes decide the fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from harness import layouts
from harness.atlas import ATLAS, Counterpart, counterpart_for
from harness.layouts import Chain, Reshape, Transform
from harness.spec import Link, Stage, TorchOnly

__all__ = ["Mapping", "Unit", "entry_source", "map_layers", "render"]


@dataclass(frozen=True)
class Unit:
    """A sublayer the atlas knows, with its attribute path from the root ("" for the root)."""

    path: str
    obj: Any
    kind: str
    counterpart: Counterpart | None = None


@dataclass
class Matched:
    torch: Unit
    tf: Unit
    weights: dict[str, Link | TorchOnly]
    differences: list[str]


@dataclass
class Mapping:
    """What ``conform map`` found: the map, the stages, what it could not match, and the lint."""

    matched: list[Matched] = field(default_factory=list)
    weights: dict[str, Link | TorchOnly] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[str]:
        return [f"{m.torch.path or '(the layer itself)'}: {d}" for m in self.matched for d in m.differences]


def _keras_kinds(obj: Any) -> list[str]:
    return [c.__name__ for c in type(obj).__mro__]


def _keras_atlas_kind(obj: Any) -> str | None:
    known = {k for cp in ATLAS for k in cp.keras}
    return next((name for name in _keras_kinds(obj) if name in known), None)


def torch_units(root: Any) -> list[Unit]:
    """Every outermost torch sublayer with an atlas counterpart, in definition order."""
    units: list[Unit] = []
    for name, module in root.named_modules():
        if any(u.path == "" or name == u.path or name.startswith(u.path + ".") for u in units):
            continue
        cp = counterpart_for(module)
        if cp is not None:
            units.append(Unit(name, module, type(module).__name__, cp))
    return units


def tf_units(root: Any, wanted: frozenset[str] | None = None) -> list[Unit]:
    """Every outermost Keras sublayer of a type the atlas knows, in tracking (definition) order.

    A known sublayer of a kind no torch unit can match (``wanted``) is looked into instead: a
    Keras MultiHeadAttention is four EinsumDense layers where torch has four nn.Linear.
    """
    from harness.sides import tf_side

    paths = tf_side.layer_paths(root)
    units: list[Unit] = []
    seen: set[int] = set()

    def visit(layer: Any, path: str) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        kind = _keras_atlas_kind(layer)
        children = list(layer._flatten_layers(include_self=False, recursive=False))
        if kind is not None and (wanted is None or kind in wanted or not children):
            units.append(Unit(path, layer, kind))
            return
        for child in children:
            if id(child) in paths:
                visit(child, paths[id(child)])

    visit(root, "")
    return units


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _resolve(layer: Any, path: str) -> tuple[str, Any] | None:
    """A local Link path on a Keras sublayer; a path written for a wrapper (``layers.1.kernel``) is
    tried by its shorter suffixes too, so the same entry serves a bare Conv2D after a ZeroPadding2D."""
    from harness.sides import tf_side

    parts = path.split(".")
    for start in range(len(parts)):
        found = tf_side.resolve(layer, ".".join(parts[start:]))
        if found is not None:
            return ".".join(parts[start:]), found[1]
    return None


def _fit(cp: Counterpart, module: Any, layer: Any) -> dict[str, Link | TorchOnly] | None:
    """The counterpart's local map made to fit this Keras sublayer (paths resolved, a reshape where Keras's
    kernel has more axes), or None where a weight does not fit."""
    try:
        local = cp.weights(module)
    except Exception:  # noqa: BLE001 - a module the counterpart's map cannot describe does not match
        return None
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    fitted: dict[str, Link | TorchOnly] = {}
    for name, link in local.items():
        if isinstance(link, str):
            link = Link(link)
        if not isinstance(link, Link):
            fitted[name] = link
            continue
        if name not in shapes:
            return None
        resolved = [_resolve(layer, p) for p in link.paths]
        if any(r is None for r in resolved):
            return None
        transform = link.transform
        try:
            made = transform.bind({}, shapes[name]).shape(shapes[name])
        except ValueError:
            return None
        wanted = [r[1].shape for r in resolved]
        if transform.parts == 1 and link.part is None and made != wanted[0]:
            if _size(made) != _size(wanted[0]):
                return None
            transform = transform.then(Reshape(f"to_{'x'.join(map(str, wanted[0]))}", to=wanted[0]))
        elif transform.parts > 1 and list(made) != wanted:
            return None
        paths = tuple(r[0] for r in resolved)
        fitted[name] = replace(link, tf=paths[0] if isinstance(link.tf, str) else paths, transform=transform)
    missing = set(shapes) - set(fitted)
    return None if missing or _claimed_twice(fitted) else fitted


def _claimed_twice(fitted: dict[str, Link | TorchOnly]) -> bool:
    """Two torch tensors on one Keras variable without declaring parts: the map was written for another layout
    (a bidirectional LSTM's two directions on a unidirectional Keras LSTM's one cell)."""
    seen: set[str] = set()
    for link in fitted.values():
        if isinstance(link, Link) and link.part is None:
            if seen & set(link.paths):
                return True
            seen |= set(link.paths)
    return False


def _size(shape: Iterable[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


Aligned = list[tuple[Unit, Unit, dict[str, Link | TorchOnly]]]


def _align(th: list[Unit], tf: list[Unit]) -> Aligned:
    """In-order pairs of (torch, Keras) units the atlas pairs and whose weights fit; then the leftovers, again.

    Each pair scores 2, and 1 more when it directly follows another pair on both sides, so
    of two alignments with as many pairs the one that keeps runs together wins (a batch norm
    stays with the convolution it follows). What is left on both sides is aligned again, in
    its own order: a port may call a residual block's shortcut before its main path where
    torch calls it after.
    """
    fits: dict[tuple[int, int], dict[str, Any] | None] = {}

    def fit(a: Unit, b: Unit) -> dict[str, Any] | None:
        key = (id(a.obj), id(b.obj))
        if key not in fits:
            ok = a.counterpart is not None and b.kind in a.counterpart.keras
            fits[key] = _fit(a.counterpart, a.obj, b.obj) if ok else None
        return fits[key]

    pairs: Aligned = []
    order = {id(u): n for n, u in enumerate(th)}
    while True:
        found = _one_pass(th, tf, fit)
        if not found:
            return sorted(pairs, key=lambda p: order[id(p[0])])
        pairs += found
        taken_th, taken_tf = {id(a) for a, _, _ in found}, {id(b) for _, b, _ in found}
        th, tf = [u for u in th if id(u) not in taken_th], [u for u in tf if id(u) not in taken_tf]


def _one_pass(th: list[Unit], tf: list[Unit], fit: Callable[[Unit, Unit], dict[str, Any] | None]) -> Aligned:
    n, m = len(th), len(tf)
    # best[after][i][j]: the best score of th[i:] against tf[j:], ``after`` whether (i-1, j-1) was a pair
    best = [[[0] * (m + 1) for _ in range(n + 1)] for _ in range(2)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            skip = max(best[0][i + 1][j], best[0][i][j + 1])
            paired = fit(th[i], tf[j]) is not None
            for after in (0, 1):
                best[after][i][j] = max(skip, 2 + after + best[1][i + 1][j + 1] if paired else 0)
    pairs, i, j, after = [], 0, 0, 0
    while i < n and j < m:
        local = fit(th[i], tf[j])
        if local is not None and best[after][i][j] == 2 + after + best[1][i + 1][j + 1]:
            pairs.append((th[i], tf[j], local))
            i, j, after = i + 1, j + 1, 1
        elif best[0][i + 1][j] >= best[0][i][j + 1]:
            i, after = i + 1, 0
        else:
            j, after = j + 1, 0
    return pairs


def _layout(cp: Counterpart) -> str:
    return cp.examples[0].output_layout if cp.examples else "feature_last"


def _stage_layouts(counterparts: list[Counterpart]) -> list[str]:
    """Each stage's layout in call order: its counterpart's, or for one that keeps its input's layout (a GELU
    between two convolutions), the stage's before it (the one after it, first in line)."""
    own = [None if cp.keeps_layout else _layout(cp) for cp in counterparts]
    layouts: list[str] = []
    for i, layout in enumerate(own):
        before = next((x for x in reversed(own[:i]) if x is not None), None)
        after = next((x for x in own[i + 1:] if x is not None), None)
        layouts.append(layout or before or after or "feature_last")
    return layouts


def map_layers(th: Any, tf: Any, run: tuple[Callable[[], Any], Callable[[], Any]] | None = None,
               root: Counterpart | None = None) -> Mapping:
    """Match two built layers' sublayers through the atlas (see the module docstring).

    ``root`` maps the two layers as one counterpart (an atlas pair: the Keras side is that
    counterpart's translation of the torch side, a separable convolution's two torch
    convolutions included). ``run`` calls each side once on the same inputs: the units are then aligned in the order
    they are called, which a faithful port keeps even where it defines its sublayers in another
    order (keras_hub builds a block's second LayerNorm before its feed-forward layers).
    """
    from harness.sides import tf_side

    root_cp = root or counterpart_for(th)
    if root is not None or (root_cp is not None and _keras_atlas_kind(tf) is None):
        # the atlas's own translation of one module (a Keras Sequential for a padded conv): root to root
        th_units = [Unit("", th, type(th).__name__, root_cp)]
        tf_units_ = [Unit("", tf, root_cp.keras[0])]
    else:
        th_units = torch_units(th)
        tf_units_ = tf_units(tf, frozenset(k for u in th_units for k in u.counterpart.keras))
        if run is not None:
            th_units, tf_units_ = _in_call_order(th_units, tf_units_, run)
    result = Mapping()
    aligned = _align(th_units, tf_units_)
    taken = {id(b) for _, b, _ in aligned}
    for a, b, local in aligned:
        weights = {_join(a.path, k): (replace(v, tf=_prefixed(b.path, v)) if isinstance(v, Link) else v)
                   for k, v in local.items()}
        result.matched.append(Matched(a, b, weights, a.counterpart.differences(a.obj, _padded(b, tf_units_, taken))))
        result.weights.update(weights)
    if len(result.matched) > 1:
        layouts = _stage_layouts([m.torch.counterpart for m in result.matched])
        result.stages = [Stage(m.torch.path.replace(".", "_"), m.torch.path, m.tf.path, layout)
                         for m, layout in zip(result.matched, layouts, strict=True)]
    result.unmatched = _leftovers(th, tf, th_units, result, tf_side)
    return result


@dataclass(frozen=True)
class _PaddedView:
    """A Keras layer seen with the ZeroPadding layer called just before it, as the atlas's own translations are
    built (``Sequential([ZeroPadding2D(p), Conv2D(padding="valid")])``): what torch's ``padding=p`` is."""

    layers: tuple[Any, Any]
    name: str


def _padded(unit: Unit, units: list[Unit], taken: set[int]) -> Any:
    """The unit's layer, or a view with the unmatched ZeroPadding called right before it."""
    at = next(n for n, u in enumerate(units) if u is unit)
    before = units[at - 1] if at else None
    if before is not None and id(before) not in taken and before.kind.startswith("ZeroPadding"):
        return _PaddedView((before.obj, unit.obj), unit.obj.name)
    return unit.obj


def _in_call_order(th_units: list[Unit], tf_units_: list[Unit], run: tuple[Callable[[], Any], Callable[[], Any]]
                   ) -> tuple[list[Unit], list[Unit]]:
    """Both unit lists sorted by first call (units never called keep their place after the called ones)."""
    calls: list[int] = []
    hooks = [u.obj.register_forward_pre_hook(lambda m, _a: calls.append(id(m))) for u in th_units]
    try:
        run[0]()
    finally:
        for hook in hooks:
            hook.remove()
    th_first = {i: n for n, i in reversed(list(enumerate(calls)))}
    calls_tf: list[int] = []
    for u in tf_units_:
        u.obj.call = _recording(u.obj, calls_tf)
    try:
        run[1]()
    finally:
        for u in tf_units_:
            vars(u.obj).pop("call", None)
    tf_first = {i: n for n, i in reversed(list(enumerate(calls_tf)))}
    return (sorted(th_units, key=lambda u: th_first.get(id(u.obj), len(calls))),
            sorted(tf_units_, key=lambda u: tf_first.get(id(u.obj), len(calls_tf))))


def _recording(layer: Any, calls: list[int]) -> Callable[..., Any]:
    original = layer.call

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(id(layer))
        return original(*args, **kwargs)

    return call


def _prefixed(prefix: str, link: Link) -> str | tuple[str, ...]:
    paths = tuple(_join(prefix, p) for p in link.paths)
    return paths[0] if isinstance(link.tf, str) else paths


def _leftovers(th: Any, tf: Any, units: list[Unit], result: Mapping, tf_side: Any) -> list[str]:
    """Every torch tensor and Keras variable no match claims, with why."""
    matched = {m.torch.path for m in result.matched}
    owners = dict(th.named_modules())
    problems = []
    for name, value in th.state_dict().items():
        if name in result.weights:
            continue
        owner = max((p for p in owners if p == "" or name.startswith(p + ".")), key=len)
        unit = next((u for u in units if u.path == owner or owner.startswith(u.path + ".") or u.path == ""), None)
        module = owners[owner]
        if unit is None:
            why = f"{type(module).__name__} has no counterpart in the atlas"
        elif unit.path in matched:
            why = "its counterpart's map does not cover it"
        else:
            refused = unit.counterpart.accepts(unit.obj) if unit.counterpart else None
            why = refused or (f"no Keras {'/'.join(unit.counterpart.keras)} with fitting weights is left at "
                              "this point of the Keras model's order")
        problems.append(f"torch {name!r} {tuple(value.shape)} ({type(module).__name__} at "
                        f"{owner or '(the layer itself)'}): {why}")
    claimed = set()
    for link in result.weights.values():
        if isinstance(link, Link):
            for path in link.paths:
                found = tf_side.resolve(tf, path)
                if found is not None:
                    claimed.add(found[0])
    paths = tf_side.attribute_paths(tf)
    for key, entry in tf_side.entries(tf).items():
        if key not in claimed:
            problems.append(f"Keras {paths.get(key, key)!r} ({key}) {entry.shape}: no torch tensor is mapped to it")
    return problems


# --- rendering as the Python a pair file holds

_NAMED = {id(v): k for k, v in vars(layouts).items() if isinstance(v, Transform) and k.isupper()}


def transform_source(t: Transform) -> str:
    """A transform as the expression that builds it (``TRANSPOSE.then(Reshape(...))``)."""
    if id(t) in _NAMED:
        return _NAMED[id(t)]
    if isinstance(t, Chain):
        steps = [s for s in t.steps if s.name != "identity"] or [layouts.IDENTITY]
        return ".then(".join(transform_source(s) for s in steps) + ")" * (len(steps) - 1)
    if isinstance(t, Reshape):
        return f"Reshape({t.name!r}, to={tuple(t.to)!r})"
    if isinstance(t, layouts.Permute):
        return f"Permute({t.name!r}, {t.axes!r})"
    if isinstance(t, layouts.Split):
        return f"Split({t.name!r}, count={t.count}, axis={t.axis}, each={transform_source(t.each)})"
    if isinstance(t, layouts.Blocks):
        return f"Blocks({t.name!r}, order={t.order!r}, axis={t.axis})"
    return "IDENTITY"


def entry_source(link: Link | TorchOnly) -> str:
    if isinstance(link, TorchOnly):
        return f"TorchOnly({link.reason!r})"
    args = [repr(link.tf)]
    if link.transform is not layouts.IDENTITY and link.transform.name != "identity":
        args.append(transform_source(link.transform))
    if link.init != "normal":
        args.append(f"init={link.init!r}")
    if link.part is not None:
        p = link.part
        args.append(f"part=Part({p.index}, of={p.of}, axis={p.axis}" + (", summed=True)" if p.summed else ")"))
    return f"Link({', '.join(args)})"


_INDEX = re.compile(r"(?<=\.)\d+(?=\.)|^\d+(?=\.)")


def collapsed(weights: dict[str, Link | TorchOnly]) -> dict[str, Link | TorchOnly]:
    """Entries that differ only in list indices, the same on both sides, as one ``*`` entry."""
    groups: dict[tuple[str, str], list[tuple[str, Link | TorchOnly]]] = {}
    for name, link in weights.items():
        key = (_INDEX.sub("*", name), entry_source(link) if not isinstance(link, Link)
               else entry_source(replace(link, tf=_star(link.tf))))
        groups.setdefault(key, []).append((name, link))
    out: dict[str, Link | TorchOnly] = {}
    for (pattern, _), members in groups.items():
        indices = [tuple(_INDEX.findall(n)) for n, _ in members]
        same = all(isinstance(link, TorchOnly) or _indices(link.tf) == idx for (_, link), idx in zip(members, indices,
                                                                                                     strict=True))
        if len(members) > 1 and same and "*" in pattern:
            link = members[0][1]
            out[pattern] = replace(link, tf=_star(link.tf)) if isinstance(link, Link) else link
        else:
            out.update(members)
    return out


def _star(tf: str | tuple[str, ...]) -> str | tuple[str, ...]:
    return _INDEX.sub("*", tf) if isinstance(tf, str) else tuple(_INDEX.sub("*", p) for p in tf)


def _indices(tf: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_INDEX.findall(tf if isinstance(tf, str) else tf[0]))


def render(mapping: Mapping) -> str:
    """The ``weights=`` and ``stages=`` arguments, ready to paste, then what is unmatched and what differs."""
    lines = ["weights={"]
    lines += [f"    {name!r}: {entry_source(link)}," for name, link in collapsed(mapping.weights).items()]
    lines.append("},")
    if mapping.stages:
        lines.append("stages=(")
        lines += [f"    Stage({s.name!r}, torch={s.torch!r}, tf={s.tf!r}"
                  + (f", layout={s.layout!r})," if s.layout != "feature_last" else "),") for s in mapping.stages]
        lines.append("),")
    lines.append(f"# {len(mapping.matched)} sublayer(s) matched, {len(mapping.weights)} tensor(s) mapped")
    if mapping.unmatched:
        lines.append(f"# not matched ({len(mapping.unmatched)}):")
        lines += [f"#   {u}" for u in mapping.unmatched]
    if mapping.differences:
        lines.append(f"# settings that differ ({len(mapping.differences)}):")
        lines += [f"#   {d}" for d in mapping.differences]
    return "\n".join(lines)
