"""PyTorch dense layers from the tutorials: ``x @ W (+ b)``, then an optional activation.

Most of them are one computation with different initialisers, bias and activation
defaults, so they share :class:`_Affine`; the initialisers are named as in Keras and mirror
the Keras ones the twins in ``layers_tf.dense`` use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from harness.arguments import check_positive_int
from layers_torch.activations import get_activation

__all__ = [
    "CustomDense",
    "Demo",
    "DenseBias",
    "DenseNoBias",
    "DenseNoBiasActivation",
    "DenseWithActivation",
    "DetachedReLULinear",
    "KaimingLinear",
    "LinearWrapper",
    "ReLULinear",
    "RawLinear",
    "ReprLinear",
    "SimpleDense",
]

# Keras's he_normal draws a normal truncated at 2 stddevs and first divides the stddev by
# this, the stddev of a unit normal truncated to [-2, 2], so the result has std sqrt(2/fan_in).
_TRUNCATED_UNIT_STDDEV = 0.87962566103423978


def _he_normal(weight: Tensor) -> None:
    std = math.sqrt(2.0 / weight.shape[1]) / _TRUNCATED_UNIT_STDDEV
    nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)


# Initialisers by name; each takes the tensor in torch's (out, in) layout (fan_in = dim 1).
_INITIALIZERS: dict[str, Callable[[Tensor], object]] = {
    "glorot_uniform": nn.init.xavier_uniform_,  # Keras glorot_uniform
    "he_normal": _he_normal,  # Keras he_normal
    "random_normal": lambda w: nn.init.normal_(w, 0.0, 0.05),  # Keras random_normal
    "standard_normal": lambda w: nn.init.normal_(w, 0.0, 1.0),  # torch.randn
    "kaiming_uniform_sqrt5": lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5)),  # nn.Linear's weight
    "zeros": nn.init.zeros_,
}


class _Affine(nn.Module):
    """``activation(x @ W (+ b))`` with named initialisers: the computation the dense twins share.

    ``weight`` is in torch's (out, in) layout unless a subclass sets ``weight_layout`` to
    ``"in_out"`` (a tutorial that multiplies by ``W`` rather than ``W.T``).
    """

    weight_layout: ClassVar[str] = "out_in"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        activation: str | None = None,
        weight_init: str = "glorot_uniform",
        bias_init: str = "zeros",
    ) -> None:
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        for argument, init in (("weight_init", weight_init), ("bias_init", bias_init)):
            if init not in _INITIALIZERS:
                raise ValueError(
                    f"Unknown initializer; expected one of {sorted(_INITIALIZERS)}. Received: {argument}={init!r}"
                )
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self._activation = get_activation(activation)
        self.weight_init = weight_init
        self.bias_init = bias_init
        shape = (out_features, in_features) if self.weight_layout == "out_in" else (in_features, out_features)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            _INITIALIZERS[self.weight_init](self.weight if self.weight_layout == "out_in" else self.weight.t())
            if self.bias is not None:
                _INITIALIZERS[self.bias_init](self.bias)

    def kernel(self) -> Tensor:
        """The (in, out) matrix the input is multiplied by."""
        return self.weight.t() if self.weight_layout == "out_in" else self.weight

    def forward(self, x: Tensor) -> Tensor:
        y = x @ self.kernel()
        if self.bias is not None:
            y = y + self.bias
        return self._activation(y)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, activation={self.activation}"
        )


class DenseNoBias(_Affine):
    """Seed 000 ``MyDense`` (shown in Keras): ``x @ kernel``, glorot_uniform, no bias."""

    def __init__(self, in_features: int, units: int) -> None:
        super().__init__(in_features, units, bias=False)


class DenseNoBiasActivation(_Affine):
    """Seed 000 ``MyDenseWithActivation`` (Keras): he_normal kernel, no bias, activation by name."""

    def __init__(self, in_features: int, units: int, activation: str | None = None) -> None:
        super().__init__(in_features, units, bias=False, activation=activation, weight_init="he_normal")


class DenseBias(_Affine):
    """Seed 001 ``MyDense`` (Keras): ``x @ w + b``, random_normal kernel, zero bias, activation."""

    def __init__(self, in_features: int, units: int, activation: str | None = None) -> None:
        super().__init__(in_features, units, activation=activation, weight_init="random_normal")


class SimpleDense(_Affine):
    """Seed 003 ``SimpleDense`` (Keras): glorot_uniform kernel, zero bias, no activation."""

    def __init__(self, in_features: int, units: int = 32) -> None:
        super().__init__(in_features, units)


class DenseWithActivation(_Affine):
    """Seed 003 ``DenseWithActivation`` (Keras): glorot_uniform, zero bias, activation (relu)."""

    def __init__(self, in_features: int, units: int, activation: str | None = "relu") -> None:
        super().__init__(in_features, units, activation=activation)


class CustomDense(DenseWithActivation):
    """Seed 003 ``CustomDense`` (Keras): a serialisable dense layer.

    Its Keras point is ``get_config``/``from_config``; torch has no config, the module's
    constructor arguments and ``state_dict`` are its serialisation.
    """


class RawLinear(_Affine):
    """Seed 002 ``MyLinear``: raw parameters, weight (out, in) ``randn``, zero bias, ``x @ W.T + b``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, weight_init="standard_normal")


class KaimingLinear(_Affine):
    """Seed 002 ``MyLayer`` (reset_parameters): kaiming_uniform(a=sqrt(5)) weight, zero bias."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, weight_init="kaiming_uniform_sqrt5")


class ReprLinear(_Affine):
    """Seed 002 ``MyLayer`` (extra_repr): ``x @ W.T``, ``randn`` weight, no bias, a custom repr."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, bias=False, weight_init="standard_normal")

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class ReLULinear(_Affine):
    """Seed 004 ``MyLinear``: weight (in_units, units) and bias ``randn``, ``relu(X @ W + b)``.

    Unlike the tutorial it uses the parameters themselves, so their gradients flow; see
    :class:`DetachedReLULinear` for the tutorial's code as written.
    """

    weight_layout: ClassVar[str] = "in_out"

    def __init__(self, in_units: int, units: int) -> None:
        super().__init__(
            in_units, units, activation="relu", weight_init="standard_normal", bias_init="standard_normal"
        )


class DetachedReLULinear(ReLULinear):
    """Seed 004 ``MyLinear`` exactly as written: it reads ``weight.data`` and ``bias.data``.

    ``.data`` detaches, so the forward values are right but the parameters get no gradient
    at all (a training loop silently never updates them). Kept as the tutorial's bug.
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(torch.matmul(x, self.weight.data) + self.bias.data)


class LinearWrapper(nn.Module):
    """Seed 000 ``MyLinear``: a module that only wraps ``nn.Linear``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)


class Demo(nn.Module):
    """Seed 002 ``Demo``: a learnable (n, n) Parameter next to a plain, non-learnable tensor.

    ``not_learnable`` is a plain attribute: neither a parameter nor a buffer, so it is not in
    ``state_dict`` and an optimiser never sees it. The forward pass does not use it.
    """

    def __init__(self, n: int = 3) -> None:
        super().__init__()
        check_positive_int("n", n)
        self.n = n
        self.learnable = nn.Parameter(torch.empty(n, n))
        self.not_learnable = torch.randn(n, n)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.learnable, 0.0, 1.0)  # torch.randn

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.learnable

    def extra_repr(self) -> str:
        return f"n={self.n}"
