"""Fine-tuning the seed CNN in Keras 3: what trains (``layer.trainable``) and how fast (one optimiser per group).

Keras decides what trains with ``layer.trainable``; a frozen layer's weights leave
``model.trainable_variables``. For *discriminative* learning rates (a different rate per layer
group) Keras 3 has no per-variable rate in its optimisers, and the trick of scaling each group's
gradient does not work with Adam, which divides the scale out again. What works, on every
backend's eager path and inside ``tf.function``, is one optimiser per layer group in a short
custom loop: :func:`keras_finetune` computes the gradients of the trainable variables with
``tf.GradientTape`` and lets each group's optimiser ``apply`` them to its own variables. Gradual
unfreezing is the same loop with the set of trainable groups growing each epoch.

:func:`torch_cnn_to_keras` copies the PyTorch twin's weights into the seed's Keras model (the
inverse of :func:`ptft_utils.keras.parity.copy_keras_cnn_to_torch`), so that both frameworks
fine-tune the same pretrained network.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import torch

KERAS_STRATEGIES = ("linear_probe", "top", "full", "discriminative", "gradual")


def torch_cnn_to_keras(state: Mapping[str, torch.Tensor], keras_model: Any) -> Any:
    """Load a ``SeedCNN`` state dict into the seed's Keras CNN (in place); returns the model.

    Conv kernels OIHW -> HWIO; Linear weights transposed; the first Dense layer's rows permuted
    from NCHW-flatten order to NHWC-flatten order (64 channels on a 5x5 grid).

    Taught in: 06 §8.
    """
    s = {name: value.detach().cpu().numpy() for name, value in state.items()}
    fc1 = s["fc1.weight"].reshape(128, 64, 5, 5).transpose(0, 2, 3, 1).reshape(128, -1)
    kernels = [
        (s["conv1.weight"].transpose(2, 3, 1, 0), s["conv1.bias"]),
        (s["conv2.weight"].transpose(2, 3, 1, 0), s["conv2.bias"]),
        (fc1.T, s["fc1.bias"]),
        (s["head.weight"].T, s["head.bias"]),
    ]
    layers = [layer for layer in keras_model.layers if layer.get_weights()]
    if len(layers) != len(kernels):
        raise ValueError(f"keras_model has {len(layers)} layers with weights; the seed CNN has {len(kernels)}")
    for layer, (kernel, bias) in zip(layers, kernels, strict=True):
        layer.set_weights([np.ascontiguousarray(kernel), np.ascontiguousarray(bias)])
    return keras_model


def weight_groups(keras_model: Any) -> list[Any]:
    """The seed CNN's layers that have weights, bottom to top: conv1, conv2, dense 128, head. Taught in: 06 §8."""
    return [layer for layer in keras_model.layers if layer.weights]


def strategy_plan(
    strategy: str, n_groups: int, base_lr: float, decay: float = 2.6, top_groups: int = 2
) -> tuple[list[float], Callable[[int], int]]:
    """Per-group learning rates and ``open_groups(epoch)`` (how many top groups train) for a strategy.

    ``linear_probe``: the head only; ``top``: the top ``top_groups``; ``full``: all at ``base_lr``;
    ``discriminative``: all, rate divided by ``decay`` per group downward; ``gradual``: one more
    group from the top each epoch, with discriminative rates (ULMFiT).

    Taught in: 06 §8.
    """
    if strategy not in KERAS_STRATEGIES:
        raise ValueError(f"strategy {strategy!r} is not one of {KERAS_STRATEGIES}")
    flat = [base_lr] * n_groups
    decayed = [base_lr / decay ** (n_groups - 1 - i) for i in range(n_groups)]
    if strategy == "linear_probe":
        return flat, lambda epoch: 1
    if strategy == "top":
        return flat, lambda epoch: top_groups
    if strategy == "full":
        return flat, lambda epoch: n_groups
    if strategy == "discriminative":
        return decayed, lambda epoch: n_groups
    return decayed, lambda epoch: min(n_groups, epoch)


def keras_finetune(
    model: Any,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    lrs: Sequence[float],
    open_groups: Callable[[int], int],
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[str, Any]:
    """Train ``model`` (softmax outputs) with one Adam per layer group; keep the best validation epoch.

    ``lrs[i]`` is the rate of group ``i`` (bottom to top, :func:`weight_groups`); in epoch ``e``
    (1-based) the top ``open_groups(e)`` groups have ``trainable = True`` and the rest ``False``.
    Returns ``best_val``, ``best_epoch``, ``curve`` (epoch, validation accuracy), ``seconds``,
    ``seconds_per_step`` and ``trainable_params`` (at the last epoch); the best epoch's weights
    are loaded back. A grid of many short runs should use :class:`KerasFinetuner`, which traces
    each training step once instead of once per run.

    Taught in: 06 §8.
    """
    return KerasFinetuner(model).fit(
        train, val, lrs=lrs, open_groups=open_groups, epochs=epochs, batch_size=batch_size, seed=seed
    )


class KerasFinetuner:
    """One Keras model fine-tuned run after run, each training step traced once and kept.

    Tracing a ``tf.function`` costs about a second on a CPU, more than a short fine-tuning run of
    the seed CNN itself. A fine-tuner owns the model, one Adam per layer group and the traced
    steps (one per set of open groups). :meth:`fit` with ``initial_weights`` starts a run from
    those weights with fresh optimiser state (moments and step count zeroed, the rates set to
    ``lrs``), so a run gives what :func:`keras_finetune` gives on a fresh copy of the model, and
    a grid over seeds and learning rates traces each step once. Not for several threads at once.

    Taught in: 06 §8.
    """

    def __init__(self, model: Any) -> None:
        import keras

        self.model = model
        self.groups = weight_groups(model)
        self.optimizers = [keras.optimizers.Adam(1e-3) for _ in self.groups]
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy()
        self._steps: dict[tuple[int, ...], Callable[[Any, Any], Any]] = {}

    def _reset_optimizers(self, lrs: Sequence[float]) -> None:
        for optimizer, lr in zip(self.optimizers, lrs, strict=True):
            for variable in optimizer.variables:
                if variable is not optimizer._learning_rate:  # step count and moments start at zero
                    variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
            optimizer.learning_rate = float(lr)

    def _step_for(self, open_ids: tuple[int, ...]) -> Callable[[Any, Any], Any]:
        if open_ids not in self._steps:
            self._steps[open_ids] = _make_step(self.model, self.groups, self.optimizers, open_ids, self.loss_fn)
        return self._steps[open_ids]

    def fit(
        self,
        train: tuple[np.ndarray, np.ndarray],
        val: tuple[np.ndarray, np.ndarray],
        *,
        lrs: Sequence[float],
        open_groups: Callable[[int], int],
        epochs: int,
        batch_size: int = 32,
        seed: int = 0,
        initial_weights: Sequence[np.ndarray] | None = None,
    ) -> dict[str, Any]:
        """One run, as :func:`keras_finetune` describes; ``initial_weights`` (if given) are its start."""
        groups = self.groups
        if len(lrs) != len(groups):
            raise ValueError(f"lrs: need one rate per layer group ({len(groups)}), got {len(lrs)}")
        if initial_weights is not None:
            self.model.set_weights(list(initial_weights))
        self._reset_optimizers(lrs)
        x, y = np.asarray(train[0], np.float32), np.asarray(train[1])
        rng = np.random.default_rng(seed)
        best: dict[str, Any] = {"best_val": -math.inf, "best_epoch": 0, "curve": []}
        best["weights"] = self.model.get_weights()
        step_seconds, steps, opened, started = 0.0, 0, -1, time.perf_counter()
        step_fn: Callable[[Any, Any], Any] = lambda xb, yb: None
        for epoch in range(1, epochs + 1):
            n_open = open_groups(epoch)
            if n_open != opened:  # a new set of trainable layers: its traced step
                for i, layer in enumerate(groups):
                    layer.trainable = i >= len(groups) - n_open
                open_ids = tuple(i for i in range(len(groups)) if groups[i].trainable)
                step_fn, opened = self._step_for(open_ids), n_open
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                idx = order[start : start + batch_size]
                t0 = time.perf_counter()
                step_fn(tf.constant(x[idx]), tf.constant(y[idx]))
                step_seconds, steps = step_seconds + time.perf_counter() - t0, steps + 1
            probs = self.model(np.asarray(val[0], np.float32), training=False)
            score = float(np.mean(np.argmax(np.asarray(probs), -1) == np.asarray(val[1])))
            best["curve"].append((epoch, score))
            if score > best["best_val"]:
                best.update(best_val=score, best_epoch=epoch, weights=self.model.get_weights())
        self.model.set_weights(best.pop("weights"))
        trainable = int(sum(np.prod(v.shape) for v in self.model.trainable_variables))
        return best | {
            "seconds": time.perf_counter() - started,
            "seconds_per_step": step_seconds / max(steps, 1),
            "steps": steps,
            "trainable_params": trainable,
        }


def _make_step(model: Any, groups: Sequence[Any], optimizers: Sequence[Any], open_ids: Sequence[int], loss_fn: Any):
    """One traced training step: gradients of the open groups' variables, each applied by its own optimiser."""
    variables = [list(groups[i].trainable_variables) for i in open_ids]
    flat = [v for group in variables for v in group]

    @tf.function(reduce_retracing=True)
    def step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, flat)
        at = 0
        for i, group in zip(open_ids, variables, strict=True):
            optimizers[i].apply(grads[at : at + len(group)], group)
            at += len(group)
        return loss

    return step
