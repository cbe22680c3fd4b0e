"""Training and evaluating a sequence classifier on right-padded sentences (chapter 05).

:func:`train_classifier` is :func:`ptft_utils.train.fit` with a packed-sequence ``forward``
(:func:`padded_forward` trims each batch to its longest sentence and passes the lengths), optional
discriminative learning rates and gradual unfreezing (ULMFiT style, an ``on_epoch_start`` hook);
:func:`predict_classifier` and :func:`evaluate_classifier` score a padded set.

What it is not: a general text pipeline; sentences arrive already encoded as ids, right-padded to
one width, with their lengths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ptft_utils.finetune import (
    apply_unfreezing,
    discriminative_param_groups,
    gradual_unfreezing,
    gradual_unfreezing_schedule,
    unfreeze,
)
from ptft_utils.models.rnn import LSTMClassifier
from ptft_utils.train.batches import Batch, padded_batches
from ptft_utils.train.loop import EpochHook, fit


def padded_forward(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """``fit``'s ``forward`` for ``(ids, lengths, labels)`` batches: trim to the longest sentence, pass lengths.

    Taught in: 05 §4 and §5 (inside :func:`train_classifier`).
    """
    ids, lengths, labels = batch
    return model(ids[:, : int(lengths.max())], lengths), labels


def classifier_param_groups(
    model: LSTMClassifier,
    lr: float,
    discriminative: float | None,
    param_groups: Callable[[LSTMClassifier, float], list[dict[str, Any]]] | None,
) -> list[dict[str, Any]]:
    """Optimizer groups: ``param_groups(model, lr)``, else rates decaying by ``discriminative``, else one group.

    Taught in: 05 §5 (inside :func:`train_classifier`).
    """
    if param_groups is not None:
        return param_groups(model, lr)
    if discriminative:
        return discriminative_param_groups(model.layer_groups(), lr, discriminative)
    return [{"params": list(model.parameters()), "lr": lr}]


def unfreezing_hook(model: LSTMClassifier, gradual: bool) -> EpochHook:
    """The ``on_epoch_start`` hook: ULMFiT's gradual unfreezing, or every group trainable each epoch.

    Taught in: 05 §5 (inside :func:`train_classifier`).
    """
    groups = model.layer_groups()
    if gradual:
        return gradual_unfreezing(groups)
    return lambda epoch, model, optimizer: apply_unfreezing(groups, len(groups))


def train_classifier(
    model: LSTMClassifier,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 4,
    batch_size: int = 32,
    lr: float = 2e-3,
    min_steps: int = 0,
    discriminative: float | None = None,
    gradual_unfreezing: bool = False,
    seed: int = 0,
    device: Any = "cpu",
    param_groups: Callable[[LSTMClassifier, float], list[dict[str, Any]]] | None = None,
    checkpoint_dir: str | Path | None = None,
    val: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    monitor: str = "val_accuracy",
) -> list[dict[str, float]]:
    """Train with Adam (gradients clipped to norm 1) through ``fit``; returns [{epoch, loss, trainable_groups}].

    ``min_steps`` raises the epoch count so tiny label budgets still get that many updates.
    ``discriminative`` (e.g. 2.6) gives each lower layer group the rate divided by that factor;
    ``gradual_unfreezing`` trains only the head in the first epoch and unfreezes one more group
    (top down) each epoch after; all groups are trainable again at the end. ``param_groups``
    overrides how optimizer groups are made. The final weights are returned (no validation set, no
    early stopping); ``checkpoint_dir`` makes the run resumable, as in ``fit``.

    ``val`` (``(ids, lengths, labels)`` of a validation set) scores the model after every epoch
    and keeps the weights of the best epoch by ``monitor`` (``"val_accuracy"`` or ``"val_loss"``);
    each history row then also has ``val_accuracy`` and ``val_loss``. There is no patience: every
    epoch is trained, so arms compared this way get the same number of epochs.

    Taught in: 05 §4 and §5.
    """
    if monitor not in ("val_accuracy", "val_loss"):
        raise ValueError(f"monitor must be 'val_accuracy' or 'val_loss', got {monitor!r}")
    n_groups = len(model.layer_groups())
    epochs = max(epochs, math.ceil(min_steps / math.ceil(len(labels) / batch_size)))
    history = fit(
        model,
        (ids, lengths, labels),
        val,
        epochs=epochs,
        batch_size=batch_size,
        param_groups=classifier_param_groups(model, lr, discriminative, param_groups),
        lr=lr,
        forward=padded_forward,
        on_epoch_start=unfreezing_hook(model, gradual_unfreezing),
        grad_clip=1.0,
        monitor=monitor if val is not None else "val_loss",  # without val, exactly the old call
        restore_best=val is not None,
        seed=seed,
        device=device,
        checkpoint_dir=checkpoint_dir,
        progress=False,
    )
    unfreeze(model.layer_groups())
    schedule = gradual_unfreezing_schedule(n_groups, epochs) if gradual_unfreezing else [n_groups] * epochs
    scores = ("val_accuracy", "val_loss") if val is not None else ()
    return [
        {"epoch": row["epoch"], "loss": row["train_loss"], "trainable_groups": schedule[row["epoch"] - 1]}
        | {name: row[name] for name in scores}
        for row in history
    ]


@torch.no_grad()
def predict_classifier(
    model: LSTMClassifier,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    *,
    batch_size: int = 256,
    pooling: str | None = None,
    device: Any = "cpu",
) -> torch.Tensor:
    """Predicted classes for a padded set, in batches trimmed to their longest sentence.

    Taught in: 05 §4.
    """
    model.eval()
    dummy = torch.zeros(len(lengths), dtype=torch.long)
    preds = [
        model(x.to(device), lens, pooling).argmax(1).cpu()
        for x, lens, _ in padded_batches(ids, lengths, dummy, batch_size, shuffle=False)
    ]
    return torch.cat(preds)


def evaluate_classifier(
    model: LSTMClassifier,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    pooling: str | None = None,
    device: Any = "cpu",
) -> float:
    """Accuracy on a padded set.

    Taught in: 05 §4 and §5.
    """
    preds = predict_classifier(model, ids, lengths, pooling=pooling, device=device)
    return float((preds == labels.cpu()).float().mean())
