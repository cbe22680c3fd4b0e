"""Training and scoring a causal (GPT-style) language model on one token stream.

:func:`random_windows` draws ``(input, next-token target)`` windows at random offsets, as
nanoGPT does; :func:`train_causal_lm` runs AdamW over such windows for a number of steps;
:func:`stream_nll` scores a stream with non-overlapping windows (perplexity is ``exp`` of it).
What it is not: the truncated-BPTT loop of recurrent models (see :mod:`ptft_utils.train.lm`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from ptft_utils.models.gpt import GPT


def _check_stream(ids: torch.Tensor, block_size: int) -> None:
    if ids.dim() != 1:
        raise ValueError(f"ids must be a 1-D stream of token ids, got shape {tuple(ids.shape)}")
    if block_size < 1 or ids.numel() < block_size + 1:
        raise ValueError(f"ids must hold more than block_size={block_size} tokens, got {ids.numel()}")


def random_windows(
    ids: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` windows of ``block_size`` tokens at random offsets and their one-step-shifted targets.

    Taught in: 07b §2
    """
    _check_stream(ids, block_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    starts = torch.randint(ids.numel() - block_size, (batch_size,), generator=generator)
    rows = starts[:, None] + torch.arange(block_size + 1)[None]
    chunk = ids[rows]
    return chunk[:, :-1], chunk[:, 1:]


@dataclass
class CausalLMRun:
    """What :func:`train_causal_lm` did: steps, tokens seen, seconds and ``(step, loss)`` checkpoints."""

    steps: int
    tokens: int
    seconds: float
    losses: list[tuple[int, float]] = field(default_factory=list)


def train_causal_lm(
    model: GPT,
    ids: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int = 32,
    block_size: int | None = None,
    seed: int = 0,
    weight_decay: float = 0.01,
    log_every: int = 50,
    device: str | torch.device = "cpu",
) -> CausalLMRun:
    """Train ``model`` (its ``loss(idx, targets)``) in place on random windows of ``ids``.

    AdamW with a linear warm-up over the first 10% of steps and cosine decay to a tenth of ``lr``;
    windows drawn from a ``torch.Generator`` seeded by ``seed``, so a rerun is identical.
    ``steps=0`` returns at once (the untouched model).

    Taught in: 07b §2
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    block_size = block_size if block_size is not None else model.config.block_size
    _check_stream(ids, block_size)
    generator = torch.Generator().manual_seed(seed)
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, steps // 10)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, steps - warm)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    run, start = CausalLMRun(steps, 0, 0.0), time.perf_counter()
    for step in range(1, steps + 1):
        x, y = random_windows(ids, block_size, batch_size, generator)
        loss = model.loss(x.to(device), y.to(device))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        run.tokens += x.numel()
        if step % log_every == 0 or step == steps:
            run.losses.append((step, loss.item()))
    model.eval()
    run.seconds = time.perf_counter() - start
    return run


@torch.no_grad()
def stream_nll(
    model: GPT, ids: torch.Tensor, *, block_size: int | None = None, batch_size: int = 64,
    device: str | torch.device = "cpu",
) -> float:  # fmt: skip
    """Mean next-token negative log-likelihood (nats) over non-overlapping windows of ``ids``.

    Every token after the first of each window is predicted once; ``exp`` of the result is the
    perplexity.

    Taught in: 07b §2
    """
    block_size = block_size if block_size is not None else model.config.block_size
    _check_stream(ids, block_size)
    n = (ids.numel() - 1) // block_size
    x = ids[: n * block_size].view(n, block_size)
    y = ids[1 : n * block_size + 1].view(n, block_size)
    model.to(device).eval()
    total = 0.0
    for i in range(0, n, batch_size):
        total += float(model.loss(x[i : i + batch_size].to(device), y[i : i + batch_size].to(device))) * len(
            x[i : i + batch_size]
        )
    return total / n
