"""Pairs that need what porting a real model needs: ids and masks, keyed outputs, reshaping maps, deep stages.

Each is small and correct unless its name says it is broken; ``tests/test_ports.py`` runs them.
Also a pair file (``conform run --pairs-from tests/port_pairs.py``). Frameworks are imported
inside the factories so that loading the file stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness import (
    TRANSPOSE,
    KnownDivergence,
    LayerPair,
    Link,
    Origin,
    Part,
    Reshape,
    Split,
    Stage,
    Tensor,
)

ORIGIN = Origin(seed="tests", tutorial_name="porting a real model")

# --- integer and boolean inputs -------------------------------------------------------------------------------------

IDS_DIMS = {"batch": st.integers(1, 3), "seq": st.integers(1, 5), "vocab": st.integers(1, 9),
            "dim": st.integers(1, 4)}


def _torch_embedding(p):
    import torch

    return torch.nn.Embedding(p["vocab"], p["dim"])


def _tf_embedding(p):
    import keras

    return keras.layers.Embedding(p["vocab"], p["dim"])


token_embedding = LayerPair(
    name="token_embedding", origin=ORIGIN, torch=_torch_embedding, tf=_tf_embedding, dims=IDS_DIMS,
    inputs=(Tensor("ids", ("batch", "seq"), dtype="int64", high="vocab"),),
    weights={"weight": "embeddings"}, checks=("forward", "gradient"),
    description="nn.Embedding vs keras Embedding on int64 token ids in [0, vocab)",
)
# an alias, as a pair file may keep one: the pair is still registered once, under its own name
embedding = token_embedding

MASK_DIMS = {"batch": st.integers(1, 3), "seq": st.integers(1, 5), "dim": st.integers(1, 4)}


def _torch_masked_mean(_p):
    def masked_mean(x, mask):
        kept = mask.to(x.dtype).unsqueeze(-1)
        return (x * kept).sum(1) / kept.sum(1)

    return masked_mean


def _tf_masked_mean(_p):
    import tensorflow as tf

    def masked_mean(x, mask):
        kept = tf.cast(mask, x.dtype)[..., None]
        return tf.reduce_sum(x * kept, 1) / tf.reduce_sum(kept, 1)

    return masked_mean


masked_mean = LayerPair(
    name="masked_mean", origin=ORIGIN, torch=_torch_masked_mean, tf=_tf_masked_mean, dims=MASK_DIMS,
    inputs=(Tensor("x", ("batch", "seq", "dim")), Tensor("mask", ("batch", "seq"), dtype="bool", mask=True)),
    checks=("forward", "gradient"),
    description="mean over the kept positions of a padding mask (at least one kept per row)",
)

# --- keyed outputs --------------------------------------------------------------------------------------------------

SUM_DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 4)}
X = (Tensor("x", ("batch", "features")),)


@dataclass
class SumOutput:
    """A dataclass-like model output, as HF's ``ModelOutput`` is one."""

    total: Any
    squares: Any
    unused: Any = None


def _torch_stats(_p):
    return lambda x: SumOutput(total=x.sum(-1), squares=(x * x).sum(-1))


def _tf_stats(_p):
    import tensorflow as tf

    # another order and other names than torch's: matched by key through `outputs=`
    return lambda x: {"sum_of_squares": tf.reduce_sum(x * x, -1), "sum": tf.reduce_sum(x, -1)}


def _tf_stats_wrong(_p):
    import tensorflow as tf

    return lambda x: {"sum_of_squares": tf.reduce_sum(x * x, -1), "sum": tf.reduce_sum(x, -1) + 1.0}


keyed_outputs = LayerPair(
    name="keyed_outputs", origin=ORIGIN, torch=_torch_stats, tf=_tf_stats, dims=SUM_DIMS, inputs=X,
    outputs={"total": "sum", "squares": "sum_of_squares"}, checks=("forward", "gradient"),
    description="a dataclass output (torch) against a dict in another order (tf), matched by key",
)
keyed_outputs_wrong = LayerPair(
    name="keyed_outputs_wrong", origin=ORIGIN, torch=_torch_stats, tf=_tf_stats_wrong, dims=SUM_DIMS, inputs=X,
    outputs={"total": "sum", "squares": "sum_of_squares"}, checks=("forward",),
    description="broken: TF's 'sum' is off by one; the failing metric must be output[total]",
)
keyed_outputs_unmapped = LayerPair(
    name="keyed_outputs_unmapped", origin=ORIGIN, torch=_torch_stats, tf=_tf_stats, dims=SUM_DIMS, inputs=X,
    checks=("forward",), description="broken: the names differ and no outputs= maps them",
)

# --- reshaping weight maps ------------------------------------------------------------------------------------------

HEAD_DIMS = {"batch": st.integers(1, 3), "hidden": st.integers(1, 4), "heads": st.integers(1, 3),
             "head_dim": st.integers(1, 3)}
H = (Tensor("x", ("batch", "hidden")),)


def _torch_heads(p):
    import torch

    class Heads(torch.nn.Module):
        """A query projection as HF writes it: one Linear, then a view into heads."""

        def __init__(self):
            super().__init__()
            self.query = torch.nn.Linear(p["hidden"], p["heads"] * p["head_dim"])

        def forward(self, x):
            return self.query(x).view(x.shape[0], p["heads"], p["head_dim"])

    return Heads()


def _tf_heads(p, **kwargs):
    import keras

    return keras.layers.EinsumDense("ab,bcd->acd", output_shape=(p["heads"], p["head_dim"]), bias_axes="cd", **kwargs)


split_heads = LayerPair(
    name="split_heads", origin=ORIGIN, torch=_torch_heads, tf=_tf_heads, dims=HEAD_DIMS, inputs=H,
    weights={"query.weight": Link("kernel", TRANSPOSE.then(Reshape("split_heads", to=(-1, "heads", "head_dim")))),
             "query.bias": Link("bias", Reshape("bias_heads", to=("heads", "head_dim")))},
    checks=("forward", "gradient"),
    description="Linear (heads*head_dim, hidden) -> EinsumDense kernel (hidden, heads, head_dim), heads from the dims",
)
split_heads_by_variable_path = LayerPair(
    name="split_heads_by_variable_path", origin=ORIGIN, torch=_torch_heads,
    tf=lambda p: _tf_heads(p, name="query_heads"), dims=HEAD_DIMS, inputs=H,
    weights={**split_heads.weights,
             "query.bias": Link("query_heads/bias", split_heads.weights["query.bias"].transform)},
    checks=("forward", "gradient"), description="the bias mapped by its Keras variable path, as summaries print it",
)
split_heads_untransposed = LayerPair(
    name="split_heads_untransposed", origin=ORIGIN, torch=_torch_heads, tf=_tf_heads,
    dims={"batch": HEAD_DIMS["batch"], "heads": HEAD_DIMS["heads"], "head_dim": HEAD_DIMS["head_dim"],
          "hidden": lambda p: p["heads"] * p["head_dim"]}, inputs=H,
    weights={"query.weight": Link("kernel", Reshape("no_transpose", to=("hidden", "heads", "head_dim"))),
             "query.bias": Link("bias", Reshape("bias_heads", to=("heads", "head_dim")))},
    checks=("forward",),
    description="broken: the kernel reshaped without the transpose first (the shapes fit when hidden = heads*head_dim)",
)

QKV_DIMS = {"batch": st.integers(1, 3), "embed": st.integers(1, 4)}
E = (Tensor("x", ("batch", "embed")),)


def _torch_packed(p):
    import torch

    class Packed(torch.nn.Module):
        """q, k, v from one packed weight, as nn.MultiheadAttention's in_proj_weight holds them."""

        def __init__(self):
            super().__init__()
            self.in_proj_weight = torch.nn.Parameter(torch.empty(3 * p["embed"], p["embed"]))

        def forward(self, x):
            return tuple((x @ self.in_proj_weight.T).chunk(3, dim=-1))

    return Packed()


def _tf_three(p):
    import keras

    class Three(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v = (keras.layers.Dense(p["embed"], use_bias=False) for _ in range(3))

        def call(self, x):
            return self.q(x), self.k(x), self.v(x)

    return Three()


packed_to_three = LayerPair(
    name="packed_to_three", origin=ORIGIN, torch=_torch_packed, tf=_tf_three, dims=QKV_DIMS, inputs=E,
    weights={"in_proj_weight": Link(("q.kernel", "k.kernel", "v.kernel"), Split("qkv", count=3, each=TRANSPOSE))},
    checks=("forward", "gradient"), description="one packed torch weight -> three Keras kernels",
)


def _torch_three(p):
    import torch

    class Three(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v = (torch.nn.Linear(p["embed"], p["embed"], bias=False) for _ in range(3))

        def forward(self, x):
            return self.q(x), self.k(x), self.v(x)

    return Three()


def _tf_fused(p):
    import keras

    class Fused(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.qkv = keras.layers.Dense(3 * p["embed"], use_bias=False)

        def call(self, x):
            return tuple(keras.ops.split(self.qkv(x), 3, axis=-1))

    return Fused()


three_to_fused = LayerPair(
    name="three_to_fused", origin=ORIGIN, torch=_torch_three, tf=_tf_fused, dims=QKV_DIMS, inputs=E,
    weights={f"{n}.weight": Link("qkv.kernel", TRANSPOSE, part=Part(i, of=3, axis=1)) for i, n in enumerate("qkv")},
    checks=("forward", "gradient"), description="three torch weights -> one fused Keras kernel",
)

# --- stages deep in a model -----------------------------------------------------------------------------------------

DEEP_DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 4), "depth": st.integers(1, 3)}
D = (Tensor("x", ("batch", "features")),)


def _torch_deep(p, bias_at: int | None = None):
    import torch

    class Inner(torch.nn.Module):
        def __init__(self, shift: float):
            super().__init__()
            self.lin = torch.nn.Linear(p["features"], p["features"])
            self.shift = shift

        def forward(self, x):
            return torch.tanh(self.lin(x)) + self.shift

    class Block(torch.nn.Module):
        def __init__(self, shift: float):
            super().__init__()
            self.inner = Inner(shift)

        def forward(self, x):
            return self.inner(x)

    class Deep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList(Block(0.5 if i == bias_at else 0.0) for i in range(p["depth"]))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    return Deep()


def _tf_deep(p):
    import keras

    class Inner(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.lin = keras.layers.Dense(p["features"])

        def call(self, x):
            return keras.ops.tanh(self.lin(x))

    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def call(self, x):
            return self.inner(x)

    class Deep(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [Block() for _ in range(p["depth"])]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    return Deep()


DEEP_MAP = {"blocks.*.inner.lin.weight": Link("blocks.*.inner.lin.kernel", TRANSPOSE),
            "blocks.*.inner.lin.bias": "blocks.*.inner.lin.bias"}
deep_stages = LayerPair(
    name="deep_stages", origin=ORIGIN, torch=_torch_deep, tf=_tf_deep, dims=DEEP_DIMS, inputs=D, weights=DEEP_MAP,
    stages=(Stage("inner", "blocks.*.inner", "blocks.*.inner"),), checks=("forward",),
    description="a stage with '*' in the middle of its path: one stage per block, however deep",
)
deep_stages_broken = LayerPair(
    name="deep_stages_broken", origin=ORIGIN, torch=lambda p: _torch_deep(p, bias_at=1), tf=_tf_deep,
    dims={**DEEP_DIMS, "depth": st.integers(2, 3)}, inputs=D, weights=DEEP_MAP,
    stages=(Stage("inner", "blocks.*.inner", "blocks.*.inner"),), checks=("forward",),
    description="broken: torch's second block adds 0.5; localisation must name inner.1",
)
deep_stages_bad_path = LayerPair(
    name="deep_stages_bad_path", origin=ORIGIN, torch=_torch_deep, tf=_tf_deep, dims=DEEP_DIMS, inputs=D,
    weights=DEEP_MAP, stages=(Stage("inner", "blocks.*.innr", "blocks.*.inner"),), checks=("forward",),
    description="broken: a typo in a stage path, refused when the layers are built",
)

# --- declarations scoped by the drawn dims --------------------------------------------------------------------------


def _tf_off_at_one_feature(p):
    return lambda x: x * 2.0 + (1.0 if p["features"] == 1 else 0.0)


_SCOPED = {"name": "", "origin": ORIGIN, "torch": lambda _p: (lambda x: x * 2.0), "tf": _tf_off_at_one_feature,
           "dims": SUM_DIMS, "inputs": X, "checks": ("forward",)}
scoped_declaration = LayerPair(**{**_SCOPED, "name": "scoped_declaration", "known_divergences": (KnownDivergence(
    "forward", "TF adds 1 when there is a single feature", where=lambda p: p["features"] == 1),)})
misscoped_declaration = LayerPair(**{**_SCOPED, "name": "misscoped_declaration", "known_divergences": (
    KnownDivergence("forward", "declared for two features, but it is one that diverges",
                    where=lambda p: p["features"] == 2),)})
unreached_declaration = LayerPair(**{
    **_SCOPED, "name": "unreached_declaration", "tf": lambda _p: (lambda x: x * 2.0),
    "known_divergences": (KnownDivergence("forward", "a corner the dims never reach",
                                          where=lambda p: p["features"] > 9),),
})
