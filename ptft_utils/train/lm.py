"""Language-model data, training and sampling: contiguous streams and truncated BPTT.

:func:`batchify` cuts one id stream into parallel contiguous streams (as in PyTorch's
word_language_model example); :func:`lm_chunks` yields (input, next-token target) windows;
:func:`train_lm` trains with truncated backpropagation through time, the hidden state carried
across windows and detached; :func:`evaluate_lm` gives the mean NLL; :func:`sample` draws text,
deterministic given a seed.

What it is not: a tokenizer or a data loader for documents (see :mod:`ptft_utils.data.text`), nor a
sampler with beam search or top-k.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def batchify(ids: Sequence[int] | np.ndarray | torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut one long id stream into ``batch_size`` contiguous streams: shape (batch, steps).

    Taught in: 05 §3.
    """
    data = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    steps = data.numel() // batch_size
    if steps < 2:
        raise ValueError(f"{data.numel()} tokens are too few for batch size {batch_size}")
    return data[: steps * batch_size].view(batch_size, steps)


def lm_chunks(streams: torch.Tensor, seq_len: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(input, target) windows along the streams; the target is the input shifted by one.

    Taught in: 05 §3 (through :func:`train_lm` and :func:`evaluate_lm`).
    """
    for start in range(0, streams.size(1) - 1, seq_len):
        stop = min(start + seq_len, streams.size(1) - 1)
        yield streams[:, start:stop], streams[:, start + 1 : stop + 1]


def _detach(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (list, tuple)):
        return type(state)(_detach(s) for s in state)
    return state


def _lm_forward(model: nn.Module, x: torch.Tensor, state: Any, one_hot: int | None) -> tuple[torch.Tensor, Any]:
    if one_hot is not None:  # the seed model reads one-hot vectors
        x = F.one_hot(x, one_hot).float()
    return model(x, state)


@torch.no_grad()
def evaluate_lm(
    model: nn.Module, streams: torch.Tensor, seq_len: int, one_hot: int | None = None, device: Any = "cpu"
) -> float:
    """Mean NLL (nats per token) over every window of ``streams``, state carried along.

    Taught in: 05 §3.
    """
    model.eval()
    total, count, state = 0.0, 0, None
    for x, y in lm_chunks(streams, seq_len):
        logits, state = _lm_forward(model, x.to(device), state, one_hot)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1).to(device), reduction="sum").item()
        count += y.numel()
    return total / count


def bptt_windows(
    streams: torch.Tensor, seq_len: int, epochs: int, max_steps: int | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor, bool]]:
    """``(input, target, starts_epoch)`` windows, epoch after epoch, at most ``max_steps`` of them.

    Taught in: 05 §3 (through :func:`train_lm`).
    """
    step = 0
    for _ in range(epochs):
        for i, (x, y) in enumerate(lm_chunks(streams, seq_len)):
            if max_steps is not None and step >= max_steps:
                return
            step += 1
            yield x, y, i == 0


def bptt_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    window: tuple[torch.Tensor, torch.Tensor],
    state: Any,
    *,
    clip: float,
    one_hot: int | None,
) -> tuple[float, Any]:
    """One truncated-BPTT step from the carried ``state``; returns the loss and the new, detached state.

    Taught in: 05 §3 (through :func:`train_lm`).
    """
    x, y = window
    model.train()
    logits, state = _lm_forward(model, x, state, one_hot)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item(), _detach(state)


def train_lm(
    model: nn.Module,
    train_streams: torch.Tensor,
    val_streams: torch.Tensor | None,
    *,
    epochs: int = 1,
    seq_len: int = 64,
    lr: float = 2e-3,
    max_steps: int | None = None,
    eval_every: int | None = None,
    clip: float = 1.0,
    one_hot: int | None = None,
    device: Any = "cpu",
    optimizer: torch.optim.Optimizer | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Truncated-BPTT training with Adam; returns a history of {step, tokens, train_nll, val_nll}.

    Validation runs every ``eval_every`` steps (and at the end); ``max_steps`` caps the budget.
    The loop is its own, not :func:`ptft_utils.train.fit`: its windows must come in stream order
    (``fit`` shuffles), each step starts from the previous window's hidden state, and budgets and
    validation are counted in steps, not epochs; ``fit`` would need a stateful forward, an
    unshuffled order and epochs redefined as ``eval_every`` windows to express it.

    Taught in: 05 §3.
    """
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    losses: list[float] = []
    step, tokens, state = 0, 0, None

    def record() -> None:
        row = {"step": step, "tokens": tokens, "train_nll": sum(losses) / max(len(losses), 1)}
        if val_streams is not None:
            row["val_nll"] = evaluate_lm(model, val_streams, seq_len, one_hot, device)
        history.append(row)
        if progress is not None:
            progress(row)
        losses.clear()

    for x, y, starts_epoch in bptt_windows(train_streams, seq_len, epochs, max_steps):
        window = (x.to(device), y.to(device))
        loss, state = bptt_step(model, optimizer, window, None if starts_epoch else state, clip=clip, one_hot=one_hot)
        step, tokens = step + 1, tokens + y.numel()
        losses.append(loss)
        if eval_every and step % eval_every == 0:
            record()
    if losses or not history:
        record()
    return history


@torch.no_grad()
def sample(
    model: nn.Module,
    prefix: Sequence[int],
    length: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
    one_hot: int | None = None,
    device: Any = "cpu",
) -> list[int]:
    """Sample ``length`` ids after ``prefix`` from softmax(logits / temperature).

    A private ``torch.Generator`` seeded with ``seed`` makes the text a function of the
    arguments only. Temperature < 1 sharpens the distribution (safer, more repetitive);
    > 1 flattens it (more varied, more mistakes).

    Taught in: 05 §2.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor([list(prefix)], dtype=torch.long, device=device)
    logits, state = _lm_forward(model, x, None, one_hot)
    out: list[int] = []
    for _ in range(length):
        probs = torch.softmax(logits[0, -1].float().cpu() / temperature, dim=-1)
        next_id = int(torch.multinomial(probs, 1, generator=generator))
        out.append(next_id)
        logits, state = _lm_forward(model, torch.tensor([[next_id]], device=device), state, one_hot)
    return out
