"""Layer configurations: graph mode and serialization pay per configuration, so a record draws few of them.

A *configuration* is what a pair's factories read of the params (units, channels, kernel size:
the layer's structure), as the case engine records when it builds; a batch or a spatial size
that only shapes the inputs is not part of it. Compiling (``torch.compile``, ``tf.function``
with XLA) and exporting (a SavedModel) cost per configuration, 1 to 10 s where an eager example
costs milliseconds, and nearly every drawn example was a new configuration (87 serialization
examples of 12 pairs had 68). So:

* a graph-mode record compiles at most ``MAX`` configurations (the minimal case's, the wide
  case's and one drawn) and runs many value draws, regimes and batch sizes through each:
  hypothesis draws the configuration among those, the rest of the case freely;
* a serialization record exports at most ``MAX`` (its coverage cases' and one drawn), and
  round-trips several inputs through each export (:mod:`harness.checks.serialization`).

At the ``smoke`` profile (two drawn examples, ``make test``) no configuration is drawn beside
the coverage cases': the two examples go to values and batch sizes through those.

Eval and train modes draw a fresh configuration per example: shape diversity is their job.
The record's coverage says how many configurations its examples had.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import strategies as st

from harness.cases import Case, draw_params, regimes_for
from harness.spec import LayerPair

__all__ = ["MAX", "applies", "confined", "key"]

MAX = 3


def applies(check: str, mode: str) -> bool:
    """Whether a record of this check and mode draws few configurations (see the module docstring)."""
    return mode == "graph" or check == "serialization"


def key(params: Mapping[str, Any], reads: Iterable[str]) -> str:
    """A configuration's identity: the params the factories read, as stable JSON."""
    return json.dumps({k: params[k] for k in sorted(reads) if k in params}, default=repr, sort_keys=True)


@st.composite
def confined(draw: st.DrawFn, pair: LayerPair, mode: str, check: str, configs: tuple[Mapping[str, Any], ...],
             reads: frozenset[str]) -> Case:
    """A case of one of ``configs`` (its read params kept), every other dim, the regime and the seed drawn.

    Dims are drawn in declaration order (:func:`harness.cases.draw_params`), so a dim that
    depends on a kept one (a skip connection twice a spatial size) stays consistent.
    Hypothesis shrinks towards the first configuration, the minimal case's.
    """
    config = draw(st.sampled_from(configs), label="configuration")
    params = draw(draw_params(pair, mode, {k: v for k, v in config.items() if k in reads}), label="params")
    regime = draw(st.sampled_from(regimes_for(pair, check)), label="regime")
    seed = draw(st.integers(0, 2**31 - 1), label="seed")
    return Case(params, regime, seed)
