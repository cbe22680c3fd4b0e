"""Tests for ptft_utils.keras.parity: Keras weights copied into the PyTorch twins give the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

keras_cnn = pytest.importorskip("ptft_utils.keras.cnn")

from ptft_utils.data import load_images  # noqa: E402
from ptft_utils.keras import parity  # noqa: E402
from ptft_utils.models import SeedCNN, count_parameters  # noqa: E402


@pytest.fixture(scope="module")
def keras_model():
    import keras

    keras.utils.set_random_seed(0)
    model = keras_cnn.build_seed_cnn()
    # a few training steps, so the weights are not just the initialiser's symmetric draws
    data = load_images("digits")
    x, y = keras_cnn.as_nhwc(data.images[:256]), data.labels[:256]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def real_images() -> np.ndarray:
    return load_images("auto").images[:64]


def test_keras_seed_cnn_has_225034_parameters(keras_model) -> None:
    assert keras_model.count_params() == 225_034 == count_parameters(SeedCNN())


def test_exported_weights_have_keras_layouts(keras_model) -> None:
    shapes = [(kind, kernel.shape) for kind, kernel, _ in keras_cnn.export_weights(keras_model)]
    assert shapes == [
        ("Conv2D", (3, 3, 1, 32)),
        ("Conv2D", (3, 3, 32, 64)),
        ("Dense", (1600, 128)),
        ("Dense", (128, 10)),
    ]


def test_twin_logits_match_keras_within_1e_5(keras_model, real_images) -> None:
    result = parity.cnn_parity(keras_model, real_images)
    assert result["max_abs_logit_error"] < 1e-5
    assert result["max_abs_prob_error"] < 1e-5
    assert result["prediction_agreement"] == 1.0


def test_parity_check_fails_when_the_flatten_order_is_ignored(keras_model, real_images) -> None:
    result = parity.cnn_parity(keras_model, real_images, flatten_order="naive")
    assert result["max_abs_logit_error"] > 1e-2


def test_flattened_dense_kernel_permutes_rows_from_nhwc_to_nchw() -> None:
    h, w, c = 2, 3, 4
    kernel = np.arange(h * w * c, dtype=np.float32).reshape(-1, 1)  # row i holds i
    weight = parity.flattened_dense_kernel_to_torch(kernel, h, w, c).numpy()[0]
    # torch input position (c, h, w) must read Keras row (h * W + w) * C + c
    assert weight[(1 * h + 0) * w + 2] == (0 * w + 2) * c + 1


def test_conv_kernel_goes_from_hwio_to_oihw() -> None:
    kernel = np.random.default_rng(0).random((3, 3, 2, 5)).astype(np.float32)
    weight = parity.conv_kernel_to_torch(kernel)
    assert weight.shape == (5, 2, 3, 3)
    assert weight[4, 1, 0, 2] == kernel[0, 2, 1, 4]


def test_keras_transfer_model_freezes_all_but_a_fresh_head(keras_model) -> None:
    probe = keras_cnn.transfer_model(keras_model, "linear_probe", head_seed=0)
    trainable = sum(int(np.prod(w.shape)) for w in probe.trainable_weights)
    assert trainable == 1_290
    assert np.array_equal(probe.layers[0].get_weights()[0], keras_model.layers[0].get_weights()[0])
    assert not np.array_equal(probe.layers[-1].get_weights()[0], keras_model.layers[-1].get_weights()[0])
    full = keras_cnn.transfer_model(keras_model, "full", head_seed=0)
    assert sum(int(np.prod(w.shape)) for w in full.trainable_weights) == 225_034
    scratch = keras_cnn.transfer_model(keras_model, "scratch", head_seed=0)
    assert not np.array_equal(scratch.layers[0].get_weights()[0], keras_model.layers[0].get_weights()[0])
