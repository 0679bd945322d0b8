"""PyTorch attention layers from the tutorials: attention pooling and self-attention.

Seed 001's ``AttentionLayer`` is shown in both frameworks, differently: torch's scorer is
``nn.Linear(d, 1)`` *with* a bias, the Keras one a bare (d, 1) weight. The torch version is
written here as the tutorial has it; ``layers_tf.attention.AttentionLayer`` takes
``use_bias`` so that either version can be its twin.

Seed 002's ``SelfAttention`` (torch, one head) and seed 003's ``SelfAttention`` (Keras,
several heads) compute the same scaled dot-product attention, :func:`_attend`; the
multi-head one is :class:`MultiHeadSelfAttention` here, named apart from the other.
Inputs are (batch, seq, features) throughout.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from harness.arguments import check_heads, check_positive_int
from layers_torch.dense import DenseWithActivation

__all__ = ["AttentionLayer", "MultiHeadSelfAttention", "SelfAttention"]


def _attend(query: Tensor, key: Tensor, value: Tensor, scale: float) -> Tensor:
    """``softmax(query @ key^T / scale) @ value`` over the last two axes."""
    scores = torch.matmul(query, key.transpose(-2, -1)) / scale
    return torch.matmul(torch.softmax(scores, dim=-1), value)


class AttentionLayer(nn.Module):
    """Seed 001 ``AttentionLayer`` (torch version): attention pooling over the sequence.

    ``score = linear(x)`` per position (``nn.Linear(input_dim, 1)``, bias included),
    ``softmax`` over the sequence axis, and the scores weight a sum of ``x`` over it:
    (batch, seq, input_dim) -> (batch, input_dim).

    The bias adds the same number to every position's score, and a softmax is invariant to
    such a shift: it changes no output and receives no gradient. It is still a parameter,
    which the Keras version of the tutorial does not have.
    """

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        check_positive_int("input_dim", input_dim)
        self.input_dim = input_dim
        self.linear = nn.Linear(input_dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        attention_weights = torch.softmax(self.linear(x).squeeze(-1), dim=1)  # (batch, seq)
        return (x * attention_weights.unsqueeze(-1)).sum(dim=1)


class SelfAttention(nn.Module):
    """Seed 002 ``SelfAttention``: one head, ``softmax(Q K^T / sqrt(d)) V``.

    ``query``, ``key`` and ``value`` are ``nn.Linear(embed_dim, embed_dim)``; there is no
    output projection.
    """

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        check_positive_int("embed_dim", embed_dim)
        self.embed_dim = embed_dim
        self.query = nn.Linear(embed_dim, embed_dim)
        self.key = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.scale = embed_dim**0.5

    def forward(self, x: Tensor) -> Tensor:
        return _attend(self.query(x), self.key(x), self.value(x), self.scale)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}"


class MultiHeadSelfAttention(nn.Module):
    """Seed 003 ``SelfAttention`` (Keras there): ``num_heads`` heads of ``embed_dim // num_heads``.

    ``query_dense``, ``key_dense``, ``value_dense`` project to ``embed_dim``; the result is
    split into heads (``separate_heads``), each head attends with scale ``sqrt(head_dim)``,
    the heads are concatenated back and ``combine_heads`` projects them. The dense layers
    are initialised as Keras's ``Dense`` (glorot_uniform, zero bias), the tutorial's.
    """

    def __init__(self, embed_dim: int, num_heads: int) -> None:
        super().__init__()
        check_heads(embed_dim, num_heads)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.query_dense = DenseWithActivation(embed_dim, embed_dim, activation=None)
        self.key_dense = DenseWithActivation(embed_dim, embed_dim, activation=None)
        self.value_dense = DenseWithActivation(embed_dim, embed_dim, activation=None)
        self.combine_heads = DenseWithActivation(embed_dim, embed_dim, activation=None)

    def separate_heads(self, x: Tensor) -> Tensor:
        """(batch, seq, embed_dim) -> (batch, num_heads, seq, head_dim)."""
        return x.reshape(x.shape[0], -1, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        query = self.separate_heads(self.query_dense(x))
        key = self.separate_heads(self.key_dense(x))
        value = self.separate_heads(self.value_dense(x))
        output = _attend(query, key, value, math.sqrt(self.head_dim))
        output = output.transpose(1, 2).reshape(x.shape[0], -1, self.embed_dim)
        return self.combine_heads(output)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
