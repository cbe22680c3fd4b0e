"""Optimisers and learning-rate schedules for fine-tuning, and the learning-rate range test.

- :func:`build_optimizer`: ``"gd"`` (full-batch gradient descent: plain SGD, the caller uses the
  whole training set as one batch), ``"sgd"``, ``"momentum"`` (SGD with momentum 0.9, Nesterov
  off), ``"adam"`` and ``"adamw"`` (decoupled weight decay, Loshchilov & Hutter 2019);
- :func:`build_schedule`: ``"constant"``, ``"warmup_cosine"`` (linear warm-up, then cosine decay
  to zero) and ``"one_cycle"`` (Smith 2018: up to the peak in the first 30%, then down), all
  stepped once per optimiser step;
- :func:`lr_range_test`: Smith's test, the loss while the learning rate grows geometrically, run
  on a copy so the model is left as it was.

Taught in: 06 §3.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "adamw")
SCHEDULES = ("constant", "warmup_cosine", "one_cycle")


def build_optimizer(name: str, params: Iterable[Any], lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """One of :data:`OPTIMIZERS` over ``params`` (tensors or parameter groups) at ``lr``.

    ``adamw`` uses ``weight_decay`` (default 0.01 when 0 is given, PyTorch's own default); the
    others use it as L2 added to the gradient.

    Taught in: 06 §3.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer name {name!r} is not one of {OPTIMIZERS}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    params = list(params)
    if name in ("gd", "sgd"):
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay or 0.01)


def schedule_factor(name: str, total_steps: int, warmup_fraction: float = 0.1) -> Callable[[int], float]:
    """The multiplier of the peak learning rate at step ``s`` (0-based) for schedule ``name``.

    ``warmup_cosine``: ``(s + 1) / w`` for the first ``w = ceil(warmup_fraction * total)`` steps,
    then ``0.5 (1 + cos(pi * progress))``. ``one_cycle``: linear from 1/25 up to 1 over the first
    30% of the steps, then cosine down to 1/25e4 (the defaults of ``torch.optim.lr_scheduler.OneCycleLR``,
    without its momentum cycling). ``constant``: 1.

    Taught in: 06 §3.
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule name {name!r} is not one of {SCHEDULES}")
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if name == "constant":
        return lambda step: 1.0
    if name == "warmup_cosine":
        warmup = max(1, math.ceil(warmup_fraction * total_steps))

        def warmup_cosine(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, total_steps - warmup)
            return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

        return warmup_cosine
    peak, start, end = max(1, round(0.3 * total_steps)), 1 / 25, 1 / 25e4

    def one_cycle(step: int) -> float:
        if step < peak:
            return start + (1 - start) * step / peak
        progress = (step - peak) / max(1, total_steps - peak)
        return end + (1 - end) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return one_cycle


def build_schedule(
    name: str, optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float = 0.1
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that applies :func:`schedule_factor` to every group's learning rate, once per step.

    Taught in: 06 §3.
    """
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule_factor(name, total_steps, warmup_fraction))


def lr_range_test(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    optimizer: str = "adam",
    min_lr: float = 1e-5,
    max_lr: float = 1.0,
    steps: int = 60,
    batch_size: int = 32,
    seed: int = 0,
    smoothing: float = 0.8,
) -> dict[str, Any]:
    """Smith's range test: train a copy while the rate grows geometrically from ``min_lr`` to ``max_lr``.

    Returns ``lrs``, raw and exponentially smoothed ``losses`` (bias-corrected), and
    ``suggested_lr``: the rate at the steepest fall of the smoothed loss (the usual reading: a
    rate where the loss still falls fast, below where it blows up). Stops early once the smoothed
    loss exceeds four times its minimum. The model passed in is not changed.

    Taught in: 06 §3.
    """
    if not 0 < min_lr < max_lr:
        raise ValueError(f"need 0 < min_lr < max_lr, got min_lr={min_lr}, max_lr={max_lr}")
    if steps < 3:
        raise ValueError(f"steps must be >= 3, got {steps}")
    net = copy.deepcopy(model)
    net.train()
    opt = build_optimizer(optimizer, [p for p in net.parameters() if p.requires_grad], min_lr)
    lrs = np.geomspace(min_lr, max_lr, steps)
    generator = torch.Generator().manual_seed(seed)
    raw, smooth, average = [], [], 0.0
    for i, lr in enumerate(lrs):
        for group in opt.param_groups:
            group["lr"] = float(lr)
        idx = torch.randint(len(inputs), (min(batch_size, len(inputs)),), generator=generator)
        loss = F.cross_entropy(net(inputs[idx]), targets[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        average = smoothing * average + (1 - smoothing) * value
        raw.append(value)
        smooth.append(average / (1 - smoothing ** (i + 1)))
        if not math.isfinite(value) or smooth[-1] > 4 * min(smooth):
            break
    used = lrs[: len(smooth)]
    slopes = np.gradient(np.asarray(smooth), np.log(used)) if len(smooth) > 2 else np.zeros(len(smooth))
    best = int(np.argmin(slopes))
    return {"lrs": used.tolist(), "losses": raw, "smoothed": smooth, "suggested_lr": float(used[best])}
