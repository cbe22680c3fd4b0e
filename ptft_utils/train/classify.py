"""Training and evaluating a sequence classifier on right-padded sentences (chapter 05).

:func:`train_classifier` runs :func:`ptft_utils.train.fit` with a packed-sequence forward, optional
discriminative learning rates and gradual unfreezing (ULMFiT style); :func:`predict_classifier`
and :func:`evaluate_classifier` score a padded set.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ptft_utils.finetune import apply_unfreezing, discriminative_param_groups, gradual_unfreezing_schedule, unfreeze
from ptft_utils.models.rnn import LSTMClassifier
from ptft_utils.train.batches import padded_batches


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
) -> list[dict[str, float]]:
    """Train with Adam; returns [{epoch, loss, trainable_groups}].

    ``min_steps`` raises the epoch count so tiny label budgets still get that many updates.
    ``discriminative`` (e.g. 2.6) gives each lower layer group the rate divided by that factor;
    ``gradual_unfreezing`` trains only the head in the first epoch and unfreezes one more group
    (top down) each epoch after. ``param_groups`` overrides how optimizer groups are made.
    """
    model.to(device)
    groups = model.layer_groups()
    if param_groups is not None:
        optim_groups = param_groups(model, lr)
    elif discriminative:
        optim_groups = discriminative_param_groups(groups, lr, discriminative)
    else:
        optim_groups = [{"params": list(model.parameters()), "lr": lr}]
    optimizer = torch.optim.Adam(optim_groups)
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    epochs = max(epochs, math.ceil(min_steps / steps_per_epoch))
    schedule = gradual_unfreezing_schedule(len(groups), epochs) if gradual_unfreezing else [len(groups)] * epochs
    history = []
    for epoch in range(epochs):
        n_open = schedule[epoch]
        apply_unfreezing(groups, n_open)
        model.train()
        total, n = 0.0, 0
        for x, lens, y in padded_batches(ids, lengths, labels, batch_size, shuffle=True, seed=seed * 1000 + epoch):
            logits = model(x.to(device), lens)
            loss = F.cross_entropy(logits, y.to(device))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(y)
            n += len(y)
        history.append({"epoch": epoch + 1, "loss": total / n, "trainable_groups": n_open})
    unfreeze(groups)
    return history


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
    """Accuracy on a padded set."""
    preds = predict_classifier(model, ids, lengths, pooling=pooling, device=device)
    return float((preds == labels.cpu()).float().mean())
