"""The seed article's Keras CNN (section 4.2), built exactly as written, and its weights exported.

This module imports TensorFlow/Keras at the top (with the seed's ``tensorflow.keras`` imports) and
is the only chapter-04 module that does; import it only where TensorFlow is wanted. The PyTorch
twin lives in :mod:`ptft_utils.models`, the weight copy and parity check in :mod:`ptft_utils.keras.parity`.

The article's ``model.fit(X_train, y_train, ...)`` uses names it never defines; here
``X_train`` is an array ``(N, 28, 28, 1)`` of floats in [0, 1] and ``y_train`` integer labels.
"""

from __future__ import annotations

import warnings

import numpy as np
from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tensorflow.keras.models import Sequential, clone_model


def build_seed_cnn(compile: bool = True, learning_rate: float | None = None) -> Sequential:
    """Conv2D(32, 3x3, relu) - MaxPool 2 - Conv2D(64, 3x3, relu) - MaxPool 2 - Flatten - Dense 128 - Dense 10.

    Compiled as in the article (``adam``, ``sparse_categorical_crossentropy``, accuracy) unless
    ``compile=False``; ``learning_rate`` replaces Adam's default 1e-3.
    """
    with warnings.catch_warnings():
        # Keras 3 prefers an Input layer to input_shape=; the article's spelling still works.
        warnings.filterwarnings("ignore", message=".*input_shape.*")
        model = Sequential(
            [
                Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                MaxPooling2D((2, 2)),
                Conv2D(64, (3, 3), activation="relu"),
                MaxPooling2D((2, 2)),
                Flatten(),
                Dense(128, activation="relu"),
                Dense(10, activation="softmax"),
            ]
        )
    if compile:
        compile_seed_cnn(model, learning_rate)
    return model


def compile_seed_cnn(model: Sequential, learning_rate: float | None = None) -> Sequential:
    """``adam`` + ``sparse_categorical_crossentropy`` + accuracy, as in the article."""
    import keras

    optimizer = "adam" if learning_rate is None else keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def as_nhwc(images: np.ndarray) -> np.ndarray:
    """``(N, 28, 28)`` images to the ``(N, 28, 28, 1)`` float32 array Keras expects.

    Taught in: 04 §2.
    """
    images = np.asarray(images, dtype=np.float32)
    return images[..., None] if images.ndim == 3 else images


def export_weights(model: Sequential) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(layer class, kernel, bias)`` for each layer that has weights, bottom to top, as NumPy arrays.

    Keras layouts: Conv2D kernels are ``(kh, kw, in, out)`` (HWIO); Dense kernels ``(in, out)``.
    """
    out = []
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel, bias = weights
            out.append((type(layer).__name__, np.asarray(kernel), np.asarray(bias)))
    return out


def keras_logits(model: Sequential, images: np.ndarray) -> np.ndarray:
    """The pre-softmax scores of the seed model (its last Dense layer without the softmax).

    The article's model ends in ``Dense(10, activation="softmax")``; the logits are that layer's
    ``x @ kernel + bias`` on the penultimate activations.
    """
    import keras

    penultimate = keras.Model(model.inputs, model.layers[-2].output)
    hidden = np.asarray(penultimate([as_nhwc(images)], training=False))
    kernel, bias = model.layers[-1].get_weights()
    return hidden @ kernel + bias


def transfer_model(
    pretrained: Sequential, strategy: str, learning_rate: float = 1e-3, head_seed: int = 0
) -> Sequential:
    """A copy of ``pretrained`` for a new 10-way task: fresh head, lower layers frozen or not.

    ``strategy``: ``"scratch"`` (fresh weights everywhere), ``"linear_probe"`` (every layer but the
    head has ``trainable = False``) or ``"full"`` (everything trains). Recompiled, as Keras needs
    after ``trainable`` changes.

    Taught in: 04 §10.
    """
    import keras

    if strategy not in ("scratch", "linear_probe", "full"):
        raise ValueError(f"unknown Keras strategy {strategy!r}")
    model = clone_model(pretrained)  # same architecture, freshly initialised weights
    model.build((None, 28, 28, 1))
    if strategy != "scratch":
        for new, old in zip(model.layers[:-1], pretrained.layers[:-1], strict=True):
            new.set_weights(old.get_weights())
    head = model.layers[-1]
    initializer = keras.initializers.GlorotUniform(seed=head_seed)
    kernel, bias = head.get_weights()
    head.set_weights([np.asarray(initializer(kernel.shape)), np.zeros_like(bias)])
    if strategy == "linear_probe":
        for layer in model.layers[:-1]:
            layer.trainable = False
    return compile_seed_cnn(model, learning_rate)
