"""Reproducibility without a framework: seed Python and NumPy, and describe the environment.

``seed_python`` seeds ``random`` and NumPy; the frameworks' seeding lives with the frameworks, and
:func:`ptft_utils.seed_everything` calls them all, so a CPU run with the same seed gives the same
numbers twice in a row. ``environment`` is what ``metrics.json`` records about the machine a
number came from (it reads PyTorch's thread count only when the chapter has loaded PyTorch).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import sys
from typing import Any


def seed_python(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and ``PYTHONHASHSEED`` (for child processes).

    The frameworks are seeded by their own subpackages (:func:`ptft_utils.train.device.seed_torch`,
    :func:`ptft_utils.keras.device.seed_tensorflow`); :func:`ptft_utils.seed_everything` calls
    all three.
    """
    import numpy as np

    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


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
    torch = sys.modules.get("torch")  # described only when the chapter loaded it; never imported here
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    if device is not None:
        env["device"] = device
    return env
