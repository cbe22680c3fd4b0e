"""Tests for ptft_utils.train.checkpoint: safe loads, damage detected, plain random states, fingerprints."""

from __future__ import annotations

import hashlib
import io
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ptft_utils import train
from ptft_utils.train import checkpoint


def blobs(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.normal(size=(n, 2)) + 3.0 * y[:, None]).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def fit_linear(checkpoint_dir: Path, **kwargs) -> tuple[nn.Module, train.History]:
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    settings = {"epochs": 2, "lr": 0.01, "seed": 1, "progress": False, **kwargs}
    return model, train.fit(model, blobs(), blobs(seed=1), checkpoint_dir=checkpoint_dir, **settings)


def save_with_header(obj: object, path: Path) -> None:
    """``torch.save`` ``obj`` behind a valid header, as someone who knows the format could."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # torch.save itself does not check
    path.write_bytes(checkpoint.checkpoint_header(buffer.getvalue()) + buffer.getvalue())


class RunsAShellCommand:
    """Unpickling this object runs ``touch <marker>``: what a crafted checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_with_a_pickled_callable_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    save_with_header({"epoch": 1, "model": RunsAShellCommand(marker)}, path)  # a matching sha256 proves no origin
    with pytest.raises(checkpoint.UnsafeCheckpointError, match="refusing to load .*system"):
        checkpoint.load_checkpoint(path)
    assert not marker.exists()


def test_fit_refuses_to_resume_from_a_crafted_checkpoint(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    save_with_header({"epoch": 1, "rng": RunsAShellCommand(marker)}, tmp_path / checkpoint.CHECKPOINT_FILE)
    with pytest.raises(checkpoint.UnsafeCheckpointError, match="resume=False"):
        fit_linear(tmp_path)
    assert not marker.exists()


def test_a_file_without_the_header_is_refused_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    torch.save({"epoch": 1, "model": RunsAShellCommand(marker)}, path)  # the previous format: torch.save alone
    with pytest.raises(checkpoint.CorruptCheckpointError) as error:
        fit_linear(tmp_path)
    assert f"refusing to load {path}: it has no 'PTFT-CHECKPOINT v1' header" in str(error.value)
    assert f"delete {path} (or pass resume=False)" in str(error.value)
    assert not marker.exists()


def test_a_checkpoint_is_a_header_line_then_the_torch_save_bytes(tmp_path: Path) -> None:
    fit_linear(tmp_path)
    data = (tmp_path / checkpoint.CHECKPOINT_FILE).read_bytes()
    header, payload = data[: checkpoint.HEADER_SIZE], data[checkpoint.HEADER_SIZE :]
    expected = f"PTFT-CHECKPOINT v1 sha256={hashlib.sha256(payload).hexdigest()} bytes={len(payload):020d}\n"
    assert header.decode() == expected and len(header) == 118
    assert torch.load(io.BytesIO(payload), weights_only=True)["epoch"] == 2


def test_a_flipped_byte_is_refused_naming_the_file(tmp_path: Path) -> None:
    fit_linear(tmp_path)
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(checkpoint.CorruptCheckpointError) as error:
        fit_linear(tmp_path)  # the resume path
    message = str(error.value)
    assert f"refusing to load {path}: sha256 mismatch: its header says " in message
    assert f"its bytes changed after it was written; delete {path} (or pass resume=False)" in message


def test_a_truncated_checkpoint_is_refused_naming_the_file_and_sizes(tmp_path: Path) -> None:
    fit_linear(tmp_path)
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    size = path.stat().st_size
    os.truncate(path, size // 2)
    with pytest.raises(checkpoint.CorruptCheckpointError) as error:
        fit_linear(tmp_path)
    assert f"refusing to load {path}: it is truncated: expected {size} bytes, found {size // 2};" in str(error.value)
    os.truncate(path, 50)
    with pytest.raises(checkpoint.CorruptCheckpointError, match="truncated: expected at least 118 bytes, found 50;"):
        checkpoint.load_checkpoint(path)


def test_a_damaged_header_is_refused(tmp_path: Path) -> None:
    fit_linear(tmp_path)
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    data = path.read_bytes()
    path.write_bytes(data[:30] + b"x" + data[31:])  # inside the hex digest
    with pytest.raises(checkpoint.CorruptCheckpointError, match="its header is damaged"):
        checkpoint.load_checkpoint(path)
    path.write_bytes(data + b"\0")
    with pytest.raises(checkpoint.CorruptCheckpointError, match=f"longer than written: expected {len(data)} bytes"):
        checkpoint.load_checkpoint(path)


def test_resume_false_replaces_a_damaged_checkpoint(tmp_path: Path) -> None:
    first, _ = fit_linear(tmp_path)
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    os.truncate(path, path.stat().st_size - 1)
    again, history = fit_linear(tmp_path, resume=False)
    assert history.resumed_from is None and torch.equal(first.weight, again.weight)
    assert checkpoint.load_checkpoint(path)["epoch"] == 2


def test_save_checkpoint_refuses_objects_that_would_not_load_safely(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"checkpoint\['rng'\]\['numpy'\] is a numpy.ndarray"):
        checkpoint.save_checkpoint(tmp_path / "last.pt", {"rng": {"numpy": np.zeros(3)}})
    assert not list(tmp_path.iterdir())


def test_rng_states_survive_a_weights_only_round_trip(tmp_path: Path) -> None:
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    np.random.standard_normal()  # leaves a cached Gaussian in NumPy's legacy state
    checkpoint.save_checkpoint(tmp_path / "rng.pt", {"rng": checkpoint.rng_state()})
    expected = (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3).tolist())
    checkpoint.set_rng_state(checkpoint.load_checkpoint(tmp_path / "rng.pt")["rng"])
    assert (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3).tolist()) == expected


def test_early_stopping_state_round_trips_through_a_checkpoint(tmp_path: Path) -> None:
    stopping = train.EarlyStopping("val_loss", patience=3)
    stopping.update(1, 0.5, nn.Linear(2, 2))
    stopping.update(2, 0.7)
    checkpoint.save_checkpoint(tmp_path / "last.pt", stopping.state_dict())
    restored = train.EarlyStopping("val_loss", patience=3)
    restored.load_state_dict(checkpoint.load_checkpoint(tmp_path / "last.pt"))
    assert (restored.best_epoch, restored.best_score, restored.bad_epochs) == (1, 0.5, 1)
    assert torch.equal(restored.best_state["weight"], stopping.best_state["weight"])


def test_resume_with_other_settings_is_refused_naming_them(tmp_path: Path) -> None:
    fit_linear(tmp_path, lr=0.01, seed=1)
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    with pytest.raises(checkpoint.CheckpointMismatchError) as error:
        fit_linear(tmp_path, lr=0.5, seed=99)
    message = str(error.value)
    assert "was made with group_lrs=[0.01], lr=0.01, seed=1;" in message
    assert "this run asks group_lrs=[0.5], lr=0.5, seed=99:" in message
    assert f"delete {path} or pass resume=False" in message


def test_a_finished_checkpoint_is_not_returned_for_fewer_epochs(tmp_path: Path) -> None:
    fit_linear(tmp_path, epochs=4)
    with pytest.raises(checkpoint.CheckpointMismatchError, match="made with epochs=4; this run asks epochs=2"):
        fit_linear(tmp_path, epochs=2)


def test_other_training_data_is_refused(tmp_path: Path) -> None:
    fit_linear(tmp_path)
    torch.manual_seed(0)
    with pytest.raises(checkpoint.CheckpointMismatchError, match="data="):
        train.fit(nn.Linear(2, 2), blobs(seed=7), blobs(seed=1), checkpoint_dir=tmp_path, epochs=2, lr=0.01, seed=1)


def test_resume_false_starts_over_with_new_settings(tmp_path: Path) -> None:
    fit_linear(tmp_path, lr=0.01)
    _, history = fit_linear(tmp_path, lr=0.5, resume=False)
    assert history.resumed_from is None
    assert checkpoint.load_checkpoint(tmp_path / checkpoint.CHECKPOINT_FILE)["fingerprint"]["lr"] == 0.5


def test_same_settings_resume_a_finished_run_without_training_again(tmp_path: Path) -> None:
    first, history = fit_linear(tmp_path)
    again, resumed = fit_linear(tmp_path)
    assert resumed.resumed_from == 2
    assert list(resumed) == list(history)
    assert torch.equal(first.weight, again.weight)
