"""Splits used across chapters: source vs. target classes, k-shot subsets, train/val/test.

:func:`k_shot_indices` is stratified, seeded and nested in ``k`` (the 5-shot set contains the
1-shot set); :func:`train_val_test_split` gives disjoint, optionally stratified parts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def class_partition(labels: np.ndarray | Sequence[int], source_classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of samples whose label is in ``source_classes`` and of all the others (both sorted).

    The transfer chapters pretrain on the source classes and fine-tune on the target ones.

    Taught in: 01 §10; also used in 04 §1.
    """
    labels = np.asarray(labels)
    in_source = np.isin(labels, np.asarray(list(source_classes)))
    return np.flatnonzero(in_source).astype(np.int64), np.flatnonzero(~in_source).astype(np.int64)


def k_shot_indices(
    labels: np.ndarray | Sequence[int],
    k: int,
    seed: int,
    classes: Sequence[int] | None = None,
    pool: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """``k`` indices per class, drawn without replacement with ``seed``; sorted, into ``labels``.

    ``classes`` defaults to every class present (in ``pool``); ``pool`` restricts the draw to those
    indices (e.g. a training split). Each class is shuffled once per seed and its first ``k`` are
    taken, so for one seed the sets are nested: the 5-shot set contains the 1-shot set. A class
    with fewer than ``k`` samples is an error.

    Taught in: 01 §5; also used in 03 §7, 04 §1, 05 §4.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    labels = np.asarray(labels)
    candidates = np.arange(len(labels)) if pool is None else np.asarray(pool, dtype=np.int64)
    wanted = np.unique(labels[candidates]) if classes is None else np.asarray(list(classes))
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in sorted(wanted.tolist()):
        members = candidates[labels[candidates] == cls]
        if len(members) < k:
            raise ValueError(f"class {cls} has {len(members)} samples, fewer than k={k}")
        chosen.append(rng.permutation(members)[:k])
    return np.sort(np.concatenate(chosen)).astype(np.int64) if chosen else np.zeros(0, dtype=np.int64)


def _split_counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Largest-remainder rounding of ``n * fractions`` (sums to ``n``)."""
    raw = [n * f for f in fractions]
    counts = [int(np.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def train_val_test_split(
    n: int,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    stratify: np.ndarray | Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``range(n)`` into disjoint train/validation/test index arrays (each sorted) covering all of it.

    ``fractions`` are three non-negative numbers summing to 1. With ``stratify`` (labels of length
    ``n``) every class is split in those proportions, so class balance is kept in every part.

    Taught in: 01 §3; also used in 03 §2, 04 §1, 05 §3.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    rng = np.random.default_rng(seed)
    if stratify is None:
        groups = [np.arange(n)]
    else:
        strata = np.asarray(stratify)
        if strata.shape[0] != n:
            raise ValueError(f"stratify has {strata.shape[0]} labels for n={n}")
        groups = [np.flatnonzero(strata == c) for c in np.unique(strata)]
    parts: list[list[np.ndarray]] = [[], [], []]
    for group in groups:
        shuffled = rng.permutation(group)
        counts = _split_counts(len(group), fractions)
        bounds = np.cumsum([0, *counts])
        for i in range(3):
            parts[i].append(shuffled[bounds[i] : bounds[i + 1]])
    train, val, test = (np.sort(np.concatenate([np.zeros(0, np.int64), *p])).astype(np.int64) for p in parts)
    return train, val, test
