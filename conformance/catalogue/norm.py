"""Pairs for the normalisation layers (``layers_torch.norm`` / ``layers_tf.norm``).

Batch normalisation maps torch's ``weight``/``bias``/``running_mean``/``running_var`` onto
Keras's ``gamma``/``beta``/``moving_mean``/``moving_variance``; a variance is drawn positive.
torch's ``num_batches_tracked`` has no Keras counterpart. The two tutorial layer norms are
paired each with its twin, and once against each other, where they must diverge.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.catalogue import (
    BATCH_NORM_TRAINING,
    ELEMENTWISE_LARGE,
    ELEMENTWISE_SMALL,
    SEED_001,
    SEED_002,
    SEED_003,
    TRAIN_STEP,
    batch_norm_map,
    dense_flops,
    dense_map,
    twins,
)
from harness import frameworks, ledger
from harness.spec import Bench, Builtin, KnownDivergence, LayerPair, Link, Origin, Params, Stage, Tensor

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 3)
_SIZE = st.integers(1, 8)
_SEQ = st.integers(1, 5)
# One feature is degenerate for 002's formula (unbiased std of one value: 0/0, NaN); two or more
# are drawn, in every value regime.
_NORM_FEATURES = st.integers(2, 8)
_NORM_X = (Tensor("x", ("batch", "seq", "features")),)


def _torch_batch_norm(p: Params) -> Any:
    """``nn.BatchNorm1d(features)`` with torch's defaults (eps 1e-5, momentum 0.1)."""
    from torch import nn

    return nn.BatchNorm1d(p["features"])


def _keras_batch_norm(p: Params) -> Any:
    """``keras.layers.BatchNormalization()`` with Keras's defaults (epsilon 1e-3, momentum 0.99)."""
    import keras

    return keras.layers.BatchNormalization()


_DEFAULT_EPSILON = (
    "default epsilon is 1e-5 in nn.BatchNorm1d and 1e-3 in keras.layers.BatchNormalization, so both inference "
    "(sqrt(running_var + 1e-5) vs sqrt(moving_variance + 1e-3)) and training (the batch variance plus each "
    "epsilon) normalise differently, and so do the weights trained through them"
)
_DEFAULT_MOMENTUM = (
    "default momentum 0.1 in torch (the new batch's weight) vs 0.99 in Keras (the old average's weight): "
    "torch's 0.1 is Keras's 0.9, and Keras's 0.99 is torch's 0.01, so after a training call the running "
    "means and variances differ (the variances also by torch's unbiased estimate)"
)

_torch, _tf = twins("norm")
_X = (Tensor("x", ("batch", "in_features")),)
_GAMMA_BETA: dict[str, Link | str] = {"gamma": "gamma", "beta": "beta"}
# Seed 003's LayerNormalization epsilon, the default of both twins (keras.layers.LayerNormalization's is 1e-3)
_LAYER_NORMALIZATION_EPSILON = 1e-6


def _dense_block_flops(p: Params) -> float:
    """The dense layer's matmul; the batch norm is elementwise."""
    return dense_flops(p["batch"], p["in_features"], p["units"])


def _functional_mlp_flops(p: Params) -> float:
    """in_features -> width1 -> width2 -> 1, the blocks' and the head's matmuls."""
    return dense_flops(p["batch"], p["in_features"], p["width1"], p["width2"], 1)


def _layer_norm_torch(p: Params) -> Any:
    return frameworks.torch().nn.LayerNorm(p["features"], eps=_LAYER_NORMALIZATION_EPSILON)


def _layer_norm_keras(p: Params) -> Any:
    return frameworks.keras().layers.LayerNormalization(axis=-1, epsilon=_LAYER_NORMALIZATION_EPSILON)


_DENSE_BLOCK_BENCH = Bench(
    small={"batch": 32, "in_features": 64, "units": 64},
    large={"batch": 256, "in_features": 512, "units": 512},
    flops=_dense_block_flops,
)
# The tutorial's MLP is 10 -> 64 -> 32 -> 1; the input is as wide as the first block here.
_FUNCTIONAL_MLP_BENCH = Bench(
    small={"batch": 32, "in_features": 64, "width1": 64, "width2": 32},
    large={"batch": 256, "in_features": 512, "width1": 512, "width2": 256},
    flops=_functional_mlp_flops,
)
# Layer norms are elementwise (no FLOPs counted): 8k values small, a million large.
_NORM_SMALL = {"batch": 8, "seq": 16, "features": 64}
_NORM_LARGE = {"batch": 16, "seq": 128, "features": 512}
_NORM_BENCH = Bench(small=_NORM_SMALL, large=_NORM_LARGE)


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="dense_block_001",
        origin=Origin(
            seed=SEED_001,
            tutorial_name="my_dense_block",
            shown=("tf",),
            note="the tutorial's function as a layer; torch converts Keras's BatchNormalization defaults",
        ),
        torch=lambda p: _torch().DenseBlock(p["in_features"], p["units"]),
        tf=lambda p: _tf().DenseBlock(p["units"]),
        dims={"batch": _BATCH, "in_features": _SIZE, "units": _SIZE},
        inputs=_X,
        weights={**dense_map("dense"), **batch_norm_map("batch_norm")},
        **BATCH_NORM_TRAINING,
        stages=(Stage("dense", "dense", "dense"), Stage("batch_norm", "batch_norm", "batch_norm")),
        description="Dense(relu) -> BatchNormalization() vs Linear -> ReLU -> BatchNorm1d(eps=1e-3, momentum=0.01)",
        train_step=TRAIN_STEP,
        bench=_DENSE_BLOCK_BENCH,
    ),
    LayerPair(
        name="functional_mlp_001",
        origin=Origin(
            seed=SEED_001,
            tutorial_name="tf.keras.Model",
            shown=("tf",),
            note="the functional MLP, tf.keras.Model(inputs=input_tensor, outputs=output_tensor): "
            "Input(10) -> my_dense_block(64) -> my_dense_block(32) -> Dense(1), sizes drawn",
        ),
        torch=lambda p: _torch().FunctionalMLP(p["in_features"], (p["width1"], p["width2"])),
        tf=lambda p: _tf().functional_mlp(p["in_features"], (p["width1"], p["width2"])),
        dims={"batch": _BATCH, "in_features": _SIZE, "width1": _SIZE, "width2": _SIZE},
        inputs=_X,
        weights={
            **dense_map("blocks.0.dense", "block1_dense"),
            **batch_norm_map("blocks.0.batch_norm", "block1_bn"),
            **dense_map("blocks.1.dense", "block2_dense"),
            **batch_norm_map("blocks.1.batch_norm", "block2_bn"),
            **dense_map("head"),
        },
        **BATCH_NORM_TRAINING,
        stages=(
            Stage("block1_dense", "blocks.0.dense", "block1_dense"),
            Stage("block1_bn", "blocks.0.batch_norm", "block1_bn"),
            Stage("block2_dense", "blocks.1.dense", "block2_dense"),
            Stage("block2_bn", "blocks.1.batch_norm", "block2_bn"),
            Stage("head", "head", "head"),
        ),
        description="A Keras functional model (layers addressed by name) vs a module of two DenseBlocks and a head.",
        train_step=TRAIN_STEP,
        bench=_FUNCTIONAL_MLP_BENCH,
    ),
    LayerPair(
        name="batch_norm_defaults",
        origin=Origin(
            seed=SEED_001,
            tutorial_name="my_dense_block",
            shown=("tf",),
            note="the catalogue's 'BatchNormalization defaults differ' divergence: both frameworks' "
            "own batch-norm layers, defaults untouched",
        ),
        torch=_torch_batch_norm,
        tf=_keras_batch_norm,
        dims={"batch": _BATCH, "features": _SIZE},
        inputs=(Tensor("x", ("batch", "features")),),
        weights=batch_norm_map(),
        **{
            **BATCH_NORM_TRAINING,
            "known_divergences": (
                *(KnownDivergence(check, reason=_DEFAULT_EPSILON) for check in ("forward", "gradient", "train_step")),
                KnownDivergence("state", reason=_DEFAULT_MOMENTUM, modes=("train",)),
            ),
        },
        description="nn.BatchNorm1d(n) vs keras.layers.BatchNormalization(), both with their defaults.",
        train_step=TRAIN_STEP,
        bench=Bench(small=ELEMENTWISE_SMALL, large=ELEMENTWISE_LARGE),  # elementwise: no FLOPs counted
    ),
    LayerPair(
        name="layer_norm_002",
        origin=Origin(seed=SEED_002, tutorial_name="LayerNorm", shown=("torch",)),
        torch=lambda p: _torch().LayerNorm(p["features"]),
        tf=lambda p: _tf().LayerNorm(p["features"]),
        dims={"batch": _BATCH, "seq": _SEQ, "features": _NORM_FEATURES},
        inputs=_NORM_X,
        weights=_GAMMA_BETA,
        description="gamma * (x - mean) / (unbiased std + 1e-6) + beta over the last axis.",
        train_step=TRAIN_STEP,
        bench=_NORM_BENCH,
        # a constant row (var 0) meets XLA's SqrtGrad at dy = 0; the zeros and ties regimes draw one only sometimes
        known_divergences=(ledger.declared("xla-sqrt-grad-zero", "gradient", modes=("graph",),
                                           regimes=("zeros", "ties"), strict=False),),
    ),
    LayerPair(
        name="layer_normalization_003",
        origin=Origin(seed=SEED_003, tutorial_name="LayerNormalization", shown=("tf",)),
        torch=lambda p: _torch().LayerNormalization(p["features"]),
        tf=lambda p: _tf().LayerNormalization(),
        dims={"batch": _BATCH, "seq": _SEQ, "features": _NORM_FEATURES},
        inputs=_NORM_X,
        weights=_GAMMA_BETA,
        description="gamma * (x - mean) / sqrt(biased var + 1e-6) + beta over the last axis (tf.nn.moments).",
        train_step=TRAIN_STEP,
        bench=Bench(
            small=_NORM_SMALL,
            large=_NORM_LARGE,
            builtin=Builtin(name="nn.LayerNorm / LayerNormalization", torch=_layer_norm_torch, tf=_layer_norm_keras),
        ),
    ),
    LayerPair(
        name="layer_norm_002_vs_003",
        origin=Origin(
            seed=SEED_002,
            tutorial_name="LayerNorm",
            shown=("torch",),
            note="compared with seed 003's LayerNormalization, the Keras layer it resembles",
        ),
        torch=lambda p: _torch().LayerNorm(p["features"]),
        tf=lambda p: _tf().LayerNormalization(),
        dims={"batch": _BATCH, "seq": _SEQ, "features": st.integers(2, 8)},
        # zeros and ties can make every row constant, where both give beta and agree; the
        # divergence is declared for every example, so those regimes are left out
        inputs=(Tensor("x", ("batch", "seq", "features"), regimes=("normal", "large", "tiny")),),
        weights=_GAMMA_BETA,
        known_divergences=tuple(
            KnownDivergence(
                check,
                reason=(
                    "seed 002's LayerNorm divides by the unbiased std plus eps, (x - mean) / (std_n-1 + 1e-6); "
                    "seed 003's LayerNormalization by sqrt(biased var + eps), (x - mean) / sqrt(var_n + 1e-6): "
                    "the outputs differ by about sqrt((n-1)/n) for n features"
                ),
            )
            for check in ("forward", "gradient", "train_step")
        ),
        description="The two tutorials' layer norms against each other: not the same formula.",
        train_step=TRAIN_STEP,
        bench=_NORM_BENCH,
    ),
)
