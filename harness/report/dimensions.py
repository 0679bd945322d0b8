"""The record dimensions the report knows: their natural order and what each value means.

Why one table: the matrix columns, the summary's per-check and per-mode counts and the
header hints must agree on one order (parameters before forward before gradient ...; eval,
train, graph). A value this version does not know, from a newer harness, still shows, after
the known ones: nothing is dropped for being unexpected. The check and mode orders are the
spec's own (``harness.spec`` imports no framework).
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.spec import CHECKS, MODES

__all__ = ["DIMENSIONS", "meaning", "ordered", "rank"]

ORDER: dict[str, tuple[str, ...]] = {
    "check": CHECKS,
    "dtype": ("float16", "bfloat16", "float32", "float64"),
    "device": ("cpu", "cuda", "gpu"),
    "mode": MODES,
}
DIMENSIONS = tuple(ORDER)  # a record key after its pair: check, dtype, device, mode

_MEANING = {
    "check": {
        "parameters": "the weight map fits: names, shapes and trainability of both parameter sets",
        "forward": "outputs of the same inputs and weights",
        "gradient": "gradients (VJP) for the inputs and the parameters",
        "state": "buffers and non-trainable variables after several calls",
        "statistics": "dropout in training: drop rate and kept-value scale within a statistical bound",
        "serialization": "each framework's save/load round trips reproduce the outputs",
        "train_step": "weights after each of a few SGD steps from the same start",
    },
    "mode": {
        "eval": "inference, eager",
        "train": "training flag set (batch statistics, dropout)",
        "graph": "inference compiled: tf.function (XLA) vs torch.compile",
    },
}


def rank(dimension: str, value: str) -> tuple[int, str]:
    """Known values in their natural order, unknown ones after them by name."""
    order = ORDER[dimension]
    return (order.index(value) if value in order else len(order), value)


def ordered(dimension: str, values: Iterable[str]) -> list[str]:
    """Distinct values of one dimension, in the report's order."""
    return sorted(set(values), key=lambda v: rank(dimension, v))


def meaning(dimension: str, value: str) -> str:
    """What a check or mode compares, in words; empty for values this version does not know."""
    return _MEANING.get(dimension, {}).get(value, "")
