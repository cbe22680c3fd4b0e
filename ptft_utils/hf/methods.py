"""Chapter 06's fine-tuning methods applied to a BERT sentence classifier, by module name.

:func:`prepare_text_method` takes a :class:`~ptft_utils.hf.classify.SentenceClassifier` whose
encoder is a ``BertModel`` and sets, in place, what trains for one of :data:`TEXT_METHODS`:

- ``"linear probe"``: the head alone (the encoder frozen);
- ``"top layers"``: the last encoder block and the head;
- ``"full"``: every weight;
- ``"BitFit"``: every bias of the encoder, and the head;
- ``"adapters"``: a bottleneck adapter after the feed-forward output projection of every block
  (``layer.i.output.dense``), and the head;
- ``"LoRA"``: the book's own LoRA (:mod:`ptft_utils.finetune.lora`) on the attention query and
  value projections of every block, and the head.

The tools are chapter 06's (``finetune.train_only``, ``finetune.add_adapters``,
``finetune.inject_lora``), unchanged: they find layers by name, so they apply to a transformer's
``nn.Linear`` layers as to a CNN's. The encoder's pooler (``encoder.pooler``) never trains: the
classifier mean-pools the last hidden states and never calls it, so its weights would get no
gradient and would only inflate the count.

:func:`train_probe_head` trains the probe's head on cached sentence vectors instead, at a fraction
of the cost. It reproduces :func:`~ptft_utils.hf.classify.fine_tune` on a frozen-encoder
classifier exactly (up to float rounding) when the encoder has no dropout of its own;
``fine_tune`` puts the whole model in training mode, so an encoder with dropout (MiniLM's is 0.1)
feeds its head noisy vectors there, where the cached vectors are the encoder's evaluation-mode
output. That is the one difference, and the cached probe is the usual definition of a linear probe.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ptft_utils import finetune
from ptft_utils.finetune.freezing import train_only

TEXT_METHODS = ("linear probe", "top layers", "full", "BitFit", "adapters", "LoRA")
POOLER = "encoder.pooler."  # BERT's pooler: unused by mean pooling, so never trained


def _blocks(classifier: nn.Module) -> int:
    encoder = getattr(classifier, "encoder", None)
    config = getattr(encoder, "config", None)
    head = getattr(classifier, "head", None)
    if config is None or not hasattr(encoder, "encoder") or not isinstance(head, nn.Linear):
        raise ValueError(
            f"classifier: expected a SentenceClassifier (a BertModel `encoder` and a linear `head`), "
            f"got {type(classifier).__name__}"
        )
    return int(config.num_hidden_layers)


def _choose(classifier: nn.Module, method: str, blocks: int, seed: int, rank: int, bottleneck: int) -> None:
    layer = "encoder.encoder.layer"
    if method == "full":
        train_only(classifier, lambda name: True)
    elif method == "linear probe":
        train_only(classifier, lambda name: False, also=["head"])
    elif method == "top layers":
        train_only(classifier, lambda name: False, also=["head", f"{layer}.{blocks - 1}"])
    elif method == "BitFit":
        finetune.bitfit(classifier, also=["head"])
    elif method == "adapters":
        targets = [f"{layer}.{i}.output.dense" for i in range(blocks)]
        finetune.add_adapters(classifier, targets, bottleneck=bottleneck, seed=seed)
        finetune.mark_only_adapters_trainable(classifier, also=["head"])
    else:
        targets = [f"{layer}.{i}.attention.self.{part}" for i in range(blocks) for part in ("query", "value")]
        finetune.inject_lora(classifier, targets, rank=rank, alpha=2 * rank, seed=seed)
        finetune.mark_only_lora_trainable(classifier, also=["head"])


def prepare_text_method(classifier: nn.Module, method: str, *, seed: int, rank: int = 8, bottleneck: int = 16) -> int:
    """Set what trains in ``classifier`` for ``method`` (adding adapter or LoRA layers); returns the trainable count.

    ``rank`` is LoRA's r (alpha is 2 r), ``bottleneck`` the adapters' width; ``seed`` fixes what
    the new layers draw. The pooler is frozen whatever the method (see the module's note).
    Taught in: 06 §10.
    """
    if method not in TEXT_METHODS:
        raise ValueError(f"method must be one of {TEXT_METHODS}, got {method!r}")
    blocks = _blocks(classifier)
    _choose(classifier, method, blocks, seed, rank, bottleneck)
    count = 0
    for name, p in classifier.named_parameters():
        if name.startswith(POOLER):
            p.requires_grad_(False)
        count += p.numel() if p.requires_grad else 0
    return count


@dataclass
class HeadResult:
    """The trained head, its best validation accuracy, ``(step, val_accuracy)`` checks and seconds."""

    head: nn.Linear
    val_score: float
    steps: int
    curve: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0


def head_accuracy(head: nn.Linear, features: np.ndarray, labels: np.ndarray, indices: np.ndarray) -> float:
    """Share of ``indices`` that ``head`` classifies correctly from their cached ``features``.

    Taught in: 06 §10.
    """
    with torch.no_grad():
        logits = head(torch.from_numpy(np.ascontiguousarray(features[indices], dtype=np.float32)))
    return float((logits.argmax(-1).numpy() == labels[indices]).mean())


def train_probe_head(features: np.ndarray, labels: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray, *,
                     lr: float, max_steps: int, batch_size: int = 16, eval_every: int = 10, seed: int = 0,
                     classes: int = 2, dropout: float = 0.1, weight_decay: float = 0.01, warmup: float = 0.1,
                     ) -> HeadResult:  # fmt: skip
    """A linear head trained on frozen sentence vectors with :func:`~ptft_utils.hf.classify.fine_tune`'s recipe.

    The same optimiser (AdamW), schedule (linear warm-up then decay), batches (without
    replacement, reshuffled each pass), dropout before the head, random streams and
    best-validation checkpoint as :func:`~ptft_utils.hf.classify.fine_tune` on a
    :class:`~ptft_utils.hf.classify.SentenceClassifier` whose encoder is frozen and was built
    right after ``torch.manual_seed(seed)``: for an encoder without dropout of its own the two
    give the same head, up to float rounding. An encoder with dropout differs in one way:
    ``fine_tune`` runs it in training mode (noisy vectors), while ``features`` are its
    evaluation-mode output, computed once (:func:`~ptft_utils.hf.classify.embed`).

    Taught in: 06 §10.
    """
    if max_steps < 1 or eval_every < 1:
        raise ValueError(f"max_steps and eval_every must be >= 1, got {max_steps} and {eval_every}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(
            f"features must be (sentences, hidden) with one row per label, got shape {features.shape} "
            f"and {len(labels)} labels"
        )
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise ValueError(f"train_idx and val_idx must be non-empty, got {len(train_idx)} and {len(val_idx)}")
    torch.manual_seed(seed)
    head = nn.Linear(features.shape[1], classes)
    drop = nn.Dropout(dropout)
    torch.manual_seed(seed)  # as fine_tune re-seeds before its loop: the same dropout masks
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, math.ceil(warmup * max_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (max_steps - s) / max(1, max_steps - warm))
    )
    rng = np.random.default_rng(seed)
    pool = np.asarray(train_idx)
    x_all = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y_all = torch.as_tensor(labels, dtype=torch.long)
    order, cursor = rng.permutation(pool), 0
    best, best_state, curve, start = -1.0, None, [], time.perf_counter()
    for step in range(1, max_steps + 1):
        if cursor + min(batch_size, len(order)) > len(order):
            order, cursor = rng.permutation(pool), 0
        chunk = order[cursor : cursor + batch_size]
        cursor += len(chunk)
        loss = nn.functional.cross_entropy(head(drop(x_all[chunk])), y_all[chunk])
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % eval_every == 0 or step == max_steps:
            score = head_accuracy(head, features, labels, np.asarray(val_idx))
            curve.append((step, score))
            if score > best:
                best, best_state = score, {k: v.clone() for k, v in head.state_dict().items()}
    if best_state is not None:
        head.load_state_dict(best_state)
    return HeadResult(head, best, max_steps, curve, time.perf_counter() - start)
