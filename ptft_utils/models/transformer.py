"""A transformer encoder from its parts, in plain PyTorch: attention, heads, norm, GELU, positions, masking.

Each piece is the formula of chapter 07 §1 written once, small enough to read beside it:

- :func:`scaled_dot_product_attention`: ``softmax(Q K^T / sqrt(d_k) + mask) V``;
- :class:`MultiHeadAttention`: ``h`` heads of width ``d / h`` side by side, then an output projection;
- :func:`layer_norm`, :func:`gelu`: the two element-wise pieces of every block;
- :func:`sinusoidal_positions`: the fixed positions of Vaswani et al. (BERT learns its own instead);
- :func:`mlm_mask`: BERT's masking rule (15% of tokens; of those 80% ``[MASK]``, 10% random, 10% kept);
- :class:`EncoderBlock` and :class:`Encoder`: a post-norm BERT layer and a stack of them with BERT's
  embeddings, laid out so that Hugging Face BERT weights load into it (:mod:`ptft_utils.hf.parity`).

This module imports torch only; Hugging Face models live in :mod:`ptft_utils.hf`, the Keras twin of
the block in :mod:`ptft_utils.keras.transformer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def scaled_dot_product_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(Q K^T / sqrt(d_k) + M) V`` and the attention weights.

    ``query`` ``(..., n_q, d_k)``, ``key`` ``(..., n_k, d_k)``, ``value`` ``(..., n_k, d_v)``;
    ``mask`` broadcasts to ``(..., n_q, n_k)``: ``True`` (or 1) where a query may attend.

    Taught in: 07 §1
    """
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask.bool(), torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=-1)
    return weights @ value, weights


def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``(length, length)`` boolean: position ``i`` may attend to ``j <= i``.

    Taught in: 07 §1
    """
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class MultiHeadAttention(nn.Module):
    """``concat(head_1..head_h) W_O`` with ``head_i = attention(X W_Q^i, X W_K^i, X W_V^i)``.

    The ``h`` projections are one ``(d, d)`` matrix each for Q, K, V, split into heads of width
    ``d / h``. ``forward(x, attention_mask)`` takes ``attention_mask`` ``(batch, n)`` (1 = a real
    token) and/or ``causal=True``.

    Taught in: 07 §1
    """

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model must be divisible by heads, got d_model={d_model}, heads={heads}")
        self.d_model, self.heads = d_model, heads
        self.query, self.key, self.value = (nn.Linear(d_model, d_model) for _ in range(3))
        self.output = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (b, n, d) -> (b, h, n, d/h)
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.d_model // self.heads).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, attention_mask: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        q, k, v = (self._split(proj(x)) for proj in (self.query, self.key, self.value))
        mask = None
        if attention_mask is not None:
            mask = attention_mask.bool()[:, None, None, :]
        if causal:
            tri = causal_mask(x.shape[1], x.device)
            mask = tri if mask is None else mask & tri
        context, weights = scaled_dot_product_attention(q, k, v, mask)
        context = context.transpose(1, 2).reshape(x.shape)
        return self.output(context)


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` over the last axis (biased variance).

    Taught in: 07 §1
    """
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return weight * (x - mean) / torch.sqrt(var + eps) + bias


def gelu(x: torch.Tensor) -> torch.Tensor:
    """``x * Phi(x) = x/2 * (1 + erf(x / sqrt 2))``, the exact GELU (BERT's ``"gelu"``).

    Taught in: 07 §1
    """
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``; ``(length, d_model)``.

    Taught in: 07 §1
    """
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
    position = torch.arange(length, dtype=torch.float64)[:, None]
    rate = torch.pow(10000.0, -torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    table = torch.zeros(length, d_model, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
    return table.float()


def mlm_mask(
    ids: torch.Tensor,
    *,
    mask_id: int,
    vocab_size: int,
    special: torch.Tensor,
    generator: torch.Generator,
    probability: float = 0.15,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking rule: ``(inputs, labels)``, labels ``-100`` where no prediction is asked.

    Each non-special token is chosen with ``probability`` (0.15); a chosen token becomes
    ``[MASK]`` with probability 0.8, a uniformly random token with 0.1, and stays itself with 0.1
    (the model cannot know which inputs to distrust). ``special`` is a boolean tensor like ``ids``
    (padding, ``[CLS]``, ``[SEP]``): never chosen.

    Taught in: 07 §1
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    chosen = (torch.rand(ids.shape, generator=generator) < probability) & ~special.bool()
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    draw = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (draw < 0.8)] = mask_id
    randomised = chosen & (draw >= 0.8) & (draw < 0.9)
    inputs[randomised] = torch.randint(vocab_size, ids.shape, generator=generator)[randomised]
    return inputs, labels


class EncoderBlock(nn.Module):
    """A post-norm BERT layer: ``h = LN(x + MHA(x))``, ``out = LN(h + W_2 GELU(W_1 h))``.

    Taught in: 07 §1
    """

    def __init__(self, d_model: int, heads: int, d_ff: int, dropout: float = 0.0, eps: float = 1e-12) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, heads, dropout)
        self.norm1 = nn.LayerNorm(d_model, eps=eps)
        self.ff_in, self.ff_out = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.norm2 = nn.LayerNorm(d_model, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm1(x + self.dropout(self.attention(x, attention_mask)))
        return self.norm2(h + self.dropout(self.ff_out(gelu(self.ff_in(h)))))


@dataclass(frozen=True)
class EncoderConfig:
    """The shape of an :class:`Encoder` (BERT's names in brackets where they differ)."""

    vocab_size: int
    d_model: int = 384  # hidden_size
    layers: int = 6  # num_hidden_layers
    heads: int = 12  # num_attention_heads
    d_ff: int = 1536  # intermediate_size
    max_positions: int = 512
    type_vocab_size: int = 2
    eps: float = 1e-12
    dropout: float = 0.0


class Encoder(nn.Module):
    """BERT without its pooler: token + learned position + segment embeddings, LN, then blocks.

    Taught in: 07 §1
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.positions = nn.Embedding(config.max_positions, config.d_model)
        self.segments = nn.Embedding(config.type_vocab_size, config.d_model)
        self.norm = nn.LayerNorm(config.d_model, eps=config.eps)
        self.blocks = nn.ModuleList(
            EncoderBlock(config.d_model, config.heads, config.d_ff, config.dropout, config.eps)
            for _ in range(config.layers)
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.tokens(input_ids) + self.positions(positions)[None] + self.segments(torch.zeros_like(input_ids))
        x = self.norm(x)
        for block in self.blocks:
            x = block(x, attention_mask)
        return x


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of the real tokens' vectors (padding excluded): sentence-transformers' pooling.

    Taught in: 07 §2
    """
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
