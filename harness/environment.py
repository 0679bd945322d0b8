"""environment.json: what ran, where, with which numerics settings.

Two result sets are only comparable when their environments are known: framework versions,
the CPU, thread counts and the oneDNN/TF32 switches all change float32 results.
"""

from __future__ import annotations

import datetime as _dt
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import frameworks
from harness.results import SCHEMA_VERSION

__all__ = ["collect"]

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


def collect(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A snapshot of the environment; imports both frameworks (so call it once per run)."""
    env: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "packages": {p: v for p in _PACKAGES if (v := _version(p)) is not None},
        "settings": frameworks.settings(),
    }
    t = frameworks.torch()
    env["torch_version"] = t.__version__
    env["tensorflow_version"] = frameworks.tf().__version__
    env["keras_version"] = frameworks.keras().__version__
    env["cuda"] = {"torch": t.cuda.is_available(),
                   "tf_gpus": [d.name for d in frameworks.tf().config.list_physical_devices("GPU")]}
    env.update(extra or {})
    return env
