"""LoRA from scratch (Hu et al. 2021): a frozen layer plus a trainable low-rank update ``B @ A``.

A LoRA layer keeps the pretrained weight ``W`` frozen and learns ``delta W = (alpha / r) B A``,
with ``A`` of shape ``(r, in)`` (random) and ``B`` of shape ``(out, r)`` (zeros, so training
starts from the pretrained function). For a convolution, ``A`` is a convolution with the base
kernel's size into ``r`` channels and ``B`` a 1x1 convolution back, as in ``peft``. Dropout acts on
the input of the low-rank path only. :meth:`merge` folds ``delta W`` into ``W`` (no extra cost at
inference), :meth:`unmerge` takes it out again.

:func:`inject_lora` wraps named submodules of a model in place; :func:`lora_state_dict` and
:func:`load_lora_state_dict` move only the adapter (what a LoRA checkpoint or file holds).

What it is not: ``peft``. The comparison with ``peft``'s layer lives in
:mod:`ptft_utils.hf.peft_parity` (the only place ``peft`` may be imported).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from ptft_utils.finetune.freezing import load_parameters, train_only
from ptft_utils.finetune.heads import wrap_layers

LORA_MARK = "lora_"


def _check_rank(rank: int, alpha: float, dropout: float) -> None:
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be an int >= 1, got {rank!r}")
    if not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


class LoRALayer(nn.Module):
    """What LoRA layers share: the frozen ``base``, ``rank``, ``alpha``, ``scaling`` and merging.

    Taught in: 06 §5.
    """

    base: nn.Module
    lora_A: nn.Parameter
    lora_B: nn.Parameter

    def __init__(self, base: nn.Module, rank: int, alpha: float, dropout: float) -> None:
        super().__init__()
        _check_rank(rank, alpha, dropout)
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.rank, self.alpha, self.scaling = rank, float(alpha), float(alpha) / rank
        self.lora_dropout: nn.Module = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False

    def reset_lora(self) -> None:
        """``A`` as PyTorch initialises a linear layer (Kaiming uniform, as ``peft``), ``B`` zeros."""
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B)

    def delta_weight(self) -> torch.Tensor:
        raise NotImplementedError

    def lora_path(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def merge(self) -> None:
        """Add ``delta W`` to the base weight; the layer then computes the same with one matmul."""
        if not self.merged:
            self.base.weight += self.delta_weight()  # type: ignore[operator]
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract ``delta W`` again (undoes :meth:`merge` up to float rounding)."""
        if self.merged:
            self.base.weight -= self.delta_weight()  # type: ignore[operator]
            self.merged = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.merged:
            return out
        return out + self.lora_path(self.lora_dropout(x)) * self.scaling


class LoRALinear(LoRALayer):
    """``base(x) + (alpha / r) * x A^T B^T`` around a frozen ``nn.Linear``.

    Taught in: 06 §5.
    """

    def __init__(self, base: nn.Linear, rank: int = 4, alpha: float = 8.0, dropout: float = 0.0) -> None:
        if not isinstance(base, nn.Linear):
            raise ValueError(f"base must be an nn.Linear, got {type(base).__name__}")
        super().__init__(base, rank, alpha, dropout)
        dtype, device = base.weight.dtype, base.weight.device
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, dtype=dtype, device=device))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, dtype=dtype, device=device))
        self.reset_lora()

    def delta_weight(self) -> torch.Tensor:
        return (self.lora_B @ self.lora_A) * self.scaling

    def lora_path(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.linear(x, self.lora_A), self.lora_B)


class LoRAConv2d(LoRALayer):
    """A frozen ``nn.Conv2d`` plus ``B(A(x))``: ``A`` a conv with the base's kernel into ``r`` channels, ``B`` 1x1.

    Taught in: 06 §5.
    """

    def __init__(self, base: nn.Conv2d, rank: int = 4, alpha: float = 8.0, dropout: float = 0.0) -> None:
        if not isinstance(base, nn.Conv2d):
            raise ValueError(f"base must be an nn.Conv2d, got {type(base).__name__}")
        if base.groups != 1 or base.padding_mode != "zeros" or isinstance(base.padding, str):
            raise ValueError(
                f"base: LoRAConv2d supports groups=1, zero padding given as numbers; got groups={base.groups}, "
                f"padding={base.padding!r}, padding_mode={base.padding_mode!r}"
            )
        super().__init__(base, rank, alpha, dropout)
        kh, kw = base.kernel_size
        dtype, device = base.weight.dtype, base.weight.device
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_channels, kh, kw, dtype=dtype, device=device))
        self.lora_B = nn.Parameter(torch.zeros(base.out_channels, rank, 1, 1, dtype=dtype, device=device))
        self.reset_lora()

    def delta_weight(self) -> torch.Tensor:
        out_channels = self.lora_B.shape[0]
        flat = self.lora_B.reshape(out_channels, self.rank) @ self.lora_A.reshape(self.rank, -1)
        return flat.reshape(out_channels, *self.lora_A.shape[1:]) * self.scaling

    def lora_path(self, x: torch.Tensor) -> torch.Tensor:
        base = cast(nn.Conv2d, self.base)  # __init__ refused anything else
        hidden = F.conv2d(x, self.lora_A, None, base.stride, base.padding, base.dilation)
        return F.conv2d(hidden, self.lora_B)


def inject_lora(
    model: nn.Module,
    targets: Iterable[str],
    rank: int = 4,
    alpha: float = 8.0,
    dropout: float = 0.0,
    seed: int | None = None,
) -> dict[str, LoRALayer]:
    """Wrap each named submodule (``"fc1"``, ``"conv2"``, dotted paths allowed) in a LoRA layer, in place.

    Linear layers get :class:`LoRALinear`, convolutions :class:`LoRAConv2d`; their base weights
    are frozen. Nothing else is frozen: call :func:`mark_only_lora_trainable` for that. With
    ``seed`` the ``A`` matrices depend only on the seed. Returns the new layers by name.

    Taught in: 06 §5.
    """

    def wrap(name: str, module: nn.Module | None) -> tuple[nn.Module, LoRALayer]:
        if isinstance(module, nn.Linear):
            layer: LoRALayer = LoRALinear(module, rank, alpha, dropout)
        elif isinstance(module, nn.Conv2d):
            layer = LoRAConv2d(module, rank, alpha, dropout)
        else:
            kind = type(module).__name__ if module is not None else "nothing"
            raise ValueError(f"targets: {name!r} is {kind}; LoRA wraps nn.Linear and nn.Conv2d")
        return layer, layer

    return wrap_layers(model, targets, wrap, seed)


def mark_only_lora_trainable(model: nn.Module, also: Iterable[str] = ()) -> int:
    """Freeze every parameter but the LoRA matrices and those under the modules named in ``also``.

    Returns how many parameters train. Taught in: 06 §5.
    """
    return train_only(model, lambda name: LORA_MARK in name.rsplit(".", 1)[-1], also)


def lora_layers(model: nn.Module) -> dict[str, LoRALayer]:
    """Every LoRA layer of ``model`` by its module name. Taught in: 06 §5."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALayer)}


def merge_lora(model: nn.Module) -> None:
    """Merge every LoRA layer of ``model`` (see :meth:`LoRALayer.merge`). Taught in: 06 §5."""
    for layer in lora_layers(model).values():
        layer.merge()


def unmerge_lora(model: nn.Module) -> None:
    """Unmerge every LoRA layer of ``model`` (see :meth:`LoRALayer.unmerge`). Taught in: 06 §5."""
    for layer in lora_layers(model).values():
        layer.unmerge()


def lora_state_dict(model: nn.Module, also: Iterable[str] = ()) -> dict[str, torch.Tensor]:
    """The adapter alone: the LoRA matrices (and the parameters under ``also``), detached copies.

    Taught in: 06 §5.
    """
    keep = tuple(f"{prefix}." for prefix in also)
    return {
        name: p.detach().clone()
        for name, p in model.named_parameters()
        if LORA_MARK in name.rsplit(".", 1)[-1] or name.startswith(keep)
    }


def load_lora_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Copy an adapter (from :func:`lora_state_dict`) into ``model``; every key must exist there.

    Taught in: 06 §5.
    """
    load_parameters(model, state)
