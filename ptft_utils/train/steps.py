"""A step-based fine-tuning loop: per-step schedules, a penalty or rehearsal term, adapter-only checkpoints.

:func:`ptft_utils.train.fit` counts epochs and checkpoints the whole model. Fine-tuning with tiny
label budgets is measured in optimiser *steps* (an "epoch" of 10 images is one step), its
schedules (warm-up, cosine, one-cycle) move every step, L2-SP adds a term that depends on the
weights, rehearsal adds a loss on source batches, and a LoRA run should checkpoint only what
trains. :func:`train_steps` does exactly that and nothing more:

1. the batch of step ``s`` is drawn from a permutation seeded by ``(seed, epoch of s)``, so step
   ``s`` sees the same images whether or not the run was interrupted before it;
2. loss = cross-entropy + ``penalty(model)`` (e.g. L2-SP) + ``extra_loss(step)`` (e.g.
   :class:`SourceRehearsal`);
3. every ``eval_every`` steps, validation accuracy; the trainable weights of the best check are
   kept and loaded back at the end;
4. with ``checkpoint_path``, every ``checkpoint_every`` steps the *trainable* parameters, the
   optimiser, the scheduler, the random states and the best-so-far are written atomically with
   :func:`ptft_utils.train.checkpoint.save_checkpoint`; a call with the same path resumes, and on
   the CPU ends bit-identical to a run never interrupted. ``stop_after`` ends a run early (what a
   kill does), to show exactly that. ``on_step(step, model)`` runs before each step (gradual
   unfreezing is such a hook: parameters frozen at a step get no gradient, so Adam skips them).

Taught in: 06 §2 (and §7, resuming).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ptft_utils.finetune.freezing import load_parameters
from ptft_utils.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state


def step_indices(n: int, batch_size: int, seed: int, step: int) -> torch.Tensor:
    """Indices of step ``step``'s batch: a slice of the permutation of its epoch, seeded by ``(seed, epoch)``.

    ``batch_size >= n`` is full-batch gradient descent: every step sees all ``n`` examples.

    Taught in: 06 §2.
    """
    if n < 1 or batch_size < 1:
        raise ValueError(f"n and batch_size must be >= 1, got n={n}, batch_size={batch_size}")
    if batch_size >= n:
        return torch.arange(n)
    per_epoch = math.ceil(n / batch_size)
    epoch, position = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return order[position * batch_size : (position + 1) * batch_size]


class SourceRehearsal:
    """Rehearsal: at every step, the loss of one batch of *source* examples, weighted, through ``forward``.

    ``forward(x)`` gives source-task logits (for a shared trunk with a kept source head:
    ``lambda x: source_head(model.features(x))``). Batches are drawn from ``(seed, step)`` alone,
    so a resumed run rehearses the same examples. Mixing a fraction of source batches into
    fine-tuning is the oldest remedy for catastrophic forgetting (Robins 1995).

    Taught in: 06 §6.
    """

    def __init__(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        forward: Callable[[torch.Tensor], torch.Tensor],
        *,
        batch_size: int = 16,
        weight: float = 1.0,
        seed: int = 0,
    ) -> None:
        if len(inputs) != len(targets) or len(inputs) == 0:
            raise ValueError(
                f"inputs and targets must be non-empty and equally long, got {len(inputs)}, {len(targets)}"
            )
        if batch_size < 1 or weight < 0:
            raise ValueError(f"batch_size must be >= 1 and weight >= 0, got {batch_size}, {weight}")
        self.inputs, self.targets, self.forward = inputs, targets, forward
        self.batch_size, self.weight, self.seed = batch_size, weight, seed

    def __call__(self, step: int) -> torch.Tensor:
        idx = step_indices(len(self.inputs), self.batch_size, self.seed + 7919, step)
        return self.weight * F.cross_entropy(self.forward(self.inputs[idx]), self.targets[idx])


@dataclass
class StepsResult:
    """What :func:`train_steps` returns: the best validation accuracy, where it was, and the cost.

    Taught in: 06 §2.
    """

    best_val: float
    best_step: int
    steps: int
    curve: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    seconds_per_step: float = math.nan
    resumed_from: int | None = None
    checkpoint_bytes: int | None = None


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Detached copies of the parameters that train (what an adapter checkpoint holds). Taught in: 06 §7."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy ``state`` (from :func:`trainable_state`) into ``model``'s parameters of the same names. Taught in: 06 §7."""
    load_parameters(model, state)


@torch.no_grad()
def accuracy(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 512) -> float:
    """Fraction of ``inputs`` whose arg-max logit is the target, in eval mode. Taught in: 06 §2."""
    was_training = model.training
    model.eval()
    correct = sum(
        int((model(inputs[i : i + batch_size]).argmax(-1) == targets[i : i + batch_size]).sum())
        for i in range(0, len(inputs), batch_size)
    )
    model.train(was_training)
    return correct / max(len(inputs), 1)


def train_steps(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    *,
    optimizer: torch.optim.Optimizer,
    steps: int,
    batch_size: int = 32,
    scheduler: Any = None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    extra_loss: Callable[[int], torch.Tensor] | None = None,
    eval_every: int = 10,
    seed: int = 0,
    checkpoint_path: str | Path | None = None,
    checkpoint_every: int | None = None,
    stop_after: int | None = None,
    on_step: Callable[[int, nn.Module], None] | None = None,
) -> StepsResult:
    """Train ``model`` for ``steps`` optimiser steps; the module docstring gives the contract.

    Taught in: 06 §2.
    """
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be >= 1, got steps={steps}, eval_every={eval_every}")
    (x, y), (xv, yv) = train, val
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    every = checkpoint_every or eval_every
    result = StepsResult(best_val=-math.inf, best_step=0, steps=0)
    best_state = trainable_state(model)
    start = 0
    if path is not None and path.exists():
        saved = load_checkpoint(path)
        load_trainable_state(model, saved["trainable"])
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None and saved["scheduler"] is not None:
            scheduler.load_state_dict(saved["scheduler"])
        set_rng_state(saved["rng"])
        best_state, start = saved["best_state"], int(saved["step"])
        result.best_val, result.best_step = float(saved["best_val"]), int(saved["best_step"])
        result.curve = [(int(step), float(score)) for step, score in saved["curve"]]
        result.resumed_from = start
    model.train()
    train_seconds, started = 0.0, time.perf_counter()
    for step in range(start, steps):
        if stop_after is not None and step >= stop_after:
            break
        if on_step is not None:  # e.g. gradual unfreezing: it sees the 0-based step about to run
            on_step(step, model)
        t0 = time.perf_counter()
        idx = step_indices(len(x), batch_size, seed, step)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        if penalty is not None:
            loss = loss + penalty(model)
        if extra_loss is not None:
            loss = loss + extra_loss(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        train_seconds += time.perf_counter() - t0
        done = step + 1
        result.steps = done
        if done % eval_every == 0 or done == steps:
            score = accuracy(model, xv, yv)
            result.curve.append((done, score))
            if score > result.best_val:
                result.best_val, result.best_step, best_state = score, done, trainable_state(model)
        if path is not None and (done % every == 0 or done == steps):
            state = {
                "step": done,
                "trainable": trainable_state(model),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": rng_state(),
                "best_state": best_state,
                "best_val": result.best_val,
                "best_step": result.best_step,
                "curve": [list(c) for c in result.curve],
            }
            save_checkpoint(path, state)
            result.checkpoint_bytes = path.stat().st_size
    if stop_after is None or result.steps >= steps:
        load_trainable_state(model, best_state)
    ran = max(result.steps - start, 1)
    result.seconds, result.seconds_per_step = time.perf_counter() - started, train_seconds / ran
    return result
