"""Pairs for the attention layers (``layers_torch.attention`` / ``layers_tf.attention``).

Inputs are (batch, seq, features). Seed 001's ``AttentionLayer`` is paired twice: with the
Keras layer given the torch version's bias (the same function and the same parameters), and
with the Keras version as the tutorial writes it (the same function, different parameters).
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import SEED_001, SEED_002, SEED_003, TRAIN_STEP, dense_flops, dense_map, twins
from harness.layouts import TRANSPOSE
from harness.spec import Bench, KnownDivergence, LayerPair, Link, Origin, Params, Tensor

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 3)
_SEQ = st.integers(1, 5)
_SIZE = st.integers(1, 8)


_torch, _tf = twins("attention")
_ATTENTION_DIMS = {"batch": _BATCH, "seq": _SEQ, "input_dim": _SIZE}
_ATTENTION_X = (Tensor("x", ("batch", "seq", "input_dim")),)


def _pooling_flops(p: Params) -> float:
    """Attention pooling: the (d -> 1) score of every position, then the score-weighted sum over seq."""
    return dense_flops(p["batch"] * p["seq"], p["input_dim"], 1) + 2.0 * p["batch"] * p["seq"] * p["input_dim"]


def _self_attention_flops(p: Params, projections: int) -> float:
    """``projections`` (embed -> embed) dense layers on every position, plus Q K^T and A V.

    Q K^T and A V are each 2 * batch * seq^2 * embed FLOPs, however the embedding is split into heads.
    """
    batch, seq, embed = p["batch"], p["seq"], p["embed_dim"]
    return projections * dense_flops(batch * seq, embed, embed) + 2 * 2.0 * batch * seq * seq * embed


def _single_head_flops(p: Params) -> float:
    return _self_attention_flops(p, projections=3)  # query, key, value


def _multi_head_flops(p: Params) -> float:
    return _self_attention_flops(p, projections=4)  # query, key, value, combine_heads


_SEQUENCE_SMALL = {"batch": 8, "seq": 16}
_SEQUENCE_LARGE = {"batch": 8, "seq": 64}


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="attention_layer_001",
        origin=Origin(seed=SEED_001, tutorial_name="AttentionLayer", shown=("torch", "tf"),
                      note="torch version vs the Keras version given torch's bias (use_bias=True)"),
        torch=lambda p: _torch().AttentionLayer(p["input_dim"]),
        tf=lambda p: _tf().AttentionLayer(use_bias=True),
        dims=_ATTENTION_DIMS,
        inputs=_ATTENTION_X,
        weights={"linear.weight": Link("W", TRANSPOSE), "linear.bias": "b"},
        description="softmax over seq of x @ w + b weights a sum over seq; the same parameters on both sides.",
        train_step=TRAIN_STEP,
        bench=Bench(
            small={**_SEQUENCE_SMALL, "input_dim": 32},
            # pooling is 4 FLOPs per value, no projection: a million values for the arithmetic to show
            large={"batch": 32, "seq": 128, "input_dim": 256},
            flops=_pooling_flops,
        ),
    ),
    LayerPair(
        name="attention_layer_tutorial_001",
        origin=Origin(seed=SEED_001, tutorial_name="AttentionLayer", shown=("torch", "tf"),
                      note="both versions as the tutorial writes them"),
        torch=lambda p: _torch().AttentionLayer(p["input_dim"]),
        tf=lambda p: _tf().AttentionLayer(),
        dims=_ATTENTION_DIMS,
        inputs=_ATTENTION_X,
        # only what both sides have: torch's linear.bias is left out on purpose, for the check to report
        weights={"linear.weight": Link("W", TRANSPOSE)},
        checks=("parameters",),  # parameters only, no forward: no bench (attention_layer_001 times it)
        known_divergences=(
            KnownDivergence(
                "parameters",
                reason=(
                    "the parameter sets differ: torch's scorer nn.Linear(d, 1) has a bias that the Keras "
                    "tutorial's (d, 1) weight W lacks. The outputs do not differ: the bias shifts every "
                    "position's score equally, softmax over the sequence is shift-invariant, so the bias "
                    "changes no output and its gradient is zero"
                ),
            ),
        ),
        description="The tutorial's two AttentionLayers: one function, two parameter sets (a bias on torch only).",
    ),
    LayerPair(
        name="self_attention_002",
        origin=Origin(seed=SEED_002, tutorial_name="SelfAttention", shown=("torch",), note="single head"),
        torch=lambda p: _torch().SelfAttention(p["embed_dim"]),
        tf=lambda p: _tf().SelfAttention(p["embed_dim"]),
        dims={"batch": _BATCH, "seq": _SEQ, "embed_dim": _SIZE},
        inputs=(Tensor("x", ("batch", "seq", "embed_dim")),),
        weights={**dense_map("query"), **dense_map("key"), **dense_map("value")},
        description="softmax(Q K^T / sqrt(d)) V with Q, K, V = Linear(d, d)(x).",
        train_step=TRAIN_STEP,
        bench=Bench(
            small={**_SEQUENCE_SMALL, "embed_dim": 32},
            large={**_SEQUENCE_LARGE, "embed_dim": 128},
            flops=_single_head_flops,
        ),
    ),
    LayerPair(
        name="multi_head_self_attention_003",
        origin=Origin(seed=SEED_003, tutorial_name="SelfAttention", shown=("tf",), note="multi-head"),
        torch=lambda p: _torch().MultiHeadSelfAttention(p["embed_dim"], p["num_heads"]),
        tf=lambda p: _tf().MultiHeadSelfAttention(p["embed_dim"], p["num_heads"]),
        dims={
            "batch": _BATCH,
            "seq": _SEQ,
            "num_heads": st.integers(1, 3),
            "head_dim": st.integers(1, 3),
            "embed_dim": lambda p: p["num_heads"] * p["head_dim"],
        },
        inputs=(Tensor("x", ("batch", "seq", "embed_dim")),),
        weights={path: link for layer in ("query_dense", "key_dense", "value_dense", "combine_heads")
                 for path, link in dense_map(layer).items()},
        description="Dense q/k/v, split into heads, softmax(Q K^T / sqrt(head_dim)) V per head, combine_heads.",
        train_step=TRAIN_STEP,
        bench=Bench(
            small={**_SEQUENCE_SMALL, "num_heads": 4, "head_dim": 8, "embed_dim": 32},
            large={**_SEQUENCE_LARGE, "num_heads": 4, "head_dim": 32, "embed_dim": 128},
            flops=_multi_head_flops,
        ),
    ),
)
