"""The atlas of built-in counterparts: every torch.nn module type beside the Keras layer(s) computing the same.

One :class:`~harness.atlas.core.Counterpart` per torch module type, one module per family.
``ATLAS`` is all of them; :func:`counterpart_for` finds the entry of a built torch module
(or of a Keras layer's class, for the reverse direction). The atlas pairs
(:mod:`harness.atlas.pairs`), ``conform map`` and ``weights="auto"`` (:mod:`harness.atlas.match`)
all read it.
"""

from __future__ import annotations

from typing import Any

from harness.atlas import activations, attention, conv, dense, norm, pool, recurrent, resize, shape
from harness.atlas.core import Convention, Counterpart, Example, Setting

__all__ = ["ATLAS", "Convention", "Counterpart", "Example", "Setting", "counterpart_for"]

ATLAS: tuple[Counterpart, ...] = (
    *dense.COUNTERPARTS,
    *conv.COUNTERPARTS,
    *pool.COUNTERPARTS,
    *resize.COUNTERPARTS,
    *shape.COUNTERPARTS,
    *norm.COUNTERPARTS,
    *activations.COUNTERPARTS,
    *recurrent.COUNTERPARTS,
    *attention.COUNTERPARTS,
)


def counterpart_for(module: Any) -> Counterpart | None:
    """The atlas entry of a built torch module, by class (its own, then its bases'), or None."""
    for cls in type(module).__mro__:
        for cp in ATLAS:
            if cls.__name__ in cp.torch and cls.__module__.startswith("torch.nn"):
                return cp
    return None

