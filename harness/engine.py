"""The case engine: one case through both frameworks: build, fill identical weights, run.

Every check (``harness.checks``) starts here and this module imports none of them: it
builds the twins, draws everything a case needs from one numpy generator seeded by the case,
in a fixed order (weights, then each call's inputs, then the cotangent), and runs both sides,
so a case replays bit for bit -- including the float64 replay that judges a float32 result
and the replay that localises a divergence to a sublayer. What each check then compares goes
through a :class:`Tally`, which keeps the arrays behind every metric for that float64 judge.

In ``graph`` mode each side runs compiled *and* eager on the same inputs, weights and
cotangent (state is restored in between). Built twins are reused across examples whose
factories read the same params, so a new batch size does not cost a new trace.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import signal
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness import bridge
from harness.cases import Case, discrete, fill, weight_values
from harness.compare import Policy, TensorMetrics, compare, magnitude
from harness.layouts import layout_of
from harness.sides import Outcome, SideError, keyed
from harness.spec import LayerPair, SpecError

__all__ = [
    "BUILT", "CROSS", "Evaluation", "Run", "Tally", "Timeout", "Twins", "as_drawn", "draw_inputs", "flag",
    "initial_value", "jittered", "low_precision_ops", "output_keys", "output_labels", "output_order", "prepare",
    "rounded_through", "run_both", "side_call", "structure", "tf_gradients", "tf_outputs", "time_limit",
    "trajectory_point",
]

CROSS = ("torch", "tf")
"""The sides of a cross-framework comparison; a framework against itself names its own two."""


@dataclass
class Evaluation:
    """What one case showed: per-tensor metrics, the arrays behind them, and evidence.

    ``arrays`` maps a metric's name to the two arrays it compared and its group scale (the
    float64 oracle re-judges them; ``every`` lists all those metrics where ``metrics`` shows
    a part); ``execution`` names what ran where that is not obvious (the compilers of graph
    mode); ``trajectory`` is a training check's divergence per step, and ``steps`` the names of
    its metrics step by step; ``localisation`` a composite's per-stage errors; ``noise`` the
    noise floor the case was judged against, where one was measured (:mod:`harness.noise`).
    """

    metrics: list[TensorMetrics]
    arrays: dict[str, tuple[np.ndarray, np.ndarray, float]] = field(default_factory=dict)
    localisation: dict[str, Any] | None = None
    execution: dict[str, Any] = field(default_factory=dict)
    trajectory: list[dict[str, Any]] | None = None
    every: list[TensorMetrics] | None = None
    steps: list[list[str]] | None = None
    noise: dict[str, Any] | None = None
    groups: list[list[str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.metrics)

    @property
    def compared(self) -> list[TensorMetrics]:
        """Every comparison the case made; ``metrics`` may show fewer (a training check: its first divergent step)."""
        return self.metrics if self.every is None else self.every

    def rejudged(self, judged: Mapping[str, TensorMetrics], noise: dict[str, Any]) -> Evaluation:
        """The same case with some metrics judged anew (against a noise floor), and what follows from them.

        ``steps`` (a training check's metric names, step by step) decides what is shown: the
        first divergent step, else the last; its trajectory follows the new judgement too.
        """
        every = [judged.get(m.name, m) for m in self.compared]
        if self.steps is None:
            return replace(self, metrics=[judged.get(m.name, m) for m in self.metrics],
                           every=None if self.every is None else every, noise=noise)
        by_name = {m.name: m for m in every}
        per_step = [[by_name[n] for n in names] for names in self.steps]
        shown = next((ms for ms in per_step if not all(m.ok for m in ms)), per_step[-1])
        trajectory = (self.trajectory or [])[:1] + [trajectory_point(i, ms) for i, ms in enumerate(per_step, 1)]
        return replace(self, metrics=shown, every=every, trajectory=trajectory, noise=noise)


def trajectory_point(step: int, metrics: Sequence[TensorMetrics]) -> dict[str, Any]:
    """One point of a training trajectory: how far the weights (and loss) of one step diverge."""
    return {"step": step, "ok": all(m.ok for m in metrics),
            "max_abs_error": max((m.max_abs_error for m in metrics), default=0.0),
            "max_rel_error": max((m.max_rel_error for m in metrics), default=0.0),
            "headroom": max((m.headroom for m in metrics), default=0.0)}


def flag(name: str, ok: bool, note: str) -> TensorMetrics:
    """A metric that is a yes/no finding (the weight map fits, an output count matches)."""
    bad = float("inf")
    return TensorMetrics(name, (), ok, 0.0 if ok else bad, 0.0 if ok else bad, 0 if ok else 1, 0 if ok else 1,
                         (), None, None, 0.0 if ok else bad, note, comparison="finding")


class Tally:
    """The metrics of one case, and the arrays behind each one.

    Every comparison of a check goes through here, so the policy, the comparison groups and
    the non-finite rule (NaN may only agree with NaN when a non-finite value was put in) are
    applied alike, and the float64 judge of a float32 divergence finds the arrays it needs.
    """

    def __init__(self, policy: Policy):
        self.policy = policy
        self.nonfinite_in = False
        self.metrics: list[TensorMetrics] = []
        self.arrays: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        self.groups: list[list[str]] = []

    def saw(self, arrays: Sequence[np.ndarray]) -> None:
        """Note the inputs of a call: a NaN or inf among them lets NaN and inf agree."""
        self.nonfinite_in |= any(not np.isfinite(x).all() for x in arrays)

    def compare(self, name: str, a: np.ndarray, b: np.ndarray, *, note: str = "", scale: float = 0.0,
                sides: tuple[str, str] = CROSS, policy: Policy | None = None) -> TensorMetrics:
        m = compare(name, a, b, policy or self.policy, note, scale, sides=sides, nonfinite_in=self.nonfinite_in)
        self.metrics.append(m)
        self.arrays[name] = (np.asarray(a), np.asarray(b), scale)
        return m

    def group(self, named: Sequence[tuple[Any, ...]], *, sides: tuple[str, str] = CROSS, note: str = "",
              scaled_by: Sequence[np.ndarray] = ()) -> None:
        """Compare tensors of one comparison group (a call's outputs, one VJP's gradients, one step's weights).

        ``named`` holds ``(name, a, b)`` or ``(name, a, b, note)``. The group shares one scale
        (of its values and of ``scaled_by``'s) and, where a noise floor is measured, one floor:
        its tensors come out of one computation, whose rounding they all carry.
        """
        scale = magnitude(*(x for item in named for x in item[1:3]), *scaled_by)
        for name, a, b, *own in named:
            self.compare(name, a, b, note=own[0] if own else note, scale=scale, sides=sides)
        self.groups.append([item[0] for item in named])

    def flag(self, name: str, ok: bool, note: str) -> None:
        self.metrics.append(flag(name, ok, note))

    def evaluation(self, **evidence: Any) -> Evaluation:
        return Evaluation(self.metrics, self.arrays, groups=self.groups, **evidence)


def structure(tally: Tally, what: str, a: Sequence[np.ndarray], b: Sequence[np.ndarray],
              sides: tuple[str, str] = CROSS, keys: tuple[list[str], list[str]] | None = None) -> bool:
    """Keys, count and shapes before any value: a mismatch is a failing finding that names both.

    ``a`` and ``b`` are in one layout already; ``keys`` are their output keys, ``b``'s
    translated into ``a``'s names (see :func:`output_keys`). A check compares nothing else of
    a call whose structure differs: values of differently shaped tensors say nothing, and a
    VJP against a cotangent of the wrong shape may broadcast silently.
    """
    if keys is not None and keys[0] != keys[1]:
        only_a = [k for k in keys[0] if k not in keys[1]]
        only_b = [k for k in keys[1] if k not in keys[0]]
        tally.flag(what, False, f"output keys differ: {sides[0]} {keys[0]} vs {sides[1]} {keys[1]} (only "
                                f"{sides[0]}: {only_a}; only {sides[1]}: {only_b}); match differing names with "
                                "LayerPair(outputs={torch_key: tf_key})")
        return False
    shapes_a, shapes_b = [tuple(x.shape) for x in a], [tuple(x.shape) for x in b]
    if shapes_a == shapes_b:
        return True
    if len(shapes_a) != len(shapes_b):
        tally.flag(what, False, f"{sides[0]} returned {len(shapes_a)} outputs, {sides[1]} {len(shapes_b)} "
                                f"(shapes {sides[0]} {shapes_a} vs {sides[1]} {shapes_b})")
    else:
        tally.flag(what, False, f"output shapes differ: {sides[0]} {shapes_a} vs {sides[1]} {shapes_b}")
    return False


class Timeout(BaseException):
    """An example ran past its time limit, raised by a timer signal.

    A ``BaseException``, so that hypothesis does not take it for a failure to shrink (each
    attempt would wait out the limit again); :func:`side_call` notes which framework and
    stage were running when it fired.
    """

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds
        self.framework: str | None = None
        self.stage: str | None = None

    def __str__(self) -> str:
        where = f" in {self.framework} during {self.stage}" if self.framework else ""
        return f"the example ran past its time limit of {self.seconds:g} s{where}"


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`Timeout` in this thread after ``seconds`` (SIGALRM; main thread on POSIX only).

    A hang in Python code (a ``time.sleep``, a loop) is interrupted at once; one inside a
    framework's C++ (an XLA compilation) when control returns to Python.
    """
    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise Timeout(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def side_call(framework: str, stage: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except bridge.WeightMapError:
        raise
    except Timeout as exc:
        if exc.framework is None:
            exc.framework, exc.stage = framework, stage
        raise
    except Exception as exc:  # noqa: BLE001 - any framework failure becomes an error record
        raise SideError(framework, stage, exc) from exc


_THROUGH: contextvars.ContextVar[str | None] = contextvars.ContextVar("conform_values_through", default=None)


@contextlib.contextmanager
def rounded_through(dtype: str) -> Iterator[None]:
    """Inside, every drawn array (inputs, weights, cotangents, targets) is rounded to ``dtype`` first.

    The float64 replay of a float32 case runs under ``rounded_through("float32")``: it then
    computes on exactly the numbers the float32 run computed on, so its result is the exact
    answer to the float32 run's question, and each side's float32 distance from it is that
    side's own rounding, not the inputs'.
    """
    token = _THROUGH.set(dtype)
    try:
        yield
    finally:
        _THROUGH.reset(token)


_JITTER: contextvars.ContextVar[np.random.Generator | None] = contextvars.ContextVar("conform_jitter", default=None)


@contextlib.contextmanager
def jittered(seed: int) -> Iterator[None]:
    """Inside, every drawn floating array is moved by one ulp, up or down at random, element by element.

    How the noise floor (:mod:`harness.noise`) asks a framework how far it moves from itself
    under rounding: the same case, each value one representable number away. Zeros stay zero
    and no value changes sign, so a kink at 0 (ReLU's) is never crossed: only rounding moves.
    The signs come from their own generator, so every other draw of the case stays the same.
    """
    token = _JITTER.set(np.random.default_rng([seed, 0x6E6F6973]))
    try:
        yield
    finally:
        _JITTER.reset(token)


def as_drawn(x: np.ndarray, dtype: Any) -> np.ndarray:
    """A drawn float64 array in the case's dtype (rounded through the oracle's dtype first, if set;
    one ulp off, inside :func:`jittered`)."""
    through = _THROUGH.get()
    out = (x.astype(through) if through else x).astype(dtype)
    jitter = _JITTER.get()
    if jitter is None or not np.issubdtype(out.dtype, np.floating):
        return out
    towards = np.where(jitter.random(out.shape) < 0.5, -np.inf, np.inf).astype(out.dtype)
    return np.where(out == 0, out, np.nextafter(out, towards))


def draw_inputs(pair: LayerPair, case: Case, rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    special = list(pair.special_values(case.params)) if pair.special_values else []
    arrays = []
    for spec in pair.inputs:
        if not spec.differentiable:  # ids and masks: their own type, never rounded or cast to the run's dtype
            arrays.append(discrete(spec, case.params, rng))
            continue
        regime = case.regime if spec.regimes is None or case.regime in spec.regimes else "normal"
        arrays.append(as_drawn(fill(regime, spec.concrete_shape(case.params), rng, special), dtype))
    return arrays


def initial_value(init: str, torch_value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if init == "keep":
        return torch_value.astype(np.float64)
    if init == "positive":  # variances: away from 0, where an epsilon would dominate
        return 0.5 + 1.5 * rng.random(torch_value.shape)
    return weight_values(torch_value.shape, rng)


class _Reads(Mapping[str, Any]):
    """The drawn params, remembering which ones a factory reads (its layer's structure).

    Reads count for as long as the layer lives, not only while it is built: a factory may return
    a function that reads ``p["channels"]`` each time it is called, and that dim is as much its
    structure as one read in ``__init__``. ``read`` is the pair's shared set (``BUILT.reads``).
    """

    def __init__(self, params: Mapping[str, Any], read: set[str]):
        self._params = params
        self.read = read

    def __getitem__(self, key: str) -> Any:
        value = self._params[key]  # a key that is not a drawn dim raises before it counts as read
        self.read.add(key)
        return value

    def __iter__(self) -> Iterator[str]:
        self.read.update(self._params)
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)


class _Built:
    """Twins built in graph mode, with the params they were built from, for the current check.

    Reuse is what keeps compiled runs from tracing once per example: an example that differs
    from an earlier one only in dims the factories do not read (the batch, a spatial size)
    reuses the layers, hence the tf.function and the dynamo graph. Whether it differs is asked
    at every lookup against everything read so far, at build or call time (:class:`_Reads`).
    Weights are reloaded every example. Bounded, and emptied at the start of every check.
    """

    LIMIT = 16

    def __init__(self) -> None:
        self.twins: OrderedDict[tuple[Any, ...], tuple[Mapping[str, Any], tuple[Any, Any]]] = OrderedDict()
        self.reads: dict[str, set[str]] = {}
        self.built = 0

    def reset(self) -> None:
        self.twins.clear()
        self.reads.clear()
        self.built = 0

    def key(self, pair: LayerPair, case: Case, dtype: str, device: str) -> tuple[Any, ...]:
        """A configuration's identity for what is cached per configuration (a converter's probe): the params the
        factories have read so far."""
        read = sorted(self.reads.get(pair.name, ()))
        return (pair.name, dtype, device, json.dumps({k: case.params.get(k) for k in read}, default=repr))

    def find(self, pair: LayerPair, case: Case, dtype: str, device: str) -> tuple[Any, Any] | None:
        """Twins built from params that agree with ``case`` on every param the pair's factories have read."""
        read = self.reads.get(pair.name, set())
        for key, (params, twins) in self.twins.items():
            same = all(repr(params[k]) == repr(case.params.get(k)) for k in read if k in params)
            if key[:3] == (pair.name, dtype, device) and same:
                self.twins.move_to_end(key)
                return twins
        return None

    def keep(self, pair: LayerPair, params: Mapping[str, Any], dtype: str, device: str, twins: tuple[Any, Any]) -> None:
        self.built += 1
        self.twins[(pair.name, dtype, device, id(twins))] = (params, twins)
        while len(self.twins) > self.LIMIT:
            self.twins.popitem(last=False)


BUILT = _Built()


def _build(target: Any, case: Case, dtype: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    from harness.sides import tf_side, torch_side  # frameworks load on first evaluation only

    pair = target.pair
    reuse = target.mode == "graph"
    found = BUILT.find(pair, case, dtype, target.device) if reuse else None
    if found is not None:
        return found
    probe = draw_inputs(pair, case, np.random.default_rng(case.seed), dtype)  # shapes to build TF with
    tf_probe = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, probe, strict=True)]
    params = _Reads(case.params, BUILT.reads.setdefault(pair.name, set(pair.call_args)))
    th = side_call("torch", "construction", lambda: torch_side.build(pair.torch, params, dtype, target.device,
                                                                     case.seed, pair.convention("torch")))
    if pair.converted:  # the Keras side is made of the torch side's weights, once drawn: here, how to make it
        tf = _converter(pair, th, params, dtype, tf_probe, kwargs)
    else:
        tf = side_call("tf", "construction",
                       lambda: tf_side.build(pair.tf, params, dtype, tf_probe, kwargs, pair.convention("tf")))
    if reuse:
        BUILT.keep(pair, case.params, dtype, target.device, (th, tf))
    return th, tf


def _converter(pair: LayerPair, th: Any, params: Mapping[str, Any], dtype: str, tf_probe: list[np.ndarray],
               kwargs: dict[str, Any]) -> Callable[[], Any]:
    """The Keras side of a converter pair as a thunk: the converter run on the torch module as it stands."""
    from harness.sides import tf_side

    return lambda: side_call("tf", "conversion", lambda: tf_side.build(
        lambda _: pair.tf.convert(th), params, dtype, tf_probe, kwargs, pair.convention("tf")))


@dataclass
class Twins:
    """Both layers of a case, loaded with the same weights, and the case's generator (inputs come next).

    ``findings`` are what the weight transfer itself did wrong, as (metric name, note): a
    converter that rounds what it moves (:func:`harness.converters.weight_map`).
    """

    pair: LayerPair
    th: Any
    tf: Any
    slots: list[bridge.Slot]
    rng: np.random.Generator
    kwargs: dict[str, Any] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    findings: list[tuple[str, str]] = field(default_factory=list)


def prepare(target: Any, case: Case, dtype: str, values: Mapping[str, np.ndarray] | None = None) -> Twins:
    """Build both layers, validate the map, draw every mapped entry (or take ``values``) and load it into both."""
    from harness.sides import tf_side, torch_side

    pair = target.pair
    rng = np.random.default_rng(case.seed)
    kwargs = {name: case.params[name] for name in pair.call_args}
    th, tf = _build(target, case, dtype, kwargs)
    if pair.converted:
        return _converted(target, case, dtype, th, tf, rng, kwargs, values)
    weight_map = auto_weights(pair.name, th, tf, pair.origin.atlas) if pair.auto_weights else pair.weights
    slots = bridge.plan(pair.name, weight_map, torch_side.entries(th), lambda path: tf_side.resolve(tf, path),
                        tf_side.entries(tf), lambda: tf_side.attribute_paths(tf), case.params)
    if pair.stages:
        _validate_stages(pair, th, tf)
    current = torch_side.state(th)
    drawn = {s.canonical: as_drawn(initial_value(s.init, current[s.canonical], rng), current[s.canonical].dtype)
             for s in slots}
    values = drawn if values is None else dict(values)  # drawn either way: the inputs come next from rng
    torch_side.load(th, values)
    tf_side.load(tf, bridge.to_tf(values, slots))
    return Twins(pair, th, tf, slots, rng, kwargs, values)


def _converted(target: Any, case: Case, dtype: str, th: Any, convert: Callable[[], Any], rng: np.random.Generator,
               kwargs: dict[str, Any], values: Mapping[str, np.ndarray] | None) -> Twins:
    """A converter pair's case: draw the torch side's weights (or take ``values``), and convert them.

    The converter's output is what is compared: the bridge loads nothing into it. Checks past
    ``forward`` get the map probed off the converter (cached per configuration), checked against
    what it made of these weights, to bring TF's gradients back (:mod:`harness.converters`).
    """
    from harness import converters
    from harness.sides import torch_side

    pair = target.pair
    current = torch_side.state(th)
    drawn = {name: as_drawn(initial_value("normal" if trainable else "keep", current[name], rng), current[name].dtype)
             for name, trainable in torch_side.floating(th).items()}
    values = drawn if values is None else dict(values)
    torch_side.load(th, values)
    tf = converters.reused(th, convert()) if target.mode == "graph" else convert()
    slots, findings = [], []
    if target.check != "forward":
        slots, findings, AUTO_MAPS[pair.name] = converters.weight_map(
            pair.name, pair.tf.name, BUILT.key(pair, case, dtype, target.device), th, tf, convert, dtype, values,
            strict=target.check == "parameters")
    if pair.stages:
        _validate_stages(pair, th, tf)
    return Twins(pair, th, tf, slots, rng, kwargs, values, findings)


# The map ``weights="auto"`` last resolved for each pair, as the records list it (torch name -> Link source);
# a converter pair's, probed: torch name -> the Keras variables it lands in.
AUTO_MAPS: dict[str, dict[str, str]] = {}


def auto_weights(name: str, th: Any, tf: Any, atlas: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The atlas's weight map for two built layers (``weights="auto"``); refused, with every reason, if incomplete.

    ``atlas`` is an atlas pair's origin: its two layers are one counterpart, mapped root to root.
    Matching walks both trees, so it is done once per built pair (graph mode reuses a build).
    """
    from harness.atlas import ATLAS
    from harness.atlas.match import entry_source, map_layers

    cached = _AUTO.get(th)
    if cached is not None and cached[0] is tf:
        return cached[1]
    root = next((cp for cp in ATLAS if atlas and cp.name == atlas.get("counterpart")), None)
    found = map_layers(th, tf, root=root)
    if found.unmatched:
        raise bridge.WeightMapError(name, [f"weights='auto': {u}" for u in found.unmatched])
    AUTO_MAPS[name] = {k: entry_source(v) for k, v in found.weights.items()}
    _AUTO[th] = (tf, found.weights)
    return found.weights


_AUTO: weakref.WeakKeyDictionary[Any, tuple[Any, dict[str, Any]]] = weakref.WeakKeyDictionary()


def _validate_stages(pair: LayerPair, th: Any, tf: Any) -> None:
    """Every stage path resolves on both sides, to as many sublayers: checked when the layers are built.

    A wrong path would otherwise surface only once a check fails and localisation runs, as a
    framework's error; a stage that matches a different number of sublayers on each side could
    never be compared.
    """
    from harness.sides import stage_layers

    found = {}
    for side, root, paths, fallbacks in (("torch", th, [(s.name, s.torch) for s in pair.stages], ()),
                                         ("tf", tf, [(s.name, s.tf) for s in pair.stages], ("get_layer",))):
        try:
            found[side] = [label for label, _ in stage_layers(root, paths, *fallbacks)]
        except LookupError as exc:
            raise SpecError(f"pair {pair.name!r}: {side} {exc.args[0]}") from None
    if found["torch"] != found["tf"]:
        raise SpecError(f"pair {pair.name!r}: the stages match different sublayers: torch {found['torch']}, "
                        f"tf {found['tf']}")


@dataclass
class Run:
    """One call on both sides; in graph mode also each side's eager reference and its state after."""

    th: Outcome
    tf: Outcome
    inputs: list[np.ndarray]
    th_eager: Outcome | None = None
    tf_eager: Outcome | None = None
    th_eager_state: dict[str, np.ndarray] | None = None
    tf_eager_state: dict[str, np.ndarray] | None = None


def _restoring(state: Callable[[Any], dict[str, np.ndarray]], load: Callable[[Any, Any], None], obj: Any,
               run: Callable[[], Outcome]) -> tuple[Outcome, dict[str, np.ndarray]]:
    """Run, note the state it leaves, and put the state back as it was before."""
    before = state(obj)
    outcome = run()
    after = state(obj)
    load(obj, before)
    return outcome, after


def run_both(target: Any, tw: Twins, dtype: str, case: Case, grad: bool, capture: bool = False, *,
             inputs: list[np.ndarray] | None = None, cotangents: list[np.ndarray] | None = None) -> Run:
    """One call on both sides with fresh inputs; with ``grad``, the VJP with one cotangent.

    ``inputs`` and ``cotangents`` replay given ones instead of drawing (a snapshot's).
    """
    from harness.sides import tf_side, torch_side

    pair = tw.pair
    inputs = draw_inputs(pair, case, tw.rng, dtype) if inputs is None else inputs
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    th_stages = [(s.name, s.torch) for s in pair.stages] if capture else []
    tf_stages = [(s.name, s.tf) for s in pair.stages] if capture else []
    stage = "gradient" if grad else "forward"
    drawn: list[np.ndarray] = list(cotangents or [])

    def cotangent(outputs: list[np.ndarray]) -> list[np.ndarray]:
        if not drawn:  # once per call: a graph-mode eager reference gets the same cotangent
            drawn.extend(as_drawn(tw.rng.standard_normal(o.shape), dtype) for o in outputs)
        return drawn

    def torch_run(mode: str) -> Outcome:
        return side_call("torch", stage, lambda: torch_side.run(tw.th, inputs, tw.kwargs, cotangent if grad else None,
                                                            mode=mode, device=target.device, stages=th_stages,
                                                            drop=pair.dropped_outputs))

    def tf_run(mode: str, th: Outcome) -> Outcome:
        tf_cot = [layout_of(pair.output_layout, c.ndim).forward(c) for c in th.cotangents] if grad else None
        order = output_order(pair, th.names)
        return side_call("tf", stage, lambda: tf_side.run(tw.tf, tf_inputs, tw.kwargs, tf_cot, mode=mode,
                                                      stages=tf_stages, order=order))

    if target.mode != "graph":
        th = torch_run(target.mode)
        return Run(th, tf_run(target.mode, th), inputs)
    th_eager, th_state = _restoring(torch_side.state, torch_side.load, tw.th, lambda: torch_run("eval"))
    tf_eager, tf_state = _restoring(tf_side.state, tf_side.load, tw.tf, lambda: tf_run("eval", th_eager))
    th = torch_run("graph")
    return Run(th, tf_run("graph", th), inputs, th_eager, tf_eager, th_state, tf_state)


def output_order(pair: LayerPair, names: Sequence[str]) -> list[str] | None:
    """The TF output keys to ask for, in the order torch returned their counterparts; None: by position."""
    if pair.outputs:
        return [pair.outputs.get(n, n) for n in names]
    return list(names) if keyed(names) else None


def output_keys(pair: LayerPair, th: Outcome, tf_: Outcome) -> tuple[list[str], list[str]] | None:
    """Both sides' output keys in torch's names, where either side names its outputs; None: positional."""
    if not (pair.outputs or keyed(th.names) or keyed(tf_.names)):
        return None
    back = {v: k for k, v in pair.outputs.items()}
    return list(th.names), [back.get(n, n) for n in tf_.names]


def output_labels(names: Sequence[str]) -> list[str]:
    """Metric names of a call's outputs: ``output``, ``output[1]``, or by key ``output[last_hidden_state]``."""
    if len(names) == 1 and not keyed(names):
        return ["output"]
    return [f"output[{n if keyed(names) else i}]" for i, n in enumerate(names)]


def tf_outputs(pair: LayerPair, tf_: Outcome) -> list[np.ndarray]:
    """TF's outputs in torch's layout."""
    return [layout_of(pair.output_layout, o.ndim).inverse(o) for o in tf_.outputs]


def tf_gradients(pair: LayerPair, slots: list[bridge.Slot],
                 tf_: Outcome) -> tuple[list[np.ndarray | None], dict[str, np.ndarray]]:
    """TF's input and parameter gradients in torch's layouts and canonical names."""
    inputs = [None if g is None else layout_of(spec.layout, g.ndim).inverse(g)
              for spec, g in zip(pair.inputs, tf_.input_grads, strict=True)]
    return inputs, bridge.from_tf({k: v for k, v in tf_.param_grads.items() if v is not None}, slots)


def low_precision_ops(target: Any, case: Case) -> dict[str, list[str]]:
    """Per side, the operations that compute in float32 or lower while ``case`` runs in float64.

    The evidence for naming the side of a float64 divergence the size of float32 rounding: a
    float32 constant cast into a float64 graph, a float32 variable, an explicit downcast.
    """
    from harness.sides import tf_side, torch_side

    tw = prepare(target, case, "float64")
    inputs = draw_inputs(tw.pair, case, tw.rng, "float64")
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(tw.pair.inputs, inputs, strict=True)]
    mode = "train" if target.mode == "train" else "eval"
    grad = target.check in ("gradient", "train_step")
    return {
        "torch": side_call("torch", "precision probe",
                           lambda: torch_side.low_precision_ops(tw.th, inputs, tw.kwargs, mode, grad, target.device)),
        "tf": side_call("tf", "precision probe",
                        lambda: tf_side.low_precision_ops(tw.tf, tf_inputs, tw.kwargs, mode, grad)),
    }
