"""PyTorch's side of the device parameter: which ``torch.device``, how many CPU threads, seeding.

``torch_device`` turns the notebook's ``device`` parameter into a ``torch.device`` and fails with a
clear message when a GPU is asked for and absent (rather than silently training on the CPU for an
hour). ``set_cpu_threads`` sizes PyTorch's CPU pool; ``seed_torch`` seeds it and asks for
deterministic kernels.

What it is not: TensorFlow's side (that is :mod:`ptft_utils.keras.device`) or the framework-free
checks of the parameter (:mod:`ptft_utils.kit.device`).
"""

from __future__ import annotations

import os

from ptft_utils.kit.device import DeviceUnavailableError, check_device, check_threads


def torch_device(device: str = "auto"):  # -> torch.device
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; an explicit choice must exist.

    Taught in: every chapter's Overview (the setup cell), e.g. 04 Overview.
    """
    check_device(device)
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


def describe(device: str = "auto") -> str:
    """One line for the notebook: what ``device`` resolved to.

    Taught in: no chapter yet (the chapters print the ``torch.device`` itself).
    """
    resolved = torch_device(device)
    if resolved.type == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return resolved.type


def set_cpu_threads(threads: int) -> None:
    """Size PyTorch's CPU thread pool; 0 leaves the default.

    The book's models are small, so their operations are short and latency-bound: one or two
    threads are as fast as many, and on a busy machine idle OpenMP threads spin against each
    other and slow everything down.

    Taught in: 04 Overview and 05 Overview (the setup cell).
    """
    if check_threads(threads) == 0:
        return
    import torch

    torch.set_num_threads(threads)


def seed_torch(seed: int, deterministic: bool = True) -> None:
    """Seed PyTorch's generators and, with ``deterministic``, ask for deterministic kernels.

    Taught in: every chapter's Overview (through :func:`ptft_utils.seed_everything`).
    """
    import torch

    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def gpu_summary() -> str:
    """One line on what PyTorch sees: CUDA version and GPUs, ``none``, or that torch is missing.

    Taught in: no chapter (the ``ptft doctor`` command).
    """
    try:
        import torch
    except ImportError:
        return "(torch not installed)"
    if not torch.cuda.is_available():
        return "none"
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return f"CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s): {names}"
