"""The 2026-12-06 trial: a pair for a layer the catalogue lacks, written from the README and docs alone.

nn.PixelShuffle against tf.nn.depth_to_space: the naive port (channel order differs) and the fixed one. The fixed
TF function reads p["channels"] when called, which graph mode once missed (a layer reused for another channel count).
"""
from hypothesis import strategies as st

from harness import LayerPair, Origin, Tensor


def torch_shuffle(p):
    import torch

    return torch.nn.PixelShuffle(p["r"])


def tf_naive(p):
    import tensorflow as tf

    r = p["r"]
    return lambda x: tf.nn.depth_to_space(x, r)  # NHWC; channel order (i*r+j)*C+c, not torch's c*r*r+i*r+j


def tf_fixed(p):
    import tensorflow as tf

    r = p["r"]

    def shuffle(x):
        b, h, w, _ = tf.unstack(tf.shape(x))
        c = p["channels"]
        x = tf.reshape(x, (b, h, w, c, r * r))  # torch's channel index c*r*r + k
        x = tf.transpose(x, (0, 1, 2, 4, 3))    # -> k*C + c, depth_to_space's order
        x = tf.reshape(x, (b, h, w, r * r * c))
        return tf.nn.depth_to_space(x, r)

    return shuffle


DIMS = {
    "batch": st.integers(1, 3),
    "channels": st.integers(1, 4),
    "r": st.integers(2, 3),  # tf.nn.depth_to_space refuses block_size 1 (torch accepts it)
    "in_channels": lambda p: p["channels"] * p["r"] ** 2,
    "height": st.integers(1, 5),
    "width": st.integers(1, 5),
}
INPUTS = (Tensor("x", ("batch", "in_channels", "height", "width"), layout="channels_first"),)

pixel_shuffle_naive = LayerPair(
    name="pixel_shuffle_naive", origin=Origin(seed="trial", tutorial_name="PixelShuffle"),
    torch=torch_shuffle, tf=tf_naive, dims=DIMS, inputs=INPUTS,
    output_layout="channels_first", checks=("forward", "gradient"),
)
pixel_shuffle = LayerPair(
    name="pixel_shuffle", origin=Origin(seed="trial", tutorial_name="PixelShuffle"),
    torch=torch_shuffle, tf=tf_fixed, dims=DIMS, inputs=INPUTS,
    output_layout="channels_first", checks=("forward", "gradient"),
)
