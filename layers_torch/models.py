"""PyTorch compositions from the tutorials: stacks and branches of linear layers, small networks.

The Keras twins are in ``layers_tf.models``; sub-module attribute names are the same on both
sides wherever Keras allows it, so the pairs' weight maps read as ``fc1.weight -> fc1.kernel``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from torch import Tensor, nn

from harness.arguments import check_positive_ints
from layers_torch.dense import DenseBias, ReLULinear

__all__ = ["ConditionalLayer", "MultiLayer", "MyModel", "MyNetwork", "ReLULinearStack"]


class MultiLayer(nn.Module):
    """Seed 000 ``MultiLayer``: ``nn.Linear`` layers from ``layer_sizes``, no activation between.

    ``layer_sizes`` is the input size followed by each layer's output size, so
    ``[10, 20, 5]`` is 10 -> 20 -> 5; the layers sit in an ``nn.ModuleList`` (``layers.0``, ...).
    """

    def __init__(self, layer_sizes: Sequence[int]) -> None:
        super().__init__()
        self.layer_sizes = list(check_positive_ints("layer_sizes", layer_sizes, at_least=2))
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in pairwise(self.layer_sizes))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class ConditionalLayer(nn.Module):
    """Seed 000 ``ConditionalLayer``: two ``nn.Linear`` branches; ``condition`` picks one per call.

    The tutorial hard-codes 10 -> 5; the sizes are arguments here with those defaults.
    """

    def __init__(self, in_features: int = 10, out_features: int = 5) -> None:
        super().__init__()
        self.branch1 = nn.Linear(in_features, out_features)
        self.branch2 = nn.Linear(in_features, out_features)

    def forward(self, x: Tensor, condition: bool) -> Tensor:
        return self.branch1(x) if condition else self.branch2(x)


class MyNetwork(nn.Module):
    """Seed 001 ``MyNetwork``: Linear -> ReLU -> Linear."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.relu(self.fc1(x)))


class MyModel(nn.Module):
    """Seed 001 ``MyModel`` (a ``keras.Model`` there): DenseBias(hidden, relu) -> DenseBias(num_classes, softmax).

    The tutorial's hidden width is 64; it is an argument here with that default. Torch needs
    the input width up front, Keras infers it.
    """

    def __init__(self, in_features: int, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.dense1 = DenseBias(in_features, hidden, activation="relu")
        self.dense2 = DenseBias(hidden, num_classes, activation="softmax")

    def forward(self, x: Tensor) -> Tensor:
        return self.dense2(self.dense1(x))


class ReLULinearStack(nn.Sequential):
    """Seed 004 ``nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))`` with the sizes as arguments.

    Built from :class:`ReLULinear`, the tutorial's layer with its ``.data`` bug fixed, so the
    stack trains; its parameters are ``0.weight``, ``0.bias``, ``1.weight``, ``1.bias``.
    """

    def __init__(self, in_units: int = 64, hidden: int = 8, units: int = 1) -> None:
        super().__init__(ReLULinear(in_units, hidden), ReLULinear(hidden, units))
