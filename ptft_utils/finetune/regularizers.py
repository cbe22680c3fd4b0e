"""L2-SP (Li, Grandvalet & Davoine 2018): keep fine-tuned weights near the pretrained ones.

Plain weight decay pulls every weight toward zero, which for a pretrained network means *away*
from what it learned. L2-SP pulls the shared weights toward their pretrained values ``w0``
instead, and only the new head toward zero:

    Omega(w) = alpha / 2 * ||w_S - w0_S||^2 + beta / 2 * ||w_new||^2

Its gradient is ``alpha (w_S - w0_S)`` on the shared weights and ``beta w_new`` on the new ones.
The penalty is a function of the model; the chapter adds it to the loss at every step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn


def pretrained_reference(model: nn.Module, exclude: Iterable[str] = ("head",)) -> dict[str, torch.Tensor]:
    """Detached copies of the parameters L2-SP anchors to (all but those under ``exclude``).

    Taught in: 06 §6.
    """
    skip = tuple(f"{prefix}." for prefix in exclude)
    return {name: p.detach().clone() for name, p in model.named_parameters() if not name.startswith(skip)}


def l2_sp_penalty(
    model: nn.Module,
    reference: Mapping[str, torch.Tensor],
    alpha: float = 0.01,
    beta: float = 0.0,
) -> torch.Tensor:
    """``alpha/2 ||w_S - w0||^2 + beta/2 ||w_new||^2`` over the model's *trainable* parameters.

    ``reference`` maps parameter names to their pretrained values (see :func:`pretrained_reference`);
    trainable parameters not in it are the new ones (the head), decayed toward zero with ``beta``.
    Frozen parameters add nothing (they cannot move). Zero at the pretrained weights when ``beta=0``.

    Taught in: 06 §6.
    """
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta must be >= 0, got alpha={alpha}, beta={beta}")
    total = torch.zeros(())
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name in reference:
            total = total + 0.5 * alpha * (p - reference[name].to(p.device)).pow(2).sum()
        elif beta > 0:
            total = total + 0.5 * beta * p.pow(2).sum()
    return total
