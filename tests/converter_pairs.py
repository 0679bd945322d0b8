"""Converter pairs with hand-written converters: correct ones, and ones with a planted bug each.

Each converter is a function ``torch module -> Keras model``, as a user's porting script is:
it builds the Keras model under the dtype the harness sets and assigns the torch module's
values. The correct ones must pass; each planted one must be caught, and named
(``tests/test_converters.py``):

* ``dense_converted``: ``nn.Linear`` -> ``Dense``, the kernel transposed: passes, and its probed
  map pulls gradients back exactly as the hand-written ``Link("kernel", TRANSPOSE)`` does;
* ``dense_scaled``: kernel and bias stored doubled, a ``Rescaling(0.5)`` after: the forward pass
  agrees, but no exact map exists; the probe names both variables and the factor;
* ``dense_cast``: the kernel rounded through float32: invisible in float32, a finding in float64;
  ``dense_half``: through float16, which rounds the probe's large codes too: the map is still read;
* ``dense_offset``: the bias shifted by 0.5; ``dense_abs``: the kernel's absolute value, which the
  probe's (positive) codes cannot show and the example's drawn values do;
* ``dense_summed``: two torch biases summed into one Keras bias: the probe names both;
* ``dense_dropped``: the bias not converted (Keras keeps zeros): the ``parameters`` check names it;
* ``tied_layers``: one ``nn.Linear`` applied twice, converted into two ``Dense`` layers; and
  ``tied_halves``: one weight twice in one Keras kernel: gradients sum back;
* ``attention_converted`` / ``attention_swapped``: two ``nn.MultiheadAttention`` blocks as two
  Keras ``MultiHeadAttention`` layers; the planted one swaps two query heads of block 1, which
  the forward check finds and localises to ``block.1``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from harness import Converter, LayerPair, Origin, Stage, Tensor

ORIGIN = Origin(seed="tests", tutorial_name="hand-written converters")
DENSE_DIMS = {"batch": st.integers(1, 3), "n_in": st.integers(1, 4), "n_out": st.integers(1, 4)}
X = (Tensor("x", ("batch", "n_in")),)


def _numpy(tensor):
    return tensor.detach().cpu().numpy()


def torch_linear(p):
    import torch

    return torch.nn.Linear(p["n_in"], p["n_out"])


def _stack(n_in, *layers):
    """A built Keras layer applying ``layers`` in turn, in the dtype policy the harness set.

    Not a ``Sequential`` with a ``keras.Input``: that input would be floatx (float32), and round a
    float64 input on entry.
    """
    import keras

    class Stack(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.stack = list(layers)

        def call(self, x):
            for layer in self.stack:
                x = layer(x)
            return x

    model = Stack()
    model(np.zeros((1, n_in)))
    return model


def _dense(n_in, n_out, *after):
    """A built ``Dense(n_out)`` (then ``after``), and the Dense."""
    import keras

    model = _stack(n_in, keras.layers.Dense(n_out), *after)
    return model, model.stack[0]


def to_dense(module):
    model, dense = _dense(module.in_features, module.out_features)
    dense.kernel.assign(_numpy(module.weight).T)
    dense.bias.assign(_numpy(module.bias))
    return model


def to_dense_scaled(module):
    import keras

    model, dense = _dense(module.in_features, module.out_features, keras.layers.Rescaling(0.5))
    dense.kernel.assign(2 * _numpy(module.weight).T)
    dense.bias.assign(2 * _numpy(module.bias))
    return model


def to_dense_cast(module):
    model, dense = _dense(module.in_features, module.out_features)
    dense.kernel.assign(_numpy(module.weight).T.astype(np.float32))
    dense.bias.assign(_numpy(module.bias))
    return model


def to_dense_half(module):
    model, dense = _dense(module.in_features, module.out_features)
    dense.kernel.assign(_numpy(module.weight).T.astype(np.float16))
    dense.bias.assign(_numpy(module.bias))
    return model


def to_dense_offset(module):
    model, dense = _dense(module.in_features, module.out_features)
    dense.kernel.assign(_numpy(module.weight).T)
    dense.bias.assign(_numpy(module.bias) + 0.5)
    return model


def to_dense_abs(module):
    """A computation the integer codes cannot show: they are all positive."""
    model, dense = _dense(module.in_features, module.out_features)
    dense.kernel.assign(np.abs(_numpy(module.weight).T))
    dense.bias.assign(_numpy(module.bias))
    return model


def to_dense_dropped(module):
    model, dense = _dense(module.in_features, module.out_features)
    dense.kernel.assign(_numpy(module.weight).T)
    return model


def torch_two_biases(p):
    import torch

    class TwoBiases(torch.nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.linear = torch.nn.Linear(n_in, n_out)
            self.shift = torch.nn.Parameter(torch.zeros(n_out))

        def forward(self, x):
            return self.linear(x) + self.shift

    return TwoBiases(p["n_in"], p["n_out"])


def to_dense_summed(module):
    model, dense = _dense(module.linear.in_features, module.linear.out_features)
    dense.kernel.assign(_numpy(module.linear.weight).T)
    dense.bias.assign(_numpy(module.linear.bias) + _numpy(module.shift))
    return model


def torch_tied(p):
    import torch

    class Twice(torch.nn.Module):
        """One linear layer applied twice: its weight feeds two places."""

        def __init__(self, n):
            super().__init__()
            self.linear = torch.nn.Linear(n, n)

        def forward(self, x):
            return self.linear(torch.tanh(self.linear(x)))

    return Twice(p["n_in"])


def to_two_dense(module):
    import keras

    n = module.linear.in_features
    model = _stack(n, keras.layers.Dense(n, activation="tanh"), keras.layers.Dense(n))
    for dense in model.stack:
        dense.kernel.assign(_numpy(module.linear.weight).T)
        dense.bias.assign(_numpy(module.linear.bias))
    return model


def torch_doubled(p):
    import torch

    class Doubled(torch.nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.linear = torch.nn.Linear(n_in, n_out)

        def forward(self, x):
            return 2 * self.linear(x)

    return Doubled(p["n_in"], p["n_out"])


def to_halves(module):
    """One Dense of twice the width holding the torch weight twice, its two halves summed."""
    import keras

    n_in, n_out = module.linear.in_features, module.linear.out_features
    halves = keras.layers.Lambda(lambda y: y[..., :n_out] + y[..., n_out:], output_shape=(n_out,))
    model, dense = _dense(n_in, 2 * n_out, halves)
    dense.kernel.assign(np.concatenate([_numpy(module.linear.weight).T] * 2, axis=1))
    dense.bias.assign(np.concatenate([_numpy(module.linear.bias)] * 2))
    return model


def _converted(name, convert, torch=torch_linear, **spec):
    return LayerPair(name=name, origin=ORIGIN, torch=torch, tf=Converter(convert), dims=DENSE_DIMS,
                     inputs=X, **spec)


dense_converted = _converted("dense_converted", to_dense, checks=("parameters", "forward", "gradient"))
dense_scaled = _converted("dense_scaled", to_dense_scaled, checks=("parameters", "forward", "gradient"),
                          modes=("eval",))
dense_cast = _converted("dense_cast", to_dense_cast, checks=("gradient",), modes=("eval",))
dense_half = _converted("dense_half", to_dense_half, checks=("gradient",), modes=("eval",))
dense_offset = _converted("dense_offset", to_dense_offset, checks=("gradient",), modes=("eval",))
dense_abs = _converted("dense_abs", to_dense_abs, checks=("gradient",), modes=("eval",))
dense_summed = _converted("dense_summed", to_dense_summed, torch=torch_two_biases, checks=("forward", "gradient"),
                          modes=("eval",))
dense_dropped = _converted("dense_dropped", to_dense_dropped, checks=("parameters",))
tied_layers = _converted("tied_layers", to_two_dense, torch=torch_tied, checks=("forward", "gradient"),
                         modes=("eval",))
tied_halves = _converted("tied_halves", to_halves, torch=torch_doubled, checks=("forward", "gradient"),
                         modes=("eval",))


# --- attention: a planted head swap, localised ---------------------------------------------------------------------

# head_dim 4: Keras's attention scale 1/sqrt(head_dim) is exact in float32 then (Keras rounds it through float32 in a
# float64 run), and at 1, with seq == heads, Keras adds the q/k/v biases along the sequence axis
# (examples/keras_ops_add_broadcast.py): Keras findings these tests are not about.
ATTENTION_DIMS = {"batch": st.integers(1, 2), "seq": st.integers(1, 4), "heads": st.integers(2, 3), "head_dim": 4,
                  "embed": lambda p: p["heads"] * p["head_dim"]}


def torch_attention(p):
    import torch

    class Blocks(torch.nn.Module):
        """Two self-attention blocks, one after the other."""

        def __init__(self, embed, heads):
            super().__init__()
            self.block = torch.nn.ModuleList(torch.nn.MultiheadAttention(embed, heads, batch_first=True)
                                             for _ in range(2))

        def forward(self, x):
            for block in self.block:
                x = block(x, x, x, need_weights=False)[0]
            return x

    return Blocks(p["embed"], p["heads"])


def keras_attention(embed, heads):
    import keras

    class Blocks(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block = [keras.layers.MultiHeadAttention(heads, embed // heads, dtype=self.dtype_policy)
                          for _ in range(2)]

        def call(self, x):
            for block in self.block:
                x = block(x, x)
            return x

    model = Blocks()
    model(np.zeros((1, 1, embed)))
    return model


def to_attention(module, swap_query_heads_of=None):
    """torch's packed q/k/v projection split into Keras's three ``(embed, heads, head_dim)`` kernels."""
    first = module.block[0]
    embed, heads = first.embed_dim, first.num_heads
    size = embed // heads
    model = keras_attention(embed, heads)
    for i, (block, layer) in enumerate(zip(module.block, model.block, strict=True)):
        weight, bias = _numpy(block.in_proj_weight), _numpy(block.in_proj_bias)
        for j, dense in enumerate((layer._query_dense, layer._key_dense, layer._value_dense)):
            kernel = weight[j * embed:(j + 1) * embed].T.reshape(embed, heads, size)
            b = bias[j * embed:(j + 1) * embed].reshape(heads, size)
            if i == swap_query_heads_of and j == 0:  # the planted bug: heads 0 and 1 trade queries
                order = [1, 0, *range(2, heads)]
                kernel, b = kernel[:, order], b[order]
            dense.kernel.assign(kernel)
            dense.bias.assign(b)
        layer._output_dense.kernel.assign(_numpy(block.out_proj.weight).T.reshape(heads, size, embed))
        layer._output_dense.bias.assign(_numpy(block.out_proj.bias))
    return model


ATTENTION = {"origin": ORIGIN, "torch": torch_attention, "dims": ATTENTION_DIMS,
             "inputs": (Tensor("x", ("batch", "seq", "embed")),), "stages": (Stage("block", "block.*", "block.*"),),
             "modes": ("eval",)}
attention_converted = LayerPair(name="attention_converted", tf=Converter(to_attention, "to_attention"),
                                checks=("forward", "gradient"), **ATTENTION)
attention_swapped = LayerPair(name="attention_swapped",
                              tf=Converter(lambda m: to_attention(m, swap_query_heads_of=1), "to_attention (swapped)"),
                              checks=("forward",), **ATTENTION)
