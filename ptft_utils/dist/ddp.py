"""Multi-process training with torchrun: the seed CNN on the digits, with DistributedDataParallel.

To run on one process, without torchrun (no process group; the same result as N processes):
$ python -m ptft_utils.dist.ddp --out runs/ddp

To run with DDP on 4 processes on one machine (CPU: gloo; GPUs: nccl, one process per GPU):
$ torchrun --standalone --nproc-per-node=4 -m ptft_utils.dist.ddp --out runs/ddp

To run with DDP on 2 machines with 4 GPUs each (``--out`` must be a folder both machines share):
- on the first (master) node, reachable as HOST:
$ torchrun --nnodes=2 --node-rank=0 --nproc-per-node=4 --master-addr=HOST --master-port=29500 \
    -m ptft_utils.dist.ddp --out /shared/runs/ddp
- on the worker node, the same with --node-rank=1.
- or, elastic (ranks assigned by the rendezvous; --node-rank is ignored), on every node:
$ torchrun --nnodes=2 --nproc-per-node=4 --rdzv-id=ddp1 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \
    -m ptft_utils.dist.ddp --out /shared/runs/ddp
(without Infiniband between the machines, prepend NCCL_IB_DISABLE=1)

Kill any of these and run the same command again: it resumes from ``<out>/last.pt``.
Every field of :class:`DDPConfig` is a flag: ``--epochs 3 --widths 8,16,32 --dtype float64``.

How it works. Each process builds the same model from the same seed; DDP broadcasts rank 0's
weights once and, during ``backward``, averages the gradients of all ranks, so every rank takes
the same optimizer step. ``--batch-size`` is the *global* batch: each of N ranks gets
``batch_size / N`` examples per step. A :class:`~torch.utils.data.DistributedSampler` (shuffled
with ``seed``, reseeded each epoch by ``set_epoch``) deals rank ``r`` the positions ``r, r + N,
r + 2N, ...`` of one permutation of the training set, so step ``k`` of N ranks covers exactly the
examples of step ``k`` of one process with the same global batch, and the mean of the ranks' mean
losses is that process's mean loss: 1 and N processes compute the same steps, up to the order of
floating-point sums (weights agree to ~1e-6 in float32, ~1e-15 with ``--dtype float64``). The
last, incomplete global batch of an epoch is dropped, so every step has full, equal rank batches.
The order depends only on the seed and the epoch, so a resumed run sees the batches an
uninterrupted one would.

Checkpoints: after every epoch rank 0 alone writes ``last.pt`` with
:func:`~ptft_utils.train.checkpoint.save_checkpoint` (atomic, checked on load, fingerprinted);
at start every rank loads that same file, the ranks check they agree on the settings, the data and
the epoch to resume at (a node that cannot see the shared ``--out`` is an error, not a silent
restart), and meet at a barrier. At the end rank 0 writes ``weights.pt`` and ``result.json``.

Why not :func:`ptft_utils.train.fit`: on every rank it would go over the whole training set in
its own order (no sharding), write the checkpoint from every process, and keep and restore the
best weights per process. This script reuses its pieces instead -- :func:`~ptft_utils.train.loop.train_step`
(forward, cross-entropy, backward, step), :func:`~ptft_utils.train.loop.evaluate`,
:func:`~ptft_utils.train.loop.make_optimizer` (Adam) and the checkpoint helpers -- and adds the
sampler, the process group and the rank-0 writes. The order is the sampler's, not
:func:`~ptft_utils.train.batches.epoch_order`: it is the one every DDP script uses, it does the
split, and like ``epoch_order`` it depends only on the seed and the epoch. Every rank evaluates the
whole (small) validation set; a large one would be split with its own sampler and the sums
all-reduced.

What it is not: a general launcher (that is torchrun), nor a recipe for models too large for one
device (FSDP, tensor parallelism). On the book's small CPU chapters it only adds overhead.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler, TensorDataset

from ptft_utils.data import load_digits28, load_images, train_val_test_split
from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.models import SeedCNN
from ptft_utils.train.batches import to_device
from ptft_utils.train.checkpoint import (
    CHECKPOINT_FILE,
    check_fingerprint,
    fingerprint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from ptft_utils.train.device import torch_device
from ptft_utils.train.loop import LoopSettings, evaluate, make_optimizer, train_step

SEED_WIDTHS = (32, 64, 128)  # the seed CNN's conv1, conv2 and dense widths
WEIGHTS_FILE = "weights.pt"
RESULT_FILE = "result.json"
Data = tuple[torch.Tensor, torch.Tensor]


@dataclass
class DDPConfig:
    """A run's settings; each is a flag (``train_examples`` -> ``--train-examples``).

    Taught in: no chapter yet (book/gpu.md, *Several processes*; tests/test_ddp.py).
    """

    out: str = "runs/ddp"  # last.pt, weights.pt and result.json go here
    dataset: str = "digits"  # "digits" (shipped, offline), "mnist" (its train split: a download) or "auto"
    train_examples: int = 0  # 0: all (digits: 1,617 after the validation split; 1 epoch = 25 steps at 64)
    val_fraction: float = 0.1
    epochs: int = 5
    batch_size: int = 64  # global: the per-rank batch is batch_size / world size
    lr: float = 1e-3  # Adam
    widths: tuple[int, int, int] = SEED_WIDTHS  # narrower ones (e.g. 8,16,32) train faster
    dtype: str = "float32"  # "float64": 1 and N processes agree to ~1e-15 (float32: ~1e-6)
    seed: int = 0
    device: str = "auto"  # CUDA (nccl) when there is a GPU, else the CPU (gloo)
    resume: bool = True  # continue from <out>/last.pt when it is there


# What decides the result (the checkpoint's fingerprint); not: out, device, resume, the world size.
FINGERPRINTED = ("dataset", "train_examples", "val_fraction", "epochs", "batch_size", "lr", "widths", "dtype", "seed")


@dataclass(frozen=True)
class World:
    """This process's place in the run: its global rank, the number of processes, its rank on its machine.

    Taught in: no chapter yet (tests/test_ddp.py).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0


def check_config(config: DDPConfig) -> None:
    """Raise ``ValueError`` naming the first setting that cannot work.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    if config.dataset not in ("digits", "mnist", "auto"):
        raise ValueError(f"dataset must be 'digits', 'mnist' or 'auto', got {config.dataset!r}")
    if config.dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {config.dtype!r}")
    if len(config.widths) != 3 or min(config.widths) < 1:
        raise ValueError(f"widths must be three positive numbers (conv1, conv2, dense), got {config.widths}")
    if not 0.0 < config.val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {config.val_fraction}")
    if config.epochs < 1 or config.batch_size < 1 or config.train_examples < 0:
        raise ValueError("epochs and batch_size must be >= 1 and train_examples >= 0")


def pick_device(name: str, local_rank: int) -> torch.device:
    """CUDA device ``local_rank`` (one GPU per process) or the CPU; ``auto`` takes a GPU when there is one.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name not in ("cuda", "cpu"):
        raise ValueError(f"DDP here runs on 'cuda' (nccl) or 'cpu' (gloo), got device={name!r}")
    if torch_device(name).type == "cpu":  # torch_device: a clear error when CUDA is asked for and absent
        return torch.device("cpu")
    device = torch.device("cuda", local_rank % torch.cuda.device_count())  # (a worker given one GPU uses it)
    torch.cuda.set_device(device)
    return device


@contextlib.contextmanager
def process_group(device_name: str) -> Iterator[tuple[World, torch.device]]:
    """Join torchrun's process group for the run (nccl on CUDA, gloo on the CPU); alone without torchrun.

    torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``
    for each process it starts; ``init_process_group`` reads them. A group that is already there
    (Ray Train's ``TorchTrainer`` makes one for each worker) is used as it is, and left open.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    env = os.environ
    world = World(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))
    device = pick_device(device_name, world.local_rank)
    if "RANK" not in env or dist.is_initialized():
        yield world, device
        return
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield world, device
    finally:
        dist.destroy_process_group()


def same_on_every_rank(value: Any, what: str, world: World) -> None:
    """Raise ``ValueError`` on every rank unless all ranks hold the same ``value`` (plain data).

    A collective: it returns on no rank before every rank has called it.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    if world.size == 1:
        return
    values: list[Any] = [None] * world.size
    dist.all_gather_object(values, value)
    differ = [rank for rank, v in enumerate(values) if v != values[0]]
    if differ:
        raise ValueError(f"ranks {differ} disagree with rank 0 on {what}: {values[differ[0]]!r} != {values[0]!r}")


def load_data(config: DDPConfig) -> tuple[Data, Data]:
    """(train, validation) images ``[N, 1, 28, 28]`` in ``config.dtype`` and labels: a stratified split.

    Every rank loads the whole training set; the sampler decides which examples each one uses.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    images = load_digits28() if config.dataset == "digits" else load_images(config.dataset, split="train")
    fractions = (1.0 - config.val_fraction, config.val_fraction, 0.0)
    train_idx, val_idx, _ = train_val_test_split(len(images), fractions, seed=0, stratify=images.labels)
    if config.train_examples:
        train_idx = train_idx[: config.train_examples]
    dtype = getattr(torch, config.dtype)

    def tensors(idx: Any) -> Data:
        return torch.from_numpy(images.images[idx]).unsqueeze(1).to(dtype), torch.from_numpy(images.labels[idx])

    return tensors(train_idx), tensors(val_idx)


def build_model(widths: Sequence[int], dtype: str, seed: int) -> SeedCNN:
    """The seed CNN, initialised from ``seed``; with other ``widths`` its four layers are narrowed.

    The layers and the forward pass stay the seed CNN's: only the channel and unit counts change.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    torch.manual_seed(seed)
    model = SeedCNN()
    if tuple(widths) != SEED_WIDTHS:
        conv1, conv2, dense = widths
        model.conv1 = nn.Conv2d(1, conv1, kernel_size=3)
        model.conv2 = nn.Conv2d(conv1, conv2, kernel_size=3)
        model.fc1 = nn.Linear(conv2 * 5 * 5, dense)
        model.head = nn.Linear(dense, 10)
    return model.to(getattr(torch, dtype))


def split_batch(global_batch: int, world_size: int, examples: int) -> tuple[int, int]:
    """(per-rank batch, steps per epoch) for ``global_batch`` over ``world_size`` ranks; whole steps only.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    if global_batch % world_size:
        raise ValueError(f"batch_size={global_batch} (the global batch) must divide by the {world_size} processes")
    steps = examples // global_batch
    if steps == 0:
        raise ValueError(f"{examples} training examples make no full global batch of {global_batch}")
    return global_batch // world_size, steps


def rank_sampler(data: Data, world: World, seed: int) -> DistributedSampler[int]:
    """The sampler that deals this rank positions ``rank, rank + size, ...`` of each epoch's permutation.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    return DistributedSampler(TensorDataset(*data), world.size, world.rank, shuffle=True, seed=seed, drop_last=True)


def rank_order(sampler: DistributedSampler[int], epoch: int, per_rank_batch: int, steps: int) -> torch.Tensor:
    """This rank's examples in ``epoch``, in order: its share of the epoch's permutation, whole batches only.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    sampler.set_epoch(epoch)  # the permutation is drawn from seed + epoch: the same on every rank
    return torch.tensor(list(sampler), dtype=torch.long)[: steps * per_rank_batch]


def train_epoch(
    model: nn.Module, data: Data, optimizer: torch.optim.Optimizer, order: torch.Tensor, run: LoopSettings
) -> float:
    """One pass over this rank's ``order`` with the book's :func:`train_step`; the mean loss over all ranks.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    total = torch.zeros(2, dtype=torch.float64)
    for idx in order.split(run.batch_size):  # (iterate_batches walks the whole data set, not just this share)
        loss, size = train_step(model, optimizer, to_device(tuple(t[idx] for t in data), run.device), run)
        total += torch.tensor([float(loss) * size, size], dtype=torch.float64)
    if dist.is_initialized():
        total = total.to(run.device)
        dist.all_reduce(total)  # sums of every rank's losses and example counts
    return float(total[0] / total[1])


def restore(
    path: Path | None, model: nn.Module, optimizer: torch.optim.Optimizer, run_print: dict, world: World
) -> tuple[int, list[dict[str, Any]]]:
    """Every rank loads ``path`` (when it is there) and checks it; returns the epoch to start at and the history.

    ``path=None`` (``--no-resume``) starts afresh, and the run overwrites any checkpoint there is.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    state = load_checkpoint(path) if path is not None and path.exists() else None
    start = 1 if state is None else int(state["epoch"]) + 1
    same_on_every_rank(start, f"the epoch to start at (can every machine see {path}?)", world)
    if state is not None and path is not None:
        check_fingerprint(state["fingerprint"], run_print, path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
    if dist.is_initialized():
        dist.barrier()  # no rank trains (and rank 0 rewrites last.pt) before every rank has read it
    return start, [] if state is None else list(state["history"])


@dataclass
class Trainee:
    """What the epochs share: the model and its DDP wrapper, the optimizer, data, sampler and settings.

    Taught in: no chapter yet (tests/test_ddp.py).
    """

    model: nn.Module  # the plain model: state_dict, evaluation
    wrapped: nn.Module  # DDP around it (the plain model when there is no process group): training
    optimizer: torch.optim.Optimizer
    train_data: Data
    val_data: Data
    sampler: DistributedSampler[int]
    run: LoopSettings
    steps: int
    fingerprint: dict[str, Any]


def prepare(config: DDPConfig, world: World, device: torch.device) -> Trainee:
    """Data, model, optimizer, fingerprint (checked equal on every rank), sampler and batch sizes.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    train_data, val_data = load_data(config)
    model = build_model(config.widths, config.dtype, config.seed).to(device)
    optimizer = make_optimizer(model, config.lr, None, 0.0)
    settings = {name: getattr(config, name) for name in FINGERPRINTED}
    run_print = fingerprint(settings, optimizer, model, [train_data, val_data])
    same_on_every_rank(run_print, "the settings and the data", world)
    per_rank, steps = split_batch(config.batch_size, world.size, len(train_data[1]))
    sampler = rank_sampler(train_data, world, config.seed)
    run = LoopSettings(batch_size=per_rank, device=device, seed=config.seed)
    return Trainee(model, model, optimizer, train_data, val_data, sampler, run, steps, run_print)


def checkpoint_state(trainee: Trainee, epoch: int, history: list[dict[str, Any]]) -> dict[str, Any]:
    """What a resumed run needs after ``epoch``, as tensors and plain data.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    return {
        "epoch": epoch,
        "fingerprint": trainee.fingerprint,
        "model": trainee.model.state_dict(),
        "optimizer": trainee.optimizer.state_dict(),
        "rng": rng_state(),
        "history": history,
    }


def run_epoch(trainee: Trainee, epoch: int) -> dict[str, Any]:
    """Train one epoch on this rank's share, then evaluate; the epoch's record.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    started = time.perf_counter()
    trainee.wrapped.train()
    order = rank_order(trainee.sampler, epoch, trainee.run.batch_size, trainee.steps)
    train_loss = train_epoch(trainee.wrapped, trainee.train_data, trainee.optimizer, order, trainee.run)
    scores = evaluate(trainee.model, trainee.val_data, device=trainee.run.device)
    val = {f"val_{name}": value for name, value in scores.items()}
    return {"epoch": epoch, "train_loss": train_loss, **val, "seconds": time.perf_counter() - started}


def train(config: DDPConfig) -> dict[str, Any]:
    """Train as :class:`DDPConfig` says, in this process's place in the run; the module docstring has the contract.

    Returns (on every rank) the run's record; rank 0 also writes it to ``<out>/result.json``.

    Taught in: no chapter yet (book/gpu.md, *Several processes*; tests/test_ddp.py).
    """
    check_config(config)
    with process_group(config.device) as (world, device):
        trainee = prepare(config, world, device)
        path = Path(config.out) / CHECKPOINT_FILE
        start, history = restore(
            path if config.resume else None, trainee.model, trainee.optimizer, trainee.fingerprint, world
        )
        if dist.is_initialized():  # after the restore: DDP starts every rank from rank 0's weights
            trainee.wrapped = DistributedDataParallel(
                trainee.model, device_ids=[device] if device.type == "cuda" else None
            )
        for epoch in range(start, config.epochs + 1):
            history.append(run_epoch(trainee, epoch))
            if world.rank == 0:
                save_checkpoint(path, checkpoint_state(trainee, epoch, history))
                print(", ".join(f"{k} {v:.4g}" for k, v in history[-1].items()), flush=True)
        return finish(config, world, trainee, history, start)


def finish(config: DDPConfig, world: World, trainee: Trainee, history: list[dict], start: int) -> dict[str, Any]:
    """The run's record; rank 0 writes the final weights and the record to ``config.out``.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    out = Path(config.out)
    result = {
        "config": dataclasses.asdict(config),
        "world_size": world.size,
        "backend": dist.get_backend() if dist.is_initialized() else None,
        "device": str(trainee.run.device),
        "per_rank_batch": trainee.run.batch_size,
        "steps_per_epoch": trainee.steps,
        "resumed_from": start - 1 if start > 1 else None,
        "history": history,
        "weights": str(out / WEIGHTS_FILE),
    }
    if world.rank == 0:
        save_checkpoint(out / WEIGHTS_FILE, {"model": trainee.model.state_dict(), "epoch": config.epochs})
        atomic_write_text(out / RESULT_FILE, json.dumps(result, indent=2) + "\n")
    return result


def widths_arg(text: str) -> tuple[int, int, int]:
    """``"8,16,32"`` -> ``(8, 16, 32)``."""
    parts = tuple(int(part) for part in text.split(","))
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"--widths takes three comma-separated numbers, got {text!r}")
    return parts  # type: ignore[return-value]


def parse_args(argv: Sequence[str] | None = None) -> DDPConfig:
    """A :class:`DDPConfig` from the command line: one flag per field, its default the field's.

    Taught in: no chapter yet (tests/test_ddp.py).
    """
    parser = argparse.ArgumentParser(
        prog="python -m ptft_utils.dist.ddp", description=(__doc__ or "").splitlines()[0], epilog="See DDPConfig."
    )
    for field in dataclasses.fields(DDPConfig):
        flag, default = "--" + field.name.replace("_", "-"), field.default
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, tuple):
            parser.add_argument(flag, type=widths_arg, default=default, help="default: %(default)s")
        else:
            parser.add_argument(flag, type=type(default), default=default, help="default: %(default)s")
    return DDPConfig(**vars(parser.parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ptft_utils.dist.ddp``: parse the flags, train, print where the weights are."""
    result = train(parse_args(argv))
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"weights: {result['weights']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
