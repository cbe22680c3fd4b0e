"""Sharing a fine-tuned model: Hugging Face's folder layout, a checksum manifest, a model card, adapters.

:func:`save_shared` writes what a model hub holds for one model: ``config.json`` and the weights
as ``model.safetensors`` (``save_pretrained``; Transformers 5 writes safetensors only, the
``safe_serialization`` switch of version 4 is gone), the tokenizer's files, a model card
(``README.md``, see :mod:`ptft_utils.kit.model_card`) and, last, ``MANIFEST.json`` with each
file's SHA-256 and size (:mod:`ptft_utils.data.manifest`). :func:`load_shared` checks the manifest
*before* ``from_pretrained`` reads anything and refuses a folder in which a byte changed, a file
is missing or one was added, and a folder holding pickled weights (``*.bin``, ``*.pt``: loading a
pickle can run code; safetensors cannot).

A LoRA adapter is shared alone: :func:`save_adapter` writes only peft's ``adapter_config.json``
and ``adapter_model.safetensors`` (a few per cent of the model), :func:`load_adapter` verifies
them and puts them back on the base model, which the reader gets from its own source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

from ptft_utils.data.manifest import MANIFEST_FILE, folder_bytes, read_manifest, verify_manifest, write_manifest
from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.kit.model_card import CARD_FILE

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


@dataclass(frozen=True)
class SharedFolder:
    """What was written: the folder, its files with their sizes, the total bytes (manifest excluded)."""

    folder: Path
    files: dict[str, int]
    total_bytes: int


def _shared(folder: Path) -> SharedFolder:
    files = {name: int(entry["bytes"]) for name, entry in read_manifest(folder).items()}
    return SharedFolder(folder, files, folder_bytes(folder))


def _prepare(folder: str | os.PathLike[str]) -> Path:
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"folder must be new or empty (a manifest covers exactly what is saved), got {str(folder)!r}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_shared(model: PreTrainedModel, folder: str | os.PathLike[str], *, tokenizer: Any = None,
                card: str | None = None) -> SharedFolder:  # fmt: skip
    """Save ``model`` (safetensors), its ``tokenizer`` and model ``card`` text into a new ``folder``, then its manifest.

    Taught in: 09 §1.
    """
    if not isinstance(model, PreTrainedModel):
        raise ValueError(f"model must be a transformers PreTrainedModel, got {type(model).__name__}")
    folder = _prepare(folder)
    model.save_pretrained(folder)
    if tokenizer is not None:
        tokenizer.save_pretrained(folder)
    if card is not None:
        atomic_write_text(folder / CARD_FILE, card)
    write_manifest(folder)
    return _shared(folder)


def _refuse_pickles(folder: Path) -> None:
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise ValueError(
            f"folder {str(folder)!r} holds pickled weights ({', '.join(pickles)}); loading a pickle can run code, "
            "share safetensors instead"
        )


def load_shared(folder: str | os.PathLike[str], *, model_class: Any = AutoModelForSequenceClassification,
                tokenizer: bool = True) -> tuple[PreTrainedModel, Any]:  # fmt: skip
    """Verify ``folder`` against its manifest, then load ``(model, tokenizer)`` (tokenizer None if not asked).

    Raises :class:`~ptft_utils.data.manifest.ManifestError` (naming the file and both hashes)
    before any weight is read when the folder does not match its manifest. The model is returned
    in eval mode.

    Taught in: 09 §1.
    """
    folder = Path(folder)
    verify_manifest(folder)
    _refuse_pickles(folder)
    model = model_class.from_pretrained(folder, use_safetensors=True)
    model.eval()
    return model, (AutoTokenizer.from_pretrained(folder) if tokenizer else None)


def save_adapter(model: PeftModel, folder: str | os.PathLike[str], *, card: str | None = None) -> SharedFolder:
    """Save only ``model``'s adapter weights and config (peft, safetensors) into a new ``folder``, then a manifest.

    Taught in: 09 §1.
    """
    if not isinstance(model, PeftModel):
        raise ValueError(f"model must be a peft PeftModel (the adapter on its base), got {type(model).__name__}")
    folder = _prepare(folder)
    model.save_pretrained(str(folder), safe_serialization=True)
    if card is not None:
        atomic_write_text(folder / CARD_FILE, card)
    write_manifest(folder)
    return _shared(folder)


def load_adapter(base_model: torch.nn.Module, folder: str | os.PathLike[str]) -> PeftModel:
    """Verify the adapter in ``folder`` against its manifest, then apply it to ``base_model`` (eval mode).

    ``base_model`` must be the model the adapter was trained on, freshly loaded (peft modifies
    it in place).

    Taught in: 09 §1.
    """
    folder = Path(folder)
    verify_manifest(folder)
    _refuse_pickles(folder)
    model = PeftModel.from_pretrained(base_model, str(folder))
    model.eval()
    return model


__all__ = [
    "MANIFEST_FILE",
    "PICKLE_SUFFIXES",
    "SharedFolder",
    "load_adapter",
    "load_shared",
    "save_adapter",
    "save_shared",
]
