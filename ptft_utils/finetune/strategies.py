"""The book's named fine-tuning strategies, each a recipe of freezing, heads and learning rates.

``scratch`` (random init, everything trains), ``linear_probe`` (head only), ``top`` (the top
groups), ``full``, ``discriminative`` (rates decaying downward) and ``gradual`` (gradual
unfreezing with discriminative rates). :func:`setup_strategy` prepares a model for one and returns
the keyword arguments for :func:`ptft_utils.train.fit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ptft_utils.finetune.freezing import LayerGroup, freeze, gradual_unfreezing, unfreeze
from ptft_utils.finetune.heads import reinit
from ptft_utils.finetune.rates import discriminative_param_groups

STRATEGIES = ("scratch", "linear_probe", "top", "full", "discriminative", "gradual")


def setup_strategy(
    layer_groups: Sequence[LayerGroup],
    strategy: str,
    lr: float,
    *,
    top_groups: int = 2,
    decay: float = 2.6,
    head_seed: int | None = None,
) -> dict[str, Any]:
    """Prepare a model for one of :data:`STRATEGIES`; returns the extra keyword arguments for ``fit``.

    The head (top group) is always re-initialised. ``scratch`` expects a freshly initialised
    model and trains everything; ``linear_probe`` trains the head only; ``top`` trains the top
    ``top_groups`` groups; ``full`` trains everything at ``lr``; ``discriminative`` trains
    everything with learning rates decaying by ``decay`` per group downward; ``gradual``
    unfreezes one group per epoch from the top (with discriminative rates).

    Taught in: 04 §6.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    reinit(layer_groups[-1], seed=head_seed)
    unfreeze(layer_groups)
    if strategy == "linear_probe":
        freeze(layer_groups[:-1])
    elif strategy == "top":
        freeze(layer_groups[: len(layer_groups) - top_groups])
    kwargs: dict[str, Any] = {"lr": lr}
    if strategy in ("discriminative", "gradual"):
        kwargs["param_groups"] = discriminative_param_groups(layer_groups, lr, decay)
    if strategy == "gradual":
        kwargs["on_epoch_start"] = gradual_unfreezing(layer_groups)
    return kwargs
