"""Constructor-argument checks shared by both layer packages.

Why here: validating ``units=0`` or ``padding="SAME"`` is plain Python, identical for the torch
and the Keras twin, so it lives once, framework-free, in the library both packages already
depend on. Messages follow Keras's shape: what was expected, and ``Received: name=value``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PADDINGS", "check_heads", "check_non_negative_int", "check_padding", "check_positive_int",
           "check_positive_ints", "check_rate"]

PADDINGS = ("same", "valid")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(name: str, value: object) -> None:
    """Refuse a size that is not a positive integer, naming the argument and the value."""
    if not _is_int(value) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}"
        )


def check_non_negative_int(name: str, value: object) -> None:
    """Refuse a padding or offset that is not an integer >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a non-negative integer. Received: {name}={value!r}"
        )


def check_positive_ints(name: str, values: Sequence[int], at_least: int = 1) -> tuple[int, ...]:
    """``values`` as a tuple, refused unless it is ``at_least`` or more positive integers."""
    items = tuple(values)
    if len(items) < at_least or any(not _is_int(v) or v <= 0 for v in items):
        raise ValueError(
            f"Received an invalid value for `{name}`, expected {at_least} or more positive integers. "
            f"Received: {name}={values!r}"
        )
    return items


def check_padding(padding: object) -> str:
    """TF's padding names, case-insensitive as ``tf.nn.conv2d`` (the tutorial upper-cases them)."""
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in PADDINGS:
        raise ValueError(
            f"Invalid value for argument `padding`. Expected one of {PADDINGS}. Received: padding={padding!r}"
        )
    return value


def check_rate(rate: object) -> float:
    """``rate`` as a float, refused unless it is a number in [0, 1] (as ``keras.layers.Dropout``)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(
            "Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
            f"Received: rate={rate!r}"
        )
    return float(rate)


def check_heads(embed_dim: object, num_heads: object) -> None:
    """Multi-head sizes: both positive and ``embed_dim`` a multiple of ``num_heads``."""
    check_positive_int("embed_dim", embed_dim)
    check_positive_int("num_heads", num_heads)
    if embed_dim % num_heads:
        raise ValueError(
            "Received an invalid value for `embed_dim`, expected a multiple of `num_heads`. "
            f"Received: embed_dim={embed_dim}, num_heads={num_heads}"
        )
