"""One PyTorch training loop for every chapter: progress, validation, early stopping, checkpoints.

``fit(model, train_data, val_data, ...)`` trains for up to ``epochs`` epochs and returns a
:class:`History` (a list of one dict per epoch, so ``pandas.DataFrame(history)`` works). Each epoch:

1. the order of the training examples comes from a generator seeded with ``seed`` and the epoch
   number, so epoch 7 sees the same order whether or not the run was interrupted before it;
2. a tqdm bar shows the running training loss;
3. the model is evaluated on ``val_data`` (loss and accuracy);
4. early stopping watches ``monitor`` (``"val_loss"`` or ``"val_accuracy"``) with ``patience``;
   the best weights are kept and, with ``restore_best=True``, loaded back at the end;
5. with ``checkpoint_dir``, everything needed to continue is written atomically to
   ``<checkpoint_dir>/last.pt``: model, optimizer, scheduler, the random states of torch, NumPy
   and Python, the epoch, the history and the best-so-far. ``fit`` called again with the same
   ``checkpoint_dir`` resumes from it; on the CPU with the same seed, the resumed run ends with
   the same weights, bit for bit, as a run that was never interrupted.

Data: ``train_data``/``val_data`` are either a tuple of tensors/arrays ``(inputs..., targets)``
(fast path: batches are sliced, no DataLoader) or any ``torch.utils.data.Dataset`` (batched with
a DataLoader and ``collate_fn``). A batch is a tuple; by default ``model(*batch[:-1])`` gives the
outputs and ``batch[-1]`` the targets; pass ``forward=`` to change that (e.g. for packed sequences).

The loss defaults to cross-entropy on ``outputs.reshape(-1, C)`` (so ``[B, T, C]`` sequence
outputs work) with ``ignore_index=-100``; accuracy ignores the same targets.

What this module is not: a framework. There are no callbacks beyond ``on_epoch_start`` (used for
gradual unfreezing) and no distributed training.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ptft_utils.train.batches import Batch, as_tensors, dataset_length, epoch_order, iterate_batches, to_device
from ptft_utils.train.checkpoint import (
    CHECKPOINT_FILE,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
    state_copy,
)

IGNORE_INDEX = -100


class History(list):
    """One dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``, ``lr``, ``seconds``).

    Extra attributes: ``best_epoch`` and ``best_score`` (of ``monitor``), ``stopped_early``,
    ``resumed_from`` (the epoch a resumed run started after, else ``None``) and ``examples_seen``.
    """

    best_epoch: int | None = None
    best_score: float | None = None
    stopped_early: bool = False
    resumed_from: int | None = None
    examples_seen: int = 0

    def frame(self):  # -> pandas.DataFrame
        import pandas as pd

        return pd.DataFrame(list(self))


def default_forward(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """``model(*inputs)`` and the targets: the last element of the batch is the target."""
    return model(*batch[:-1]), batch[-1]


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the last dimension; targets equal to -100 are ignored."""
    return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)


def count_correct(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[int, int]:
    """(correct predictions, counted targets), ignoring targets equal to -100."""
    if outputs.dim() == targets.dim():  # regression-style outputs: no accuracy
        return 0, 0
    predictions = outputs.argmax(dim=-1)
    mask = targets != IGNORE_INDEX
    return int((predictions[mask] == targets[mask]).sum()), int(mask.sum())


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 256,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = cross_entropy,
    forward: Callable[[nn.Module, Batch], tuple[torch.Tensor, torch.Tensor]] = default_forward,
    device: str | torch.device = "cpu",
    collate_fn: Callable | None = None,
) -> dict[str, float]:
    """``{"loss", "accuracy"}`` of ``model`` on ``data`` (accuracy is NaN when there are no class targets)."""
    if isinstance(data, (tuple, list)) and not isinstance(data, torch.utils.data.Dataset):
        data = as_tensors(data)
    device = torch.device(device)
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


@torch.no_grad()
def predict(model: nn.Module, inputs: Any, batch_size: int = 512, device: str | torch.device = "cpu") -> torch.Tensor:
    """Model outputs for a tensor/array of inputs, in eval mode, concatenated on the CPU."""
    x = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
    was_training = model.training
    model.eval()
    outs = [model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(outs)


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
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = cross_entropy,
    forward: Callable[[nn.Module, Batch], tuple[torch.Tensor, torch.Tensor]] = default_forward,
    collate_fn: Callable | None = None,
    monitor: str = "val_loss",
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    seed: int = 0,
    device: str | torch.device = "cpu",
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    on_epoch_start: Callable[[int, nn.Module, torch.optim.Optimizer], None] | None = None,
    grad_clip: float | None = None,
    progress: bool = True,
    description: str = "train",
) -> History:
    """Train ``model`` and return its :class:`History`; see the module docstring for the contract.

    Optimizer: ``optimizer`` if given, else Adam over ``param_groups`` (e.g. from
    :func:`ptft_utils.finetune.discriminative_param_groups`) or over all parameters with ``lr``.
    Parameters with ``requires_grad=False`` get no gradient and Adam leaves them untouched.
    ``scheduler(optimizer)`` builds a scheduler stepped once per epoch.
    ``monitor``: ``"val_loss"`` (lower is better) or ``"val_accuracy"`` / ``"val_..."`` (higher is
    better); without ``val_data`` the training loss is monitored. ``patience=None`` never stops early.
    ``on_epoch_start(epoch, model, optimizer)`` runs before each epoch (epochs count from 1).
    """
    from tqdm.auto import tqdm

    device = torch.device(device)
    model.to(device)
    if isinstance(train_data, (tuple, list)) and not isinstance(train_data, torch.utils.data.Dataset):
        train_data = as_tensors(train_data)
    if isinstance(val_data, (tuple, list)) and not isinstance(val_data, torch.utils.data.Dataset):
        val_data = as_tensors(val_data)
    if val_data is None:
        monitor = "train_loss"
    lower_is_better = monitor.endswith("loss")

    if optimizer is None:
        groups = list(param_groups) if param_groups is not None else [{"params": list(model.parameters())}]
        optimizer = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    sched = scheduler(optimizer) if scheduler is not None else None

    history = History()
    best_score: float | None = None
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs = 0
    start_epoch = 1
    stopped = False

    ckpt_path = Path(checkpoint_dir) / CHECKPOINT_FILE if checkpoint_dir is not None else None
    if ckpt_path is not None and resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler") is not None:
            sched.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        history.extend(state["history"])
        best_score, best_epoch, best_state = state["best_score"], state["best_epoch"], state["best_state"]
        bad_epochs, stopped = state["bad_epochs"], state["stopped"]
        history.examples_seen = state.get("examples_seen", 0)
        start_epoch = state["epoch"] + 1
        history.resumed_from = state["epoch"]

    n_train = dataset_length(train_data)
    steps_per_epoch = math.ceil(n_train / batch_size)
    model.train()
    for epoch in range(start_epoch, epochs + 1):
        if stopped:
            break
        t0 = time.perf_counter()
        if on_epoch_start is not None:
            on_epoch_start(epoch, model, optimizer)
        order = epoch_order(n_train, seed, epoch)
        running, seen = 0.0, 0
        bar = tqdm(
            iterate_batches(train_data, batch_size, order, collate_fn),
            total=steps_per_epoch,
            desc=f"{description} {epoch}/{epochs}",
            disable=not progress,
            leave=False,
            mininterval=1.0,
        )
        for batch in bar:
            batch = to_device(batch, device)
            outputs, targets = forward(model, batch)
            loss = loss_fn(outputs, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], grad_clip)
            optimizer.step()
            size = len(targets)
            running += float(loss.detach()) * size
            seen += size
            bar.set_postfix(loss=f"{running / seen:.4f}", refresh=False)
        history.examples_seen += seen
        if sched is not None:
            sched.step()
        record: dict[str, Any] = {"epoch": epoch, "train_loss": running / max(seen, 1)}
        if val_data is not None:
            scores = evaluate(
                model, val_data, batch_size=max(batch_size, 256), loss_fn=loss_fn, forward=forward,
                device=device, collate_fn=collate_fn,
            )  # fmt: skip
            record.update({f"val_{k}": v for k, v in scores.items()})
        record["lr"] = optimizer.param_groups[-1]["lr"]
        record["examples_seen"] = history.examples_seen
        record["seconds"] = time.perf_counter() - t0
        history.append(record)

        score = float(record[monitor])
        improved = best_score is None or (
            score < best_score - min_delta if lower_is_better else score > best_score + min_delta
        )
        if improved:
            best_score, best_epoch, bad_epochs = score, epoch, 0
            best_state = state_copy(model) if restore_best else None
        else:
            bad_epochs += 1
            if patience is not None and bad_epochs >= patience:
                stopped = True
        if ckpt_path is not None:
            save_checkpoint(
                ckpt_path,
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else None,
                    "rng": rng_state(),
                    "history": list(history),
                    "best_score": best_score,
                    "best_epoch": best_epoch,
                    "best_state": best_state,
                    "bad_epochs": bad_epochs,
                    "stopped": stopped,
                    "examples_seen": history.examples_seen,
                },
            )

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    history.best_epoch, history.best_score, history.stopped_early = best_epoch, best_score, stopped
    return history


def clone_model(model: nn.Module) -> nn.Module:
    """A deep copy (a convenient way to start several fine-tuning arms from one pretrained model)."""
    return copy.deepcopy(model)
