"""train_classifier with a validation set: scores every epoch, keeps the best epoch's weights."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from ptft_utils.models import rnn  # noqa: E402
from ptft_utils.train import classify  # noqa: E402


def toy_task(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    lengths = torch.randint(3, 9, (n,), generator=gen)
    ids = torch.randint(4, 30, (n, 8), generator=gen)
    ids[:, 0] = 2 + labels  # the first token gives the label away
    ids[torch.arange(8)[None, :] >= lengths[:, None]] = 0
    return ids, lengths, labels


def test_validation_scores_every_epoch_and_the_best_epoch_is_kept():
    torch.manual_seed(0)
    train, val = toy_task(200, 0), toy_task(100, 1)
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(30, 8, 16, num_layers=1))
    history = classify.train_classifier(model, *train, epochs=6, batch_size=32, lr=1e-2, val=val)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    assert all(0.0 <= row["val_accuracy"] <= 1.0 and row["val_loss"] > 0 for row in history)
    best = max(row["val_accuracy"] for row in history)
    assert classify.evaluate_classifier(model, *val) == pytest.approx(best)


def test_without_validation_the_history_has_no_validation_scores():
    torch.manual_seed(0)
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(30, 8, 16, num_layers=1))
    history = classify.train_classifier(model, *toy_task(32, 0), epochs=2, batch_size=16)
    assert all(set(row) == {"epoch", "loss", "trainable_groups"} for row in history)


def test_an_unknown_monitor_is_refused_by_name():
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(30, 8, 16, num_layers=1))
    with pytest.raises(ValueError, match="monitor must be"):
        classify.train_classifier(model, *toy_task(8, 0), val=toy_task(8, 1), monitor="accuracy")
