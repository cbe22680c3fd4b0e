"""Batches: tensors from arrays, the per-epoch example order, and padded-sentence mini-batches.

The order of epoch ``e`` depends only on the seed and ``e``, so a resumed run sees the same
batches as one that was never interrupted.

What it is not: a data pipeline (no workers, no prefetching, no augmentation); data that needs one
comes as a ``torch.utils.data.Dataset`` with its own ``collate_fn``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

Batch = tuple[torch.Tensor, ...]


def as_tensors(data: Sequence[Any]) -> tuple[torch.Tensor, ...]:
    """Arrays as tensors (tensors stay as they are); all must have the same length.

    Taught in: 04 §5 (inside :func:`~ptft_utils.train.fit`).
    """
    tensors = tuple(torch.as_tensor(np.asarray(d)) if not isinstance(d, torch.Tensor) else d for d in data)
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"all arrays in a data tuple need the same length, got {[len(t) for t in tensors]}")
    return tensors


def dataset_length(data: Any) -> int:
    """The number of examples in a tuple of tensors or a Dataset.

    Taught in: 04 §5 (inside :func:`~ptft_utils.train.fit`).
    """
    return len(data[0]) if isinstance(data, tuple) else len(data)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The permutation of ``n`` training examples used in ``epoch`` (depends only on seed and epoch).

    Taught in: 04 §5 (inside :func:`~ptft_utils.train.fit`).
    """
    generator = torch.Generator().manual_seed(int(seed) * 100_003 + int(epoch))
    return torch.randperm(n, generator=generator)


def iterate_batches(
    data: Any,
    batch_size: int,
    order: torch.Tensor | None = None,
    collate_fn: Callable | None = None,
) -> Iterator[Batch]:
    """Batches of ``data`` in ``order`` (default: as stored); ``order`` may be a subset of the indices.

    Taught in: 04 §5 (inside :func:`~ptft_utils.train.fit`).
    """
    if order is None:
        order = torch.arange(dataset_length(data))
    if isinstance(data, tuple):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            yield tuple(t[idx] for t in data)
    else:
        loader = torch.utils.data.DataLoader(
            data, batch_size=batch_size, sampler=order.tolist(), collate_fn=collate_fn, num_workers=0
        )
        for batch in loader:
            yield tuple(batch) if isinstance(batch, (list, tuple)) else (batch,)


def to_device(batch: Batch, device: torch.device) -> Batch:
    """The batch's tensors moved to ``device`` (anything else as is).

    Taught in: 04 §5 (inside :func:`~ptft_utils.train.fit`).
    """
    return tuple(t.to(device) if isinstance(t, torch.Tensor) else t for t in batch)


def padded_batches(
    ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool, seed: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Mini-batches of a padded set, each trimmed to its own longest sentence.

    Taught in: 05 §4 (inside :func:`~ptft_utils.train.classify.predict_classifier`).
    """
    order = (
        torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        if shuffle
        else torch.arange(len(labels))
    )
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = int(lengths[idx].max())
        yield ids[idx, :width], lengths[idx], labels[idx]
