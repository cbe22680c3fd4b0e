"""Cheaper inference: int8 and bf16 weights, magnitude pruning, ONNX Runtime, distillation; and measuring them.

Each transformation returns a *copy* of the model, so the original stays as the reference the
cheaper one is compared with:

- :func:`quantize_int8`: dynamic int8 quantisation of the ``nn.Linear`` layers (weights stored as
  int8 with a scale, activations quantised on the fly), through
  ``torch.ao.quantization.quantize_dynamic``. PyTorch marks ``torch.ao.quantization`` deprecated
  (its warning points to torchao's ``quantize_``), but in PyTorch 2.13 it is still there and is
  the one int8 path that runs on a stock CPU build; torchao is not a dependency of this book.
- :func:`to_bfloat16`: every floating-point parameter and buffer cast to bfloat16 (half the
  bytes; feed it bfloat16 inputs).
- :func:`magnitude_prune`: global L1 (magnitude) pruning of the ``nn.Linear`` weights to a
  sparsity, made permanent (``torch.nn.utils.prune.remove``). The zeros are still stored densely:
  pruning alone saves no bytes on disk and no time on a CPU; it needs sparse storage or kernels.
- :func:`export_onnx` and :class:`OnnxRunner`: the model as an ONNX graph, run by ONNX Runtime.

Measurements: :func:`size_on_disk` (bytes of the saved ``state_dict``), :func:`latency_per_example`
(median seconds per example over repeats, after warm-up, at batch 1 and 32) and :func:`sparsity`.
:func:`distillation_loss` is Hinton et al.'s (2015) loss for training a small student on a large
teacher's soft labels.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune


def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with its ``nn.Linear`` layers dynamically quantised to int8 (CPU inference).

    Taught in: 09 §4.
    """
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)


def to_bfloat16(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with floating-point parameters and buffers in bfloat16.

    Taught in: 09 §4.
    """
    return copy.deepcopy(model).to(torch.bfloat16).eval()


def _check_fraction(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _weights(model: nn.Module, layer_types: tuple[type[nn.Module], ...]) -> list[tuple[nn.Module, str]]:
    found = [(module, "weight") for module in model.modules() if isinstance(module, layer_types)]
    if not found:
        names = ", ".join(t.__name__ for t in layer_types)
        raise ValueError(f"model has no {names} layer to prune or measure (layer_types={names})")
    return found


def magnitude_prune(model: nn.Module, sparsity: float, *,
                    layer_types: tuple[type[nn.Module], ...] = (nn.Linear,)) -> nn.Module:  # fmt: skip
    """A copy of ``model`` with the smallest-magnitude ``sparsity`` of its layers' weights set to zero.

    The threshold is global, over all the ``layer_types`` weights together (some layers lose more
    than others), and the pruning is made permanent: the result holds plain weights with zeros.

    Taught in: 09 §4.
    """
    amount = _check_fraction(sparsity, "sparsity")
    pruned = copy.deepcopy(model)
    targets = _weights(pruned, layer_types)
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=amount)
    for module, name in targets:
        prune.remove(module, name)
    return pruned


def sparsity(model: nn.Module, *, layer_types: tuple[type[nn.Module], ...] = (nn.Linear,)) -> float:
    """Fraction of the ``layer_types`` weights that are exactly zero.

    Taught in: 09 §4.
    """
    weights = [getattr(module, name) for module, name in _weights(model, layer_types)]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def size_on_disk(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``, written to a temporary file and measured.

    Taught in: 09 §4.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pt"
        torch.save(model.state_dict(), path)
        return path.stat().st_size


def latency_per_example(predict: Callable[[Any], Any], examples: Any, *, batch_sizes: Sequence[int] = (1, 32),
                        repeats: int = 20, warmup: int = 3) -> dict[int, float]:  # fmt: skip
    """Median seconds per example of ``predict(batch)`` for each batch size (``{1: ..., 32: ...}``).

    ``examples`` is a tensor or array with at least ``max(batch_sizes)`` rows; each batch is its
    first rows. ``predict`` runs ``warmup`` times untimed, then ``repeats`` times; the median of
    the repeats, divided by the batch size, is reported (the median, because a CPU shared with
    other work has slow outliers). Wrap a torch model as ``lambda x: model(x)`` under
    ``torch.inference_mode()``; pass an :class:`OnnxRunner` as it is.

    Taught in: 09 §4.
    """
    for name, value, least in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if not batch_sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in batch_sizes):
        raise ValueError(f"batch_sizes must be positive integers, got {batch_sizes!r}")
    if len(examples) < max(batch_sizes):
        raise ValueError(f"examples has {len(examples)} rows, fewer than the largest batch size {max(batch_sizes)}")
    result = {}
    with torch.inference_mode():
        for size in batch_sizes:
            batch = examples[:size]
            for _ in range(warmup):
                predict(batch)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                predict(batch)
                times.append(time.perf_counter() - start)
            result[size] = statistics.median(times) / size
    return result


def export_onnx(model: nn.Module, example: torch.Tensor, path: str | os.PathLike[str], *,
                dynamo: bool | None = None, opset: int = 17) -> Path:  # fmt: skip
    """Export ``model`` (eval mode) to an ONNX file at ``path``, with a variable batch size; returns the path.

    The input is named ``input`` and the output ``output``. ``dynamo=None`` uses PyTorch's
    ``torch.export``-based exporter when ``onnxscript`` is installed (PyTorch's default since 2.9)
    and otherwise the older TorchScript exporter (``dynamo=False``), which PyTorch 2.13 still
    ships, with a deprecation warning.

    Taught in: 09 §4.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if dynamo is None:
        dynamo = importlib.util.find_spec("onnxscript") is not None
    model = model.eval()
    kwargs: dict[str, Any] = {"input_names": ["input"], "output_names": ["output"], "opset_version": opset}
    if dynamo:
        kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
    else:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(path), dynamo=dynamo, **kwargs)
    return path


class OnnxRunner:
    """An ONNX Runtime session on the CPU, called like the model: ``runner(batch) -> numpy`` outputs.

    ``threads`` sets ONNX Runtime's intra-op threads (None: its default, all cores).

    Taught in: 09 §4.
    """

    def __init__(self, path: str | os.PathLike[str], *, threads: int | None = None) -> None:
        import onnxruntime

        if not Path(path).is_file():
            raise ValueError(f"path must be an ONNX file, got {str(path)!r} (no such file)")
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: Any) -> np.ndarray:
        array = batch.detach().cpu().numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch)
        return self.session.run(None, {self.input_name: array})[0]


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor, *,
                      temperature: float = 2.0, alpha: float = 0.5) -> torch.Tensor:  # fmt: skip
    """Hinton et al.'s distillation loss: ``alpha * T^2 * KL(p_T || q_T) + (1 - alpha) * CE(student, labels)``.

    ``p_T = softmax(teacher_logits / T)`` and ``q_T = softmax(student_logits / T)`` are the soft
    labels at temperature ``T``; the KL divergence is averaged over the batch and multiplied by
    ``T^2`` so that its gradients keep their size as ``T`` changes (they scale as ``1/T^2``).
    ``alpha`` weighs the soft term against the cross-entropy with the hard ``labels``; the teacher
    gets no gradient.

    Taught in: 09 §4.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
    if student_logits.shape != teacher_logits.shape or student_logits.ndim != 2:
        raise ValueError(f"student_logits and teacher_logits must both be (batch, classes), got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")  # fmt: skip
    t = float(temperature)
    soft_teacher = F.log_softmax(teacher_logits.detach() / t, dim=1)
    soft_student = F.log_softmax(student_logits / t, dim=1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean", log_target=True)
    return alpha * t * t * kl + (1 - alpha) * F.cross_entropy(student_logits, labels)
