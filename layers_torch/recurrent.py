"""PyTorch recurrent layers from the tutorials: seed 001's ``MyRNNCell`` and a loop over time.

The tutorial's cell is ``h' = tanh(linear_ih(x) + linear_hh(h))``: two ``nn.Linear``, so
two biases, where its Keras cell has one (``layers_tf.recurrent.MyRNNCell`` can have
either). To run it over a sequence the tutorial writes ``nn.RNN(rnn_cell, num_layers=1)``,
which does not work: ``nn.RNN``'s first argument is ``input_size``, an int, and it has no way
to take a custom cell. :class:`RNNSequence` is the loop that Keras's ``RNN`` layer provides.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from harness.arguments import check_positive_int

__all__ = ["MyRNNCell", "RNNSequence"]


class MyRNNCell(nn.Module):
    """Seed 001 ``MyRNNCell`` (torch version): ``tanh(linear_ih(input) + linear_hh(hidden))``.

    ``forward(input, hidden)`` maps (batch, input_size) and (batch, hidden_size) to the new
    (batch, hidden_size) hidden state. Both linear layers keep ``nn.Linear``'s bias and
    initialisation, as in the tutorial.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.linear_ih = nn.Linear(input_size, hidden_size)
        self.linear_hh = nn.Linear(hidden_size, hidden_size)

    def forward(self, input: Tensor, hidden: Tensor) -> Tensor:  # noqa: A002 - the tutorial's name
        return torch.tanh(self.linear_ih(input) + self.linear_hh(hidden))

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"


class RNNSequence(nn.Module):
    """Runs a cell over time: what ``keras.layers.RNN(cell, return_sequences=True, return_state=True)`` does.

    The tutorial's ``nn.RNN(rnn_cell)`` is not a way to run a custom cell (``nn.RNN`` builds
    its own Elman cell and reads its first argument as ``input_size``), so the loop is
    written out. ``forward(x)`` takes (batch, time, input_size), starts from a zero state,
    calls ``cell(x[:, t], h)`` once per step and returns ``(outputs, h)``: every step's
    hidden state (batch, time, hidden_size) and the last one (batch, hidden_size).
    """

    def __init__(self, cell: MyRNNCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.dim() != 3:
            raise ValueError(f"RNNSequence expects (batch, time, features) inputs. Received: shape={tuple(x.shape)}")
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        outputs = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h
