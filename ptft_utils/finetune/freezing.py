"""Freezing: which parameters train, on *layer groups* from the input (bottom) to the head (top).

A layer group is a module or a list of modules, as returned by a model's ``layer_groups()``.
:func:`freeze` / :func:`unfreeze` set ``requires_grad``; a frozen parameter gets no gradient, so
Adam (or SGD) leaves it bit-identical. (Frozen batch-norm layers still update their running
statistics in ``train()`` mode; :func:`freeze` takes ``eval_mode=True`` for models that have them.)
:func:`gradual_unfreezing` opens one more group from the top every ``every`` epochs (ULMFiT's
schedule, Howard & Ruder 2018) as an ``on_epoch_start`` hook for :func:`ptft_utils.train.fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import nn

LayerGroup = nn.Module | Sequence[nn.Module]


def flatten_modules(group: LayerGroup | Iterable[LayerGroup]) -> list[nn.Module]:
    if isinstance(group, nn.Module):
        return [group]
    out: list[nn.Module] = []
    for item in group:
        out.extend(flatten_modules(item))
    return out


def unique_parameters(groups: LayerGroup | Iterable[LayerGroup]) -> list[nn.Parameter]:
    seen: set[int] = set()
    params = []
    for module in flatten_modules(groups):
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


def freeze(modules: LayerGroup | Iterable[LayerGroup], eval_mode: bool = False) -> None:
    """Stop gradients for every parameter in ``modules`` (a module, a group or a list of groups)."""
    for p in unique_parameters(modules):
        p.requires_grad_(False)
    if eval_mode:
        for m in flatten_modules(modules):
            m.eval()


def unfreeze(modules: LayerGroup | Iterable[LayerGroup]) -> None:
    """Let gradients flow again into every parameter of ``modules``."""
    for p in unique_parameters(modules):
        p.requires_grad_(True)


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in trainable_parameters(model))


def train_only(model: nn.Module, trains: Callable[[str], bool], also: Iterable[str] = ()) -> int:
    """Let a parameter train when ``trains(name)`` holds or it lies under a module named in ``also``.

    Every other parameter is frozen. Returns how many parameters train (what BitFit, adapters and
    LoRA each choose by name). Taught in: 06 §4.
    """
    keep = tuple(f"{prefix}." for prefix in also)
    count = 0
    for name, p in model.named_parameters():
        on = trains(name) or name.startswith(keep)
        p.requires_grad_(on)
        count += p.numel() if on else 0
    return count


def load_parameters(model: nn.Module, state: Mapping[str, torch.Tensor], *, what: str = "state") -> None:
    """Copy ``state`` (parameter name -> tensor) into ``model``'s parameters; every key must name one.

    ``what`` names the argument in the error. Taught in: 06 §5.
    """
    params = dict(model.named_parameters())
    unknown = [name for name in state if name not in params]
    if unknown:
        raise ValueError(f"{what}: {len(unknown)} keys are not parameters of the model (first: {unknown[:3]})")
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)


def gradual_unfreezing_schedule(n_groups: int, epochs: int, every: int = 1) -> list[int]:
    """How many top groups are trainable in each epoch (1-based epochs -> list index epoch-1).

    Epoch 1 trains the top group only; every ``every`` epochs one more group below it is
    unfrozen, until all ``n_groups`` train: ``gradual_unfreezing_schedule(4, 6) == [1, 2, 3, 4, 4, 4]``.
    """
    if n_groups < 1 or every < 1:
        raise ValueError("n_groups and every must be >= 1")
    return [min(n_groups, 1 + (epoch - 1) // every) for epoch in range(1, epochs + 1)]


def apply_unfreezing(layer_groups: Sequence[LayerGroup], n_trainable: int) -> None:
    """Make the top ``n_trainable`` groups trainable and freeze the rest."""
    n = len(layer_groups)
    freeze(layer_groups[: n - n_trainable])
    unfreeze(layer_groups[n - n_trainable :])


def gradual_unfreezing(
    layer_groups: Sequence[LayerGroup], every: int = 1
) -> Callable[[int, nn.Module, torch.optim.Optimizer], None]:
    """An ``on_epoch_start`` hook for :func:`ptft_utils.train.fit` that unfreezes one group per ``every`` epochs.

    Taught in: 05 §5.
    """
    n = len(layer_groups)

    def hook(epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        apply_unfreezing(layer_groups, min(n, 1 + (epoch - 1) // every))

    return hook
