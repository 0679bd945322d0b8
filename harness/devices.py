"""Where each framework runs, whether it can, and the math settings that change GPU results.

Why one module: a run on ``cuda`` must put TF on the GPU too (and a run on ``cpu`` must keep
TF off a GPU it would otherwise grab), must switch TF32 the same way on both sides, must wait
for the GPU before a clock stops, and must say *why* a framework is missing rather than
crash: a CUDA box with only torch installed still benchmarks torch.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any

from harness import frameworks

__all__ = [
    "FRAMEWORKS", "cudnn_benchmark", "math_settings", "peak_memory", "reset_peak_memory", "set_tf32", "synchronize",
    "tf_needs_scope", "tf_scope", "unavailable",
]

FRAMEWORKS = ("torch", "tf")


@functools.cache
def _import_problem(framework: str) -> str | None:
    """Why ``framework`` cannot be imported as the harness needs it (cached: imports are once)."""
    load = {"torch": frameworks.torch, "tf": frameworks.keras}[framework]
    try:
        load()
    except ImportError as exc:
        package = "torch" if framework == "torch" else "tensorflow"
        return f"{package} is not installed in this environment ({exc})"
    except frameworks.FrameworkSetupError as exc:
        return str(exc)
    return None


def _gpu_index(device: str) -> int:
    return int(device.split(":", 1)[1]) if ":" in device else 0


def unavailable(framework: str, device: str) -> str | None:
    """Why ``framework`` cannot run on ``device`` here, or None when it can."""
    problem = _import_problem(framework)
    if problem or not device.startswith("cuda"):
        return problem
    index = _gpu_index(device)
    if framework == "torch":
        t = frameworks.torch()
        if not t.cuda.is_available():
            return f"torch sees no CUDA device (torch.cuda.is_available() is False; torch {t.__version__})"
        if index >= t.cuda.device_count():
            return f"torch sees {t.cuda.device_count()} CUDA device(s); {device!r} is not one of them"
        return None
    if index >= _tf_gpus():
        build = "a CUDA build" if frameworks.tf().test.is_built_with_cuda() else "a CPU-only build (tensorflow-cpu)"
        return f"TensorFlow sees {_tf_gpus()} GPU(s) ({build}); {device!r} is not available to it"
    return None


@functools.cache
def _tf_gpus() -> int:
    return len(frameworks.tf().config.list_physical_devices("GPU"))


def tf_needs_scope(device: str) -> bool:
    """Whether TF must be told where to run: on a GPU, or on a CPU where it would pick a GPU."""
    return not _import_problem("tf") and (device.startswith("cuda") or _tf_gpus() > 0)


@contextlib.contextmanager
def tf_scope(device: str) -> Iterator[None]:
    """Place TF's variables and ops on the target device (TF would pick a GPU for a CPU run)."""
    if not tf_needs_scope(device):
        yield
        return
    name = f"/GPU:{_gpu_index(device)}" if device.startswith("cuda") else "/CPU:0"
    with frameworks.tf().device(name):
        yield


def set_tf32(enabled: bool) -> None:
    """TF32 on or off in both frameworks: TF enables it by default on Ampere+, torch's matmul does not."""
    if not _import_problem("torch"):
        t = frameworks.torch()
        t.backends.cuda.matmul.allow_tf32 = enabled
        t.backends.cudnn.allow_tf32 = enabled
    if not _import_problem("tf"):
        frameworks.tf().config.experimental.enable_tensor_float_32_execution(enabled)


def cudnn_benchmark(enabled: bool) -> None:
    """torch's cuDNN autotuning (TF autotunes by default: TF_CUDNN_USE_AUTOTUNE)."""
    if not _import_problem("torch"):
        frameworks.torch().backends.cudnn.benchmark = enabled


def reset_peak_memory(framework: str, device: str) -> None:
    """Start a peak-memory measurement on a GPU (CPU memory is the process's: see the README)."""
    if unavailable(framework, device) or not device.startswith("cuda"):
        return
    if framework == "torch":
        frameworks.torch().cuda.reset_peak_memory_stats(device)
    else:
        frameworks.tf().config.experimental.reset_memory_stats(f"GPU:{_gpu_index(device)}")


def peak_memory(framework: str, device: str) -> int | None:
    """Bytes the framework's allocator held at most on the GPU since the last reset; None on CPU."""
    if unavailable(framework, device) or not device.startswith("cuda"):
        return None
    if framework == "torch":
        return int(frameworks.torch().cuda.max_memory_allocated(device))
    return int(frameworks.tf().config.experimental.get_memory_info(f"GPU:{_gpu_index(device)}")["peak"])


def synchronize(framework: str, device: str) -> None:
    """Wait until ``device`` has finished the work queued on it (GPU launches return at once)."""
    if not device.startswith("cuda"):
        return
    if framework == "torch":
        frameworks.torch().cuda.synchronize(device)
    else:
        frameworks.tf().test.experimental.sync_devices()


def math_settings() -> dict[str, Any]:
    """What decides float32 results and speed here: threads, oneDNN, TF32, cuDNN autotuning."""
    out: dict[str, Any] = {"threads": frameworks.thread_count(),
                           "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}
    if not _import_problem("torch"):
        t = frameworks.torch()
        out.update(torch_threads=t.get_num_threads(), torch_interop_threads=t.get_num_interop_threads(),
                   torch_tf32_matmul=t.backends.cuda.matmul.allow_tf32, torch_tf32_cudnn=t.backends.cudnn.allow_tf32,
                   torch_float32_matmul_precision=t.get_float32_matmul_precision(),
                   torch_cudnn_benchmark=t.backends.cudnn.benchmark, torch_mkldnn=t.backends.mkldnn.is_available())
    if not _import_problem("tf"):
        tf = frameworks.tf()
        out.update(tf_intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                   tf_inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(),
                   tf_tf32=tf.config.experimental.tensor_float_32_execution_enabled(),
                   TF_CUDNN_USE_AUTOTUNE=os.environ.get("TF_CUDNN_USE_AUTOTUNE", "1 (TF's default)"))
    return out
