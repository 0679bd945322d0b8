"""Each paired layer timed in each framework: one pytest-benchmark item per workload.

Run through ``conform bench`` (JSON into the run directory, report rendered) or as plain
``pytest benchmarks``. Build and warm-up happen before the clock; the timed call waits for
the device. FLOPs, achieved GFLOP/s beside the device's own measured matmul rate (and the
fraction of it the layer reaches), the first call's seconds (tracing/compiling) and, on a GPU,
the peak device memory land in ``extra_info``.
"""

from __future__ import annotations

import pytest

from harness import devices, peak
from harness.timing import Workload


def test_layer(benchmark, workload: Workload) -> None:
    reason = workload.skip_reason()
    if reason:
        pytest.skip(reason)
    benchmark.group = workload.group
    benchmark.extra_info.update(workload.extra_info())
    devices.reset_peak_memory(workload.framework, workload.device)
    timed, first_call_s = workload.prepare()
    benchmark.extra_info["first_call_s"] = first_call_s
    benchmark(timed)
    benchmark.extra_info["peak_device_bytes"] = devices.peak_memory(workload.framework, workload.device)
    flops = workload.flops()
    if flops and benchmark.stats is not None:
        achieved = flops / benchmark.stats.stats.median / 1e9
        device_peak = peak.matmul_gflops(workload.framework, workload.device)  # measured here, same settings
        benchmark.extra_info.update(gflops_per_s=achieved, peak_gflops_per_s=device_peak,
                                    fraction_of_peak=achieved / device_peak)
