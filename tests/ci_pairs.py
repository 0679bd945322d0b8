"""Pairs for the exit-code tests: one that passes quickly, one that hangs, one without a statistics check.

``conform run --pairs-from tests/ci_pairs.py`` as a CI job would run it; the hanging pair's TF
side sleeps for a long time in its forward, the way a deadlocked layer would, unless the
``CONFORM_TEST_HANG`` variable is unset (then it returns at once, so the file also loads and
runs harmlessly).
"""

from __future__ import annotations

import os
import time

from hypothesis import strategies as st

from harness import LayerPair, Origin, Tensor

ORIGIN = Origin(seed="tests", tutorial_name="exit codes")
DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 4)}
X = (Tensor("x", ("batch", "features")),)


def _double(_p):
    return lambda x: x * 2.0


def _tf_hangs(_p):
    def forward(x):
        if os.environ.get("CONFORM_TEST_HANG"):
            time.sleep(float(os.environ["CONFORM_TEST_HANG"]))
        return x * 2.0

    return forward


quick_double = LayerPair(name="quick_double", origin=ORIGIN, torch=_double, tf=_double, dims=DIMS, inputs=X,
                         checks=("forward",), modes=("eval",), description="x * 2 on both sides")
hanging_double = LayerPair(name="hanging_double", origin=ORIGIN, torch=_double, tf=_tf_hangs, dims=DIMS, inputs=X,
                           checks=("forward",), modes=("eval",),
                           description="x * 2; the TF side sleeps CONFORM_TEST_HANG seconds first")
