"""Early stopping: which epoch was best so far, its weights, and whether patience has run out.

:class:`EarlyStopping` is the small state :func:`ptft_utils.train.fit` keeps between epochs: the
monitored metric, whether lower or higher is better, the patience, the best score, epoch and
weights, and the count of epochs without improvement. ``state_dict``/``load_state_dict`` turn it
into plain data (numbers and tensors) for a checkpoint, so a resumed run stops where an
uninterrupted one would.

What it is not: a scheduler or a callback system; it never changes the learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

MODES = ("min", "max")
SETTINGS = ("monitor", "mode", "patience", "min_delta", "keep_best")  # fixed for a run
PROGRESS = ("best_score", "best_epoch", "best_state", "bad_epochs", "stopped")  # what a checkpoint saves


def state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the model's weights (the best-so-far snapshot).

    Taught in: 04 §6 (inside :func:`~ptft_utils.train.fit`'s early stopping).
    """
    return {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}


@dataclass
class EarlyStopping:
    """Watch ``monitor`` and stop after ``patience`` epochs without an improvement of ``min_delta``.

    ``mode`` is ``"min"`` (lower is better) or ``"max"``; by default ``"min"`` for a metric whose
    name ends in ``loss``, else ``"max"``. ``patience=None`` never stops. With ``keep_best`` the
    weights of the best epoch are kept in ``best_state``.

    Taught in: 04 §6.
    """

    monitor: str = "val_loss"
    mode: str | None = None
    patience: int | None = None
    min_delta: float = 0.0
    keep_best: bool = True
    best_score: float | None = None
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0
    stopped: bool = False

    def __post_init__(self) -> None:
        if self.mode is None:
            self.mode = "min" if self.monitor.endswith("loss") else "max"
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")

    def improves(self, score: float) -> bool:
        """Whether ``score`` beats the best so far by more than ``min_delta``."""
        if self.best_score is None:
            return True
        if self.mode == "min":
            return score < self.best_score - self.min_delta
        return score > self.best_score + self.min_delta

    def update(self, epoch: int, score: float, model: nn.Module | None = None) -> bool:
        """Record the epoch's ``score``; returns whether it improved (and keeps ``model``'s weights if so)."""
        score = float(score)
        if self.improves(score):
            self.best_score, self.best_epoch, self.bad_epochs = score, epoch, 0
            self.best_state = state_copy(model) if self.keep_best and model is not None else None
            return True
        self.bad_epochs += 1
        if self.patience is not None and self.bad_epochs >= self.patience:
            self.stopped = True
        return False

    def settings(self) -> dict[str, Any]:
        """What changes the result (for a run's fingerprint): monitor, mode, patience, min_delta, keep_best."""
        return {name: getattr(self, name) for name in SETTINGS}

    def state_dict(self) -> dict[str, Any]:
        """The progress so far as plain data: numbers, ``None`` and tensors (safe to load)."""
        return {name: getattr(self, name) for name in PROGRESS}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in PROGRESS:
            setattr(self, name, state[name])
