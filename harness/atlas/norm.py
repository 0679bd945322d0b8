"""Normalisation: BatchNorm1d/2d, LayerNorm and GroupNorm against their Keras layers.

The traps are the defaults and one estimator: torch's epsilon is 1e-5 where Keras's is 1e-3
(every one of the three); torch's momentum is the weight of the new batch (0.1) where Keras's
is the weight of the old average (0.99, so torch 0.1 is Keras 0.9); and torch updates the
running variance with the unbiased batch variance where Keras uses the biased one. Keras
normalises the last axis: torch's channel axis 1 is Keras's -1 once the harness hands TF the
channels-last layout.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.atlas.core import Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.spec import Link, Tensor, TorchOnly

BATCH = st.integers(1, 3)
CHANNELS = st.integers(1, 4)
SPATIAL = st.integers(1, 5)
IMAGE = (Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),)
IMAGE_DIMS = {"batch": BATCH, "channels": CHANNELS, "height": SPATIAL, "width": SPATIAL}
FEATURES = (Tensor("x", ("batch", "channels")),)
# torch refuses batch statistics of one value per channel; Keras would divide by a variance of 0
TRAIN_BATCH = {"batch": st.integers(2, 3)}


# --- BatchNorm


def _batch_norm_to_keras(m: Any) -> Any:
    return keras().layers.BatchNormalization(axis=-1, epsilon=m.eps, momentum=1.0 - m.momentum,
                                             center=m.affine, scale=m.affine)


def _batch_norm_to_torch(layer: Any) -> Any:
    nn = torch_nn()
    channels = int(layer.moving_mean.shape[0])
    return nn.BatchNorm2d(channels, eps=layer.epsilon, momentum=1.0 - layer.momentum,
                          affine=layer.center and layer.scale)


def _batch_norm_weights(m: Any) -> dict[str, Any]:
    affine = {"weight": Link("gamma"), "bias": Link("beta")} if m.affine else {}
    return {**affine, "running_mean": Link("moving_mean"), "running_var": Link("moving_variance", init="positive"),
            "num_batches_tracked": TorchOnly("Keras's BatchNormalization keeps no count of the batches it has seen")}


def _batch_norm_accepts(m: Any) -> str | None:
    if not m.track_running_stats:
        return "track_running_stats=False (batch statistics in inference) has no Keras BatchNormalization setting"
    if m.momentum is None:
        return "momentum=None (a cumulative average) has no Keras counterpart"
    return None


def _batch_norm2d(eps: float = 1e-3, momentum: float = 0.1):
    def factory(p: Any) -> Any:
        return torch_nn().BatchNorm2d(p["channels"], eps=eps, momentum=momentum)

    return factory


def _keras_batch_norm(_p: Any) -> Any:
    return keras().layers.BatchNormalization()


def _batch_norm1d(p: Any) -> Any:
    return torch_nn().BatchNorm1d(p["channels"], eps=p["eps"], momentum=p["momentum"], affine=p["affine"])


BATCH_NORM = Counterpart(
    name="batch_norm",
    torch=("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
    keras=("BatchNormalization",),
    to_keras=_batch_norm_to_keras,
    to_torch=_batch_norm_to_torch,
    weights=_batch_norm_weights,
    accepts=_batch_norm_accepts,
    settings=(
        Setting("eps", "eps", "epsilon", torch_default=1e-5, keras_default=1e-3),
        Setting("momentum", "momentum", "momentum", torch_default=0.1, keras_default=0.99,
                to_keras=lambda m: 1.0 - m, meaning="torch weighs the new batch by m, Keras the old average"),
        Setting("affine", "affine", "center", torch_default=True, keras_default=True),
        Setting("affine", "affine", "scale", torch_default=True, keras_default=True),
    ),
    examples=(
        Example("batch_norm2d", _batch_norm2d(), dims=IMAGE_DIMS, inputs=IMAGE, output_layout="channels_first",
                description="BatchNorm2d against BatchNormalization(axis=-1, epsilon=eps, momentum=1 - m) on NHWC; "
                            "in training both normalise with the biased batch variance.",
                spec={"train_dims": TRAIN_BATCH}),
        Example("batch_norm1d", _batch_norm1d,
                dims={"batch": BATCH, "channels": CHANNELS, "eps": st.sampled_from([1e-5, 1e-3, 0.25]),
                      "momentum": st.sampled_from([0.1, 0.5]), "affine": st.booleans()},
                inputs=FEATURES,
                description="BatchNorm1d on (batch, features), any epsilon, with and without the affine scale/shift.",
                spec={"train_dims": TRAIN_BATCH}),
    ),
    conventions=(
        Convention(
            "eps", "eps / epsilon", "1e-05", "0.001",
            effect=("in inference every output is scaled by sqrt((v + 1e-5) / (v + 1e-3)): relative error 4.95e-4 "
                    "at running variance v = 1, 4.7e-2 at v = 0.01; it grows as a channel's variance shrinks"),
            torch=lambda p: torch_nn().BatchNorm2d(p["channels"]), tf=_keras_batch_norm,
            dims=IMAGE_DIMS, inputs=IMAGE, output_layout="channels_first"),
        Convention(
            "momentum", "momentum", "0.1 (weight of the new batch)", "0.99 (weight of the old average)",
            effect=("after one training call torch's running mean moves 10% of the way to the batch mean, Keras's "
                    "1%: the running statistics differ by 0.09 x (batch mean - running mean), and inference "
                    "outputs after training differ with them; the same number means torch 0.1 = Keras 0.9"),
            torch=_batch_norm2d(eps=1e-3), tf=_keras_batch_norm,
            dims=IMAGE_DIMS, inputs=IMAGE, output_layout="channels_first",
            check="state", checks=("state",), modes=("train",), tensors=("state *running_mean*",
                                                                          "state *running_var*"),
            spec={"train_dims": TRAIN_BATCH}),
        Convention(
            "running_variance", "running variance estimator", "unbiased (sum of squares / (n - 1))",
            "biased (/ n)",
            effect=("with the momentum matched (torch 0.01 = Keras 0.99) and the same epsilon, the running means "
                    "agree and the running variances differ by momentum x biased variance / (n - 1), n the values "
                    "per channel in the batch: 1% of the batch variance at n = 2 after one call"),
            torch=_batch_norm2d(eps=1e-3, momentum=0.01), tf=_keras_batch_norm,
            dims=IMAGE_DIMS, inputs=IMAGE, output_layout="channels_first",
            check="state", checks=("state",), modes=("train",), tensors=("state *running_var*",),
            spec={"train_dims": TRAIN_BATCH}),
    ),
)


# --- LayerNorm


def _layer_norm_to_keras(m: Any) -> Any:
    axes = tuple(range(-len(m.normalized_shape), 0))
    affine = m.elementwise_affine
    return keras().layers.LayerNormalization(axis=axes[0] if len(axes) == 1 else list(axes), epsilon=m.eps,
                                             scale=affine, center=affine and m.bias is not None)


def _layer_norm_to_torch(layer: Any) -> Any:
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    shape = tuple(int(layer.gamma.shape[i]) for i in range(len(axes))) if layer.scale else None
    if shape is None:
        raise ValueError("a LayerNormalization without scale does not tell its normalised shape; build torch's")
    return torch_nn().LayerNorm(shape, eps=layer.epsilon, elementwise_affine=layer.scale, bias=layer.center)


def _layer_norm_weights(m: Any) -> dict[str, Link]:
    return {**({"weight": Link("gamma")} if m.weight is not None else {}),
            **({"bias": Link("beta")} if m.bias is not None else {})}


def _layer_norm(p: Any) -> Any:
    return torch_nn().LayerNorm(p["features"], eps=p["eps"], bias=p["bias"])


def _axis_count(layer: Any) -> int:
    return len(layer.axis) if isinstance(layer.axis, (list, tuple)) else 1


SEQ = {"batch": BATCH, "seq": st.integers(1, 4), "features": st.integers(1, 6)}
X_SEQ = (Tensor("x", ("batch", "seq", "features")),)

LAYER_NORM = Counterpart(
    name="layer_norm",
    torch=("LayerNorm",),
    keras=("LayerNormalization",),
    to_keras=_layer_norm_to_keras,
    to_torch=_layer_norm_to_torch,
    weights=_layer_norm_weights,
    settings=(
        Setting("eps", "eps", "epsilon", torch_default=1e-5, keras_default=1e-3),
        Setting("axes", lambda m: len(m.normalized_shape), _axis_count, torch_default=1, keras_default=1),
        Setting("scale", "elementwise_affine", "scale", torch_default=True, keras_default=True),
        Setting("bias", lambda m: m.bias is not None, "center", torch_default=True, keras_default=True),
    ),
    examples=(
        Example("layer_norm", _layer_norm,
                dims={**SEQ, "eps": st.sampled_from([1e-5, 1e-3]), "bias": st.booleans()}, inputs=X_SEQ,
                description="LayerNorm over the last axis against LayerNormalization(epsilon=eps), bias or not."),
        Example("layer_norm_2d", lambda p: torch_nn().LayerNorm((p["seq"], p["features"]), eps=1e-5),
                dims=SEQ, inputs=X_SEQ,
                description="LayerNorm over the last two axes against LayerNormalization(axis=[-2, -1])."),
    ),
    conventions=(
        Convention(
            "eps", "eps / epsilon", "1e-05", "0.001",
            effect=("outputs scale by sqrt((var + 1e-5) / (var + 1e-3)) per row: relative error 4.95e-4 for a row "
                    "of unit variance, 0.29 for a row of variance 1e-3"),
            torch=lambda p: torch_nn().LayerNorm(p["features"]),
            tf=lambda _p: keras().layers.LayerNormalization(), dims=SEQ, inputs=X_SEQ),
    ),
)


# --- GroupNorm


def _group_norm_to_keras(m: Any) -> Any:
    return keras().layers.GroupNormalization(groups=m.num_groups, axis=-1, epsilon=m.eps, center=m.affine,
                                             scale=m.affine)


def _group_norm_to_torch(layer: Any) -> Any:
    return torch_nn().GroupNorm(layer.groups, int(layer.gamma.shape[0]), eps=layer.epsilon,
                                affine=layer.center and layer.scale)


def _group_norm(p: Any) -> Any:
    return torch_nn().GroupNorm(p["groups"], p["groups"] * p["per_group"], eps=p["eps"])


# torch refuses a group of one value (it would divide by a variance of 0): at least two pixels
GROUP_DIMS = {"batch": BATCH, "groups": st.integers(1, 3), "per_group": st.integers(1, 2),
              "channels": lambda p: p["groups"] * p["per_group"], "height": st.integers(2, 5), "width": SPATIAL}

GROUP_NORM = Counterpart(
    name="group_norm",
    torch=("GroupNorm",),
    keras=("GroupNormalization",),
    to_keras=_group_norm_to_keras,
    to_torch=_group_norm_to_torch,
    weights=lambda m: {"weight": Link("gamma"), "bias": Link("beta")} if m.affine else {},
    settings=(
        Setting("groups", "num_groups", "groups", torch_default=None, keras_default=32),
        Setting("eps", "eps", "epsilon", torch_default=1e-5, keras_default=1e-3),
        Setting("affine", "affine", "center", torch_default=True, keras_default=True),
    ),
    examples=(
        Example("group_norm", _group_norm, dims={**GROUP_DIMS, "eps": st.sampled_from([1e-5, 1e-3])},
                inputs=IMAGE, output_layout="channels_first",
                description="GroupNorm(G, C) on NCHW against GroupNormalization(groups=G, axis=-1) on NHWC."),
    ),
    conventions=(
        Convention(
            "eps", "eps / epsilon", "1e-05", "0.001",
            effect=("outputs scale by sqrt((var + 1e-5) / (var + 1e-3)) per group: relative error 4.95e-4 for a "
                    "group of unit variance"),
            torch=lambda p: torch_nn().GroupNorm(p["groups"], p["channels"]),
            tf=lambda p: keras().layers.GroupNormalization(groups=p["groups"]),
            dims=GROUP_DIMS, inputs=IMAGE, output_layout="channels_first"),
    ),
)

COUNTERPARTS = (BATCH_NORM, LAYER_NORM, GROUP_NORM)
