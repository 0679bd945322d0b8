"""The device's own measured peak: a dense matmul, timed in the same run, at the same precision settings.

Why: a layer's GFLOP/s says little alone. On an H200 the catalogue's largest benchmark reached
2.9-3.7 TFLOP/s, and the same machine runs a float32 matmul (TF32 off) at 51: the layer reaches
6-7 % of the device, which is the figure a user benchmarking a port wants. A datasheet's peak
is not what the frameworks reach with these settings (TF32 on or off, this CPU's thread count),
so the peak is measured: an ``n x n`` matmul in each framework on the device, the median of a
few synchronised calls, once per process, framework, device and dtype.
"""

from __future__ import annotations

import functools
import statistics
import time
from typing import Any

import numpy as np

from harness import devices

__all__ = ["ROUNDS", "SIDE", "matmul_gflops"]

# n for the matmul: large enough that the arithmetic dominates the launch on each kind of device.
SIDE = {"cpu": 1024, "cuda": 8192}
ROUNDS = 5


def _timed(call: Any, framework: str, device: str) -> float:
    call()  # warm-up: library initialisation, autotuning
    devices.synchronize(framework, device)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        devices.synchronize(framework, device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@functools.cache
def matmul_gflops(framework: str, device: str, dtype: str = "float32") -> float:
    """The measured GFLOP/s of an ``n x n`` matmul (2 n^3 FLOPs) in ``framework`` on ``device``."""
    n = SIDE["cuda" if device.startswith("cuda") else "cpu"]
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    if framework == "torch":
        from harness.frameworks import torch

        x = torch().from_numpy(a).to(device)
        seconds = _timed(lambda: x @ x, framework, device)
    else:
        from harness.frameworks import tf

        with devices.tf_scope(device):
            x = tf().constant(a)
            seconds = _timed(lambda: tf().linalg.matmul(x, x), framework, device)
    return 2 * n**3 / seconds / 1e9
