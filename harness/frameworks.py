"""The one place that imports torch and TensorFlow, in the order and with the settings that work.

Why one place: importing TF before torch has segfaulted elsewhere, TF must read its logging
and oneDNN variables before it loads, Keras must be Keras 3 on the TensorFlow backend, and
both frameworks must use the same thread counts for any timing to be fair. Every module that
needs a framework asks here, lazily, so ``conform list`` and the bridge load neither.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

__all__ = ["FrameworkSetupError", "configure_environment", "cores", "keras", "tf", "thread_count", "torch"]

_DEFAULTS = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
    # oneDNN's fused CPU kernels change float32 rounding from run to run of the graph
    # rewriter; conformance wants the reference kernels. Override by setting it yourself.
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
}


class FrameworkSetupError(RuntimeError):
    """The process cannot host both frameworks as the harness needs them."""


def configure_environment() -> None:
    """Set the variables TF and Keras read at import time (only those the user left unset)."""
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "")
    if legacy.lower() in {"1", "true", "yes"}:
        raise FrameworkSetupError(
            f"TF_USE_LEGACY_KERAS={legacy!r} selects Keras 2; this harness checks Keras 3 layers. "
            "Unset TF_USE_LEGACY_KERAS."
        )


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, as in a container)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_count(workers: int | None = None) -> int:
    """Intra-op threads for both frameworks: $CONFORM_THREADS, else a process's share of the cores.

    Under pytest-xdist (``conform run -n N``) each of the N workers gets cores / N threads:
    N processes with every core each would oversubscribe the machine, and the small ops of a
    conformance check gain nothing from threads another worker needs. ``workers``: the count
    to share among (default: this process's, from xdist's ``PYTEST_XDIST_WORKER_COUNT``).
    """
    raw = os.environ.get("CONFORM_THREADS")
    if raw is None:
        if workers is None:
            count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")
            workers = int(count) if count.isdigit() else 1
        return max(1, cores() // max(1, workers))
    if not raw.isdigit() or int(raw) < 1:
        raise FrameworkSetupError(f"CONFORM_THREADS must be a positive integer. Received: {raw!r}")
    return int(raw)


@functools.cache
def torch() -> ModuleType:
    configure_environment()
    import torch as _torch

    _torch.set_num_threads(thread_count())
    try:
        _torch.set_num_interop_threads(1)
    except RuntimeError:  # already set by an earlier user of torch in this process
        pass
    return _torch


@functools.cache
def tf() -> ModuleType:
    configure_environment()
    try:
        torch()  # torch first: the reverse order has segfaulted in Keras's own test suite
    except ImportError:
        pass
    import tensorflow as _tf

    threads = thread_count()
    try:
        _tf.config.threading.set_intra_op_parallelism_threads(threads)
        _tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TF already initialised its runtime in this process
        pass
    # Graph mode makes one tf.function per layer, so TF's "N of the last M calls triggered
    # retracing" warning fires by design; traces are counted and recorded per record instead.
    _tf.get_logger().setLevel("ERROR")
    return _tf


@functools.cache
def keras() -> ModuleType:
    tf()
    import keras as _keras

    backend = _keras.config.backend()
    if backend != "tensorflow":
        raise FrameworkSetupError(
            f"Keras backend is {backend!r}; the harness needs 'tensorflow'. Set KERAS_BACKEND=tensorflow."
        )
    return _keras
