"""Checkpoints: atomic writes, safe loads, the random states a bit-identical resume needs, fingerprints.

A checkpoint holds only tensors and plain data (dicts, lists, tuples, strings, numbers, ``None``):
:func:`save_checkpoint` refuses anything else, and :func:`load_checkpoint` reads with
``torch.load(weights_only=True)``, so a crafted ``last.pt`` cannot run code when a run resumes; it
is refused with :class:`UnsafeCheckpointError`. The random states of torch, NumPy and Python are
stored as tensors and lists for the same reason. Writes go to a temporary file that is renamed,
so readers see the old file or the new one, never half of either.

A checkpoint is one file: a 118-byte line, ``PTFT-CHECKPOINT v1 sha256=<64 hex> bytes=<20 digits>``
and a newline (``head -1 last.pt`` shows it), then the ``torch.save`` bytes it describes.
:func:`load_checkpoint` checks the length and the sha256 before unpickling anything, so a
truncated or damaged file (a full disk, a bad copy, a flipped bit) is refused with
:class:`CorruptCheckpointError` naming the file and what is wrong, instead of loading wrong
numbers or failing deep inside ``torch.load``; so is a file without the header (written by
``torch.save`` itself or by an older ptft_utils), which cannot be checked. The digest catches
damage, not forgery: anyone who can write the file can write a matching header, which is why
loads stay ``weights_only``. ``torch.load`` cannot read the file directly; use :func:`load_checkpoint`.

A checkpoint also stores the *fingerprint* of the run that made it (learning rates, batch size,
epochs, seed, optimizer, early stopping, a digest of the data, ...); :func:`check_fingerprint`
refuses to resume a run whose settings differ, naming the settings that do.

What it is not: a model zoo format or a way to move weights between programs (use
``model.state_dict()`` for that); the device is not fingerprinted, so a run may resume elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ptft_utils.kit.atomic import atomic_write_bytes

CHECKPOINT_FILE = "last.pt"
PLAIN_TYPES = (str, int, float, bool, type(None), torch.Tensor)
MAGIC = b"PTFT-CHECKPOINT v1 "
HEADER = re.compile(rb"PTFT-CHECKPOINT v1 sha256=([0-9a-f]{64}) bytes=([0-9]{20})\n")
HEADER_SIZE = len(MAGIC) + len("sha256=") + 64 + len(" bytes=") + 20 + 1  # 118


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds objects other than tensors and plain data; loading it could run code.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """


class CorruptCheckpointError(ValueError):
    """A checkpoint file is truncated or damaged, or has no ptft_utils header to check it by; nothing was loaded.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """


class CheckpointMismatchError(ValueError):
    """A checkpoint was made by a run with other settings than the one asked to resume from it.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """


def rng_state() -> dict[str, Any]:
    """The random states of torch, NumPy (legacy global) and Python, as tensors, lists and numbers.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    numpy_state = {
        "bit_generator": str(name),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }
    python_state = {"version": int(version), "internal": [int(i) for i in internal], "gauss_next": gauss_next}
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": python_state}


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["bit_generator"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))


def check_plain(value: Any, where: str = "checkpoint") -> None:
    """Raise ``TypeError`` naming the first value that is not a tensor or plain data.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"{where} has a key of type {type(key).__name__}; only str and int keys are saved")
            check_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")
    elif not isinstance(value, PLAIN_TYPES):
        raise TypeError(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}; a checkpoint holds only "
            "tensors and plain data (dict, list, tuple, str, int, float, bool, None) so it loads safely"
        )


def checkpoint_header(payload: bytes) -> bytes:
    """The line written before ``payload`` in a checkpoint: magic, sha256 and length of ``payload``.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    return MAGIC + f"sha256={hashlib.sha256(payload).hexdigest()} bytes={len(payload):020d}\n".encode()


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` with ``torch.save``, behind a header holding its sha256, atomically.

    Readers see the old file or the new one, never half of either. Raises ``TypeError`` (and
    leaves ``path`` as it was) when ``state`` holds anything but tensors and plain data, since
    :func:`load_checkpoint` could not read it back safely.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    check_plain(state)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    return atomic_write_bytes(path, checkpoint_header(payload) + payload)


def verified_payload(path: str | Path, data: bytes) -> bytes:
    """The ``torch.save`` bytes of checkpoint file ``data``, after checking its header, length and sha256.

    Raises :class:`CorruptCheckpointError` naming ``path``, what is wrong, and how to start over.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    fresh = f"delete {path} (or pass resume=False) to start over"
    if not data.startswith(MAGIC[: len(data)]):
        raise CorruptCheckpointError(
            f"refusing to load {path}: it has no {MAGIC.decode().strip()!r} header, so it cannot be checked "
            f"for damage (written by torch.save itself or by an older ptft_utils?); {fresh}"
        )
    header = HEADER.match(data, 0, HEADER_SIZE)
    if header is None:
        what = (
            f"it is truncated: expected at least {HEADER_SIZE} bytes, found {len(data)}"
            if len(data) < HEADER_SIZE
            else "its header is damaged (not 'PTFT-CHECKPOINT v1 sha256=<64 hex digits> bytes=<20 digits>')"
        )
        raise CorruptCheckpointError(f"refusing to load {path}: {what}; {fresh}")
    expected = HEADER_SIZE + int(header[2])
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than written"
        raise CorruptCheckpointError(
            f"refusing to load {path}: it is {what}: expected {expected} bytes, found {len(data)}; {fresh}"
        )
    payload = data[HEADER_SIZE:]
    digest = hashlib.sha256(payload).hexdigest()
    if digest != header[1].decode():
        raise CorruptCheckpointError(
            f"refusing to load {path}: sha256 mismatch: its header says {header[1].decode()}, its contents hash "
            f"to {digest}: its bytes changed after it was written; {fresh}"
        )
    return payload


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (or by :func:`fit`), without running any code.

    The header's length and sha256 are checked first: a truncated or damaged file, or one
    without the header, raises :class:`CorruptCheckpointError` before anything is unpickled.
    Then ``torch.load(weights_only=True)`` builds tensors and plain containers only; a file that
    asks for anything else (a pickled callable, an arbitrary class) raises
    :class:`UnsafeCheckpointError` before any of it is executed.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    payload = verified_payload(path, Path(path).read_bytes())
    try:
        return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        detail = next((line for line in str(error).splitlines() if "GLOBAL" in line), str(error).splitlines()[0])
        raise UnsafeCheckpointError(
            f"refusing to load {path}: it holds objects other than tensors and plain data, and loading them "
            f"could run code ({detail.strip()}). Checkpoints written by ptft_utils never do; "
            f"delete {path} (or pass resume=False) unless you know where it came from."
        ) from None


def plain_setting(value: Any) -> Any:
    """A setting as plain, comparable data: callables by their qualified name, tuples as lists.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    if isinstance(value, (list, tuple)):
        return [plain_setting(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain_setting(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
    return value if isinstance(value, PLAIN_TYPES) else repr(value)


def data_digest(data: Any) -> str:
    """A short digest of a tuple of tensors (shapes, dtypes and bytes), or a Dataset's class and length.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    if data is None:
        return "none"
    if not isinstance(data, tuple):
        return f"{type(data).__qualname__} of {len(data)}"
    digest = hashlib.sha256()
    for tensor in data:
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{tuple(tensor.shape)} {tensor.dtype};".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    return f"{len(data[0])} examples, sha256 {digest.hexdigest()[:16]}"


def optimizer_settings(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The optimizer's class, each group's learning rate and its other hyperparameters.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    groups = optimizer.param_groups
    skip = {"params", "lr", "initial_lr", "name"}
    return {
        "optimizer": type(optimizer).__qualname__,
        "group_lrs": [plain_setting(g["lr"]) for g in groups],
        "group_sizes": [sum(p.numel() for p in g["params"]) for g in groups],
        "optimizer_settings": [{k: plain_setting(v) for k, v in g.items() if k not in skip} for g in groups],
    }


def fingerprint(
    settings: Mapping[str, Any], optimizer: torch.optim.Optimizer, model: nn.Module, datasets: Iterable[Any]
) -> dict[str, Any]:
    """What decides a run's result, as plain data: ``settings``, the optimizer, the model's size, the data.

    Take it before a scheduler changes the learning rates.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    return {
        **{name: plain_setting(value) for name, value in settings.items()},
        **optimizer_settings(optimizer),
        "model": f"{type(model).__qualname__} with {sum(p.numel() for p in model.parameters())} parameters",
        "data": [data_digest(d) for d in datasets],
    }


def check_fingerprint(saved: Mapping[str, Any], current: Mapping[str, Any], path: str | Path) -> None:
    """Raise :class:`CheckpointMismatchError` naming every setting where ``saved`` and ``current`` differ.

    Taught in: no chapter yet (``fit(checkpoint_dir=...)``; tests/test_checkpoint.py).
    """
    differ = [k for k in sorted(saved.keys() | current.keys()) if saved.get(k) != current.get(k)]
    if differ:
        made = ", ".join(f"{k}={saved.get(k)!r}" for k in differ)
        asks = ", ".join(f"{k}={current.get(k)!r}" for k in differ)
        raise CheckpointMismatchError(
            f"checkpoint {path} was made with {made}; this run asks {asks}: delete {path} or pass resume=False"
        )
