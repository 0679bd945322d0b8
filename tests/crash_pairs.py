"""A pair whose layer kills the process that builds it (a framework's segfault, the OOM killer), beside a good one.

For the record maker (harness.recycle): that record is an error naming the signal, and the run goes on.
"""

from __future__ import annotations

import os
import signal

from harness import LayerPair
from tests.broken_pairs import DENSE_DIMS, LINEAR_MAP, ORIGIN, X, tf_dense, torch_linear


def _torch_killed(_p):
    os.kill(os.getpid(), signal.SIGKILL)



killed_while_building = LayerPair(name="killed_while_building", origin=ORIGIN, torch=_torch_killed, tf=tf_dense,
                                  dims=DENSE_DIMS, inputs=X, weights=LINEAR_MAP, checks=("forward",), modes=("eval",))
survivor = LayerPair(name="survivor", origin=ORIGIN, torch=torch_linear, tf=tf_dense, dims=DENSE_DIMS, inputs=X,
                     weights=LINEAR_MAP, checks=("forward",), modes=("eval",))
