"""A cross-framework conformance harness for twin PyTorch and Keras 3 layers.

Declare a :class:`LayerPair`; the harness draws cases with hypothesis, moves identical
weights through the numpy bridge, and checks forward outputs and vector-Jacobian products.
"""

from harness.converters import from_pretrained
from harness.layouts import (
    CONV2D_OIHW_TO_HWIO,
    CONV_TRANSPOSE2D_IOHW_TO_HWOI,
    IDENTITY,
    TRANSPOSE,
    Blocks,
    Chain,
    Permute,
    Reshape,
    Split,
    Transform,
    channels_last,
)
from harness.spec import (
    Bench,
    Builtin,
    Converter,
    KnownDivergence,
    LayerPair,
    Link,
    Origin,
    Part,
    Stage,
    Tensor,
    Tolerance,
    TorchOnly,
)

__all__ = [
    "CONV2D_OIHW_TO_HWIO",
    "CONV_TRANSPOSE2D_IOHW_TO_HWOI",
    "IDENTITY",
    "TRANSPOSE",
    "Bench",
    "Blocks",
    "Builtin",
    "Chain",
    "Converter",
    "KnownDivergence",
    "LayerPair",
    "Link",
    "Origin",
    "Part",
    "Permute",
    "Reshape",
    "Split",
    "Stage",
    "Tensor",
    "Tolerance",
    "TorchOnly",
    "Transform",
    "channels_last",
    "from_pretrained",
]
