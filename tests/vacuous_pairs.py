"""Pairs that a harness without coverage and structure rules would pass without testing anything.

Each planted pair used to get a ``pass`` that meant nothing: every example degenerate (axes
of size one, empty tensors), NaN on both sides counted as agreement, a gradient compared
although the outputs had different shapes. Each has a control beside it, the correct pair,
that must still pass. ``tests/test_vacuous_passes.py`` runs them; this is also a pair file
(``conform run --pairs-from tests/vacuous_pairs.py``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness import LayerPair, Origin, Tensor

ORIGIN = Origin(seed="tests", tutorial_name="vacuous pass")
SEQUENCE = {"batch": st.integers(1, 5), "seq": st.integers(1, 4), "features": st.integers(1, 4)}
SEQUENCE_X = (Tensor("x", ("batch", "seq", "features")),)
CAN_BE_EMPTY = {"batch": st.integers(0, 3), "features": st.integers(1, 4)}
X = (Tensor("x", ("batch", "features")),)


def _torch_softmax(dim: int):
    def make(_p):
        import torch

        return lambda x: torch.softmax(x, dim=dim)

    return make


def _keras_softmax(_p):
    import keras

    return keras.layers.Softmax(axis=-1)


def _scale(factor: float):
    def make(_p):
        return lambda x: x * factor

    return make


def _log(sign: float, framework: str):
    """log of sign * (|x| + 1): finite for +1, NaN everywhere for -1, in one framework."""
    def make(_p):
        if framework == "torch":
            import torch

            return lambda x: torch.log(sign * (x.abs() + 1))
        import tensorflow as tf

        return lambda x: tf.math.log(sign * (tf.abs(x) + 1))

    return make


def _flatten(framework: str):
    def make(_p):
        if framework == "torch":
            return lambda x: x.reshape(-1)
        import tensorflow as tf

        return lambda x: tf.reshape(x, [-1])

    return make


def _torch_as_is(_p):
    return lambda x: x * 1.0


def _torch_nan_to_zero(_p):
    import torch

    return lambda x: torch.nan_to_num(x, nan=0.0) * 1.0


# --- a softmax over the wrong axis, which every size-1 draw hides --------------------------------------------------
softmax_wrong_axis_sequence = LayerPair(
    name="softmax_wrong_axis_sequence", origin=ORIGIN, torch=_torch_softmax(1), tf=_keras_softmax, dims=SEQUENCE,
    inputs=SEQUENCE_X,
    description="torch softmax(dim=1) vs Keras Softmax(axis=-1): equal only where seq = features = 1",
)
softmax_last_axis_sequence = LayerPair(
    name="softmax_last_axis_sequence", origin=ORIGIN, torch=_torch_softmax(-1), tf=_keras_softmax, dims=SEQUENCE,
    inputs=SEQUENCE_X, description="control: the same axis on both sides",
)

# --- x * 2 against x * 3, which an empty batch hides ------------------------------------------------------------------
times_two_vs_three = LayerPair(
    name="times_two_vs_three", origin=ORIGIN, torch=_scale(2.0), tf=_scale(3.0), dims=CAN_BE_EMPTY,
    inputs=X, description="different functions; the batch can be 0, where they agree",
)
times_two_both = LayerPair(
    name="times_two_both", origin=ORIGIN, torch=_scale(2.0), tf=_scale(2.0), dims=CAN_BE_EMPTY,
    inputs=X, description="control: the same function, the batch can still be 0",
)
times_two_vs_three_always_empty = LayerPair(
    name="times_two_vs_three_always_empty", origin=ORIGIN, torch=_scale(2.0), tf=_scale(3.0),
    dims={"batch": 0, "features": st.integers(1, 4)}, inputs=X,
    description="a batch that is always 0: nothing can tell the two apart, so nothing may pass",
)

# --- NaN on both sides from finite inputs ----------------------------------------------------------------------------
log_of_negative = LayerPair(
    name="log_of_negative", origin=ORIGIN, torch=_log(-1.0, "torch"), tf=_log(-1.0, "tf"),
    dims={"batch": st.integers(1, 3), "features": st.integers(1, 4)}, inputs=X,
    description="log of -|x| - 1: NaN everywhere on both sides, from finite inputs",
)
log_of_positive = LayerPair(
    name="log_of_positive", origin=ORIGIN, torch=_log(1.0, "torch"), tf=_log(1.0, "tf"),
    dims={"batch": st.integers(1, 3), "features": st.integers(1, 4)}, inputs=X,
    description="control: log of |x| + 1, finite",
)
nan_in_nan_out = LayerPair(
    name="nan_in_nan_out", origin=ORIGIN, torch=_torch_as_is, tf=_scale(1.0),
    dims={"batch": st.integers(1, 3), "features": st.integers(1, 4)}, inputs=X,
    special_values=lambda p: [float("nan")],
    description="the special regime plants NaN; both sides pass it through, at the same positions",
)
nan_swallowed_by_torch = LayerPair(
    name="nan_swallowed_by_torch", origin=ORIGIN, torch=_torch_nan_to_zero, tf=_scale(1.0),
    dims={"batch": st.integers(1, 3), "features": st.integers(1, 4)}, inputs=X,
    special_values=lambda p: [float("nan")],
    description="the special regime plants NaN; torch turns it into 0, TF keeps it",
)

# --- a gradient compared across outputs of different shapes -----------------------------------------------------------
flattened_on_one_side = LayerPair(
    name="flattened_on_one_side", origin=ORIGIN, torch=_torch_as_is, tf=_flatten("tf"),
    dims={"batch": st.integers(1, 3), "features": st.integers(1, 4)}, inputs=X,
    description="torch returns (batch, features), TF the same numbers flattened",
)
flattened_on_both_sides = LayerPair(
    name="flattened_on_both_sides", origin=ORIGIN, torch=_flatten("torch"), tf=_flatten("tf"),
    dims={"batch": st.integers(1, 3), "features": st.integers(1, 4)}, inputs=X,
    description="control: both sides flatten",
)
