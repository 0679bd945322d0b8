"""The harness's rate on the plainest check beside the floor: a bare, hand-written check of the same work.

Why: every example the harness runs pays for more than the arithmetic (drawing the case,
building both layers, the weight bridge, comparing every tensor, coverage and the record).
The floor is ``../shared/perf/floor_dense_rate.py``'s check, repeated here so that both run
in one process, interleaved round by round, and the machine's noise hits both alike: new
``nn.Linear`` and ``Dense`` layers, a weight copy, forward and VJP on both sides, one
comparison. The harness runs the same pair (``d_in``, ``d_out`` in 1..63, batch in 1..15) as a
``gradient`` check in eval mode, float32, through :func:`harness.check.run_check`: its rate is
examples per second of the whole record, coverage search and record included.

``python -m benchmarks.rate`` (``make rate``) prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from harness import TRANSPOSE, LayerPair, Link, Origin, Tensor
from harness.frameworks import keras, tf, torch

__all__ = ["PAIR", "Rates", "floor_rate", "harness_rate", "measure"]

PAIR = LayerPair(
    name="rate_linear_dense",
    origin=Origin(seed="benchmarks/rate.py", tutorial_name="nn.Linear / keras.layers.Dense"),
    torch=lambda p: torch().nn.Linear(p["d_in"], p["d_out"]),
    tf=lambda p: keras().layers.Dense(p["d_out"]),
    dims={"batch": st.integers(1, 15), "d_in": st.integers(1, 63), "d_out": st.integers(1, 63)},
    inputs=(Tensor("x", ("batch", "d_in")),),
    weights={"weight": Link("kernel", TRANSPOSE), "bias": "bias"},
    description="The floor script's pair: nn.Linear vs Dense on a 2-d input.",
)


def _floor_example(rng: np.random.Generator, d_in: int, d_out: int, b: int) -> float:
    """One example of the floor: new layers, weights copied, forward + VJP on both sides, one comparison."""
    t, k, f = torch(), keras(), tf()
    lin = t.nn.Linear(d_in, d_out)
    den = k.layers.Dense(d_out)
    den.build((None, d_in))
    den.set_weights([lin.weight.detach().numpy().T, lin.bias.detach().numpy()])
    x = rng.standard_normal((b, d_in)).astype(np.float32)
    v = rng.standard_normal((b, d_out)).astype(np.float32)
    xt = t.tensor(x, requires_grad=True)
    yt = lin(xt)
    t.autograd.grad(yt, [xt, lin.weight, lin.bias], t.tensor(v))
    xf = f.constant(x)
    with f.GradientTape() as tape:
        tape.watch(xf)
        yf = den(xf)
    tape.gradient(yf, [xf, *den.trainable_weights], output_gradients=f.constant(v))
    return float(np.abs(yt.detach().numpy() - yf.numpy()).max())


def floor_rate(examples: int, rng: np.random.Generator) -> float:
    """Examples per second of the bare check, dims drawn as the floor script draws them."""
    start = time.perf_counter()
    for _ in range(examples):
        _floor_example(rng, int(rng.integers(1, 64)), int(rng.integers(1, 64)), int(rng.integers(1, 16)))
    return examples / (time.perf_counter() - start)


def harness_rate(examples: int, check: str = "gradient") -> tuple[float, str, int]:
    """Examples per second of one harness record of the pair (its verdict and example count too)."""
    from harness.check import Target, run_check

    record = run_check(Target(PAIR, check, "float32", "cpu", "eval"), max_examples=examples)
    return record.examples / record.duration_s, record.verdict, record.examples


@dataclass
class Rates:
    """Median rates over the rounds, and the harness records' verdicts (a rate of a failing check means nothing)."""

    floor: float
    harness: float
    verdicts: list[str]
    examples: int

    @property
    def ratio(self) -> float:
        return self.harness / self.floor


def measure(examples: int = 200, rounds: int = 3, check: str = "gradient") -> Rates:
    """Floor and harness, interleaved ``rounds`` times after one warm-up of each; medians."""
    rng = np.random.default_rng(0)
    floor_rate(3, rng)
    harness_rate(1, check)
    floors, harnesses, verdicts, counts = [], [], [], []
    for _ in range(rounds):
        floors.append(floor_rate(examples, rng))
        rate, verdict, count = harness_rate(examples, check)
        harnesses.append(rate)
        verdicts.append(verdict)
        counts.append(count)
    return Rates(statistics.median(floors), statistics.median(harnesses), verdicts, int(statistics.median(counts)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200,
                        help="hypothesis examples per harness record (default: 200)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are printed (default: 3)")
    parser.add_argument("--check", default="gradient", choices=("forward", "gradient"),
                        help="the harness check (default: gradient, the floor's work)")
    args = parser.parse_args(argv)
    rates = measure(args.examples, args.rounds, args.check)
    print(f"floor   (bare nn.Linear/Dense forward+VJP check): {rates.floor:7.1f} examples/s")
    print(f"harness ({PAIR.name}, {args.check}, float32, eval): {rates.harness:7.1f} examples/s "
          f"({rates.examples} examples a record, verdicts {sorted(set(rates.verdicts))})")
    print(f"harness / floor: {rates.ratio:.2f}")
    return 0 if set(rates.verdicts) == {"pass"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
