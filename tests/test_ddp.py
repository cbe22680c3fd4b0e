"""Tests for ptft_utils.dist.ddp: N ranks take the steps of one process; a killed run resumes exactly.

The slow tests start real ``torchrun`` jobs (gloo, on this machine's loopback) of a narrow, float64
seed CNN on the shipped digits and compare the weights rank 0 writes. torchrun starts each worker
in a session of its own, so killing a job means killing torchrun's process group *and* each
worker's (:func:`kill_job`), as a preempted machine would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from ptft_utils.dist import ddp
from ptft_utils.train.checkpoint import CHECKPOINT_FILE, load_checkpoint

REPO_ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 4  # 1,617 training digits at a global batch of 64: 25 steps an epoch, ~0.4 s on 2 CPU processes
SMALL_RUN = ["--epochs", str(EPOCHS), "--batch-size", "64", "--widths", "8,16,32", "--dtype", "float64"]
FINISH_SECONDS = 100


def launch(out: Path, processes: int) -> subprocess.Popen:
    """``torchrun --standalone --nproc-per-node=<processes> -m ptft_utils.dist.ddp`` writing to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    command += ["-m", "ptft_utils.dist.ddp", "--out", str(out), *SMALL_RUN]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(out / "torchrun.log", "a", encoding="utf-8") as log:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def children(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc: torchrun's workers and anything they started)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = parents.get(todo.pop(), [])
        found += below
        todo += below
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_job(job: subprocess.Popen) -> None:
    """SIGKILL torchrun's process group and each worker's, then wait until none of them is left."""
    workers = children(job.pid)
    for group in [job.pid, *workers]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    job.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers), f"workers {workers} outlived SIGKILL"


@contextlib.contextmanager
def job(out: Path, processes: int) -> Iterator[subprocess.Popen]:
    """A torchrun job that is killed, with its workers, if it is still running when the block ends."""
    started = launch(out, processes)
    try:
        yield started
    finally:
        if started.poll() is None or children(started.pid):
            kill_job(started)


def run_to_end(out: Path, processes: int) -> dict:
    """Run (or resume) a job to its end; its ``result.json``."""
    with job(out, processes) as started:
        code = started.wait(timeout=FINISH_SECONDS)
    log = (out / "torchrun.log").read_text(encoding="utf-8")
    assert code == 0, f"torchrun exited with {code}:\n{log[-3000:]}"
    return json.loads((out / ddp.RESULT_FILE).read_text(encoding="utf-8"))


def final_weights(out: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(out / ddp.WEIGHTS_FILE)["model"]


def largest_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[name] - b[name]).abs().max()) for name in a)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """An uninterrupted 2-process run (shared by the equivalence and the resume tests)."""
    out = tmp_path_factory.mktemp("ddp") / "two"
    return out, run_to_end(out, 2)


def test_each_step_of_two_ranks_covers_the_batch_of_one_process() -> None:
    data = (torch.arange(100), torch.zeros(100, dtype=torch.long))

    def step_examples(world_size: int, epoch: int) -> list[list[int]]:
        per_rank, steps = ddp.split_batch(8, world_size, 100)
        worlds = [ddp.World(rank, world_size) for rank in range(world_size)]
        orders = [ddp.rank_order(ddp.rank_sampler(data, world, 3), epoch, per_rank, steps) for world in worlds]
        return [sorted(torch.cat([order.split(per_rank)[k] for order in orders]).tolist()) for k in range(steps)]

    one = step_examples(1, epoch=2)
    assert len(one) == 12 and all(len(batch) == 8 for batch in one)  # 100 // 8 full steps, the rest dropped
    assert step_examples(2, epoch=2) == one == step_examples(4, epoch=2)
    assert step_examples(1, epoch=3) != one  # set_epoch draws a new order each epoch


def test_global_batch_that_does_not_divide_by_the_processes_is_refused() -> None:
    with pytest.raises(ValueError, match="must divide by the 3 processes"):
        ddp.split_batch(64, 3, 1_000)


def test_flags_fill_the_config() -> None:
    config = ddp.parse_args(["--widths", "8,16,32", "--batch-size", "32", "--no-resume", "--dtype", "float64"])
    assert (config.widths, config.batch_size, config.resume, config.dtype) == ((8, 16, 32), 32, False, "float64")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_processes_end_with_the_weights_of_one(tmp_path: Path, two_processes: tuple[Path, dict]) -> None:
    two_out, two = two_processes
    one = run_to_end(tmp_path / "one", 1)
    assert (one["world_size"], one["per_rank_batch"], two["world_size"], two["per_rank_batch"]) == (1, 64, 2, 32)
    assert two["backend"] == "gloo" and one["steps_per_epoch"] == two["steps_per_epoch"] == 25
    assert [e["epoch"] for e in two["history"]] == list(range(1, EPOCHS + 1))
    assert two["history"][-1]["train_loss"] < two["history"][0]["train_loss"] - 0.3  # it did train
    assert largest_difference(final_weights(tmp_path / "one"), final_weights(two_out)) < 1e-5
    assert two["history"][-1]["train_loss"] == pytest.approx(one["history"][-1]["train_loss"], abs=1e-9)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds torchrun's workers through /proc (Linux)")
def test_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(
    tmp_path: Path, two_processes: tuple[Path, dict]
) -> None:
    out = tmp_path / "killed"
    with job(out, 2) as started:
        deadline = time.monotonic() + FINISH_SECONDS
        while not (out / CHECKPOINT_FILE).exists():
            assert started.poll() is None, (out / "torchrun.log").read_text(encoding="utf-8")[-3000:]
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.01)
        kill_job(started)
    killed_at = load_checkpoint(out / CHECKPOINT_FILE)["epoch"]
    assert killed_at < EPOCHS and not (out / ddp.WEIGHTS_FILE).exists()  # the kill did interrupt the run
    resumed = run_to_end(out, 2)
    assert resumed["resumed_from"] == killed_at
    assert [e["train_loss"] for e in resumed["history"]] == [e["train_loss"] for e in two_processes[1]["history"]]
    uninterrupted = final_weights(two_processes[0])
    assert all(torch.equal(w, uninterrupted[name]) for name, w in final_weights(out).items())  # bit for bit
