"""TensorFlow's side of the device parameter: GPUs, memory growth, CPU threads, seeding.

``configure_tensorflow`` hides or enables GPUs for the notebook's ``device`` parameter (memory
growth on, so TensorFlow and PyTorch can share one GPU in the same kernel);
``set_tensorflow_threads`` sizes its CPU pools; ``seed_tensorflow`` seeds it deterministically.
"""

from __future__ import annotations

import contextlib
import os

from ptft_utils.kit.device import DeviceUnavailableError, check_device, check_threads


def configure_tensorflow(device: str = "auto", *, mixed_precision: bool = False) -> str:
    """Set TensorFlow up for ``device`` and return the device string it will use.

    GPUs get memory growth (TensorFlow otherwise grabs all GPU memory at start); ``cpu`` hides
    the GPUs from TensorFlow; ``cuda`` with no GPU visible raises :class:`DeviceUnavailableError`.
    Call it before building any model.

    Taught in: 02 (the Keras checks); also used in 04 and 05 §1.
    """
    check_device(device)

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


def set_tensorflow_threads(threads: int) -> None:
    """Size TensorFlow's intra- and inter-op CPU pools; 0 leaves the defaults.

    The pools can only be sized before TensorFlow's runtime starts: call this before the first
    TensorFlow operation. Taught in: 04 §1.
    """
    if check_threads(threads) == 0:
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def seed_tensorflow(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow (Keras' helper) and, optionally, turn on op determinism."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
