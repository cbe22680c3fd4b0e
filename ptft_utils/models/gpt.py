"""A tiny GPT: a causal decoder language model in plain PyTorch, sized by one config.

Token and learned position embeddings, pre-norm blocks (``x + MHA(LN(x))`` with the causal mask,
then ``x + MLP(LN(x))``), a final layer norm and an output layer tied to the token embedding.
Model size is entirely :class:`GPTConfig`, so a scaling sweep builds many sizes from one class;
:meth:`GPT.num_parameters` and :meth:`GPT.flops_per_token` give the numbers a compute axis needs.
The training loop lives in :mod:`ptft_utils.train.causal_lm`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ptft_utils.models.transformer import MultiHeadAttention, gelu


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a :class:`GPT`; every field is checked, the bad one named.

    Taught in: 07b §2
    """

    vocab_size: int
    block_size: int = 128  # the longest context the model reads
    n_layer: int = 2
    n_head: int = 4
    d_model: int = 128
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "d_model"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig.{name} must be a positive int, got {value!r}")
        if self.d_model % self.n_head:
            raise ValueError(
                f"GPTConfig.d_model must be divisible by n_head, got d_model={self.d_model}, n_head={self.n_head}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig.dropout must be in [0, 1), got {self.dropout!r}")


class DecoderBlock(nn.Module):
    """A pre-norm causal block: ``h = x + MHA(LN(x))`` (causal), ``out = h + W_2 GELU(W_1 LN(h))``.

    Taught in: 07b §2
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attention = MultiHeadAttention(config.d_model, config.n_head, config.dropout)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.ff_in, self.ff_out = (
            nn.Linear(config.d_model, 4 * config.d_model),
            nn.Linear(4 * config.d_model, config.d_model),
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.norm1(x), causal=True))
        return x + self.dropout(self.ff_out(gelu(self.ff_in(self.norm2(x)))))


class GPT(nn.Module):
    """A decoder-only language model: ``forward(idx)`` gives next-token logits ``(batch, n, vocab)``.

    Position ``i``'s logits depend on tokens ``0..i`` only (the causal mask), so one forward pass
    scores every next-token prediction of a window at once.

    Taught in: 07b §2
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.positions = nn.Embedding(config.block_size, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(DecoderBlock(config) for _ in range(config.n_layer))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.apply(self._init)
        self.head.weight = self.tokens.weight  # tied: one matrix reads tokens in and writes them out

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        if idx.dim() != 2:
            raise ValueError(f"idx must be (batch, length) token ids, got shape {tuple(idx.shape)}")
        if idx.shape[1] > self.config.block_size:
            raise ValueError(f"idx length {idx.shape[1]} exceeds block_size={self.config.block_size}")
        positions = torch.arange(idx.shape[1], device=idx.device)
        x = self.dropout(self.tokens(idx) + self.positions(positions)[None])
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats per token) of predicting ``targets`` from ``idx``.

        Taught in: 07b §2
        """
        logits = self(idx)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def num_parameters(self, non_embedding: bool = False) -> int:
        """Parameters held (the tied output matrix counted once); ``non_embedding`` leaves out both embeddings.

        Kaplan et al. (2020) fit scaling laws in the non-embedding count ``N``.

        Taught in: 07b §2
        """
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.tokens.weight.numel() + self.positions.weight.numel()
        return total

    def flops_per_token(self, context: int | None = None) -> float:
        """Training FLOPs per token: ``6 N + 6 n_layer context d_model`` (Kaplan et al., 2020).

        ``N`` is the non-embedding parameter count (each weight does a multiply-add forward, two
        backward: 6 FLOPs), plus the attention scores over a ``context`` (default ``block_size``)
        and the output layer's ``6 d_model vocab``.

        Taught in: 07b §2
        """
        context = self.config.block_size if context is None else context
        if context < 1:
            raise ValueError(f"context must be >= 1, got {context}")
        cfg = self.config
        return float(
            6 * self.num_parameters(non_embedding=True)
            + 6 * cfg.n_layer * context * cfg.d_model
            + 6 * cfg.d_model * cfg.vocab_size
        )

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Extend ``idx`` ``(batch, n)`` by ``max_new_tokens`` sampled tokens.

        Each step samples from ``softmax(logits / temperature)`` over the last position, kept to
        the ``top_k`` most likely tokens when given, with the context cropped to ``block_size``.
        The same ``generator`` state gives the same sample; ``top_k=1`` is greedy decoding.

        Taught in: 07b §2
        """
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        if top_k is not None and not 1 <= top_k <= self.config.vocab_size:
            raise ValueError(f"top_k must be None or in [1, vocab_size={self.config.vocab_size}], got {top_k!r}")
        if idx.dim() != 2 or idx.shape[1] < 1:
            raise ValueError(f"idx must be (batch, length >= 1) token ids, got shape {tuple(idx.shape)}")
        was_training = self.training
        self.eval()
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.config.block_size :])[:, -1, :] / temperature
            if top_k is not None:
                kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = torch.softmax(logits.float(), dim=-1)
            following = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, following], dim=1)
        self.train(was_training)
        return idx
