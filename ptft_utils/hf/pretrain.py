"""Pretraining a tiny BERT with masked language modelling, and fine-tuning through ``transformers.Trainer``.

:func:`mlm_windows` cuts a corpus into fixed-length ``[CLS] ... [SEP]`` windows; :func:`tiny_mlm`
builds a small ``BertForMaskedLM``; :func:`pretrain_mlm` trains it with the book's masking rule
(:func:`ptft_utils.models.transformer.mlm_mask`) and :func:`mlm_loss` scores held-out windows
under a fixed mask. :func:`trainer_fine_tune` runs the book's sentence classifier through
``transformers.Trainer`` (offline, no reporting integrations), to set beside
:func:`ptft_utils.hf.classify.fine_tune`. What it is not: a data pipeline for large corpora.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import BertForMaskedLM, PreTrainedTokenizerFast, Trainer, TrainingArguments

from ptft_utils.hf.classify import SentenceClassifier, pad_batch
from ptft_utils.hf.encoder import tiny_bert_config
from ptft_utils.models.transformer import mlm_mask


def mlm_windows(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str], length: int = 64) -> torch.Tensor:
    """The texts' WordPiece ids as one stream, cut into ``(n, length)`` ``[CLS] chunk [SEP]`` windows.

    Taught in: 07b §1
    """
    if length < 3:
        raise ValueError(f"length must be >= 3 ([CLS], a token, [SEP]), got {length}")
    stream = [i for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"] for i in ids]
    body = length - 2
    n = len(stream) // body
    if n < 1:
        raise ValueError(f"texts hold {len(stream)} tokens, fewer than one window of length={length}")
    chunks = torch.tensor(stream[: n * body]).view(n, body)
    cls = torch.full((n, 1), tokenizer.cls_token_id)
    sep = torch.full((n, 1), tokenizer.sep_token_id)
    return torch.cat([cls, chunks, sep], dim=1)


def tiny_mlm(vocab_size: int, *, layers: int = 2, hidden: int = 64, heads: int = 4, intermediate: int = 256,
             max_positions: int = 128, seed: int = 0, dropout: float = 0.1) -> BertForMaskedLM:  # fmt: skip
    """A randomly initialised ``BertForMaskedLM`` of a small shape (its decoder tied to the embeddings).

    Taught in: 07b §1
    """
    config = tiny_bert_config(vocab_size, layers=layers, hidden=hidden, heads=heads, intermediate=intermediate,
                              max_positions=max_positions, dropout=dropout)  # fmt: skip
    torch.manual_seed(seed)
    return BertForMaskedLM(config)


def _special(windows: torch.Tensor, tokenizer: PreTrainedTokenizerFast) -> torch.Tensor:
    ids = (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)
    return torch.isin(windows, torch.tensor(ids))


@dataclass
class MLMRun:
    """What :func:`pretrain_mlm` did: steps, tokens read, seconds and ``(step, loss)`` checkpoints."""

    steps: int
    tokens: int
    seconds: float
    losses: list[tuple[int, float]]


def pretrain_mlm(model: BertForMaskedLM, windows: torch.Tensor, tokenizer: PreTrainedTokenizerFast, *, steps: int,
                 lr: float = 1e-3, batch_size: int = 32, seed: int = 0, log_every: int = 50) -> MLMRun:  # fmt: skip
    """Masked-language-model pretraining in place: ``steps`` AdamW steps on random batches of ``windows``.

    Each batch is masked afresh by BERT's rule (15% chosen; 80/10/10), linear warm-up over 10%
    of the steps then linear decay; batches and masks come from a generator seeded by ``seed``.

    Taught in: 07b §1
    """
    if steps < 0 or batch_size < 1:
        raise ValueError(f"steps must be >= 0 and batch_size >= 1, got steps={steps}, batch_size={batch_size}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm))
    )
    model.train()
    losses, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        batch = windows[torch.randint(len(windows), (batch_size,), generator=generator)]
        inputs, labels = mlm_mask(batch, mask_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                                  special=_special(batch, tokenizer), generator=generator)  # fmt: skip
        loss = model(input_ids=inputs, labels=labels).loss
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % log_every == 0 or step == steps:
            losses.append((step, loss.item()))
    model.eval()
    return MLMRun(steps, steps * windows.shape[1] * batch_size, time.perf_counter() - start, losses)


@torch.no_grad()
def mlm_loss(model: BertForMaskedLM, windows: torch.Tensor, tokenizer: PreTrainedTokenizerFast, *, seed: int = 0,
             batch_size: int = 128) -> float:  # fmt: skip
    """Mean cross-entropy (nats) on the masked tokens of ``windows``, under one fixed mask (``seed``).

    Taught in: 07b §1
    """
    generator = torch.Generator().manual_seed(seed)
    inputs, labels = mlm_mask(windows, mask_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                              special=_special(windows, tokenizer), generator=generator)  # fmt: skip
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch_size):
        part = labels[i : i + batch_size]
        n = int((part != -100).sum())
        if n:
            total += float(model(input_ids=inputs[i : i + batch_size], labels=part).loss) * n
            count += n
    return total / max(1, count)


class _WithLoss(nn.Module):
    """The classifier as ``Trainer`` wants it: keyword inputs, a ``loss`` in the output."""

    def __init__(self, classifier: SentenceClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> dict:
        logits = self.classifier(input_ids, attention_mask)
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


def _collate(rows: list[dict]) -> dict[str, torch.Tensor]:
    ids, mask = pad_batch([row["input_ids"] for row in rows])
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([row["labels"] for row in rows])}


@dataclass
class TrainerRun:
    """What :func:`trainer_fine_tune` did: steps, examples seen and the training seconds."""

    steps: int
    examples: int
    seconds: float


def trainer_fine_tune(model: SentenceClassifier, tokens: Sequence[Sequence[int]], labels: np.ndarray,
                      train_idx: Sequence[int], *, lr: float, max_steps: int, batch_size: int = 16, seed: int = 0,
                      weight_decay: float = 0.01, warmup: float = 0.1) -> TrainerRun:  # fmt: skip
    """Fine-tune ``model`` in place with ``transformers.Trainer``: AdamW, linear warm-up and decay.

    The settings of :func:`ptft_utils.hf.classify.fine_tune` (learning rate, steps, batch size,
    weight decay, warm-up share, dynamic padding), on the CPU, with ``report_to="none"``, no
    checkpoints and its outputs in a temporary folder that is removed afterwards.

    Taught in: 07b §3
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    rows = [{"input_ids": list(tokens[i]), "labels": int(labels[i])} for i in train_idx]
    with tempfile.TemporaryDirectory(prefix="ptft-trainer-") as folder:
        args = TrainingArguments(
            output_dir=folder, max_steps=max_steps, per_device_train_batch_size=batch_size, learning_rate=lr,
            weight_decay=weight_decay, warmup_steps=max(1, int(np.ceil(warmup * max_steps))),
            lr_scheduler_type="linear", seed=seed, data_seed=seed, report_to="none", save_strategy="no",
            logging_strategy="no", disable_tqdm=True, use_cpu=True, dataloader_num_workers=0,
            remove_unused_columns=False,
        )  # fmt: skip
        trainer = Trainer(model=_WithLoss(model), args=args, train_dataset=rows, data_collator=_collate)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    model.eval()
    return TrainerRun(max_steps, max_steps * batch_size, seconds)
