"""Correct ports written as a user would, from the README, that meet framework defects of the ledger; and the same
ports with a real divergence of their own planted beside the defect.

A pair file in the user-facing sense (``conform run --pairs-from tests/finding_pairs.py``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness import LayerPair, Origin, Tensor, ledger

ORIGIN = Origin(seed="tests", tutorial_name="a user's port")


def _torch_mlp(p):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(p["features"], p["hidden"]), torch.nn.Tanh(),
                               torch.nn.Linear(p["hidden"], p["units"]))


def _keras_mlp(p):
    import keras

    return keras.Sequential([keras.layers.Dense(p["hidden"]), keras.layers.Activation("tanh"),
                             keras.layers.Dense(p["units"])])


MLP_DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 4), "hidden": st.integers(1, 4),
            "units": st.integers(1, 3)}

# nn.Sequential(Linear, Tanh, Linear) against keras.Sequential, the map found by the atlas: float64 serialization
# meets Keras's Sequential reload defect.
user_sequential_mlp = LayerPair(
    name="user_sequential_mlp", origin=ORIGIN, torch=_torch_mlp, tf=_keras_mlp, dims=MLP_DIMS,
    inputs=(Tensor("x", ("batch", "features")),), weights="auto", checks=("forward", "serialization"),
    modes=("eval",), description="a two-layer MLP, torch nn.Sequential vs keras.Sequential")


def _torch_attention(p, off: float = 0.0):
    import torch

    class SelfAttention(torch.nn.Module):
        """Self-attention over a padded batch: ``mask`` is 1 where a position is real."""

        def __init__(self):
            super().__init__()
            self.attention = torch.nn.MultiheadAttention(p["heads"] * p["head_dim"], p["heads"], batch_first=True)

        def forward(self, x, mask):
            out = self.attention(x, x, x, key_padding_mask=~mask, need_weights=False)[0]
            return out * (1 + off)

    return SelfAttention()


def _keras_attention(p):
    import keras

    class SelfAttention(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.attention = keras.layers.MultiHeadAttention(num_heads=p["heads"], key_dim=p["head_dim"])

        def call(self, x, mask):
            return self.attention(x, x, attention_mask=mask[:, None, :])

    return SelfAttention()


ATTENTION_DIMS = {"batch": st.integers(1, 2), "seq": st.integers(2, 4), "heads": st.integers(1, 2),
                  "head_dim": st.integers(2, 3), "embed": lambda p: p["heads"] * p["head_dim"]}
ATTENTION = dict(origin=ORIGIN, tf=_keras_attention, dims=ATTENTION_DIMS, weights="auto",
                 inputs=(Tensor("x", ("batch", "seq", "embed")), Tensor("mask", ("batch", "seq"), dtype="bool",
                                                                         mask=True)),
                 checks=("forward", "gradient"), modes=("eval",))

# nn.MultiheadAttention against keras MultiHeadAttention with a padding mask: float64 meets Keras's scale rounding.
user_attention = LayerPair(name="user_attention", torch=_torch_attention, **ATTENTION,
                           description="self-attention with a padding mask, a correct port")

# The same port, torch's output off by one part in a hundred million: a real difference of the size of the defect.
user_attention_off = LayerPair(name="user_attention_off", torch=lambda p: _torch_attention(p, 1e-8), **ATTENTION,
                               description="the port with a 1e-8 slip of its own beside Keras's scale defect")

# The correct port, the defect declared through the ledger: a known divergence that names its entry.
user_attention_declared = LayerPair(
    name="user_attention_declared", torch=_torch_attention, **{**ATTENTION, "checks": ("forward",)},
    known_divergences=(ledger.declared("keras-mha-scale-float32", "forward", dtypes=("float64",)),),
    description="the correct port, Keras's scale defect declared by its ledger id")


def _torch_pool(p):
    import torch

    return torch.nn.AvgPool2d(2, ceil_mode=True)


def _keras_pool(p):
    import keras

    return keras.layers.AveragePooling2D(2, padding="same")


# AvgPool2d(2, ceil_mode=True) against AveragePooling2D(2, padding="same"), equal at any size: at an odd one, graph
# mode meets torch Inductor's gradient of the window ceil_mode hangs over the edge (the atlas has the 1-d pair only).
user_avg_pool = LayerPair(
    name="user_avg_pool", origin=ORIGIN, torch=_torch_pool, tf=_keras_pool,
    dims={"batch": st.integers(1, 2), "channels": st.integers(1, 2), "height": st.sampled_from([3, 5]),
          "width": st.sampled_from([3, 5])},
    inputs=(Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),),
    output_layout="channels_first", checks=("gradient",), modes=("graph",),
    description="a 2x2 average pool keeping a partial last window, torch ceil_mode vs Keras 'same'")
