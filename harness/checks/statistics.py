"""The ``statistics`` check: dropout in training mode, compared by what must agree.

Two frameworks draw their dropout masks from different random streams, so training-mode
outputs cannot be compared value by value. What a correct dropout of rate ``p`` guarantees
on each side, and what this check tests on each side against the pair's declared rate:

* **zero fraction**: each non-zero input is dropped independently with probability ``p``;
* **kept scale**: every kept value is exactly ``x / (1 - p)`` (deterministic: the dtype's
  tolerance policy, no statistics);
* **mask renewal**: two forward calls on the same input draw independent masks, so they
  disagree at a fraction ``2 p (1 - p)`` of positions (a dropout that caches its mask fails).

The two statistical tests use Hoeffding's inequality, not a normal approximation: with ``n``
independent Bernoulli draws, ``P(|mean - expected| >= eps) <= 2 exp(-2 n eps^2)``. Choosing
``eps = sqrt(ln(2 / ALPHA) / (2 n))`` makes the false-alarm probability of one comparison at
most ``ALPHA`` = 1e-6 whatever the rate. The batch (axis 0 of the inputs) is enlarged and
calls repeated until at least ``SAMPLES`` draws are observed, which makes ``eps`` about 0.019:
a rate of 0.1 implemented where 0.2 is declared is far outside it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.cases import Case
from harness.compare import Policy, TensorMetrics, compare
from harness.engine import Evaluation, draw_inputs, prepare, side_call
from harness.layouts import layout_of

__all__ = ["ALPHA", "SAMPLES", "bound", "evaluate"]

ALPHA = 1e-6
SAMPLES = 20_000
_MAX_CALLS = 32
_MAX_ELEMENTS = 200_000


def bound(n: int, alpha: float = ALPHA) -> float:
    """Hoeffding's two-sided deviation bound for the mean of ``n`` Bernoulli draws."""
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n)) if n else math.inf


def _proportion(name: str, hits: int, n: int, expected: float, what: str) -> TensorMetrics:
    """A proportion against its expected value, as a metric whose headroom is deviation / bound.

    No draw at all (a dead ReLU unit before the dropout, say) is no evidence either way: an
    inconclusive metric that says so, as the other examples of the check still test the rate.
    """
    if n == 0:
        return TensorMetrics(name, (), True, 0.0, 0.0, 0, 0, (), None, expected, 0.0,
                             f"inconclusive: {what}: no non-zero input reached the dropout in this example")
    eps = bound(n)
    observed = hits / n
    deviation = abs(observed - expected)
    # an expectation of exactly 0 or 1 admits no deviation at all: nothing random is left
    certain = expected in (0.0, 1.0)
    ok = deviation == 0.0 if certain else deviation <= eps
    headroom = (0.0 if deviation == 0.0 else math.inf) if certain else deviation / eps
    note = (f"{what}: {hits} of {n} = {observed:.5f}, expected {expected:.5f}; allowed deviation "
            f"{0.0 if certain else eps:.5f} (Hoeffding, false-alarm probability <= {ALPHA:g})")
    return TensorMetrics(name, (), ok, deviation, deviation / expected if expected else deviation, int(not ok), n,
                         (), observed, expected, headroom, note)


def _large_batch(arrays: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Fresh N(0, 1) inputs whose axis 0 (the batch) is grown towards ``SAMPLES`` elements.

    Fresh rows, not the drawn ones repeated: a composite's dropout sees its input through a
    ReLU, and one repeated row that the ReLU zeroes would leave nothing to observe.
    """
    size = max(arrays[0].size // max(arrays[0].shape[0], 1), 1) if arrays[0].ndim else 1
    rows = max(1, min(math.ceil(SAMPLES / size), _MAX_ELEMENTS // size))
    return [rng.standard_normal((rows, *a.shape[1:])).astype(a.dtype) if a.ndim else a for a in arrays]


def _observations(observe: Any, inputs: list[np.ndarray]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Forward calls (at least two) until the dropout has seen ``SAMPLES`` non-zero inputs."""
    calls: list[list[tuple[np.ndarray, np.ndarray]]] = []
    seen = 0
    while len(calls) < 2 or (seen < SAMPLES and len(calls) < _MAX_CALLS):
        calls.append(observe(inputs))
        seen += sum(int(np.count_nonzero(x)) for x, _ in calls[-1])
    return calls


def _side_metrics(framework: str, calls: list[list[tuple[np.ndarray, np.ndarray]]], rate: float,
                  policy: Policy) -> list[TensorMetrics]:
    live = [(x[x != 0], y[x != 0]) for call in calls for x, y in call]
    xs = np.concatenate([x for x, _ in live]) if live else np.zeros(0)
    ys = np.concatenate([y for _, y in live]) if live else np.zeros(0)
    dropped = ys == 0
    metrics = [_proportion(f"zero fraction {framework}", int(dropped.sum()), int(xs.size), rate,
                           "dropped among non-zero inputs")]
    if rate < 1.0:
        kept = ~dropped
        metrics.append(compare(f"kept scale {framework}", ys[kept], xs[kept] / (1.0 - rate), policy,
                               note=f"every kept value must be x / (1 - {rate:g}); {framework} output vs that"))
    first, second = calls[0][0], calls[1][0]  # the first dropout call of two forwards: the same input
    both = (first[0] != 0) & (second[0] != 0)
    renewed = int(np.count_nonzero((first[1] == 0)[both] != (second[1] == 0)[both]))
    metrics.append(_proportion(f"mask renewal {framework}", renewed, int(both.sum()), 2 * rate * (1 - rate),
                               "positions whose drop decision differs between two forward calls"))
    return metrics


def evaluate(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """Each side's dropout statistics in training mode, against the pair's declared rate."""
    from harness.sides import tf_side, torch_side

    pair, spec = target.pair, target.pair.dropout
    tw = prepare(target, case, dtype)
    rate = spec.rate_of(case.params)
    inputs = _large_batch(draw_inputs(pair, case, tw.rng, dtype), tw.rng)
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    th = side_call("torch", "forward", lambda: _observations(
        lambda xs: torch_side.observe(tw.th, spec.torch, xs, tw.kwargs, target.device), inputs))
    tf_ = side_call("tf", "forward", lambda: _observations(
        lambda xs: tf_side.observe(tw.tf, spec.tf, xs, tw.kwargs), tf_inputs))
    metrics = _side_metrics("torch", th, rate, policy) + _side_metrics("tf", tf_, rate, policy)
    return Evaluation(metrics)
