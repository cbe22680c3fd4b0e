"""Tests for ptft_utils.train: the loop learns, stops early, checkpoints atomically, resumes after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from ptft_utils import train
from ptft_utils.models import SeedCNN
from ptft_utils.train import batches, checkpoint

REPO = Path(__file__).resolve().parents[1]


def blobs(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two Gaussian blobs in 2-d: an easy task the loop must learn."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.normal(size=(n, 2)) + 3.0 * y[:, None]).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def test_fit_learns_a_separable_task_and_returns_a_history() -> None:
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    history = train.fit(model, blobs(), blobs(seed=1), epochs=5, lr=0.3, progress=False)
    frame = pd.DataFrame(history)
    assert list(frame["epoch"]) == [1, 2, 3, 4, 5]
    assert {"train_loss", "val_loss", "val_accuracy", "lr", "seconds", "examples_seen"} <= set(frame.columns)
    assert frame["val_accuracy"].iloc[-1] > 0.95
    assert frame["train_loss"].iloc[-1] < frame["train_loss"].iloc[0]


def test_epoch_order_depends_only_on_seed_and_epoch() -> None:
    assert torch.equal(batches.epoch_order(50, 3, 7), batches.epoch_order(50, 3, 7))
    assert not torch.equal(batches.epoch_order(50, 3, 7), batches.epoch_order(50, 3, 8))
    assert sorted(batches.epoch_order(50, 3, 7).tolist()) == list(range(50))


def test_early_stopping_stops_after_patience_and_restores_best_weights() -> None:
    torch.manual_seed(0)
    x, y = blobs()
    wrong = (x, 1 - y)  # validation labels flipped: val loss rises as training improves
    model = nn.Linear(2, 2)
    history = train.fit(model, (x, y), wrong, epochs=30, lr=0.05, patience=2, progress=False)
    assert history.stopped_early
    assert len(history) == history.best_epoch + 2
    restored = train.evaluate(model, wrong)["loss"]
    assert restored == pytest.approx(history[history.best_epoch - 1]["val_loss"], rel=1e-6)


def test_evaluate_ignores_targets_marked_minus_100() -> None:
    model = nn.Identity()
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    targets = torch.tensor([0, 0, -100])
    assert train.evaluate(model, (logits, targets))["accuracy"] == pytest.approx(0.5)


def test_save_checkpoint_leaves_no_partial_file_when_serialisation_fails(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    checkpoint.save_checkpoint(path, {"epoch": 1})
    with pytest.raises(Exception):  # noqa: B017 - lambdas cannot be pickled
        checkpoint.save_checkpoint(path, {"epoch": 2, "bad": lambda: None})
    assert checkpoint.load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_checkpoint_holds_everything_needed_to_resume(tmp_path: Path) -> None:
    torch.manual_seed(0)
    train.fit(nn.Linear(2, 2), blobs(), blobs(seed=1), epochs=2, progress=False, checkpoint_dir=tmp_path)
    state = checkpoint.load_checkpoint(tmp_path / checkpoint.CHECKPOINT_FILE)  # plain data only, verified
    assert state["epoch"] == 2
    assert {"model", "optimizer", "scheduler", "rng", "history", "best_state", "best_score", "fingerprint"} <= set(
        state
    )
    assert {"torch", "numpy", "python"} == set(state["rng"])
    assert len(state["history"]) == 2
    assert state["fingerprint"]["epochs"] == 2 and state["fingerprint"]["group_lrs"] == [1e-3]


def test_early_stopping_on_accuracy_keeps_the_highest_score() -> None:
    stopping = train.EarlyStopping("val_accuracy", patience=2, min_delta=0.01)
    assert stopping.mode == "max"
    for epoch, score in enumerate([0.5, 0.7, 0.705, 0.6], start=1):
        stopping.update(epoch, score)
    assert (stopping.best_epoch, stopping.best_score, stopping.stopped) == (2, 0.7, True)


def test_early_stopping_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        train.EarlyStopping("val_loss", mode="lowest")


def test_on_epoch_start_sees_every_epoch_with_the_models_optimizer() -> None:
    seen = []
    model = nn.Linear(2, 2)
    train.fit(model, blobs(), epochs=3, progress=False, on_epoch_start=lambda e, m, o: seen.append((e, m, o)))
    assert [e for e, _, _ in seen] == [1, 2, 3]
    assert all(m is model and o.param_groups[0]["params"][0] is model.weight for _, m, o in seen)


def test_forward_adapter_chooses_inputs_and_targets() -> None:
    x, y = blobs()
    swapped = (y, x)  # targets first: only a custom forward can read this batch layout
    history = train.fit(
        nn.Linear(2, 2), swapped, swapped, epochs=3, lr=0.3, progress=False, forward=lambda m, b: (m(b[1]), b[0])
    )
    assert history[-1]["val_accuracy"] > 0.95


TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np, torch
    from ptft_utils import train
    from ptft_utils.models import SeedCNN

    torch.set_num_threads(1)
    checkpoint_dir, out, sleep = sys.argv[1], sys.argv[2], float(sys.argv[3])
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((96, 28, 28), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, 96))
    model = SeedCNN()
    history = train.fit(
        model, (x, y), (x[:32], y[:32]), epochs=5, batch_size=16, seed=1, progress=False,
        checkpoint_dir=checkpoint_dir, on_epoch_start=lambda epoch, m, o: time.sleep(sleep),
    )
    torch.save({"state": model.state_dict(), "resumed_from": history.resumed_from}, out)
    """
)


CLASSIFIER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import torch
    from ptft_utils import finetune
    from ptft_utils.models import rnn
    from ptft_utils.train import classify

    torch.set_num_threads(1)
    checkpoint_dir, out, sleep = sys.argv[1], sys.argv[2], float(sys.argv[3])
    TRAINABLE = []  # trainable parameter counts, one entry per change


    class SlowClassifier(rnn.LSTMClassifier):
        # sleeps in each training step, so that the test can kill it in the middle of an epoch
        def forward(self, ids, lengths, pooling=None):
            count = finetune.count_trainable(self)
            if not TRAINABLE or TRAINABLE[-1] != count:
                TRAINABLE.append(count)
            time.sleep(sleep)
            return super().forward(ids, lengths, pooling)


    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (64,), generator=gen)
    lengths = torch.randint(3, 9, (64,), generator=gen)
    ids = torch.randint(4, 30, (64, 8), generator=gen)
    model = SlowClassifier(rnn.LSTMEncoder(30, 8, 16, num_layers=2, dropout=0.3))  # 4 groups
    history = classify.train_classifier(
        model, ids, lengths, labels, epochs=4, batch_size=8, lr=1e-2, discriminative=2.6,
        gradual_unfreezing=True, seed=1, checkpoint_dir=checkpoint_dir,
    )
    torch.save({"state": model.state_dict(), "history": history, "trainable": TRAINABLE}, out)
    """
)


def run_script(script: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(script), *args], env=env, cwd=REPO)


def kill_after_checkpoint(process: subprocess.Popen, checkpoint_dir: Path, epoch: int) -> int:
    """SIGKILL ``process`` once its checkpoint reaches ``epoch``; returns the epoch the checkpoint holds."""
    path = checkpoint_dir / checkpoint.CHECKPOINT_FILE
    deadline = time.time() + 240
    while time.time() < deadline:
        if path.exists() and checkpoint.load_checkpoint(path)["epoch"] >= epoch:
            break
        assert process.poll() is None, "training finished before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return checkpoint.load_checkpoint(path)["epoch"]


def straight_killed_resumed(tmp_path: Path, script_text: str, sleep: str, kill_after: int) -> tuple[dict, dict, int]:
    """Run ``script_text`` uninterrupted, then slowed by ``sleep``, killed after epoch ``kill_after`` and resumed."""
    script = tmp_path / "train_script.py"
    script.write_text(script_text)
    straight = run_script(script, str(tmp_path / "ckpt_straight"), str(tmp_path / "straight.pt"), "0")
    assert straight.wait(timeout=300) == 0
    ckpt = tmp_path / "ckpt_killed"
    killed = run_script(script, str(ckpt), str(tmp_path / "killed.pt"), sleep)
    epoch_at_kill = kill_after_checkpoint(killed, ckpt, kill_after)
    assert not (tmp_path / "killed.pt").exists()
    resumed = run_script(script, str(ckpt), str(tmp_path / "killed.pt"), "0")
    assert resumed.wait(timeout=300) == 0
    a = torch.load(tmp_path / "straight.pt", weights_only=True)
    b = torch.load(tmp_path / "killed.pt", weights_only=True)
    return a, b, epoch_at_kill


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), name


def test_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_run(tmp_path: Path) -> None:
    a, b, epoch_at_kill = straight_killed_resumed(tmp_path, TRAIN_SCRIPT, sleep="1.0", kill_after=1)
    assert 1 <= epoch_at_kill < 5
    assert a["resumed_from"] is None
    assert b["resumed_from"] == epoch_at_kill
    assert_same_weights(a["state"], b["state"])


def test_gradual_unfreezing_run_killed_mid_schedule_resumes_bit_identically(tmp_path: Path) -> None:
    a, b, epoch_at_kill = straight_killed_resumed(tmp_path, CLASSIFIER_SCRIPT, sleep="0.25", kill_after=2)
    assert 2 <= epoch_at_kill < 4  # killed in epoch 3 (or 4) of the 4-epoch schedule
    assert [row["trainable_groups"] for row in a["history"]] == [1, 2, 3, 4]
    assert a["trainable"] == sorted(set(a["trainable"])) and len(a["trainable"]) == 4  # one more group each epoch
    # the resumed run applies the schedule of the epoch it resumes at, not "all groups" or epoch 1's
    assert b["trainable"] == a["trainable"][epoch_at_kill:]
    assert b["history"] == a["history"]  # the same losses, bit for bit
    assert_same_weights(a["state"], b["state"])


def test_k_shot_training_beats_chance_on_a_tiny_digit_task() -> None:
    from ptft_utils.data import load_digits28

    digits = load_digits28()  # shipped with scikit-learn: always offline
    x, y = torch.from_numpy(digits.images), torch.from_numpy(digits.labels)
    rng = np.random.default_rng(0)
    k = 10
    train_idx = np.concatenate([rng.choice(np.flatnonzero(y.numpy() == c), k, replace=False) for c in range(10)])
    test_idx = np.setdiff1d(np.arange(len(y)), train_idx)[:500]
    torch.manual_seed(0)
    model = SeedCNN()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: one thread is fastest on a shared CPU
    try:
        train.fit(model, (x[train_idx], y[train_idx]), epochs=12, batch_size=16, lr=2e-3, progress=False)
        accuracy = train.evaluate(model, (x[test_idx], y[test_idx]))["accuracy"]
    finally:
        torch.set_num_threads(threads)
    assert accuracy > 0.5  # chance is 0.1


def test_iterate_batches_walks_only_the_given_order() -> None:
    data = (torch.arange(10.0), torch.arange(10))
    batches_seen = list(batches.iterate_batches(data, 4, order=torch.tensor([7, 2, 5])))
    assert len(batches_seen) == 1
    assert batches_seen[0][1].tolist() == [7, 2, 5]
