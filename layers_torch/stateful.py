"""PyTorch stateful layers from the tutorials: a buffer that the forward pass updates.

Seed 001's ``MyLayer`` shows a parameter next to a buffer: ``weight`` is learned,
``running_mean`` is state (in ``state_dict``, never given to an optimiser). Its Keras twin
holds the state in a non-trainable weight that ``call`` assigns to.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from harness.arguments import check_positive_int

__all__ = ["RunningMeanScale"]

# The tutorial's update keeps 90% of the old mean and takes 10% of the batch's (written as
# two constants: 1 - 0.9 is not 0.1 in floating point).
_KEEP, _TAKE = 0.9, 0.1


class RunningMeanScale(nn.Module):
    """Seed 001 ``MyLayer`` (parameter + buffer): ``x * weight``; every call updates ``running_mean``.

    ``weight`` is (num_features,) and ``randn``; ``running_mean`` starts at zeros and becomes
    ``0.9 * running_mean + 0.1 * mean(x, dim=0)`` on every forward call, in training and
    inference alike (the tutorial does not look at ``self.training``). The output does not
    read the buffer.

    The tutorial rebinds the buffer to ``0.9 * self.running_mean + 0.1 * torch.mean(x, 0)``,
    which keeps the autograd graph of every input the layer has seen alive in the buffer
    (it requires grad as soon as an input does). Here the update is in place under
    ``no_grad``: the same numbers, stored as state and not as a graph.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        check_positive_int("num_features", num_features)
        self.num_features = num_features
        self.weight = nn.Parameter(torch.empty(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, 0.0, 1.0)  # torch.randn
        nn.init.zeros_(self.running_mean)

    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            self.running_mean.copy_(_KEEP * self.running_mean + _TAKE * x.mean(dim=0))
        return x * self.weight

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}"
