"""Fine-tuning a BERT encoder for sentence classification: full, LoRA (peft), frozen, or from scratch.

A :class:`SentenceClassifier` is an encoder, mean pooling over the real tokens (the pooling
all-MiniLM-L6-v2 was trained with) and one linear layer. :func:`make_classifier` builds the four
arms of chapter 07 §3 from one pretrained encoder:

- ``"full"``: a copy of the pretrained encoder, every weight trained;
- ``"lora"``: the pretrained encoder frozen, low-rank adapters (peft's ``LoraConfig``) on the
  attention projections named in ``lora_targets``, trained with the head;
- ``"frozen"``: the pretrained encoder frozen, only the head trained;
- ``"scratch"``: the same architecture from BERT's random initialisation, every weight trained.

:func:`fine_tune` is a short loop (AdamW, linear warm-up and decay, dynamic padding) that checks
validation accuracy every ``eval_every`` steps and keeps the best weights: what the harness of
:mod:`ptft_utils.experiment` needs from one run.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from torch import nn
from transformers import BertModel, PreTrainedTokenizerFast

from ptft_utils.models.transformer import mean_pool
from ptft_utils.train.steps import trainable_state

KINDS = ("full", "lora", "frozen", "scratch")


def encode_texts(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str], max_length: int = 64) -> list[list[int]]:
    """Token ids of every text (``[CLS] ... [SEP]``), truncated to ``max_length``; no padding yet.

    Taught in: 07 §3
    """
    return list(tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"])


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = 0, length: int | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``(input_ids, attention_mask)`` padded to the longest sequence (dynamic) or to ``length``.

    Taught in: 07 §6
    """
    width = length if length is not None else max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        seq = list(seq)[:width]
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def inference_batches(tokens: Sequence[Sequence[int]], indices: Sequence[int], batch_size: int = 128
                      ) -> Iterator[tuple[np.ndarray, torch.Tensor, torch.Tensor]]:  # fmt: skip
    """Batches of similar length (sorted), so that padding costs little: ``(positions, ids, mask)``."""
    order = np.asarray(indices)[np.argsort([len(tokens[i]) for i in indices], kind="stable")]
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        ids, mask = pad_batch([tokens[i] for i in chunk])
        yield chunk, ids, mask


class SentenceClassifier(nn.Module):
    """Encoder -> mean of the real tokens' vectors -> dropout -> linear layer to ``classes`` logits.

    Taught in: 07 §3
    """

    def __init__(self, encoder: nn.Module, hidden: int, classes: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(mean_pool(hidden, attention_mask)))


@dataclass(frozen=True)
class LoraSettings:
    """LoRA's rank ``r``, scale ``alpha`` (the update is ``alpha / r * B A``) and target modules."""

    rank: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = ("query", "value")


def make_classifier(kind: str, pretrained: BertModel, *, seed: int, classes: int = 2,
                    lora: LoraSettings | None = None) -> SentenceClassifier:  # fmt: skip
    """One of :data:`KINDS` built from ``pretrained`` (never modified); the head is seeded by ``seed``.

    Taught in: 07 §3
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    torch.manual_seed(seed)
    if kind == "scratch":
        encoder: nn.Module = BertModel(pretrained.config, add_pooling_layer=False)
    else:
        encoder = copy.deepcopy(pretrained)
    if kind in ("frozen", "lora"):
        encoder.requires_grad_(False)
    if kind == "lora":
        settings = lora or LoraSettings()
        config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, target_modules=list(settings.targets),
                            lora_dropout=0.0, bias="none")  # fmt: skip
        encoder = get_peft_model(encoder, config)
    return SentenceClassifier(encoder, pretrained.config.hidden_size, classes)


def trainable_share(model: nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts of ``model``.

    Taught in: 07 §3
    """
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


@torch.no_grad()
def predict(model: nn.Module, tokens: Sequence[Sequence[int]], indices: Sequence[int], batch_size: int = 128,
            device: str | torch.device = "cpu") -> np.ndarray:  # fmt: skip
    """Predicted classes for ``tokens[indices]``, in the order of ``indices``.

    Taught in: 07 §3
    """
    was_training = model.training
    model.eval()
    out = np.empty(len(indices), dtype=np.int64)
    where = {int(i): k for k, i in enumerate(indices)}
    for chunk, ids, mask in inference_batches(tokens, indices, batch_size):
        pred = model(ids.to(device), mask.to(device)).argmax(-1).cpu().numpy()
        out[[where[int(i)] for i in chunk]] = pred
    model.train(was_training)
    return out


def accuracy(model: nn.Module, tokens: Sequence[Sequence[int]], labels: np.ndarray, indices: Sequence[int],
             device: str | torch.device = "cpu") -> float:  # fmt: skip
    """Share of ``indices`` whose predicted class is the label.

    Taught in: 07 §3
    """
    return float((predict(model, tokens, indices, device=device) == labels[np.asarray(indices)]).mean())


@torch.no_grad()
def embed(encoder: nn.Module, tokens: Sequence[Sequence[int]], indices: Sequence[int] | None = None,
          batch_size: int = 128, device: str | torch.device = "cpu") -> np.ndarray:  # fmt: skip
    """Mean-pooled sentence vectors from a (frozen) encoder, ``(len(indices), hidden)``.

    Taught in: 07 §2
    """
    chosen = np.arange(len(tokens)) if indices is None else np.asarray(indices)
    encoder.eval()
    rows: dict[int, np.ndarray] = {}
    for chunk, ids, mask in inference_batches(tokens, chosen.tolist(), batch_size):
        ids, mask = ids.to(device), mask.to(device)
        pooled = mean_pool(encoder(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
        rows.update(zip(chunk.tolist(), pooled.float().cpu().numpy(), strict=True))
    return np.stack([rows[int(i)] for i in chosen])


@dataclass
class FineTuneResult:
    """Best validation accuracy, the steps taken, ``(step, val_accuracy)`` checks, seconds, tokens seen."""

    val_score: float
    steps: int
    curve: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0


def fine_tune(
    model: SentenceClassifier,
    tokens: Sequence[Sequence[int]],
    labels: np.ndarray,
    train_idx: Sequence[int],
    val_idx: Sequence[int],
    *,
    lr: float,
    max_steps: int,
    batch_size: int = 16,
    eval_every: int = 10,
    seed: int = 0,
    weight_decay: float = 0.01,
    warmup: float = 0.1,
    device: str | torch.device = "cpu",
    bf16: bool = False,
) -> FineTuneResult:
    """Train ``model`` in place for ``max_steps`` steps; it ends with the weights of its best validation check.

    AdamW on the trainable parameters, linear warm-up over ``warmup`` of the steps then linear
    decay to zero; batches drawn without replacement (reshuffled each pass) and padded to their
    longest sentence. ``bf16=True`` runs the training forward passes under bfloat16 autocast (the
    weights and the optimiser stay float32; validation runs in float32).

    Taught in: 07 §3
    """
    if max_steps < 1 or eval_every < 1:
        raise ValueError(f"max_steps and eval_every must be >= 1, got {max_steps} and {eval_every}")
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    warm = max(1, math.ceil(warmup * max_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (max_steps - s) / max(1, max_steps - warm))
    )
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    pool, targets = np.asarray(train_idx), torch.as_tensor(labels, dtype=torch.long, device=device)
    order, cursor = rng.permutation(pool), 0
    best, best_state, curve, seen, start = -1.0, None, [], 0, time.perf_counter()
    model.train()
    for step in range(1, max_steps + 1):
        if cursor + min(batch_size, len(order)) > len(order):
            order, cursor = rng.permutation(pool), 0
        chunk = order[cursor : cursor + batch_size]
        cursor += len(chunk)
        ids, mask = pad_batch([tokens[i] for i in chunk])
        seen += int(mask.sum())
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(ids.to(device), mask.to(device))
        loss = nn.functional.cross_entropy(logits.float(), targets[chunk])
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % eval_every == 0 or step == max_steps:
            score = accuracy(model, tokens, labels, val_idx, device=device)
            curve.append((step, score))
            if score > best:
                best = score
                best_state = trainable_state(model)
    if best_state is not None:
        model.load_state_dict(best_state, strict=False)
    model.eval()
    return FineTuneResult(best, max_steps, curve, time.perf_counter() - start, seen)


@torch.no_grad()
def predict_proba(model: SentenceClassifier, tokenizer: PreTrainedTokenizerFast, texts: Sequence[str], *,
                  max_length: int = 64, batch_size: int = 64,
                  device: str | torch.device = "cpu") -> np.ndarray:  # fmt: skip
    """Class probabilities ``float64 (len(texts), classes)`` of a classifier for raw ``texts``, in their order.

    The texts are tokenised as in training (:func:`encode_texts`, truncated to ``max_length``),
    grouped into batches of similar length (:func:`inference_batches`) and the logits softmaxed,
    in eval mode (no dropout); the model's train/eval mode is restored afterwards. An empty list
    gives an empty ``(0, classes)`` array. Taught in: 08 §1
    """
    if isinstance(texts, str):
        raise ValueError(f"texts must be a list of strings, got one string {texts[:40]!r}: wrap it in a list")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    classes = int(model.head.out_features)
    if len(texts) == 0:
        return np.zeros((0, classes))
    tokens = encode_texts(tokenizer, texts, max_length)
    was_training = model.training
    model.eval()
    out = np.empty((len(texts), classes))
    for chunk, ids, mask in inference_batches(tokens, list(range(len(texts))), batch_size):
        logits = model(ids.to(device), mask.to(device)).float()
        out[chunk] = torch.softmax(logits, dim=-1).cpu().numpy()
    model.train(was_training)
    return out


@torch.no_grad()
def head_from_logistic(model: SentenceClassifier, coef: np.ndarray, intercept: np.ndarray) -> SentenceClassifier:
    """Set ``model.head`` to a fitted logistic regression on mean-pooled features; returns ``model``.

    ``coef`` ``(classes, hidden)`` and ``intercept`` ``(classes,)`` as scikit-learn's multinomial
    ``LogisticRegression`` stores them; a binary one stores one row ``(1, hidden)``, the log-odds of
    class 1, which becomes the logits ``(0, w.x + b)``: the same two probabilities. Taught in: 08 §1
    """
    weight, bias = (
        np.atleast_2d(np.asarray(coef, dtype=np.float64)),
        np.atleast_1d(np.asarray(intercept, dtype=np.float64)),
    )
    if weight.shape[0] == 1:
        weight, bias = np.vstack([np.zeros_like(weight), weight]), np.concatenate([[0.0], bias])
    expected = (model.head.out_features, model.head.in_features)
    if weight.shape != expected or bias.shape != (expected[0],):
        raise ValueError(
            f"coef must be {expected} (or one row for two classes), got {weight.shape} and intercept {bias.shape}"
        )
    model.head.weight.copy_(torch.as_tensor(weight, dtype=model.head.weight.dtype))
    model.head.bias.copy_(torch.as_tensor(bias, dtype=model.head.bias.dtype))
    return model
