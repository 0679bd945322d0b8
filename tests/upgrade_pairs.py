"""Two pairs for the gate's tests: one steady, one whose torch side an "upgrade" changes.

``CONFORM_TEST_TORCH_SCALE`` stands in for a new framework release that changes one
layer's numerics: the torch side of ``drifting_linear`` multiplies its output by it (1 + 1e-4
in the tests), exactly as a changed kernel would, while TF stays as it was.
"""

from __future__ import annotations

import os

from harness import LayerPair
from tests.broken_pairs import DENSE_DIMS, LINEAR_MAP, ORIGIN, X, tf_dense


def _torch_scaled_linear(p):
    import torch

    class ScaledLinear(torch.nn.Linear):
        def forward(self, x):
            return super().forward(x) * float(os.environ.get("CONFORM_TEST_TORCH_SCALE", "1"))

    return ScaledLinear(p["features"], p["units"])


def _torch_linear(p):
    import torch

    return torch.nn.Linear(p["features"], p["units"])


steady_linear = LayerPair(name="steady_linear", origin=ORIGIN, torch=_torch_linear, tf=tf_dense, dims=DENSE_DIMS,
                          inputs=X, weights=LINEAR_MAP, checks=("forward", "gradient"))
drifting_linear = LayerPair(name="drifting_linear", origin=ORIGIN, torch=_torch_scaled_linear, tf=tf_dense,
                            dims=DENSE_DIMS, inputs=X, weights=LINEAR_MAP, checks=("forward", "gradient"))
