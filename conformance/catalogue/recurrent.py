"""Pairs for the recurrent layers (``layers_torch.recurrent`` / ``layers_tf.recurrent``).

torch's tutorial cell has two biases (``linear_ih.bias``, ``linear_hh.bias``) where the Keras
tutorial cell has one (``b``); the equivalent pairs give the Keras cell torch's two
(``split_bias=True``), and one more pair reports the parameter sets of the two as written.
Both sides of a cell pair are called ``f(x, h)`` (the Keras cell through ``CellStep``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import SEED_001, TRAIN_STEP, dense_flops, twins
from harness.layouts import TRANSPOSE
from harness.spec import Bench, KnownDivergence, LayerPair, Link, Origin, Params, Stage, Tensor

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 3)
_SIZE = st.integers(1, 8)
_CELL_DIMS = {"batch": _BATCH, "input_size": _SIZE, "hidden": _SIZE}
_CELL_INPUTS = (Tensor("x", ("batch", "input_size")), Tensor("h", ("batch", "hidden")))
_SEQUENCE_DIMS = {"batch": _BATCH, "time": st.integers(1, 5), "input_size": _SIZE, "hidden": _SIZE}
_SEQUENCE_X = (Tensor("x", ("batch", "time", "input_size")),)


def _cell(torch_path: str, tf_path: str, *, biases: bool = True) -> dict[str, Link | str]:
    """torch's ``linear_ih``/``linear_hh`` -> the Keras cell's ``W_ih``/``W_hh`` (and ``b_ih``/``b_hh``)."""
    t = f"{torch_path}." if torch_path else ""
    weights: dict[str, Link | str] = {
        f"{t}linear_ih.weight": Link(f"{tf_path}.W_ih", TRANSPOSE),
        f"{t}linear_hh.weight": Link(f"{tf_path}.W_hh", TRANSPOSE),
    }
    if biases:
        weights |= {f"{t}linear_ih.bias": f"{tf_path}.b_ih", f"{t}linear_hh.bias": f"{tf_path}.b_hh"}
    return weights


def _cell_flops(p: Params) -> float:
    """One step: x W_ih (input_size -> hidden) and h W_hh (hidden -> hidden); the tanh is elementwise."""
    return dense_flops(p["batch"], p["input_size"], p["hidden"]) + dense_flops(p["batch"], p["hidden"], p["hidden"])


def _sequence_flops(p: Params) -> float:
    """One cell step per time step."""
    return p["time"] * _cell_flops(p)


# One step is a pair of dense layers: the dense layers' sizes.
_CELL_BENCH = Bench(
    small={"batch": 32, "input_size": 64, "hidden": 64},
    large={"batch": 256, "input_size": 512, "hidden": 512},
    flops=_cell_flops,
)
_SEQUENCE_BENCH = Bench(
    small={"batch": 8, "time": 16, "input_size": 32, "hidden": 32},
    large={"batch": 32, "time": 32, "input_size": 64, "hidden": 64},
    flops=_sequence_flops,
)


_torch, _tf = twins("recurrent")


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="my_rnn_cell_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyRNNCell", shown=("torch", "tf"),
                      note="torch version vs the Keras version with torch's two biases (split_bias=True)"),
        torch=lambda p: _torch().MyRNNCell(p["input_size"], p["hidden"]),
        tf=lambda p: _tf().CellStep(_tf().MyRNNCell(p["hidden"], split_bias=True)),
        dims=_CELL_DIMS,
        inputs=_CELL_INPUTS,
        weights=_cell("", "cell"),
        description="One step h' = tanh(x W_ih + b_ih + h W_hh + b_hh), both sides called f(x, h).",
        train_step=TRAIN_STEP,
        bench=_CELL_BENCH,
    ),
    LayerPair(
        name="my_rnn_cell_bias_split_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyRNNCell", shown=("torch", "tf"),
                      note="both versions as the tutorial writes them"),
        torch=lambda p: _torch().MyRNNCell(p["input_size"], p["hidden"]),
        tf=lambda p: _tf().CellStep(_tf().MyRNNCell(p["hidden"])),
        dims=_CELL_DIMS,
        inputs=_CELL_INPUTS,
        # only the matrices: torch's two biases and Keras's one are left out, for the check to report
        weights=_cell("", "cell", biases=False),
        checks=("parameters",),  # parameters only, no forward: no bench (my_rnn_cell_001 times it)
        known_divergences=(
            KnownDivergence(
                "parameters",
                reason=(
                    "torch's cell has two biases (linear_ih.bias, linear_hh.bias), the Keras tutorial's one (b): "
                    "the function is the same when b = b_ih + b_hh, but the parameter sets differ and train "
                    "differently (each of torch's biases receives the whole gradient of b)"
                ),
            ),
        ),
        description="The tutorial's two MyRNNCells: one function, two biases vs one.",
    ),
    LayerPair(
        name="my_rnn_sequence_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyRNNCell", shown=("torch", "tf"),
                      note="run over a sequence: keras.layers.RNN(cell, return_sequences=True, return_state=True) "
                           "vs a torch loop (the tutorial's nn.RNN(cell) does not work)"),
        torch=lambda p: _torch().RNNSequence(_torch().MyRNNCell(p["input_size"], p["hidden"])),
        # unrolled, so that the cell is called once per step on both sides (see the next pair)
        tf=lambda p: _tf().RNNSequence(_tf().MyRNNCell(p["hidden"], split_bias=True), unroll=True),
        dims=_SEQUENCE_DIMS,
        inputs=_SEQUENCE_X,
        weights=_cell("cell", "cell"),
        stages=(Stage("cell", "cell", "cell"),),
        description="Every step's hidden state and the final one, from a zero initial state; one stage per step.",
        train_step=TRAIN_STEP,
        bench=_SEQUENCE_BENCH,
    ),
    LayerPair(
        name="my_rnn_sequence_while_loop_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyRNNCell", shown=("torch", "tf"),
                      note="the tutorial's RNN configuration exactly (unroll=False: a tf.while_loop over time)"),
        torch=lambda p: _torch().RNNSequence(_torch().MyRNNCell(p["input_size"], p["hidden"])),
        tf=lambda p: _tf().RNNSequence(_tf().MyRNNCell(p["hidden"], split_bias=True)),
        dims=_SEQUENCE_DIMS,
        inputs=_SEQUENCE_X,
        weights=_cell("cell", "cell"),
        # No stages: without unrolling, Keras's TF backend calls the cell once more before the
        # loop, on step 0, to learn the output's dtype and shape (the value is discarded), so TF
        # logs time + 1 cell calls against torch's time.
        description="As my_rnn_sequence_001, through Keras's while-loop path (the tutorial's default).",
        train_step=TRAIN_STEP,
        bench=_SEQUENCE_BENCH,
    ),
)
