"""One PyTorch training loop for every chapter: progress, validation, early stopping, checkpoints.

``fit(model, train_data, val_data, ...)`` trains for up to ``epochs`` epochs and returns a
:class:`History` (a list of one dict per epoch, so ``pandas.DataFrame(history)`` works). Each epoch:

1. ``on_epoch_start(epoch, model, optimizer)`` runs (gradual unfreezing is such a hook);
2. :func:`train_epoch` makes one pass in an order drawn from a generator seeded with ``seed`` and
   the epoch number, so epoch 7 sees the same order whether or not the run was interrupted before
   it; a tqdm bar shows the running training loss;
3. the model is evaluated on ``val_data`` (loss and accuracy);
4. :class:`~ptft_utils.train.stopping.EarlyStopping` watches ``monitor`` with ``patience``; the
   best weights are kept and, with ``restore_best=True``, loaded back at the end;
5. with ``checkpoint_dir``, everything needed to continue is written atomically to
   ``<checkpoint_dir>/last.pt``: model, optimizer, scheduler, the random states of torch, NumPy
   and Python, the epoch, the history, the early-stopping state and the run's fingerprint.
   ``fit`` called again with the same ``checkpoint_dir`` resumes from it (and refuses a checkpoint
   made with other settings); on the CPU with the same seed, the resumed run ends with the same
   weights, bit for bit, as a run that was never interrupted.

Optimizer: ``optimizer`` if given, else Adam over ``param_groups`` (e.g. from
:func:`ptft_utils.finetune.discriminative_param_groups`) or over all parameters with ``lr``;
parameters with ``requires_grad=False`` get no gradient and Adam leaves them untouched.
``scheduler(optimizer)`` builds a scheduler stepped once per epoch. ``monitor``: ``"val_loss"``
(lower is better) or ``"val_accuracy"`` / ``"val_..."`` (higher is better); without ``val_data``
the training loss is monitored. ``patience=None`` never stops early.

Data: ``train_data``/``val_data`` are either a tuple of tensors/arrays ``(inputs..., targets)``
(fast path: batches are sliced, no DataLoader) or any ``torch.utils.data.Dataset`` (batched with
a DataLoader and ``collate_fn``). A batch is a tuple; by default ``model(*batch[:-1])`` gives the
outputs and ``batch[-1]`` the targets; pass ``forward=`` to change that (e.g. for packed sequences).

The loss defaults to cross-entropy on ``outputs.reshape(-1, C)`` (so ``[B, T, C]`` sequence
outputs work) with ``ignore_index=-100``; accuracy ignores the same targets.

What this module is not: a framework. There are two hooks (``on_epoch_start`` and ``forward``),
no callbacks beyond them, no step-based schedules (see :func:`ptft_utils.train.lm.train_lm`) and
no distributed training.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ptft_utils.train.batches import Batch, as_tensors, dataset_length, epoch_order, iterate_batches, to_device
from ptft_utils.train.checkpoint import (
    CHECKPOINT_FILE,
    check_fingerprint,
    fingerprint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from ptft_utils.train.stopping import EarlyStopping

IGNORE_INDEX = -100
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ForwardFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, torch.Tensor]]
EpochHook = Callable[[int, nn.Module, torch.optim.Optimizer], None]
# fit's arguments that change its result: they make the checkpoint's fingerprint (with the
# optimizer's groups, the model's size and a digest of the data). Not: device, progress, description.
FINGERPRINTED = (
    "epochs",
    "lr",
    "batch_size",
    "weight_decay",
    "scheduler",
    "loss_fn",
    "forward",
    "collate_fn",
    "monitor",
    "patience",
    "min_delta",
    "restore_best",
    "seed",
    "on_epoch_start",
    "grad_clip",
)


class History(list):
    """One dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``, ``lr``, ``seconds``).

    Extra attributes: ``best_epoch`` and ``best_score`` (of ``monitor``), ``stopped_early``,
    ``resumed_from`` (the epoch a resumed run started after, else ``None``) and ``examples_seen``.

    Taught in: 04 §5.
    """

    best_epoch: int | None = None
    best_score: float | None = None
    stopped_early: bool = False
    resumed_from: int | None = None
    examples_seen: int = 0

    def add_epoch(self, scores: dict[str, Any], seen: int, lr: Any, started: float) -> dict[str, Any]:
        """Append an epoch's ``scores`` with its ``lr``, the examples seen so far and the seconds since ``started``."""
        self.examples_seen += seen
        record = {**scores, "lr": lr, "examples_seen": self.examples_seen, "seconds": time.perf_counter() - started}
        self.append(record)
        return record

    def frame(self):  # -> pandas.DataFrame
        import pandas as pd

        return pd.DataFrame(list(self))


def default_forward(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """``model(*inputs)`` and the targets: the last element of the batch is the target.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    return model(*batch[:-1]), batch[-1]


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the last dimension; targets equal to -100 are ignored.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)


def count_correct(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[int, int]:
    """(correct predictions, counted targets), ignoring targets equal to -100.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    if outputs.dim() == targets.dim():  # regression-style outputs: no accuracy
        return 0, 0
    predictions = outputs.argmax(dim=-1)
    mask = targets != IGNORE_INDEX
    return int((predictions[mask] == targets[mask]).sum()), int(mask.sum())


def as_data(data: Any) -> Any:
    """A tuple of arrays as a tuple of tensors (checked for equal lengths); a Dataset or ``None`` as is.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    if isinstance(data, (tuple, list)) and not isinstance(data, torch.utils.data.Dataset):
        return as_tensors(data)
    return data


@dataclass(frozen=True)
class LoopSettings:
    """How batches are made and used: what an epoch needs besides the model, data and optimizer.

    Taught in: 04 §5 (inside :func:`fit`).
    """

    batch_size: int = 64
    loss_fn: LossFn = cross_entropy
    forward: ForwardFn = default_forward
    collate_fn: Callable | None = None
    device: torch.device = torch.device("cpu")
    grad_clip: float | None = None
    seed: int = 0


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 256,
    loss_fn: LossFn = cross_entropy,
    forward: ForwardFn = default_forward,
    device: str | torch.device = "cpu",
    collate_fn: Callable | None = None,
) -> dict[str, float]:
    """``{"loss", "accuracy"}`` of ``model`` on ``data`` (accuracy is NaN when there are no class targets).

    Taught in: 04 §6.
    """
    data, device = as_data(data), torch.device(device)
    was_training = model.training
    model.eval()
    total_loss, total_items, correct, counted = 0.0, 0, 0, 0
    for batch in iterate_batches(data, batch_size, collate_fn=collate_fn):
        outputs, targets = forward(model, to_device(batch, device))
        size = len(targets)
        total_loss += float(loss_fn(outputs, targets)) * size
        total_items += size
        c, n = count_correct(outputs, targets)
        correct, counted = correct + c, counted + n
    model.train(was_training)
    return {"loss": total_loss / max(total_items, 1), "accuracy": correct / counted if counted else math.nan}


def validate(model: nn.Module, data: Any, run: LoopSettings) -> dict[str, float]:
    """``{"val_loss", "val_accuracy"}`` on ``data`` with the run's loss and forward; ``{}`` without data.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    if data is None:
        return {}
    scores = evaluate(
        model,
        data,
        batch_size=max(run.batch_size, 256),
        loss_fn=run.loss_fn,
        forward=run.forward,
        device=run.device,
        collate_fn=run.collate_fn,
    )
    return {f"val_{name}": value for name, value in scores.items()}


@torch.no_grad()
def predict(model: nn.Module, inputs: Any, batch_size: int = 512, device: str | torch.device = "cpu") -> torch.Tensor:
    """Model outputs for a tensor/array of inputs, in eval mode, concatenated on the CPU.

    Taught in: no chapter yet (the chapters score with :func:`evaluate`).
    """
    x = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
    was_training = model.training
    model.eval()
    outs = [model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(outs)


def make_optimizer(
    model: nn.Module, lr: float, param_groups: Iterable[dict[str, Any]] | None, weight_decay: float
) -> torch.optim.Optimizer:
    """Adam over ``param_groups`` (each may set its own ``lr``) or over all of ``model``'s parameters.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    groups = list(param_groups) if param_groups is not None else [{"params": list(model.parameters())}]
    return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, run: LoopSettings
) -> tuple[torch.Tensor, int]:
    """One gradient step on ``batch``; returns the (detached) loss before the step and the number of targets.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    outputs, targets = run.forward(model, batch)
    loss = run.loss_fn(outputs, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if run.grad_clip is not None:
        nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], run.grad_clip)
    optimizer.step()
    return loss.detach(), len(targets)


def train_epoch(
    model: nn.Module, data: Any, optimizer: torch.optim.Optimizer, epoch: int, run: LoopSettings, label: str | None
) -> tuple[float, int]:
    """One pass over ``data`` in epoch ``epoch``'s order; returns (mean training loss, examples seen).

    ``label`` is the progress bar's description; ``None`` shows no bar.

    Taught in: 04 §5 (inside :func:`fit`).
    """
    from tqdm.auto import tqdm

    order = epoch_order(dataset_length(data), run.seed, epoch)
    batches = tqdm(
        iterate_batches(data, run.batch_size, order, run.collate_fn),
        total=math.ceil(len(order) / run.batch_size),
        desc=label,
        disable=label is None,
        leave=False,
        mininterval=1.0,
    )
    total, seen = 0.0, 0
    for batch in batches:
        loss, size = train_step(model, optimizer, to_device(batch, run.device), run)
        total, seen = total + float(loss) * size, seen + size
        batches.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
    return total / max(seen, 1), seen


@dataclass
class RunState:
    """What a run carries from epoch to epoch, and what its checkpoint saves and restores.

    Taught in: 04 §5 (inside :func:`fit`).
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any  # an LR scheduler, or None
    stopping: EarlyStopping
    history: History
    fingerprint: dict[str, Any]

    def state_dict(self, epoch: int) -> dict[str, Any]:
        """Everything a resumed run needs after ``epoch``, as tensors and plain data."""
        return {
            "epoch": epoch,
            "fingerprint": self.fingerprint,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": rng_state(),
            "history": [dict(record) for record in self.history],
            "examples_seen": self.history.examples_seen,
            **self.stopping.state_dict(),
        }

    def restore(self, path: Path | None) -> int:
        """Load the checkpoint at ``path``, if there is one; returns the epoch to start at.

        Raises :class:`~ptft_utils.train.checkpoint.CheckpointMismatchError` when the checkpoint
        was made with other settings, :class:`~ptft_utils.train.checkpoint.CorruptCheckpointError`
        when it is truncated or damaged, and :class:`~ptft_utils.train.checkpoint.UnsafeCheckpointError`
        when it holds anything but tensors and plain data.
        """
        if path is None or not path.exists():
            return 1
        state = load_checkpoint(path)
        check_fingerprint(state.get("fingerprint", {}), self.fingerprint, path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        self.stopping.load_state_dict(state)
        self.history.extend(state["history"])
        self.history.examples_seen, self.history.resumed_from = state["examples_seen"], state["epoch"]
        return state["epoch"] + 1

    def finish(self) -> History:
        """Load the best weights back (when kept) and copy the early-stopping outcome onto the history."""
        stopping, history = self.stopping, self.history
        if stopping.best_state is not None:
            self.model.load_state_dict(stopping.best_state)
        history.best_epoch, history.best_score = stopping.best_epoch, stopping.best_score
        history.stopped_early = stopping.stopped
        return history


def fit(
    model: nn.Module,
    train_data: Any,
    val_data: Any = None,
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    optimizer: torch.optim.Optimizer | None = None,
    param_groups: Iterable[dict[str, Any]] | None = None,
    weight_decay: float = 0.0,
    scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
    loss_fn: LossFn = cross_entropy,
    forward: ForwardFn = default_forward,
    collate_fn: Callable | None = None,
    monitor: str = "val_loss",
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    seed: int = 0,
    device: str | torch.device = "cpu",
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    on_epoch_start: EpochHook | None = None,
    grad_clip: float | None = None,
    progress: bool = True,
    description: str = "train",
) -> History:
    """Train ``model`` and return its :class:`History`; the module docstring gives the contract.

    Taught in: 04 §5 and §6 (01 §3.3 writes the same loop out by hand).
    """
    settings = {name: value for name, value in locals().items() if name in FINGERPRINTED}
    run = LoopSettings(batch_size, loss_fn, forward, collate_fn, torch.device(device), grad_clip, seed)
    model.to(run.device)
    train_data, val_data = as_data(train_data), as_data(val_data)
    watched = monitor if val_data is not None else "train_loss"
    stopping = EarlyStopping(watched, patience=patience, min_delta=min_delta, keep_best=restore_best)
    optimizer = optimizer if optimizer is not None else make_optimizer(model, lr, param_groups, weight_decay)
    path = Path(checkpoint_dir) / CHECKPOINT_FILE if checkpoint_dir is not None else None
    config = fingerprint(settings, optimizer, model, [train_data, val_data]) if path is not None else {}
    sched = scheduler(optimizer) if scheduler is not None else None
    state = RunState(model, optimizer, sched, stopping, History(), config)
    start = state.restore(path) if resume else 1
    model.train()
    for epoch in range(start, epochs + 1):
        if stopping.stopped:
            break
        started = time.perf_counter()
        if on_epoch_start is not None:
            on_epoch_start(epoch, model, optimizer)
        label = f"{description} {epoch}/{epochs}" if progress else None
        train_loss, seen = train_epoch(model, train_data, optimizer, epoch, run, label)
        if sched is not None:
            sched.step()
        scores = {"epoch": epoch, "train_loss": train_loss, **validate(model, val_data, run)}
        record = state.history.add_epoch(scores, seen, optimizer.param_groups[-1]["lr"], started)
        stopping.update(epoch, record[stopping.monitor], model)
        if path is not None:
            save_checkpoint(path, state.state_dict(epoch))
    return state.finish()


def clone_model(model: nn.Module) -> nn.Module:
    """A deep copy (a convenient way to start several fine-tuning arms from one pretrained model).

    Taught in: no chapter yet (the chapters copy with ``copy.deepcopy``).
    """
    return copy.deepcopy(model)
