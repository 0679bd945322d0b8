"""The pair spec: one declarative, frozen description of a twin layer.

Why a spec and not a test per layer: every check (forward, gradient, later training mode,
serialisation, benchmarks) is derived from the same data, so adding a pair is adding one
object, and a user's own pairs are driven by exactly the machinery of the built-in ones.

A spec never imports a framework: factories are plain callables, the weight map is names and
numpy layout transforms. That keeps ``conform list`` fast and the spec testable alone.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from harness.layouts import IDENTITY, LAYOUTS, Transform

__all__ = [
    "BENCH_SIZES",
    "CHECKS",
    "CONVERTER_CHECKS",
    "DTYPES",
    "MODES",
    "Dropout",
    "Converter",
    "KnownDivergence",
    "LayerPair",
    "Link",
    "Origin",
    "Params",
    "Part",
    "SpecError",
    "Stage",
    "Tensor",
    "Tolerance",
    "TorchOnly",
    "TrainStep",
]

Params = Mapping[str, Any]
"""The drawn dimensions and options of one case, e.g. ``{"batch": 3, "units": 5}``."""

CHECKS = ("parameters", "forward", "gradient", "state", "statistics", "serialization", "train_step")
DEFAULT_CHECKS = ("forward", "gradient", "serialization")
DTYPES = ("float32", "float64")
INPUT_DTYPES = ("float", "int32", "int64", "bool")
INPUT_STYLES = ("args", "kwargs", "dict")
MODES = ("eval", "train", "graph")
DEFAULT_MODES = ("eval", "graph")
# Checks whose subject does not depend on the pair's modes run in one mode only: the parameter
# sets and a serialisation round trip are compared in inference; dropout statistics and a
# training step exist only in training.
_FIXED_MODE = {"parameters": "eval", "serialization": "eval", "statistics": "train", "train_step": "train"}
# What a converter pair can check: its weight map is read off the converter, which serves
# gradients back to torch's names and nothing that moves values from TF to torch (``state`` and
# ``train_step`` compare TF's values through the map; ``statistics`` needs a dropout site on both).
CONVERTER_CHECKS = ("parameters", "forward", "gradient", "serialization")
STATE_CALLS = 3
BENCH_SIZES = ("small", "large")
INITS = ("normal", "positive", "keep")
AUTO = "auto"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SpecError(ValueError):
    """A pair spec that cannot work; raised when the spec is declared, not when it runs."""


@dataclass(frozen=True)
class Origin:
    """Where a pair comes from: the tutorial file and the tutorial's own name for it.

    ``shown`` says which frameworks the tutorial itself writes; the other side is ours.
    ``atlas`` is set on the atlas's own pairs (:mod:`harness.atlas`): the counterpart, the
    setting and both defaults, which records carry so the report's atlas table and the gate
    can name a convention without the pair files.
    """

    seed: str
    tutorial_name: str
    shown: tuple[str, ...] = ()
    note: str = ""
    atlas: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Tensor:
    """One input tensor: its name, its shape in dimension names or integers, its layout.

    ``layout="channels_first"`` means the torch side receives it as generated (N, C, ...)
    and the TF side receives it permuted to (N, ..., C); gradients come back the same way.
    ``regimes`` restricts the value regimes drawn for it (None: all of them).

    ``dtype`` is ``"float"`` (the run's dtype: float32 or float64) or a fixed integer or
    boolean type for token ids, segment ids and masks; each side gets its own framework's
    tensor of that type, and no gradient is taken for it (the records list such inputs). An
    integer tensor is drawn in ``[low, high)``, ``high`` a number or a dim's name
    (``high="vocab"``); ``mask=True`` draws 0/1 (or False/True) with at least one kept (1)
    position along the last axis, as an attention or padding mask must have.

    ``torch_key`` / ``tf_key``: the name a side takes this tensor under where the pair passes
    inputs by keyword or in a dict (``LayerPair.inputs_as``), when it differs from ``name``
    (HF's ``input_ids`` is keras_hub's ``token_ids``).
    """

    name: str
    shape: tuple[str | int, ...]
    layout: str = "feature_last"
    regimes: tuple[str, ...] | None = None
    dtype: str = "float"
    high: str | int | None = None
    low: int = 0
    mask: bool = False
    torch_key: str | None = None
    tf_key: str | None = None

    def key(self, side: str) -> str:
        """The keyword (or dict key) this tensor is passed under on ``side`` (see ``LayerPair.inputs_as``)."""
        return (self.torch_key if side == "torch" else self.tf_key) or self.name

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise SpecError(
                f"Tensor {self.name!r}: layout must be one of {LAYOUTS}. "
                f"Received: layout={self.layout!r}"
            )
        if self.dtype not in INPUT_DTYPES:
            raise SpecError(f"Tensor {self.name!r}: dtype must be one of {INPUT_DTYPES}. Received: {self.dtype!r}")
        if self.dtype == "float" and (self.high is not None or self.mask):
            raise SpecError(f"Tensor {self.name!r}: high= and mask= are for integer and boolean tensors")
        if self.dtype.startswith("int") and self.high is None and not self.mask:
            raise SpecError(f"Tensor {self.name!r}: an integer tensor needs high= (a number or a dim's name) "
                            "or mask=True")
        if self.dtype == "bool" and self.high is not None:
            raise SpecError(f"Tensor {self.name!r}: a boolean tensor takes mask=, not high=")

    @property
    def differentiable(self) -> bool:
        return self.dtype == "float"

    def bound(self, params: Params) -> int:
        """The exclusive upper bound of an integer tensor's values for these params."""
        if self.mask or self.dtype == "bool":
            return 2
        try:
            high = int(params[self.high]) if isinstance(self.high, str) else int(self.high)
        except KeyError:
            raise SpecError(f"Tensor {self.name!r}: high={self.high!r} is not among the pair's dims "
                            f"{sorted(params)}") from None
        if high <= self.low:
            raise SpecError(f"Tensor {self.name!r}: no value in [low, high) = [{self.low}, {high})")
        return high

    def concrete_shape(self, params: Params) -> tuple[int, ...]:
        try:
            return tuple(d if isinstance(d, int) else int(params[d]) for d in self.shape)
        except KeyError as missing:
            raise SpecError(
                f"Tensor {self.name!r} has shape {self.shape} but dimension {missing} is "
                f"not among the pair's dims {sorted(params)}"
            ) from None


@dataclass(frozen=True)
class Part:
    """Where one torch tensor sits in a TF variable that several torch tensors fill together.

    Separate ``q``, ``k``, ``v`` weights into one fused Keras kernel: each maps to the same TF
    path with ``Part(index, of=3, axis=-1)``; the bridge joins them along ``axis`` (after each
    one's transform) and splits TF's gradient back. ``summed=True`` adds the parts instead:
    torch's recurrent layers keep two biases (``bias_ih``, ``bias_hh``) where Keras keeps their
    sum; each torch bias then gets TF's whole gradient, which is exactly the gradient of a sum.
    """

    index: int
    of: int
    axis: int = 0
    summed: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.of:
            raise SpecError(f"Part: index must be in [0, of). Received: index={self.index}, of={self.of}")


@dataclass(frozen=True)
class Link:
    """One weight-map entry: the TF variable's attribute path and the layout transform.

    The canonical layout is torch's ``state_dict``; ``transform`` maps canonical → TF and
    its inverse brings TF gradients back. ``*`` in both paths matches a list index, so
    ``"layers.*.weight" -> Link("layers.*.kernel", TRANSPOSE)`` covers any depth. A path is an
    attribute path from the pair's TF layer, or a variable's Keras path as a summary prints it.
    ``tf`` is a tuple of paths where the transform splits one torch tensor into several TF
    variables (a :class:`~harness.layouts.Split`); ``part`` where several torch tensors fill
    one (:class:`Part`).
    ``init`` is how the harness draws the value: ``normal`` (scaled by fan-in, the default),
    ``positive`` (for variances) or ``keep`` (the torch module's own value).
    """

    tf: str | tuple[str, ...]
    transform: Transform = IDENTITY
    init: str = "normal"
    part: Part | None = None

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise SpecError(f"Link({self.tf!r}): init must be one of {INITS}. Received: init={self.init!r}")
        if not isinstance(self.tf, str):
            object.__setattr__(self, "tf", tuple(self.tf))
            if not self.tf or self.part is not None:
                raise SpecError(f"Link({self.tf!r}): several TF paths need a splitting transform and no part=")
        if len(self.paths) != self.transform.parts:
            raise SpecError(f"Link({self.tf!r}): {self.transform.name} makes {self.transform.parts} part(s) but "
                            f"{len(self.paths)} TF path(s) are given")

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.tf,) if isinstance(self.tf, str) else self.tf


@dataclass(frozen=True)
class TorchOnly:
    """A torch *buffer* with no TF counterpart (``num_batches_tracked``), with the reason.

    Parameters cannot be torch-only: the two frameworks would train different parameter
    sets, which the ``parameters`` check reports instead.
    """

    reason: str


@dataclass(frozen=True)
class Stage:
    """A sublayer of a composite pair, for first-divergence localisation.

    ``torch`` and ``tf`` are attribute paths from the pair's layers (integers index lists
    and ``nn.Sequential``; a Keras functional model also resolves layer names). A ``*``
    anywhere in a path means every element there (``encoder.layer.*.attention.output``),
    the same count on both sides. Every call of the sublayer is one stage, in call order,
    compared on its first input's gradient and its output; ``layout`` is that of both.
    Paths are resolved when the layers are first built, before any check compares anything.
    """

    name: str
    torch: str
    tf: str
    layout: str = "feature_last"


@dataclass(frozen=True)
class Tolerance:
    """A per-pair tolerance override. A reason is required: it is printed in the report."""

    rtol: float
    atol: float
    reason: str
    dtypes: tuple[str, ...] = DTYPES
    checks: tuple[str, ...] = CHECKS

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise SpecError("Tolerance override needs a reason; received an empty one")
        if self.rtol < 0 or self.atol < 0:
            raise SpecError(f"Tolerances must be >= 0. Received: rtol={self.rtol}, atol={self.atol}")


@dataclass(frozen=True)
class KnownDivergence:
    """A divergence the pair is declared to have (a strict xfail).

    It must reproduce: a declared divergence that no longer diverges is a failure, so a
    fixed bug or a changed framework cannot hide behind an old declaration. ``strict=False``
    is for a real difference that only some draws provoke (its reason must say which): not
    seeing it is then a pass that says so. A float32 precision effect is not declared: the
    float64 oracle reports it as a ``precision`` record that names the less accurate side.
    ``regimes`` limits it to cases drawn in those value regimes (``("large",)``); a
    divergence in any other regime still fails. ``where`` limits it to cases whose drawn
    params it accepts (``where=lambda p: p["key_dim"] == 1 and p["seq"] == p["heads"]``): a
    divergence outside that scope still fails, so a declaration about one corner of the
    shapes cannot excuse the rest.

    ``finding`` is the id of a framework defect in the findings ledger (:mod:`harness.ledger`,
    whose ``declared`` makes such a declaration with the entry's sentence as its reason): a
    record that reproduces it lists the entry.

    ``devices`` scopes it to device kinds (``("cuda",)``): a defect of one device's kernels, seen
    where torch on that device is compared with torch on the CPU as well as with TF. A
    declaration without ``devices`` is a difference between torch and TF: it is judged only
    where both ran (a GPU run without TF says it was not checkable), and it never covers a
    GPU-vs-CPU comparison of torch with itself.
    """

    check: str
    reason: str
    dtypes: tuple[str, ...] = DTYPES
    modes: tuple[str, ...] = MODES
    tensors: tuple[str, ...] = ()
    strict: bool = True
    regimes: tuple[str, ...] | None = None
    where: Callable[[Params], bool] | None = None
    devices: tuple[str, ...] | None = None
    finding: str | None = None

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise SpecError(f"KnownDivergence.check must be one of {CHECKS}. Received: {self.check!r}")
        if self.devices is not None and (not self.devices or any(d not in ("cpu", "cuda") for d in self.devices)):
            raise SpecError(f"KnownDivergence.devices names device kinds, 'cpu' or 'cuda' ('cuda' is every GPU). "
                            f"Received: {self.devices!r}")
        if not self.reason.strip():
            raise SpecError("KnownDivergence needs a reason; received an empty one")
        bad = [m for m in self.modes if m not in MODES]
        if bad:
            raise SpecError(f"KnownDivergence.modes must be a subset of {MODES}. Received: {bad}")

    def scoped_to(self, regime: str, params: Params) -> bool:
        """Whether a case drawn in ``regime`` with ``params`` is one this declaration speaks for."""
        return (self.regimes is None or regime in self.regimes) and (self.where is None or bool(self.where(params)))

    def on(self, device: str) -> bool:
        """Whether the declaration is about records on ``device`` (``cuda:1`` is a ``cuda``)."""
        return self.devices is None or device.split(":", 1)[0] in self.devices

    def covers(self, tensor: str) -> bool:
        """Whether a diverging tensor (a metric name) is one this declaration is about.

        ``tensors`` are glob patterns (``"state running_var*"``); empty means any tensor. A
        declared divergence of the running variance must not excuse a wrong running mean.
        """
        return not self.tensors or any(fnmatch.fnmatchcase(tensor, t) for t in self.tensors)


@dataclass(frozen=True)
class Dropout:
    """Where a stochastic pair drops, for the ``statistics`` check in training mode.

    ``rate`` is the declared drop probability: a number, or the name of a drawn dim.
    ``torch`` and ``tf`` are attribute paths to the dropping sublayer ("" for the pair's
    layer itself); every call of it is observed, input and output.
    """

    rate: float | str
    torch: str = ""
    tf: str = ""

    def rate_of(self, params: Params) -> float:
        return float(params[self.rate]) if isinstance(self.rate, str) else float(self.rate)


@dataclass(frozen=True)
class TrainStep:
    """The ``train_step`` check: plain SGD on both sides with the same loss, from the same weights.

    ``torch_loss`` and ``tf_loss`` are factories (called lazily, so no framework loads at
    import) of ``loss(outputs, targets) -> scalar``, in that argument order on both sides;
    the catalogue uses the tutorial's ``custom_loss`` pair. ``steps`` SGD steps at ``lr``
    are taken; the weights after every step are compared.
    """

    torch_loss: Callable[[], Callable[..., Any]]
    tf_loss: Callable[[], Callable[..., Any]]
    lr: float = 0.1
    steps: int = 5

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.steps < 1:
            raise SpecError(f"TrainStep needs lr > 0 and steps >= 1. Received: lr={self.lr}, steps={self.steps}")


@dataclass(frozen=True)
class Converter:
    """A pair's Keras side made by a function from the torch side's weights, instead of by the bridge.

    ``convert`` takes the torch module (built by the pair's ``torch`` factory, the case's drawn
    weights loaded) and returns the Keras model, built, with the weights it converted: what a
    user's porting script does. It runs on every example, so its output is what is compared.
    Its weight map is read off it by probing, once per layer configuration and dtype
    (:mod:`harness.converters`): a converter that only moves values gets parameter gradients
    and the ``parameters`` check like a hand-mapped pair; one that computes on values is named
    and refused there. ``name`` says what it is in messages (default: the function's name;
    ``from_pretrained`` names keras_hub's).
    """

    convert: Callable[[Any], Any]
    name: str = ""

    def __post_init__(self) -> None:
        if not callable(self.convert):
            raise SpecError(f"Converter: convert must be a function from the torch module to a Keras model. "
                            f"Received: convert={self.convert!r}")
        if not self.name:
            object.__setattr__(self, "name", getattr(self.convert, "__name__", type(self.convert).__name__))


DimValue = st.SearchStrategy | Callable[[Params], Any] | int | float | bool | str


@dataclass(frozen=True)
class Builtin:
    """The frameworks' own layer for what a pair computes, timed beside it for a ratio.

    A port that is ten times slower than ``nn.Linear`` / ``Dense`` is a finding even when
    both frameworks agree. The factories take a bench size's params; their weights are the
    frameworks' defaults (timing does not depend on the values).
    """

    name: str
    torch: Callable[[Params], Any]
    tf: Callable[[Params], Any]


@dataclass(frozen=True)
class Bench:
    """How to time a pair: two representative sizes, FLOPs per forward call, a built-in to beat.

    Args:
        small: every dim of the pair, fixed: the size ``--quick`` times (a few ms on a CPU).
        large: every dim, fixed: a size where the arithmetic, not the Python, dominates.
        flops: params -> floating-point operations of one forward call, where countable
            (matmuls and convolutions: 2 per multiply-add); a forward+backward counts 3x.
        builtin: the frameworks' own equivalent layer, if there is one.
    """

    small: Params
    large: Params
    flops: Callable[[Params], float] | None = None
    builtin: Builtin | None = None

    def sizes(self) -> dict[str, Params]:
        return {"small": self.small, "large": self.large}


@dataclass(frozen=True)
class LayerPair:
    """A torch layer and a Keras layer that claim to compute the same function.

    Args:
        name: unique snake_case id used on the command line and in records.
        origin: tutorial file and name (see :class:`Origin`).
        torch: ``params -> torch callable`` (an ``nn.Module`` or a plain function).
        tf: ``params -> TF callable`` (a Keras layer/model or a plain function); or a
            :class:`Converter`: the Keras side is what it makes of the torch side's drawn weights,
            and the weight map is probed off it (leave ``weights`` out).
        dims: ordered named draws. A value is a hypothesis strategy, a constant, or a
            callable taking the params drawn so far and returning either; the latter
            expresses constraints (``embed`` a multiple of ``heads``) without filtering.
        inputs: the tensor arguments, in call order.
        inputs_as: how each side takes them, by side (``{"torch": "kwargs", "tf": "dict"}``):
            ``args`` (positional, the default), ``kwargs`` (keyword arguments, as HF models
            take ``input_ids=``) or ``dict`` (one dict argument, as a Keras functional model
            with named inputs takes it); names from each Tensor's ``key``.
        call_args: names of params passed to both calls as keyword arguments
            (non-tensor arguments such as a branch condition).
        weights: canonical (torch ``state_dict``) name → :class:`Link` or TF path; or
            ``"auto"``: the atlas matches both layers' sublayers and writes the map when the
            layers are built (what ``conform map`` prints); every record lists the map used.
        side_kwargs: fixed keyword arguments of one side's call, by side
            (``{"torch": {"need_weights": False}}``): what one framework needs to be asked
            for that the other does by default.
        output_layout: layout of every output, as for inputs.
        outputs: torch output key -> TF output key, where both sides return keyed outputs
            (dicts, HF ``ModelOutput``) under different names; keyed outputs are matched by
            key, positional ones (tuples, lists) by position. ``""`` is a TF layer's single
            unnamed output; ``None`` declares a torch output that has no TF counterpart (HF's
            ``pooler_output`` beside a backbone without pooling): it is left out, VJP included.
        special_values: ``params -> values`` planted by the ``special`` value regime
            (an activation's threshold, say).
        tolerances: overrides of the dtype policy, each with a reason.
        known_divergences: declared divergences, each with a reason.
        checks: which checks apply: ``parameters`` (the weight map fits: names, shapes,
            trainability), ``forward`` (outputs of ``calls`` calls), ``gradient`` (VJP for
            inputs and parameters), ``state`` (every buffer and non-trainable variable after
            each of ``max(calls, 3)`` calls), ``serialization`` (each framework's save/load
            round trips reproduce the outputs exactly). ``statistics`` and ``train_step``
            are added by declaring ``dropout`` and ``train_step``.
        modes: ``eval`` (inference), ``train`` (training flag set: batch statistics) and
            ``graph`` (inference compiled: ``tf.function`` with XLA, ``torch.compile``).
            Checks that do not depend on a mode run in one (see :meth:`modes_for`).
        skip_modes: mode -> reason, recorded as ``skip`` (a mode not checkable for this pair); a key
            ``"mode:check"`` skips that one check in that mode (a framework defect that breaks
            graph-mode gradients leaves the graph-mode forward records to run).
        calls: forward calls per example; >1 for stateful layers (buffers updated in forward).
        stages: sublayers of a composite, in call order, for first-divergence localisation.
        train_dims: dims drawn differently in training mode (batch statistics need more
            than one value per channel: torch refuses a batch of one there).
        dropout: the pair drops at random in training (see :class:`Dropout`): its training
            mode is compared by the ``statistics`` check, not value by value.
        train_step: SGD steps to compare (see :class:`TrainStep`).
        bench: sizes and FLOPs for ``conform bench`` (see :class:`Bench`); a pair without
            one is not benchmarked (the benchmark says so).
        timeout: seconds one example may take before it is an error record (default: the
            run's ``--timeout``, 300 s); for a pair whose examples are known to be slow.
    """

    name: str
    origin: Origin
    torch: Callable[[Params], Any]
    tf: Callable[[Params], Any] | Converter
    dims: Mapping[str, DimValue]
    inputs: tuple[Tensor, ...]
    inputs_as: Mapping[str, str] = field(default_factory=dict)
    call_args: tuple[str, ...] = ()
    weights: Mapping[str, Link | TorchOnly | str] | str = field(default_factory=dict)
    side_kwargs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    output_layout: str = "feature_last"
    outputs: Mapping[str, str | None] = field(default_factory=dict)
    special_values: Callable[[Params], Sequence[float]] | None = None
    tolerances: tuple[Tolerance, ...] = ()
    known_divergences: tuple[KnownDivergence, ...] = ()
    checks: tuple[str, ...] = DEFAULT_CHECKS
    modes: tuple[str, ...] = DEFAULT_MODES
    skip_modes: Mapping[str, str] = field(default_factory=dict)
    calls: int = 1
    stages: tuple[Stage, ...] = ()
    train_dims: Mapping[str, DimValue] = field(default_factory=dict)
    dropout: Dropout | None = None
    train_step: TrainStep | None = None
    bench: Bench | None = None
    timeout: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise SpecError(f"Pair name must be snake_case ([a-z][a-z0-9_]*). Received: name={self.name!r}")
        if not self.inputs:
            raise SpecError(f"Pair {self.name!r} declares no inputs; a pair needs at least one Tensor")
        unknown = [c for c in self.checks if c not in CHECKS]
        if unknown:
            raise SpecError(f"Pair {self.name!r}: unknown checks {unknown}; known: {CHECKS}")
        styles = {side: style for side, style in self.inputs_as.items()
                  if side not in ("torch", "tf") or style not in INPUT_STYLES}
        if styles:
            raise SpecError(f"Pair {self.name!r}: inputs_as maps 'torch' and 'tf' to one of {INPUT_STYLES}. "
                            f"Received: {styles}")
        missing = [a for a in self.call_args if a not in self.dims]
        if missing:
            raise SpecError(f"Pair {self.name!r}: call_args {missing} are not declared in dims")
        if self.output_layout not in LAYOUTS:
            raise SpecError(f"Pair {self.name!r}: output_layout must be one of {LAYOUTS}")
        bad_modes = [m for m in (*self.modes, *(k.partition(":")[0] for k in self.skip_modes)) if m not in MODES]
        if bad_modes or not self.modes:
            raise SpecError(f"Pair {self.name!r}: modes must be a non-empty subset of {MODES}; got {bad_modes}")
        bad_checks = [k for k in self.skip_modes if ":" in k and k.partition(":")[2] not in CHECKS]
        if bad_checks:
            raise SpecError(f"Pair {self.name!r}: a skip_modes key is a mode or 'mode:check', a check one of "
                            f"{CHECKS}. Received: {bad_checks}")
        if self.timeout is not None and self.timeout <= 0:
            raise SpecError(f"Pair {self.name!r}: timeout must be > 0 seconds. Received: timeout={self.timeout}")
        if self.calls < 1:
            raise SpecError(f"Pair {self.name!r}: calls must be >= 1. Received: calls={self.calls}")
        strange = [d for d in self.train_dims if d not in self.dims]
        if strange:
            raise SpecError(f"Pair {self.name!r}: train_dims {strange} are not declared in dims")
        declared = [c for c, given in (("statistics", self.dropout), ("train_step", self.train_step))
                    if c in self.checks and given is None]
        if declared:
            raise SpecError(f"Pair {self.name!r}: checks {declared} need the pair's `dropout` / `train_step`")
        implied = tuple(c for c, given in (("statistics", self.dropout), ("train_step", self.train_step))
                        if given is not None and c not in self.checks)
        object.__setattr__(self, "checks", (*self.checks, *implied))
        for size, params in (self.bench.sizes() if self.bench else {}).items():
            unfixed = [d for d in self.dims if d not in params]
            if unfixed:
                raise SpecError(f"Pair {self.name!r}: bench size {size!r} must fix every dim; missing {unfixed}")
        if self.converted:
            self._check_converter()
        elif isinstance(self.weights, str):
            if self.weights != AUTO:
                raise SpecError(f"Pair {self.name!r}: weights is a mapping or {AUTO!r}. Received: {self.weights!r}")
        else:
            object.__setattr__(
                self, "weights", {k: Link(v) if isinstance(v, str) else v for k, v in self.weights.items()}
            )
        sides = [s for s in self.side_kwargs if s not in ("torch", "tf")]
        if sides:
            raise SpecError(f"Pair {self.name!r}: side_kwargs is keyed 'torch' and 'tf'. Received: {sides}")

    def _check_converter(self) -> None:
        if self.weights:
            raise SpecError(f"Pair {self.name!r}: a converter pair's weight map is probed off its converter; leave "
                            f"weights= out. Received: weights={self.weights!r}")
        unsupported = [c for c in self.checks if c not in CONVERTER_CHECKS]
        if unsupported:
            raise SpecError(f"Pair {self.name!r}: checks {unsupported} move values from TF back through a weight map, "
                            f"which a probed converter does not give; a converter pair checks {CONVERTER_CHECKS}")

    @property
    def converted(self) -> bool:
        """Whether the Keras side is made from the torch side's weights by a :class:`Converter`."""
        return isinstance(self.tf, Converter)

    @property
    def dropped_outputs(self) -> frozenset[str]:
        """torch output keys declared without a TF counterpart (``outputs={key: None}``)."""
        return frozenset(k for k, v in self.outputs.items() if v is None)

    @property
    def auto_weights(self) -> bool:
        """Whether the weight map is resolved when the layers are built: by the atlas (``weights="auto"``) or by
        probing a converter; either way every record lists the map it used."""
        return isinstance(self.weights, str) or self.converted

    def convention(self, side: str) -> tuple[str, tuple[str, ...], tuple[tuple[str, Any], ...]]:
        """How ``side`` is called: the inputs' style, each tensor's key, and its fixed keyword arguments."""
        return (self.inputs_as.get(side, "args"), tuple(t.key(side) for t in self.inputs),
                tuple(self.side_kwargs.get(side, {}).items()))

    def modes_for(self, check: str) -> tuple[str, ...]:
        """The modes a check runs in for this pair.

        The parameter sets and serialisation are mode-free (inference); statistics and a
        training step are training by definition. A stochastic pair's training-mode
        outputs are random on each side, so its value-by-value checks skip training: the
        ``statistics`` check covers it.
        """
        if check in _FIXED_MODE:
            return (_FIXED_MODE[check],)
        return tuple(m for m in self.modes if not (m == "train" and self.dropout is not None))

    def declared(self, check: str, dtype: str, mode: str = "eval", device: str = "cpu") -> tuple[KnownDivergence, ...]:
        """Every declaration about one record's check, dtype, mode and device (a model may have several)."""
        return tuple(k for k in self.known_divergences
                     if k.check == check and dtype in k.dtypes and mode in k.modes and k.on(device))

    def tolerance_override(self, check: str, dtype: str) -> Tolerance | None:
        return next((t for t in self.tolerances if check in t.checks and dtype in t.dtypes), None)

    def describe(self) -> dict[str, Any]:
        """The JSON-able summary ``conform list --format json`` prints."""
        return {
            "name": self.name,
            "origin": {"seed": self.origin.seed, "tutorial_name": self.origin.tutorial_name,
                       "shown": list(self.origin.shown), "note": self.origin.note,
                       **({"atlas": dict(self.origin.atlas)} if self.origin.atlas else {})},
            "checks": list(self.checks),
            "inputs": [{"name": t.name, "shape": list(t.shape), "layout": t.layout, "dtype": t.dtype}
                   for t in self.inputs],
            "outputs": dict(self.outputs),
            "weights": {"converter": self.tf.name} if isinstance(self.tf, Converter) else
            self.weights if self.auto_weights else
            {k: {"tf": list(v.paths) if len(v.paths) > 1 else v.tf, "transform": v.transform.name}
             if isinstance(v, Link) else {"torch_only": v.reason} for k, v in self.weights.items()},
            "modes": list(self.modes),
            "skip_modes": dict(self.skip_modes),
            "stages": [s.name for s in self.stages],
            "known_divergences": [{"check": k.check, "reason": k.reason, "dtypes": list(k.dtypes),
                                   "modes": list(k.modes), "tensors": list(k.tensors),
                                   "scoped": k.where is not None,
                                   "devices": None if k.devices is None else list(k.devices),
                                   "finding": k.finding}
                                  for k in self.known_divergences],
            "dropout": None if self.dropout is None else {"rate": self.dropout.rate, "torch": self.dropout.torch,
                                                          "tf": self.dropout.tf},
            "train_step": None if self.train_step is None else {"lr": self.train_step.lr,
                                                                "steps": self.train_step.steps},
            "bench": None if self.bench is None else {k: dict(v) for k, v in self.bench.sizes().items()},
            "tolerances": [{"rtol": t.rtol, "atol": t.atol, "reason": t.reason} for t in self.tolerances],
            "description": self.description,
        }
