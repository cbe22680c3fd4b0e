"""PyTorch twins of the seed article's Keras models: same layers, same parameter counts.

The seed (section 4.2) builds its CNN in Keras; :class:`SeedCNN` is the same network in PyTorch,
layer for layer, so that weights can be copied across (see :mod:`ptft_utils.parity`) and the two
frameworks can be compared on equal terms. What differs is only the layout of tensors: PyTorch
keeps images as NCHW and returns *logits*; the Keras model keeps NHWC and ends in a softmax.

Each twin exposes ``layer_groups()``: its layers as a list of groups from the bottom (input) to
the top (head). Fine-tuning code (:mod:`ptft_utils.finetune`) freezes, unfreezes and assigns
learning rates by group, so it works for any model that lists its groups this way.

This module is about model *definitions*; training lives in :mod:`ptft_utils.train`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

SEED_CNN_PARAMETERS = 225_034  # what Keras' model.summary() prints for the seed's CNN


class SeedCNN(nn.Module):
    """Conv(32,3x3)-ReLU-MaxPool(2) - Conv(64,3x3)-ReLU-MaxPool(2) - Flatten - Dense(128)-ReLU - Dense(10).

    Input: ``[B, 1, 28, 28]`` (or ``[B, 28, 28]``) floats in [0, 1]. Output: logits ``[B, num_classes]``
    (the Keras model applies the softmax inside its last layer; here it belongs to the loss).
    ``features(x)`` returns the 128-d representation under the head, which is what a pretrained
    encoder hands to a new task.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)  # 28 -> 26, pool -> 13
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)  # 13 -> 11, pool -> 5
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.head = nn.Linear(128, num_classes)

    def conv_features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk's output, ``[B, 64, 5, 5]`` (NCHW)."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128-d penultimate representation (after ReLU)."""
        return F.relu(self.fc1(torch.flatten(self.conv_features(x), 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def layer_groups(self) -> list[list[nn.Module]]:
        """Bottom to top: conv1, conv2, fc1, head."""
        return [[self.conv1], [self.conv2], [self.fc1], [self.head]]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (what ``model.summary()`` calls 'Total params')."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def forward_flops(model: nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Floating-point operations of one forward pass per example, by layer (Conv2d and Linear).

    A multiply-add counts as 2 FLOPs; activations, pooling and biases are ignored (they are a few
    per cent here). Training costs about 3x the forward pass for layers that receive gradients
    (forward, gradient w.r.t. inputs, gradient w.r.t. weights); see :func:`training_flops`.
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
    """
    flops = forward_flops(model, example)
    names = list(flops)
    modules = dict(model.named_modules())
    trainable = [any(p.requires_grad for p in modules[n].parameters()) for n in names]
    if not any(trainable):
        return sum(flops.values())
    lowest = trainable.index(True)
    return sum(flops.values()) + 2 * sum(flops[n] for n in names[lowest:])
