"""environment.json: what ran, where, with which numerics settings.

Two result sets are only comparable when their environments are known: framework versions,
the CPU, thread counts and the oneDNN/TF32 switches all change float32 results.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import devices, frameworks
from harness.results import SCHEMA_VERSION

__all__ = ["collect", "cpu_vector_extensions"]

_PACKAGES = ("torch", "tensorflow-cpu", "tensorflow", "keras", "numpy", "hypothesis", "pytest", "pytest-benchmark")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


# The vector extensions that decide how float32 kernels round (FMA contracts a multiply-add into
# one rounding, AVX-512 sums 16 lanes at a time where AVX2 sums 8): two runs on CPUs that differ
# here may differ in float32 results without either framework having changed.
_VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                 "avx512_fp16", "amx_tile", "amx_bf16", "asimd", "sve")


def cpu_vector_extensions() -> dict[str, Any]:
    """The CPU's vector extensions that matter to float32 kernels, and the ones torch dispatches to."""
    flags: set[str] = set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
                break
    out: dict[str, Any] = {"flags": [f for f in _VECTOR_FLAGS if f in flags]}
    if devices.unavailable("torch", "cpu") is None:
        out["torch_cpu_capability"] = frameworks.torch().backends.cpu.get_cpu_capability()
    out["ATEN_CPU_CAPABILITY"] = os.environ.get("ATEN_CPU_CAPABILITY")
    return out


def _settings() -> dict[str, Any]:
    """The numerics-relevant settings in force (math settings plus how Keras was chosen)."""
    out = devices.math_settings()
    out.update(KERAS_BACKEND=os.environ.get("KERAS_BACKEND"), TF_USE_LEGACY_KERAS=os.environ.get("TF_USE_LEGACY_KERAS"),
               torch_flush_denormal="while torch runs a case (TF's CPU kernels flush subnormals)")
    return out


def collect(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A snapshot of the environment; imports the frameworks (so call it once per run).

    A framework that is not installed is recorded as unavailable, with the reason, instead
    of failing: a CUDA machine with only torch still records its torch-only run.
    """
    frameworks.configure_environment()
    env: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_vector_extensions": cpu_vector_extensions(),
        "packages": {p: v for p in _PACKAGES if (v := _version(p)) is not None},
        "settings": _settings(),
        "cuda": {},
    }
    for framework in devices.FRAMEWORKS:
        problem = devices.unavailable(framework, "cpu")
        if problem:
            env.setdefault("unavailable", {})[framework] = problem
    if "torch" not in env.get("unavailable", {}):
        t = frameworks.torch()
        env["torch_version"] = t.__version__
        env["cuda"]["torch"] = t.cuda.is_available()
        if t.cuda.is_available():
            env["cuda"]["torch_devices"] = [t.cuda.get_device_name(i) for i in range(t.cuda.device_count())]
            env["cuda"]["torch_cuda_version"] = t.version.cuda
    if "tf" not in env.get("unavailable", {}):
        env["tensorflow_version"] = frameworks.tf().__version__
        env["keras_version"] = frameworks.keras().__version__
        env["cuda"]["tf_gpus"] = [d.name for d in frameworks.tf().config.list_physical_devices("GPU")]
    env.update(extra or {})
    return env
