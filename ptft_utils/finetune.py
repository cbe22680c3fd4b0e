"""Fine-tuning tools: freezing, new heads, discriminative learning rates, gradual unfreezing.

Everything here works on *layer groups*: a list of groups of modules from the bottom (input) of
the network to the top (the task head), as returned by a twin's ``layer_groups()`` method (see
:mod:`ptft_utils.models`). A group is a module or a list of modules.

- :func:`freeze` / :func:`unfreeze`: set ``requires_grad`` on every parameter of the given modules.
  A frozen parameter gets no gradient, so Adam (or SGD) leaves it bit-identical. (Frozen
  batch-norm layers still update their running statistics in ``train()`` mode; the seed's models
  have none, and :func:`freeze` takes ``eval_mode=True`` for models that do.)
- :func:`reinit` / :func:`replace_head`: a fresh head for the new task.
- :func:`linear_probe`: freeze everything but a re-initialised head.
- :func:`discriminative_param_groups`: optimizer parameter groups whose learning rate shrinks by
  a factor ``decay`` per group going down (ULMFiT, Howard & Ruder 2018, use 2.6).
- :func:`gradual_unfreezing_schedule` / :func:`gradual_unfreezing`: unfreeze one more group from
  the top every ``every`` epochs (ULMFiT's schedule), as an ``on_epoch_start`` hook for
  :func:`ptft_utils.train.fit`.
- :func:`setup_strategy`: the chapter's named strategies in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

LayerGroup = nn.Module | Sequence[nn.Module]
STRATEGIES = ("scratch", "linear_probe", "top", "full", "discriminative", "gradual")


def _modules(group: LayerGroup | Iterable[LayerGroup]) -> list[nn.Module]:
    if isinstance(group, nn.Module):
        return [group]
    out: list[nn.Module] = []
    for item in group:
        out.extend(_modules(item))
    return out


def _parameters(groups: LayerGroup | Iterable[LayerGroup]) -> list[nn.Parameter]:
    seen: set[int] = set()
    params = []
    for module in _modules(groups):
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


def freeze(modules: LayerGroup | Iterable[LayerGroup], eval_mode: bool = False) -> None:
    """Stop gradients for every parameter in ``modules`` (a module, a group or a list of groups)."""
    for p in _parameters(modules):
        p.requires_grad_(False)
    if eval_mode:
        for m in _modules(modules):
            m.eval()


def unfreeze(modules: LayerGroup | Iterable[LayerGroup]) -> None:
    """Let gradients flow again into every parameter of ``modules``."""
    for p in _parameters(modules):
        p.requires_grad_(True)


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in trainable_parameters(model))


def reinit(modules: LayerGroup | Iterable[LayerGroup], seed: int | None = None) -> None:
    """Re-initialise ``modules`` with their own ``reset_parameters`` (PyTorch's default init).

    With ``seed`` the new weights depend only on that seed, not on how much randomness was used
    before: two arms given the same seed start from the same head.
    """
    state = torch.get_rng_state()
    if seed is not None:
        torch.manual_seed(seed)
    try:
        for module in _modules(modules):
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
    """Freeze every group except the top one (the head), and re-initialise the head."""
    freeze(layer_groups[:-1])
    unfreeze(layer_groups[-1])
    reinit(layer_groups[-1], seed=seed)


def discriminative_param_groups(
    model_layer_groups: Sequence[LayerGroup], base_lr: float, decay: float = 2.6
) -> list[dict[str, Any]]:
    """Optimizer parameter groups, one per layer group, with learning rates decaying downward.

    Group ``i`` of ``n`` (0 = bottom) gets ``base_lr / decay ** (n - 1 - i)``: the head trains at
    ``base_lr``, each group below at ``decay`` times less. ``decay=1`` is plain fine-tuning. Each
    dict has ``params``, ``lr`` and ``name`` (``"group0"`` ...) and can go straight to
    ``torch.optim.Adam`` or to ``ptft_utils.train.fit(param_groups=...)``.
    """
    if base_lr <= 0 or decay <= 0:
        raise ValueError(f"base_lr and decay must be > 0, got {base_lr} and {decay}")
    n = len(model_layer_groups)
    return [
        {"params": _parameters(group), "lr": base_lr / decay ** (n - 1 - i), "name": f"group{i}"}
        for i, group in enumerate(model_layer_groups)
    ]


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
    """An ``on_epoch_start`` hook for :func:`ptft_utils.train.fit` that unfreezes one group per ``every`` epochs."""
    n = len(layer_groups)

    def hook(epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        apply_unfreezing(layer_groups, min(n, 1 + (epoch - 1) // every))

    return hook


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
