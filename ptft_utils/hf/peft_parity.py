"""The book's from-scratch LoRA (:mod:`ptft_utils.finetune.lora`) checked against ``peft``'s LoRA.

:func:`lora_parity` builds two copies of one model with the same pretrained weights, wraps the
same layers with the book's :func:`~ptft_utils.finetune.lora.inject_lora` and with ``peft``'s
``get_peft_model(LoraConfig(...))``, gives both adapters the *same* ``A`` and ``B`` (``B`` random,
not zero, so that every path carries a signal), and compares the outputs, the gradients of ``A``
and ``B`` and of the input, and the outputs after merging. It also reports each side's count of
trainable parameters.

This file is the only one in the book that imports ``peft``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from ptft_utils.finetune.lora import inject_lora, lora_layers, mark_only_lora_trainable, merge_lora


def _max_abs(a: torch.Tensor | None, b: torch.Tensor | None) -> float:
    if a is None or b is None:
        raise ValueError("a gradient is missing: the parameter did not take part in the loss")
    return float((a.detach() - b.detach()).abs().max())


def _grad(parameter: torch.Tensor, shape: torch.Size) -> torch.Tensor | None:
    return None if parameter.grad is None else parameter.grad.reshape(shape)


def lora_parity(
    model: nn.Module,
    targets: Sequence[str],
    inputs: torch.Tensor,
    *,
    rank: int = 4,
    alpha: float = 8.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Ours against ``peft`` on ``model`` with LoRA on ``targets``: the largest absolute differences.

    Returns ``forward_max_abs``, ``grad_A_max_abs`` and ``grad_B_max_abs`` (over every target),
    ``grad_input_max_abs``, ``merged_vs_unmerged_ours`` and ``merged_vs_unmerged_peft`` (each side's
    outputs after merging against its unmerged outputs), ``merged_ours_vs_peft``, and the trainable
    counts ``trainable_ours`` / ``trainable_peft`` (LoRA matrices only). Dropout is off (0), so
    both sides are deterministic.

    Taught in: 06 §5.
    """
    from peft import LoraConfig, get_peft_model

    ours, theirs = copy.deepcopy(model), copy.deepcopy(model)
    inject_lora(ours, targets, rank=rank, alpha=alpha, seed=seed)
    trainable_ours = mark_only_lora_trainable(ours)
    # peft annotates lora_alpha as int but uses it as a number (scaling = lora_alpha / r)
    options: dict[str, Any] = {"r": rank, "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none"}
    config = LoraConfig(target_modules=list(targets), **options)
    peft_model = get_peft_model(theirs, config)
    trainable_peft = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    generator = torch.Generator().manual_seed(seed + 1)
    pairs = []
    for name, layer in lora_layers(ours).items():
        with torch.no_grad():
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=generator) * 0.1)
        peft_layer: Any = cast(nn.Module, peft_model.base_model.model).get_submodule(name)
        a, b = peft_layer.lora_A["default"].weight, peft_layer.lora_B["default"].weight
        with torch.no_grad():
            a.copy_(layer.lora_A.reshape(a.shape))
            b.copy_(layer.lora_B.reshape(b.shape))
        pairs.append((layer, a, b))
    x_ours, x_peft = inputs.clone().requires_grad_(True), inputs.clone().requires_grad_(True)
    out_ours, out_peft = ours(x_ours), peft_model(x_peft)
    weights = torch.randn(out_ours.shape, generator=generator)
    (out_ours * weights).sum().backward()
    (out_peft * weights).sum().backward()
    result: dict[str, Any] = {
        "forward_max_abs": _max_abs(out_ours, out_peft),
        "grad_A_max_abs": max(_max_abs(_grad(layer.lora_A, a.shape), a.grad) for layer, a, _ in pairs),
        "grad_B_max_abs": max(_max_abs(_grad(layer.lora_B, b.shape), b.grad) for layer, _, b in pairs),
        "grad_input_max_abs": _max_abs(x_ours.grad, x_peft.grad),
        "trainable_ours": trainable_ours,
        "trainable_peft": trainable_peft,
    }
    with torch.no_grad():
        merge_lora(ours)
        merged_ours = ours(inputs)
        merged_peft = peft_model.merge_and_unload()(inputs)
    result["merged_vs_unmerged_ours"] = _max_abs(merged_ours, out_ours)
    result["merged_vs_unmerged_peft"] = _max_abs(merged_peft, out_peft)
    result["merged_ours_vs_peft"] = _max_abs(merged_ours, merged_peft)
    return result
