"""What a model costs: parameter counts and FLOPs per forward and training step.

FLOPs are counted from the layers' shapes (a multiply-add is two FLOPs). A training step costs
the forward pass plus a backward pass of twice the forward cost for the layers from the lowest
trainable one upward, and nothing below it: freezing the bottom of a network makes steps cheaper.
"""

from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (what ``model.summary()`` calls 'Total params').

    Taught in: 04 §4; also used in 05 §1.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def forward_flops(model: nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Floating-point operations of one forward pass per example, by layer (Conv2d and Linear).

    A multiply-add counts as 2 FLOPs; activations, pooling and biases are ignored (they are a few
    per cent here). Training costs about 3x the forward pass for layers that receive gradients
    (forward, gradient w.r.t. inputs, gradient w.r.t. weights); see :func:`training_flops`.

    Taught in: 01 §3; also used in 04 §11.
    """
    counts: dict[str, int] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):

            def hook(mod, inputs, output, name=name):
                per_out = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
                counts[name] = 2 * per_out * output[0].numel()

            hooks.append(module.register_forward_hook(hook))
        elif isinstance(module, nn.Linear):

            def hook(mod, inputs, output, name=name):
                counts[name] = 2 * mod.in_features * mod.out_features

            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        for handle in hooks:
            handle.remove()
    return counts


def training_flops(model: nn.Module, example: torch.Tensor) -> int:
    """FLOPs of one training step per example, given which parameters are trainable now.

    Forward: every layer. Backward: 2x forward for each layer from the lowest trainable one
    upward (weight gradients for trainable layers, input gradients for everything above the
    lowest trainable layer; we count 2x for simplicity), nothing below it.

    Taught in: 04 §11.
    """
    flops = forward_flops(model, example)
    names = list(flops)
    modules = dict(model.named_modules())
    trainable = [any(p.requires_grad for p in modules[n].parameters()) for n in names]
    if not any(trainable):
        return sum(flops.values())
    lowest = trainable.index(True)
    return sum(flops.values()) + 2 * sum(flops[n] for n in names[lowest:])
