"""Bottleneck adapters (Houlsby et al. 2019): a small residual MLP after a frozen layer.

An adapter maps a layer's output ``h`` to ``h + up(relu(down(h)))``, with ``down`` projecting to a
``bottleneck`` much smaller than the layer's width and ``up`` initialised to zeros, so the adapted
network starts as the pretrained one. After a linear layer the projections are linear; after a
convolution they are 1x1 convolutions (the same MLP at every pixel). :func:`add_adapters` inserts
them after named layers, in place; the chapter then trains the adapters and the head only.

What it is not: the transformer-specific placement (two adapters per block) of the paper; here an
adapter follows whichever layers are named.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ptft_utils.finetune.freezing import train_only
from ptft_utils.finetune.heads import wrap_layers

ADAPTER_MARK = "adapter"


class BottleneckAdapter(nn.Module):
    """``h + up(relu(down(h)))``: ``features -> bottleneck -> features``, ``up`` zero-initialised.

    ``conv=True`` uses 1x1 convolutions over channels (input ``[B, C, H, W]``).

    Taught in: 06 §4.
    """

    def __init__(self, features: int, bottleneck: int, conv: bool = False) -> None:
        super().__init__()
        if features < 1 or bottleneck < 1:
            raise ValueError(f"features and bottleneck must be >= 1, got {features} and {bottleneck}")
        layer = (lambda i, o: nn.Conv2d(i, o, kernel_size=1)) if conv else nn.Linear
        self.down = layer(features, bottleneck)
        self.up = layer(bottleneck, features)
        for p in self.up.parameters():  # weight and bias: the adapter starts as the identity
            nn.init.zeros_(p)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(torch.relu(self.down(h)))


class Adapted(nn.Module):
    """A layer followed by its adapter: ``adapter(layer(x))``. Taught in: 06 §4."""

    def __init__(self, layer: nn.Module, adapter: BottleneckAdapter) -> None:
        super().__init__()
        self.layer = layer
        self.adapter = adapter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.layer(x))


def add_adapters(
    model: nn.Module, targets: Iterable[str], bottleneck: int = 8, seed: int | None = None
) -> dict[str, BottleneckAdapter]:
    """Put a :class:`BottleneckAdapter` after each named ``nn.Linear`` / ``nn.Conv2d`` of ``model``, in place.

    Freezes nothing: call :func:`mark_only_adapters_trainable` for that. With ``seed`` the
    ``down`` projections depend only on the seed. Returns the adapters by layer name.

    Taught in: 06 §4.
    """

    def wrap(name: str, layer: nn.Module | None) -> tuple[nn.Module, BottleneckAdapter]:
        if isinstance(layer, nn.Linear):
            adapter = BottleneckAdapter(layer.out_features, bottleneck)
        elif isinstance(layer, nn.Conv2d):
            adapter = BottleneckAdapter(layer.out_channels, bottleneck, conv=True)
        else:
            kind = type(layer).__name__ if layer is not None else "nothing"
            raise ValueError(f"targets: {name!r} is {kind}; adapters follow nn.Linear and nn.Conv2d")
        return Adapted(layer, adapter), adapter

    return wrap_layers(model, targets, wrap, seed)


def mark_only_adapters_trainable(model: nn.Module, also: Iterable[str] = ()) -> int:
    """Freeze everything but the adapters and the modules named in ``also``; returns the trainable count.

    Taught in: 06 §4.
    """
    return train_only(model, lambda name: f".{ADAPTER_MARK}." in f".{name}", also)


def bitfit(model: nn.Module, also: Iterable[str] = ()) -> int:
    """BitFit (Ben Zaken et al. 2022): train the biases only (and the modules named in ``also``).

    Every parameter whose name ends in ``bias`` trains, and every parameter under ``also`` (the
    new head); all weights are frozen. Returns how many parameters train.

    Taught in: 06 §4.
    """
    return train_only(model, lambda name: name.rsplit(".", 1)[-1] == "bias", also)
