"""New heads for a new task: re-initialise a module, replace a linear head, or train the head alone.

Seeded re-initialisation depends only on the seed, not on how much randomness was used before,
so two arms given the same seed start from the same head.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from ptft_utils.finetune.freezing import LayerGroup, flatten_modules, freeze, unfreeze


def reinit(modules: LayerGroup | Iterable[LayerGroup], seed: int | None = None) -> None:
    """Re-initialise ``modules`` with their own ``reset_parameters`` (PyTorch's default init).

    With ``seed`` the new weights depend only on that seed, not on how much randomness was used
    before: two arms given the same seed start from the same head.
    """
    state = torch.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        for module in flatten_modules(modules):
            for sub in module.modules():
                reset = getattr(sub, "reset_parameters", None)
                if callable(reset):
                    reset()
    finally:
        if seed is not None:
            torch.set_rng_state(state)


def replace_head(model: nn.Module, attribute: str, num_classes: int, seed: int | None = None) -> nn.Linear:
    """Put a new ``nn.Linear`` head with ``num_classes`` outputs at ``model.<attribute>``."""
    old = getattr(model, attribute)
    state = torch.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        new = nn.Linear(old.in_features, num_classes)
    finally:
        if seed is not None:
            torch.set_rng_state(state)
    setattr(model, attribute, new)
    return new


def linear_probe(layer_groups: Sequence[LayerGroup], seed: int | None = None) -> None:
    """Freeze every group except the top one (the head), and re-initialise the head.

    Taught in: 04 §6.
    """
    freeze(layer_groups[:-1])
    unfreeze(layer_groups[-1])
    reinit(layer_groups[-1], seed=seed)


def wrap_layers(
    model: nn.Module,
    targets: Iterable[str],
    wrap: Callable[[str, nn.Module | None], tuple[nn.Module, Any]],
    seed: int | None = None,
) -> dict[str, Any]:
    """Replace each named submodule (dotted paths allowed) by what ``wrap(name, module)`` builds, in place.

    ``wrap`` returns ``(replacement, kept)`` (or raises ``ValueError`` for a module it cannot wrap;
    ``module`` is None when the name points at nothing); the ``kept`` objects are returned by name.
    With ``seed``, what ``wrap`` draws depends only on the seed, and the global RNG is restored
    afterwards. Taught in: 06 §4.
    """
    state = torch.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    kept: dict[str, Any] = {}
    try:
        for name in targets:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            replacement, kept[name] = wrap(name, getattr(parent, child, None))
            setattr(parent, child, replacement)
    finally:
        if seed is not None:
            torch.set_rng_state(state)
    return kept
