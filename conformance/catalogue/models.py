"""Pairs for the compositions (``layers_torch.models`` / ``layers_tf.models``).

The maps address sub-layers by attribute path; ``*`` matches a list index on both sides.
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import SEED_000, SEED_001, SEED_004, TRAIN_STEP, dense_map, twins
from harness.spec import LayerPair, Origin, Stage, Tensor

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 4)
_FEATURES = st.integers(1, 12)
_X = (Tensor("x", ("batch", "in_features")),)


_torch, _tf = twins("models")


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="multi_layer_000",
        origin=Origin(seed=SEED_000, tutorial_name="MultiLayer", shown=("torch",)),
        torch=lambda p: _torch().MultiLayer(p["layer_sizes"]),
        tf=lambda p: _tf().MultiLayer(p["layer_sizes"]),
        dims={
            "batch": _BATCH,
            "layer_sizes": st.lists(st.integers(1, 8), min_size=2, max_size=4),
            "in_features": lambda p: p["layer_sizes"][0],
        },
        inputs=_X,
        weights=dense_map("layers.*"),
        stages=(Stage("layers", "layers.*", "layers.*"),),
        description="A ModuleList of Linear layers (layers.0, layers.1, ...) vs a list of Dense layers.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="conditional_layer_000",
        origin=Origin(
            seed=SEED_000,
            tutorial_name="ConditionalLayer",
            shown=("torch",),
            note="the tutorial's 10 -> 5 are arguments",
        ),
        torch=lambda p: _torch().ConditionalLayer(p["in_features"], p["out_features"]),
        tf=lambda p: _tf().ConditionalLayer(p["in_features"], p["out_features"]),
        dims={"batch": _BATCH, "in_features": _FEATURES, "out_features": _FEATURES, "condition": st.booleans()},
        inputs=_X,
        call_args=("condition",),
        weights={**dense_map("branch1"), **dense_map("branch2")},
        description="Two Linear branches picked by a Python bool; the branch not taken gets no gradient.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="my_network_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyNetwork", shown=("torch",)),
        torch=lambda p: _torch().MyNetwork(p["in_features"], p["hidden"], p["out_features"]),
        tf=lambda p: _tf().MyNetwork(p["in_features"], p["hidden"], p["out_features"]),
        dims={"batch": _BATCH, "in_features": _FEATURES, "hidden": _FEATURES, "out_features": _FEATURES},
        inputs=_X,
        weights={**dense_map("fc1"), **dense_map("fc2")},
        stages=(Stage("fc1", "fc1", "fc1"), Stage("fc2", "fc2", "fc2")),
        description="Linear -> ReLU -> Linear.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="my_model_001",
        origin=Origin(
            seed=SEED_001, tutorial_name="MyModel", shown=("tf",), note="the tutorial's hidden width 64 is an argument"
        ),
        torch=lambda p: _torch().MyModel(p["in_features"], p["num_classes"], hidden=p["hidden"]),
        tf=lambda p: _tf().MyModel(p["num_classes"], hidden=p["hidden"]),
        # one class makes the softmax constant (Keras warns that it is almost surely a mistake)
        dims={"batch": _BATCH, "in_features": _FEATURES, "hidden": _FEATURES, "num_classes": st.integers(2, 6)},
        # Inputs of 1e3 saturate the softmax, where its float32 gradient is cancellation noise in
        # both frameworks (measured: 1.1e-5 relative on gradients of 1e-9; float64 agrees). The
        # 'large' regime stays on for every softmax-free pair.
        inputs=(Tensor("x", ("batch", "in_features"), regimes=("normal", "zeros", "ties", "tiny")),),
        weights={**dense_map("dense1"), **dense_map("dense2")},
        stages=(Stage("dense1", "dense1", "dense1"), Stage("dense2", "dense2", "dense2")),
        description="A keras.Model subclass of two MyDense layers (relu, then softmax) vs an nn.Module.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="relu_linear_stack_004",
        origin=Origin(
            seed=SEED_004,
            tutorial_name="Sequential",
            shown=("torch",),
            note="nn.Sequential(MyLinear(64, 8), MyLinear(8, 1)) with the sizes as arguments and .data fixed",
        ),
        torch=lambda p: _torch().ReLULinearStack(p["in_features"], p["hidden"], p["units"]),
        tf=lambda p: _tf().ReLULinearStack(p["in_features"], p["hidden"], p["units"]),
        dims={"batch": _BATCH, "in_features": _FEATURES, "hidden": st.integers(1, 8), "units": st.integers(1, 4)},
        inputs=_X,
        weights={"*.weight": "linears.*.kernel", "*.bias": "linears.*.bias"},
        stages=(Stage("linear", "*", "linears.*"),),
        description="Two relu(X @ W + b) layers in an nn.Sequential (0.*, 1.*) vs a Keras list attribute.",
        train_step=TRAIN_STEP,
    ),
)
