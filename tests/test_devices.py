"""GPU runs: torch GPU vs torch CPU, TF on its GPU or reported unavailable, and timing on CUDA.

The CUDA tests run for real on a machine with a GPU and skip elsewhere with the reason. The
GPU-vs-CPU comparison itself is also exercised here on a CPU, with a planted layer whose two
instances compute differently (standing in for a kernel that differs by device), so that
CI shows it can fail.
"""

from __future__ import annotations

import itertools
import statistics
import time

import pytest

from harness import devices
from harness.cases import Case
from harness.check import Target, run_check
from harness.checks import evaluate
from tests import broken_pairs as bp

_BUILT = itertools.count()


def _instance_scaled(p, detach_second: bool = False):
    """A linear layer whose second instance scales its output (or detaches its weight)."""
    import torch

    class Linear(torch.nn.Linear):
        def __init__(self, features: int, units: int):
            super().__init__(features, units)
            self.index = next(_BUILT)

        def forward(self, x):
            if self.index % 2 == 0:
                return super().forward(x)
            if detach_second:
                return x @ self.weight.detach().T + self.bias
            return super().forward(x) * (1 + 1e-4)

    return Linear(p["features"], p["units"])


def _without_tf(monkeypatch):
    real = devices.unavailable
    monkeypatch.setattr(devices, "unavailable",
                        lambda fw, device: "TF has no GPU here (planted)" if fw == "tf" else real(fw, device))


@pytest.mark.parametrize(("check", "detach"), [("forward", False), ("gradient", True)])
def test_the_gpu_vs_cpu_comparison_catches_a_device_dependent_layer(monkeypatch, check, detach):
    _without_tf(monkeypatch)
    from dataclasses import replace

    case = Case({"batch": 3, "features": 4, "units": 4}, "normal", 0)
    broken = replace(bp.correct_linear, name="device_dependent", torch=lambda p: _instance_scaled(p, detach))
    evaluation = evaluate(Target(broken, check, "float32"), case)
    assert not evaluation.ok and evaluation.execution["tf"].startswith("unavailable: TF has no GPU")
    failing = [m.name for m in evaluation.metrics if not m.ok]
    assert failing and all("[torch cpu vs cpu]" in name for name in failing)
    if check == "gradient":
        assert failing == ["grad weight [torch cpu vs cpu]"]  # the input gradient still agrees
    control = evaluate(Target(bp.correct_linear, check, "float32"), case)
    assert control.ok and control.metrics


def test_a_conformance_run_on_cuda_without_tf_gpu_skips_the_checks_that_need_tf(monkeypatch):
    monkeypatch.setattr(devices, "unavailable", lambda fw, device: "planted: no TF GPU" if fw == "tf" else None)
    record = run_check(Target(bp.correct_linear, "serialization", "float32", device="cuda"))
    assert record.verdict == "skip" and "the TF side is unavailable on 'cuda': planted: no TF GPU" in record.message


def _cuda_reason() -> str | None:
    return devices.unavailable("torch", "cuda")


needs_cuda = pytest.mark.skipif(_cuda_reason() is not None, reason=f"no CUDA here: {_cuda_reason()}")


@needs_cuda
def test_the_harness_cuda_clock_agrees_with_cuda_events():
    """Wall time around the synchronised call vs CUDA events around the same calls."""
    import torch

    from harness import registry
    from harness.timing import Workload

    pair = registry.load([]).pairs["raw_linear_002"]
    timed, _ = Workload(pair, "torch", "cuda", "forward+backward", "eager", "large").prepare()
    wall, events = [], []
    for _ in range(30):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record()
        timed()
        end.record()
        wall.append(time.perf_counter() - t0)
        end.synchronize()
        events.append(start.elapsed_time(end) / 1e3)
    w, ev = statistics.median(wall), statistics.median(events)
    assert abs(w - ev) <= max(0.1 * ev, 50e-6), f"wall {w:.3g}s vs events {ev:.3g}s"


@needs_cuda
def test_without_synchronising_the_clock_would_stop_early():
    """The control: a big matmul launched and not waited for 'takes' a fraction of its real time."""
    import torch

    a = torch.randn(8192, 8192, device="cuda")
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(5):
        a @ a
    unsynced = time.perf_counter() - t0
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(5):
        a @ a
    devices.synchronize("torch", "cuda")
    synced = time.perf_counter() - t0
    assert unsynced < 0.5 * synced


@needs_cuda
def test_a_cuda_conformance_run_compares_torch_gpu_with_cpu_and_with_tf():
    record = run_check(Target(bp.correct_linear, "gradient", "float32", device="cuda"), max_examples=5)
    assert record.verdict == "pass", record.message
    assert any("[torch cuda vs cpu]" in name for name in record.metrics)
    tf_problem = devices.unavailable("tf", "cuda")
    assert (tf_problem is None) == any("grad weight" == name for name in record.metrics)
