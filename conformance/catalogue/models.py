"""Pairs for the compositions (``layers_torch.models`` / ``layers_tf.models``).

The maps address sub-layers by attribute path; ``*`` matches a list index on both sides.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from conformance.catalogue import SEED_000, SEED_001, SEED_004, TRAIN_STEP, dense_flops, dense_map, twins
from harness.spec import Bench, LayerPair, Origin, Params, Stage, Tensor

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 4)
_FEATURES = st.integers(1, 12)
_X = (Tensor("x", ("batch", "in_features")),)


_torch, _tf = twins("models")


def _chain_flops(*widths: str) -> Callable[[Params], float]:
    """params -> FLOPs of the dense layers through the widths named (``in_features``, ``hidden``, ...)."""
    return lambda p: dense_flops(p["batch"], *(p[w] for w in widths))


def _multi_layer_flops(p: Params) -> float:
    return dense_flops(p["batch"], *p["layer_sizes"])


# Every model's batch and input; hidden layers are as wide as the input, outputs narrow (classes, units).
_SMALL = {"batch": 32, "in_features": 64}
_LARGE = {"batch": 256, "in_features": 512}


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
        bench=Bench(
            small={**_SMALL, "layer_sizes": [64, 64, 64]},
            large={**_LARGE, "layer_sizes": [512, 512, 512]},
            flops=_multi_layer_flops,
        ),
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
        bench=Bench(
            small={**_SMALL, "out_features": 64, "condition": True},
            large={**_LARGE, "out_features": 512, "condition": True},
            flops=_chain_flops("in_features", "out_features"),  # the branch taken
        ),
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
        bench=Bench(
            small={**_SMALL, "hidden": 64, "out_features": 10},
            large={**_LARGE, "hidden": 512, "out_features": 10},
            flops=_chain_flops("in_features", "hidden", "out_features"),
        ),
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
        inputs=(Tensor("x", ("batch", "in_features")),),
        weights={**dense_map("dense1"), **dense_map("dense2")},
        stages=(Stage("dense1", "dense1", "dense1"), Stage("dense2", "dense2", "dense2")),
        description="A keras.Model subclass of two MyDense layers (relu, then softmax) vs an nn.Module.",
        train_step=TRAIN_STEP,
        bench=Bench(
            small={**_SMALL, "hidden": 64, "num_classes": 10},
            large={**_LARGE, "hidden": 512, "num_classes": 10},
            flops=_chain_flops("in_features", "hidden", "num_classes"),
        ),
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
        bench=Bench(
            small={**_SMALL, "hidden": 64, "units": 8},
            large={**_LARGE, "hidden": 512, "units": 8},
            flops=_chain_flops("in_features", "hidden", "units"),
        ),
    ),
)
