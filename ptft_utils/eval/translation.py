"""Word translation by mapping one embedding space onto another (NumPy only).

Given source vectors ``X`` and target vectors ``Y`` of a seed dictionary's pairs (row ``i`` of
each for pair ``i``), learn ``W`` so that ``X @ W`` lands near ``Y``, then translate a new word by
the target word nearest its mapped vector (cosine):

- :func:`fit_least_squares`: ``W = argmin ||XW - Y||_F`` (Mikolov, Le & Sutskever 2013, who fit
  it by gradient descent); with fewer pairs than dimensions, the minimum-norm solution.
- :func:`fit_procrustes`: the same objective with ``W`` orthogonal, solved exactly by one SVD,
  ``U S V^T = X^T Y``, ``W = U V^T`` (orthogonal Procrustes; Xing et al. 2015, Smith et al. 2017,
  Conneau et al. 2018). An orthogonal map keeps distances, so it cannot overfit a small
  dictionary by stretching the space.
- :func:`normalize_embeddings`: optional mean-centring and length-normalisation before fitting
  (Xing et al. normalise; Artetxe et al. 2016 centre too).
- :func:`nearest_neighbours` and :func:`precision_at_k`: retrieval by cosine and the share of
  queries whose gold translation is among the ``k`` nearest.
- :func:`split_pairs`: a seeded train/test split of a dictionary *by source word*, so that no
  source word (with any of its translations) is on both sides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

__all__ = [
    "fit_least_squares",
    "fit_procrustes",
    "nearest_neighbours",
    "normalize_embeddings",
    "precision_at_k",
    "split_pairs",
]


def _pair_matrices(source: np.ndarray, target: np.ndarray, need_same_dim: bool) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(source, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"source and target must be 2-D with the same number of rows (>0), got {x.shape} and {y.shape}"
        )
    if need_same_dim and x.shape[1] != y.shape[1]:
        raise ValueError(
            f"an orthogonal map needs source and target of one dimension, got {x.shape[1]} and {y.shape[1]}"
        )
    return x, y


def fit_least_squares(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The linear map ``W`` (``(d_source, d_target)``) minimising ``||source @ W - target||``.

    Taught in: 08 §4
    """
    x, y = _pair_matrices(source, target, need_same_dim=False)
    solution, *_ = np.linalg.lstsq(x, y, rcond=None)
    return np.asarray(solution)


def fit_procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal ``W`` (``W.T @ W = I``) minimising ``||source @ W - target||``: ``U V^T`` of ``svd(X^T Y)``.

    Taught in: 08 §4
    """
    x, y = _pair_matrices(source, target, need_same_dim=True)
    u, _, vt = np.linalg.svd(x.T @ y)
    return np.asarray(u @ vt)


def normalize_embeddings(vectors: np.ndarray, *, center: bool = False, unit_length: bool = True) -> np.ndarray:
    """``vectors`` (float64) mean-centred (if ``center``), then scaled to length 1 (if ``unit_length``).

    A zero row stays zero. Taught in: 08 §4
    """
    out = np.array(vectors, dtype=np.float64)
    if out.ndim != 2:
        raise ValueError(f"vectors must be 2-D (words, dimensions), got shape {out.shape}")
    if center:
        out -= out.mean(axis=0, keepdims=True)
    if unit_length:
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)
    return out


def nearest_neighbours(queries: np.ndarray, candidates: np.ndarray, k: int = 1) -> np.ndarray:
    """Indices ``int64 (n_queries, k)`` of each query's ``k`` most cosine-similar candidates, nearest first.

    Ties go to the lower candidate index. Taught in: 08 §4
    """
    q = normalize_embeddings(np.atleast_2d(queries))
    c = normalize_embeddings(np.atleast_2d(candidates))
    if q.shape[1] != c.shape[1]:
        raise ValueError(f"queries and candidates must share a dimension, got {q.shape[1]} and {c.shape[1]}")
    if not 1 <= k <= c.shape[0]:
        raise ValueError(f"k must be between 1 and the {c.shape[0]} candidates, got {k}")
    similarity = q @ c.T
    order = np.argsort(-similarity, axis=1, kind="stable")
    return order[:, :k].astype(np.int64)


def precision_at_k(
    mapped: np.ndarray, candidates: np.ndarray, gold: Sequence[int | Collection[int]], ks: Sequence[int] = (1, 5)
) -> dict[int, float]:
    """``{k: share of queries with a gold translation among their k nearest candidates}``.

    ``gold[i]`` is the index (or a collection of indices, for words with several translations) of
    query ``i``'s correct candidates. Taught in: 08 §4
    """
    mapped = np.atleast_2d(mapped)
    if len(gold) != mapped.shape[0] or mapped.shape[0] == 0:
        raise ValueError(f"gold must give one entry per query ({mapped.shape[0]}), got {len(gold)}")
    if not ks:
        raise ValueError("ks must name at least one k")
    gold_sets = [{int(g)} if isinstance(g, (int, np.integer)) else {int(x) for x in g} for g in gold]
    ranked = nearest_neighbours(mapped, candidates, max(ks))
    return {
        int(k): float(np.mean([bool(gold_sets[i] & set(ranked[i, :k].tolist())) for i in range(len(gold_sets))]))
        for k in ks
    }


def split_pairs(
    pairs: Sequence[tuple[str, str]], test_fraction: float = 0.3, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, test) pairs, split by source word: every pair of a source word falls on the same side.

    The distinct source words are shuffled with ``seed`` and the first ``round(test_fraction *
    n_words)`` (at least one, at most all but one) go to test; pairs keep their input order.
    Taught in: 08 §4
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    words = list(dict.fromkeys(source for source, _ in pairs))
    if len(words) < 2:
        raise ValueError(f"pairs must hold at least 2 distinct source words to split, got {len(words)}")
    shuffled = [words[i] for i in np.random.default_rng(seed).permutation(len(words))]
    n_test = min(max(1, round(test_fraction * len(words))), len(words) - 1)
    test_words = set(shuffled[:n_test])
    train = [pair for pair in pairs if pair[0] not in test_words]
    test = [pair for pair in pairs if pair[0] in test_words]
    return train, test
