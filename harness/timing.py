"""What a benchmark times: one pair x framework x device x pass x execution x size.

Why not time ``torch_side.run`` / ``tf_side.run``: those copy every result to numpy for
comparison, and a copy inside the clock would time the copy. A :class:`Workload` builds the
layer once, puts its inputs (and cotangents) on the device, warms up -- tracing,
``torch.compile``, XLA, cuDNN autotuning all happen on the first calls and are excluded --
and hands pytest-benchmark a callable that ends by waiting for the device, so a GPU's
asynchronous launches cannot stop the clock early.

Everything a benchmark is compared on is in :meth:`Workload.extra_info`: pair, framework,
device, pass, execution, size and its params, FLOPs and the math settings in force.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import devices
from harness.cases import Case
from harness.engine import draw_inputs
from harness.layouts import layout_of
from harness.sides import POSITIONAL
from harness.spec import BENCH_SIZES, LayerPair

__all__ = ["DEVICES", "EXECUTIONS", "GPU_SIZE", "LAUNCH_SHARE", "PASSES", "WARMUP_CALLS", "Workload", "filled",
           "median_call", "workloads"]

PASSES = ("forward", "forward+backward")
EXECUTIONS = ("eager", "compiled")
DEVICES = ("cpu", "cuda")
DTYPE = "float32"
SEED = 0
# Calls before the clock starts: the first traces/compiles/autotunes; the next ones show a
# graph that retraces on a second call (it would be timed otherwise) and settle the caches.
WARMUP_CALLS = 3
_SHORT = {"forward": "fwd", "forward+backward": "fwd+bwd"}
# The size that fills a GPU: the large size with its batch grown until launching a call is at most this share of it
# (the large sizes were launch-bound on an H200: 36-47 us a call, 6-7 % of the device's matmul rate).
GPU_SIZE = "gpu"
LAUNCH_SHARE = 0.1
MAX_BATCH = 1 << 16
# Matmul and convolution backward passes do the forward's work twice (input and weight
# gradients): the usual convention for FLOPs of forward+backward.
_BACKWARD_FACTOR = 3


@dataclass(frozen=True)
class Workload:
    """One benchmark; ``builtin`` times the frameworks' own layer declared beside the pair."""

    pair: LayerPair
    framework: str
    device: str
    pass_: str
    execution: str
    size: str
    builtin: bool = False

    @property
    def params(self) -> dict[str, Any]:
        if self.size == GPU_SIZE:
            return dict(filled(self)["params"])
        return dict(self.pair.bench.sizes()[self.size]) if self.pair.bench else {}

    @property
    def id(self) -> str:
        who = f"{self.framework}-builtin" if self.builtin else self.framework
        return f"{self.pair.name}-{self.size}-{self.device}-{_SHORT[self.pass_]}-{self.execution}-{who}"

    @property
    def group(self) -> str:
        """pytest-benchmark's table puts one group's rows together: torch, TF and built-ins."""
        return f"{self.pair.name} {self.size} {self.device} {_SHORT[self.pass_]} {self.execution}"

    def skip_reason(self) -> str | None:
        if self.pair.bench is None:
            return f"pair {self.pair.name!r} declares no bench sizes (LayerPair.bench)"
        if self.size == GPU_SIZE and "batch" not in self.pair.bench.large:
            return f"pair {self.pair.name!r}: no `batch` dim to grow its large size until the device is full"
        return devices.unavailable(self.framework, self.device)

    def flops(self) -> float | None:
        count = self.pair.bench.flops if self.pair.bench else None
        if count is None:
            return None
        return float(count(self.params)) * (_BACKWARD_FACTOR if self.pass_ == "forward+backward" else 1)

    def extra_info(self) -> dict[str, Any]:
        bench = self.pair.bench
        info = {"pair": self.pair.name, "framework": self.framework, "device": self.device, "pass": self.pass_,
                "execution": self.execution, "size": self.size, "params": self.params, "dtype": DTYPE,
                "builtin": bench.builtin.name if self.builtin and bench and bench.builtin else None,
                "flops": self.flops(), "math": devices.math_settings()}
        if self.size == GPU_SIZE:
            info["launch_share"] = filled(self)["launch_share"]
        return info

    def prepare(self, params: Mapping[str, Any] | None = None) -> tuple[Callable[[], None], float]:
        """Build, put inputs on the device, warm up; the timed call and the first call's seconds.

        ``params`` replaces the size's own (the fill search times candidate sizes this way).
        """
        from harness.sides import tf_side, torch_side

        params, pair = dict(self.params if params is None else params), self.pair
        rng = np.random.default_rng(SEED)
        inputs = draw_inputs(pair, Case(params, "normal", SEED), rng, DTYPE)
        kwargs = {n: params[n] for n in pair.call_args}
        builtin = pair.bench.builtin if self.builtin and pair.bench else None
        compiled = self.execution == "compiled"
        grad = self.pass_ == "forward+backward"
        if self.framework == "torch":
            obj = torch_side.build(builtin.torch if builtin else pair.torch, params, DTYPE, self.device, SEED,
                                   POSITIONAL if builtin else pair.convention("torch"))
            outputs = torch_side.run(obj, inputs, kwargs, None, mode="eval", device=self.device).outputs
            cots = [rng.standard_normal(o.shape).astype(DTYPE) for o in outputs] if grad else None
            step = torch_side.step(obj, inputs, kwargs, cots, compiled, self.device)
        else:
            tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
            with devices.tf_scope(self.device):
                obj = tf_side.build(builtin.tf if builtin else pair.tf, params, DTYPE, tf_inputs, kwargs,
                                    POSITIONAL if builtin else pair.convention("tf"))
                outputs = tf_side.run(obj, tf_inputs, kwargs, None, mode="eval").outputs
                cots = [rng.standard_normal(o.shape).astype(DTYPE) for o in outputs] if grad else None
                step = tf_side.step(obj, tf_inputs, kwargs, cots, compiled)
        timed = _synchronised(step, self.framework, self.device)
        start = time.perf_counter()
        timed()
        first = time.perf_counter() - start
        for _ in range(WARMUP_CALLS - 1):
            timed()
        return timed, first


def median_call(timed: Callable[[], None], calls: int = 5) -> float:
    """The median seconds of a few calls of an already warmed-up timed callable."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        timed()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


_FILLED: dict[tuple[str, ...], dict[str, Any]] = {}


def filled(workload: Workload, max_batch: int = MAX_BATCH) -> dict[str, Any]:
    """The ``gpu`` size: the large size with its batch doubled until launching is under ``LAUNCH_SHARE`` of a call.

    The small size's call is almost all launch and framework overhead, so its median stands
    for the overhead of one call; the batch grows from the large size's until a call takes
    ``1 / LAUNCH_SHARE`` times that (or the batch reaches ``max_batch``, or the device runs out
    of memory: the last size that fitted is kept). Searched once per pair, framework, device,
    pass and execution; ``launch_share`` is the overhead's share at the size found.
    """
    key = (workload.pair.name, workload.framework, workload.device, workload.pass_, workload.execution)
    if key in _FILLED:
        return _FILLED[key]
    bench = workload.pair.bench
    assert bench is not None and "batch" in bench.large
    small = Workload(workload.pair, workload.framework, workload.device, workload.pass_, workload.execution, "small")
    overhead = median_call(small.prepare()[0])
    params, found = dict(bench.large), None
    while params["batch"] <= max_batch:
        try:
            seconds = median_call(workload.prepare(params)[0])
        except (RuntimeError, MemoryError) as exc:  # the frameworks' out-of-memory errors are RuntimeErrors
            if found is None or "memory" not in str(exc).lower():
                raise
            break
        found = {"params": dict(params), "launch_share": overhead / seconds}
        if seconds * LAUNCH_SHARE >= overhead:
            break
        params["batch"] *= 2
    _FILLED[key] = found
    return found


def _synchronised(step: Callable[[], Any], framework: str, device: str) -> Callable[[], None]:
    """The call, on the framework's device, returning only once the device is done."""
    scoped = framework == "tf" and devices.tf_needs_scope(device)

    def timed() -> None:
        with devices.tf_scope(device) if scoped else contextlib.nullcontext():
            step()
        devices.synchronize(framework, device)

    return timed


def workloads(pairs: Iterable[LayerPair], device_names: Sequence[str], sizes: Sequence[str] = BENCH_SIZES,
              executions: Sequence[str] = EXECUTIONS, passes: Sequence[str] = PASSES) -> list[Workload]:
    """The benchmark matrix, in table order: a pair's torch, TF and built-in rows are adjacent.

    ``sizes`` may name ``gpu``, the size that fills the device (:func:`filled`): it is timed on a
    GPU only, where the others are launch-bound.
    """
    out = []
    for pair in pairs:
        if pair.bench is None:  # one row that says why, not a matrix of identical skips
            out.append(Workload(pair, devices.FRAMEWORKS[0], device_names[0], passes[0], executions[0], sizes[0]))
            continue
        with_builtin = pair.bench.builtin is not None
        for size in sizes:
            for device in device_names:
                if size == GPU_SIZE and not device.startswith("cuda"):
                    continue
                for pass_ in passes:
                    for execution in executions:
                        for framework in devices.FRAMEWORKS:
                            out.append(Workload(pair, framework, device, pass_, execution, size))
                            if with_builtin:
                                out.append(Workload(pair, framework, device, pass_, execution, size, builtin=True))
    return out
