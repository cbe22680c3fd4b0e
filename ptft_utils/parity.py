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

import numpy as np
import torch

from .models import SeedCNN

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

    ``keras_weights``: a Keras model or the list from :func:`ptft_utils.keras_cnn.export_weights`
    (``(layer class, kernel, bias)`` for conv1, conv2, dense1, dense2).
    """
    if flatten_order not in ("keras", "naive"):
        raise ValueError("flatten_order must be 'keras' or 'naive'")
    if hasattr(keras_weights, "layers"):
        from .keras_cnn import export_weights

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
    """
    from .keras_cnn import keras_logits

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
