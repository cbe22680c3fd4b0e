"""The seed article's Keras recurrent model (section 4.3), built exactly as written.

This module imports Keras at the top and is the only chapter-05 module that does; import it only
where TensorFlow is wanted. The PyTorch twin and the weight mapping live in ``ptft_utils.models.rnn``.

The article's code uses three names it never defines; here they are arguments:

* ``timesteps`` -- the length of each input window (characters per training sequence);
* ``input_dim`` -- the size of each input vector (the one-hot width, i.e. the vocabulary size);
* ``output_dim`` -- the number of softmax outputs per step (the vocabulary again, for a
  language model that predicts the next character at every position).
"""

from __future__ import annotations

import numpy as np
from tensorflow.keras.layers import LSTM, Dense, Input
from tensorflow.keras.models import Sequential


def build_seed_lstm(timesteps: int | None, input_dim: int, output_dim: int, hidden: int = 128) -> Sequential:
    """LSTM(128, return_sequences) -> LSTM(128, return_sequences) -> Dense(output_dim, softmax).

    Compiled as in the article: ``adam`` and ``categorical_crossentropy`` (one-hot targets),
    with accuracy. ``timesteps=None`` accepts windows of any length (used for sampling and
    evaluation on longer text); the weights do not depend on it.

    Taught in: 05 §1.
    """
    model = Sequential(
        [
            Input(shape=(timesteps, input_dim)),  # Keras 3 spelling of input_shape=(timesteps, input_dim)
            LSTM(hidden, return_sequences=True),
            LSTM(hidden, return_sequences=True),
            Dense(output_dim, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def one_hot(ids: np.ndarray, depth: int) -> np.ndarray:
    """float32 one-hot encoding of an integer array: shape ``ids.shape + (depth,)``.

    Taught in: 05 §1.
    """
    ids = np.asarray(ids, dtype=np.int64)
    out = np.zeros(ids.shape + (depth,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def char_windows(ids: np.ndarray, timesteps: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping (by default) windows of a character-id stream and their next-character targets.

    Returns integer arrays ``x`` and ``y`` of shape (n_windows, timesteps), ``y`` shifted by one.

    Taught in: 05 §1.
    """
    ids = np.asarray(ids, dtype=np.int64)
    stride = stride or timesteps
    starts = np.arange(0, len(ids) - timesteps - 1, stride)
    x = np.stack([ids[s : s + timesteps] for s in starts])
    y = np.stack([ids[s + 1 : s + timesteps + 1] for s in starts])
    return x, y
