"""Tests for ptft_utils.train.checkpoint: safe loads, plain random states, fingerprints that refuse a wrong resume."""

from __future__ import annotations

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


class RunsAShellCommand:
    """Unpickling this object runs ``touch <marker>``: what a crafted checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_with_a_pickled_callable_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    path = tmp_path / checkpoint.CHECKPOINT_FILE
    torch.save({"epoch": 1, "model": RunsAShellCommand(marker)}, path)  # torch.save itself does not check
    with pytest.raises(checkpoint.UnsafeCheckpointError, match="refusing to load .*system"):
        checkpoint.load_checkpoint(path)
    assert not marker.exists()


def test_fit_refuses_to_resume_from_a_crafted_checkpoint(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    torch.save({"epoch": 1, "rng": RunsAShellCommand(marker)}, tmp_path / checkpoint.CHECKPOINT_FILE)
    with pytest.raises(checkpoint.UnsafeCheckpointError, match="resume=False"):
        fit_linear(tmp_path)
    assert not marker.exists()


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
    checkpoint.set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
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
