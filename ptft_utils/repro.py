"""Reproducibility: seed every random number generator and describe the environment.

``seed_everything`` seeds Python, NumPy and, when they are already imported or importable,
PyTorch and TensorFlow, and asks both for deterministic kernels, so a CPU run with the same
seed gives the same numbers twice in a row. ``environment`` is what ``metrics.json`` records
about the machine a number came from.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import sys
from typing import Any


def seed_everything(seed: int, *, torch: bool = True, tensorflow: bool = False, deterministic: bool = True) -> None:
    """Seed ``random``, NumPy, and PyTorch/TensorFlow when asked (they are imported lazily).

    TensorFlow is off by default because importing it costs seconds; chapters that use Keras
    pass ``tensorflow=True`` (or it is seeded anyway when already imported).
    """
    import numpy as np

    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if torch or "torch" in sys.modules:
        import torch as _torch

        _torch.manual_seed(seed)
        if deterministic:
            _torch.use_deterministic_algorithms(True, warn_only=True)
            _torch.backends.cudnn.benchmark = False
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if tensorflow or "tensorflow" in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.keras.utils.set_random_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str | None = None) -> dict[str, Any]:
    """Versions, CPU, thread count and (if torch is loaded) the GPU: what a number ran on."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
    }
    for package in ("ptft", "numpy", "torch", "tensorflow", "keras", "gensim", "scikit-learn", "pandas"):
        version = _version(package)
        if version:
            env[package] = version
    if "torch" in sys.modules:
        import torch

        env["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    if device is not None:
        env["device"] = device
    return env
