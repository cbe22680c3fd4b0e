"""Copy Keras weights into the PyTorch twins and measure how far their outputs disagree.

Organised by model: one section per seed model, each with a ``copy_*`` function (Keras weights
into the twin, in place) and a ``*_parity`` function (the largest absolute difference between
the two frameworks' logits on a batch of real inputs).

The seed CNN (section 4.2), three layout differences to get right:

1. Conv2D kernels: Keras stores ``(kh, kw, in, out)`` (HWIO), PyTorch ``(out, in, kh, kw)`` (OIHW).
2. Dense kernels: Keras ``(in, out)`` and ``y = x @ W``; PyTorch ``Linear.weight`` is ``(out, in)``.
3. The first Dense layer after Flatten: Keras flattens an NHWC tensor, so input feature number
   ``(h * W + w) * C + c`` is channel ``c`` at pixel ``(h, w)``; PyTorch flattens NCHW, so the
   same number means ``(c * H + h) * W + w``. The Dense kernel's rows must be permuted, or the
   twin computes a different function with the same weights. ``flatten_order="keras"`` does it;
   ``flatten_order="naive"`` skips it (kept to show, and test, that the check catches the mistake).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from ptft_utils.models.cnn import SeedCNN
from ptft_utils.models.rnn import SeedLSTM

# -- seed CNN ------------------------------------------------------------------------------------


def conv_kernel_to_torch(kernel: np.ndarray) -> torch.Tensor:
    """HWIO (Keras) -> OIHW (PyTorch)."""
    return torch.from_numpy(np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1))))


def dense_kernel_to_torch(kernel: np.ndarray) -> torch.Tensor:
    """(in, out) (Keras) -> (out, in) (PyTorch)."""
    return torch.from_numpy(np.ascontiguousarray(kernel.T))


def flattened_dense_kernel_to_torch(kernel: np.ndarray, height: int, width: int, channels: int) -> torch.Tensor:
    """A Dense kernel that reads an NHWC-flattened tensor -> a Linear weight that reads NCHW-flattened."""
    out = kernel.shape[1]
    if kernel.shape[0] != height * width * channels:
        raise ValueError(f"kernel has {kernel.shape[0]} inputs, expected {height}x{width}x{channels}")
    nchw = kernel.reshape(height, width, channels, out).transpose(2, 0, 1, 3).reshape(-1, out)
    return dense_kernel_to_torch(nchw)


def _assign(target: torch.Tensor | None, value: np.ndarray | torch.Tensor) -> None:
    if target is None:
        raise ValueError("the twin has no parameter where the Keras layer has one")
    target.copy_(torch.as_tensor(value))


def copy_keras_cnn_to_torch(keras_weights: Sequence, twin: SeedCNN, flatten_order: str = "keras") -> SeedCNN:
    """Load the seed CNN's Keras weights into ``twin`` (in place) and return it.

    ``keras_weights``: a Keras model or the list from :func:`ptft_utils.keras.cnn.export_weights`
    (``(layer class, kernel, bias)`` for conv1, conv2, dense1, dense2).

    Taught in: 04 §6.
    """
    if flatten_order not in ("keras", "naive"):
        raise ValueError("flatten_order must be 'keras' or 'naive'")
    if hasattr(keras_weights, "layers"):
        from ptft_utils.keras.cnn import export_weights

        keras_weights = export_weights(keras_weights)
    (_, k1, b1), (_, k2, b2), (_, k3, b3), (_, k4, b4) = keras_weights
    channels = k2.shape[3]
    side = int(round((k3.shape[0] / channels) ** 0.5))
    with torch.no_grad():
        _assign(twin.conv1.weight, conv_kernel_to_torch(k1))
        _assign(twin.conv1.bias, b1)
        _assign(twin.conv2.weight, conv_kernel_to_torch(k2))
        _assign(twin.conv2.bias, b2)
        if flatten_order == "keras":
            twin.fc1.weight.copy_(flattened_dense_kernel_to_torch(k3, side, side, channels))
        else:
            twin.fc1.weight.copy_(dense_kernel_to_torch(k3))
        twin.fc1.bias.copy_(torch.from_numpy(b3))
        twin.head.weight.copy_(dense_kernel_to_torch(k4))
        twin.head.bias.copy_(torch.from_numpy(b4))
    return twin


def cnn_parity(keras_model, images: np.ndarray, flatten_order: str = "keras") -> dict[str, float]:
    """Copy ``keras_model`` into a fresh :class:`SeedCNN` and compare outputs on ``images`` (N, 28, 28).

    Returns ``max_abs_logit_error`` (largest |logit difference|), ``max_abs_prob_error`` (after
    softmax) and ``prediction_agreement`` (fraction of equal argmax).

    Taught in: 04 §4.
    """
    from ptft_utils.keras.cnn import keras_logits

    twin = copy_keras_cnn_to_torch(keras_model, SeedCNN(), flatten_order=flatten_order).eval()
    images = np.asarray(images, dtype=np.float32)
    expected = keras_logits(keras_model, images).astype(np.float64)
    with torch.no_grad():
        got = twin(torch.from_numpy(images)).double().numpy()
    probs_keras = np.asarray(keras_model(images[..., None], training=False), dtype=np.float64)
    probs_torch = torch.softmax(torch.from_numpy(got), dim=1).numpy()
    return {
        "max_abs_logit_error": float(np.max(np.abs(expected - got))),
        "max_abs_prob_error": float(np.max(np.abs(probs_keras - probs_torch))),
        "prediction_agreement": float(np.mean(expected.argmax(1) == got.argmax(1))),
    }


KERAS_GATES = ("i", "f", "c", "o")  # keras.layers.LSTM: input, forget, cell candidate, output


TORCH_GATES = ("i", "f", "c", "o")  # torch.nn.LSTM: input, forget, cell ("g"), output


def _permute_gates(matrix: np.ndarray, order: Sequence[str], axis: int) -> np.ndarray:
    """Reorder the four gate blocks of ``matrix`` along ``axis`` from Keras order to ``order``."""
    blocks = np.split(matrix, 4, axis=axis)
    by_name = dict(zip(KERAS_GATES, blocks, strict=True))
    return np.concatenate([by_name[g] for g in order], axis=axis)


def keras_lstm_to_torch(
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    lstm: nn.LSTM,
    gate_order: Sequence[str] = TORCH_GATES,
) -> None:
    """Copy one Keras LSTM layer's weights into a single-layer ``nn.LSTM`` (in place).

    ``gate_order`` is the order torch expects the Keras blocks in; the right one is
    ``("i", "f", "c", "o")``. Keras' single bias goes to ``bias_ih``; ``bias_hh`` is set to zero
    (torch adds the two, so any split with the right sum is equivalent).
    """
    if sorted(gate_order) != sorted(KERAS_GATES):
        raise ValueError(f"gate_order must be a permutation of {KERAS_GATES}, got {tuple(gate_order)}")
    hidden = lstm.hidden_size
    if kernel.shape != (lstm.input_size, 4 * hidden) or recurrent_kernel.shape != (hidden, 4 * hidden):
        raise ValueError(
            f"Keras shapes {kernel.shape}, {recurrent_kernel.shape} do not fit nn.LSTM({lstm.input_size}, {hidden})"
        )
    weight_ih, weight_hh, bias_ih, bias_hh = (
        cast(torch.Tensor, getattr(lstm, name)) for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    )
    with torch.no_grad():
        weight_ih.copy_(torch.from_numpy(_permute_gates(np.asarray(kernel), gate_order, axis=1).T.copy()))
        weight_hh.copy_(torch.from_numpy(_permute_gates(np.asarray(recurrent_kernel), gate_order, axis=1).T.copy()))
        bias_ih.copy_(torch.from_numpy(_permute_gates(np.asarray(bias), gate_order, axis=0).copy()))
        bias_hh.zero_()


def copy_keras_seed_model(keras_model: Any, twin: SeedLSTM, gate_order: Sequence[str] = TORCH_GATES) -> SeedLSTM:
    """Copy the weights of the Keras seed model (two LSTMs and a Dense) into ``twin``.

    Taught in: 05 §1.
    """
    lstm_layers = [layer for layer in keras_model.layers if layer.__class__.__name__ == "LSTM"]
    dense_layers = [layer for layer in keras_model.layers if layer.__class__.__name__ == "Dense"]
    if len(lstm_layers) != 2 or len(dense_layers) != 1:
        raise ValueError("expected the seed model: two LSTM layers and one Dense layer")
    for keras_layer, torch_layer in zip(lstm_layers, (twin.lstm1, twin.lstm2), strict=True):
        kernel, recurrent_kernel, bias = (np.asarray(w) for w in keras_layer.get_weights())
        keras_lstm_to_torch(kernel, recurrent_kernel, bias, torch_layer, gate_order)
    dense_kernel, dense_bias = (np.asarray(w) for w in dense_layers[0].get_weights())
    with torch.no_grad():
        twin.dense.weight.copy_(torch.from_numpy(dense_kernel.T.copy()))
        twin.dense.bias.copy_(torch.from_numpy(dense_bias.copy()))
    return twin
