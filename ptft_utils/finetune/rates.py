"""Discriminative learning rates: one optimizer group per layer group, rates decaying downward.

ULMFiT (Howard & Ruder 2018) divides the rate by 2.6 per group below the head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ptft_utils.finetune.freezing import LayerGroup, unique_parameters


def discriminative_param_groups(
    model_layer_groups: Sequence[LayerGroup], base_lr: float, decay: float = 2.6
) -> list[dict[str, Any]]:
    """Optimizer parameter groups, one per layer group, with learning rates decaying downward.

    Group ``i`` of ``n`` (0 = bottom) gets ``base_lr / decay ** (n - 1 - i)``: the head trains at
    ``base_lr``, each group below at ``decay`` times less. ``decay=1`` is plain fine-tuning. Each
    dict has ``params``, ``lr`` and ``name`` (``"group0"`` ...) and can go straight to
    ``torch.optim.Adam`` or to ``ptft_utils.train.fit(param_groups=...)``.

    Taught in: 05 §3.
    """
    if base_lr <= 0 or decay <= 0:
        raise ValueError(f"base_lr and decay must be > 0, got {base_lr} and {decay}")
    n = len(model_layer_groups)
    return [
        {"params": unique_parameters(group), "lr": base_lr / decay ** (n - 1 - i), "name": f"group{i}"}
        for i, group in enumerate(model_layer_groups)
    ]
