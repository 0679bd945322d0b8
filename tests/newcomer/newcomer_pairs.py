"""What a first trial of the README wrote: a Conv1d-GELU-Conv1d composite with ``weights="auto"``, the same with a
slip in its GELU, and a layer whose smallest case torch refuses. Imports a sibling module, as a user's file does."""

from __future__ import annotations

from hypothesis import strategies as st
from newcomer_layers import torch_block  # a sibling of this file, importable as a script's would be

from harness import LayerPair, Origin, Stage, Tensor

ORIGIN = Origin(seed="tests", tutorial_name="a newcomer's pair")
DIMS = {"batch": st.integers(1, 2), "channels": st.integers(1, 3), "length": st.integers(3, 6)}
X = (Tensor("x", ("batch", "channels", "length"), layout="channels_first"),)


def keras_block(p):
    import keras

    return keras.Sequential([keras.layers.Conv1D(p["channels"], 3), keras.layers.Activation("gelu"),
                             keras.layers.Conv1D(p["channels"], 1)])


conv_gelu_conv = LayerPair(name="conv_gelu_conv", origin=ORIGIN, torch=torch_block, tf=keras_block, dims=DIMS,
                           inputs=X, weights="auto", output_layout="channels_first", checks=("forward",),
                           modes=("eval",))

# the stages `conform map conv_gelu_conv` prints, pasted as printed
STAGES = (Stage("0", torch="0", tf="layers.0", layout="channels_first"),
          Stage("1", torch="1", tf="layers.1", layout="channels_first"),
          Stage("2", torch="2", tf="layers.2", layout="channels_first"))
tanh_gelu = LayerPair(name="tanh_gelu", origin=ORIGIN, torch=lambda p: torch_block(p, "tanh"), tf=keras_block,
                      dims=DIMS, inputs=X, weights="auto", output_layout="channels_first", checks=("forward",),
                      modes=("eval",), stages=STAGES)


def torch_batch_stats(p):
    import torch

    class BatchStats(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.batch_norm(x, None, None, training=True)

    return BatchStats()


def keras_batch_stats(p):
    import keras

    return keras.layers.BatchNormalization(axis=1, center=False, scale=False)


batch_stats = LayerPair(name="batch_stats", origin=ORIGIN, torch=torch_batch_stats, tf=keras_batch_stats,
                        dims={"batch": st.integers(1, 3), "channels": st.integers(1, 3), "length": st.integers(1, 3)},
                        inputs=X, checks=("forward",), modes=("train",))
