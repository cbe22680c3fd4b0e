"""Keras fine-tuning (ptft_utils.keras.finetune): a reused fine-tuner gives a fresh model's run."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")

from ptft_utils.keras import finetune as keras_ft  # noqa: E402
from ptft_utils.keras.cnn import build_seed_cnn  # noqa: E402

RNG = np.random.default_rng(0)
TRAIN = (RNG.random((24, 28, 28, 1), dtype=np.float32), RNG.integers(0, 10, 24))
VAL = (RNG.random((20, 28, 28, 1), dtype=np.float32), RNG.integers(0, 10, 20))


@pytest.fixture(scope="module")
def start():
    tf.keras.utils.set_random_seed(0)
    model = build_seed_cnn(compile=False)
    return model, model.get_weights()


def fresh_run(start, strategy, lr, seed):
    model, weights = start
    copy = tf.keras.models.clone_model(model)
    copy.set_weights(weights)
    lrs, open_groups = keras_ft.strategy_plan(strategy, 4, lr)
    out = keras_ft.keras_finetune(copy, TRAIN, VAL, lrs=lrs, open_groups=open_groups, epochs=4, batch_size=8, seed=seed)
    return out, copy.get_weights()


@pytest.mark.parametrize("strategy", ["full", "gradual"])
def test_a_reused_finetuner_run_equals_a_run_on_a_fresh_model(start, strategy) -> None:
    model, weights = start
    tuner = keras_ft.KerasFinetuner(tf.keras.models.clone_model(model))
    lrs, open_groups = keras_ft.strategy_plan(strategy, 4, 3e-3)
    tuner.fit(TRAIN, VAL, lrs=lrs, open_groups=open_groups, epochs=4, batch_size=8, seed=1, initial_weights=weights)
    lrs, open_groups = keras_ft.strategy_plan(strategy, 4, 1e-3)
    reused = tuner.fit(
        TRAIN, VAL, lrs=lrs, open_groups=open_groups, epochs=4, batch_size=8, seed=0, initial_weights=weights
    )
    fresh, fresh_weights = fresh_run(start, strategy, 1e-3, seed=0)
    assert reused["curve"] == fresh["curve"]
    assert reused["steps"] == fresh["steps"] and reused["trainable_params"] == fresh["trainable_params"]
    for ours, theirs in zip(tuner.model.get_weights(), fresh_weights, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_a_finetuner_traces_each_set_of_open_groups_once(start) -> None:
    model, weights = start
    tuner = keras_ft.KerasFinetuner(tf.keras.models.clone_model(model))
    for lr in (1e-3, 3e-3):
        lrs, open_groups = keras_ft.strategy_plan("full", 4, lr)
        tuner.fit(TRAIN, VAL, lrs=lrs, open_groups=open_groups, epochs=2, batch_size=8, initial_weights=weights)
    lrs, open_groups = keras_ft.strategy_plan("gradual", 4, 1e-3)
    tuner.fit(TRAIN, VAL, lrs=lrs, open_groups=open_groups, epochs=4, batch_size=8, initial_weights=weights)
    # full: all four groups; gradual adds the top one, two and three groups
    assert sorted(tuner._steps) == [(0, 1, 2, 3), (1, 2, 3), (2, 3), (3,)]


def test_a_wrong_number_of_rates_is_named(start) -> None:
    tuner = keras_ft.KerasFinetuner(tf.keras.models.clone_model(start[0]))
    with pytest.raises(ValueError, match="lrs: need one rate per layer group"):
        tuner.fit(TRAIN, VAL, lrs=[1e-3], open_groups=lambda epoch: 1, epochs=1)
