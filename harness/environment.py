"""environment.json: what ran, where, with which numerics settings.

Two result sets are only comparable when their environments are known: framework versions,
the CPU, thread counts and the oneDNN/TF32 switches all change float32 results.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import platform
import re
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import devices, frameworks
from harness.results import SCHEMA_VERSION

__all__ = ["collect", "compile_caches", "cpu_vector_extensions"]

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
               MKL_CBWR=os.environ.get("MKL_CBWR"), XLA_FLAGS=os.environ.get("XLA_FLAGS"),
               torch_flush_denormal="while torch runs a case (TF's CPU kernels flush subnormals)")
    return out


def compile_caches() -> dict[str, Any]:
    """Where graph mode's compilations persist between runs, and whether each cache is on.

    torch.compile keeps inductor's compiled kernels (the FX graph cache) and AOTAutograd's
    joint graphs on disk: the compiled torch calls of four graph records took 34.6 s with an
    empty cache and 6.9 s with a warm one (this 2-core machine). Deleting the directory is
    safe (the next run compiles again). The directory is worked out as torch does
    (``torch._inductor.runtime.cache_dir_utils``), without importing inductor, which pulls
    in all of dynamo. XLA compiles in the process only: its persistent cache (``TF_XLA_FLAGS=
    --tf_xla_persistent_cache_directory``) measured no gain on graph records, whose
    tf.functions are new objects in every run.
    """
    directory = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if directory is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = f"uid_{os.getuid()}" if hasattr(os, "getuid") else "unknown_user"
        directory = os.path.join(tempfile.gettempdir(), "torchinductor_" + re.sub(r'[\\/:*?"<>|]', "_", user))

    def switch(variable: str) -> bool:
        return os.environ.get(variable, "1") != "0"  # on unless turned off, as in torch 2.13

    return {"torch_inductor": {"directory": os.path.abspath(directory),
                               "fx_graph_cache": switch("TORCHINDUCTOR_FX_GRAPH_CACHE"),
                               "aot_autograd_cache": switch("TORCHINDUCTOR_AUTOGRAD_CACHE")},
            "xla": "in-process only"}


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
        "compile_caches": compile_caches(),
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
