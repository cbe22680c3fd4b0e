"""Which device a chapter runs on: ``auto``, ``cpu``, ``cuda`` or ``mps``.

``torch_device`` turns the notebook's ``device`` parameter into a ``torch.device`` and fails
with a clear message when a GPU is asked for and absent (rather than silently training on the
CPU for an hour). ``configure_tensorflow`` does the same for TensorFlow, turning on GPU memory
growth so TensorFlow and PyTorch can share one GPU in the same kernel.
"""

from __future__ import annotations

import contextlib

from .params import DEVICES, ParameterError


class DeviceUnavailableError(RuntimeError):
    """The requested device is not present on this machine."""


def _check(device: str) -> None:
    if device not in DEVICES:
        raise ParameterError("device", device, "one of " + ", ".join(repr(d) for d in DEVICES))


def torch_device(device: str = "auto"):  # -> torch.device
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; an explicit choice must exist."""
    _check(device)
    import torch

    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailableError(
            "device='cuda' was requested but PyTorch sees no CUDA GPU "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none: a CPU-only build'}). "
            "Use device='auto' or 'cpu', or install a CUDA build of PyTorch (see the book's GPU page)."
        )
    if device == "mps" and not has_mps:
        raise DeviceUnavailableError("device='mps' was requested but this PyTorch has no Apple MPS support here.")
    return torch.device(device)


def configure_tensorflow(device: str = "auto", *, mixed_precision: bool = False) -> str:
    """Set TensorFlow up for ``device`` and return the device string it will use.

    GPUs get memory growth (TensorFlow otherwise grabs all GPU memory at start); ``cpu`` hides
    the GPUs from TensorFlow; ``cuda`` with no GPU visible raises :class:`DeviceUnavailableError`.
    Call it before building any model.
    """
    _check(device)
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if device == "cpu" or device == "mps":
        # TensorFlow has no MPS device of its own (tensorflow-metal exposes it as a GPU).
        if device == "cpu" and gpus:
            tf.config.set_visible_devices([], "GPU")
        return "cpu" if device == "cpu" or not gpus else "gpu"
    if device == "cuda" and not gpus:
        raise DeviceUnavailableError("device='cuda' was requested but TensorFlow sees no GPU.")
    for gpu in gpus:
        # Growth can only be set before TensorFlow first touches the GPU; later calls raise.
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)
    if mixed_precision and gpus:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    return "gpu" if gpus else "cpu"


def set_cpu_threads(threads: int, *, tensorflow: bool = False) -> None:
    """Size PyTorch's CPU thread pool (and TensorFlow's, with ``tensorflow=True``); 0 leaves the defaults.

    The book's models are small, so their operations are short and latency-bound: one or two
    threads are as fast as many, and on a busy machine idle OpenMP threads spin against each
    other and slow everything down. TensorFlow's pools can only be sized before its runtime
    starts, so call this before the first TensorFlow operation.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ParameterError("cpu_threads", threads, "an integer >= 0 (0 leaves the framework default)")
    if threads == 0:
        return
    import torch

    torch.set_num_threads(threads)
    if tensorflow:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def describe(device: str = "auto") -> str:
    """One line for the notebook: what ``device`` resolved to."""
    resolved = torch_device(device)
    if resolved.type == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return resolved.type
