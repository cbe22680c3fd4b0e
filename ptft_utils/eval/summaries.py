"""Extractive summaries and their ROUGE scores (NumPy only).

Scoring (Lin 2004), candidate against one reference, on the tokens of :func:`tokenize`:

- ROUGE-N (:func:`rouge_n`): clipped n-gram overlap; recall = overlap / reference n-grams,
  precision = overlap / candidate n-grams, F1 their harmonic mean (0 when both are 0).
- ROUGE-L (:func:`rouge_l`): the longest common subsequence (LCS) of the two token lists; recall =
  LCS / reference length, precision = LCS / candidate length, F1 with beta = 1 (Lin's F_lcs with
  equal weight, as Google's ``rouge-score`` computes ``rougeL``). Whole texts, not per sentence.

:func:`tokenize` is ``rouge-score``'s default tokenizer without stemming: lower-case, every run of
characters other than ``a-z`` and ``0-9`` becomes a separator, so "U.S." gives ``["u", "s"]``.

Extracting (every function returns sentences in document order):

- :func:`split_sentences`: a rule-based splitter (a ``.``, ``!`` or ``?``, optional closing quote
  or bracket, whitespace, then a capital, digit or opening quote), not splitting after a short list
  of abbreviations (:data:`ABBREVIATIONS`) or single initials;
- :func:`lead_k`: the first ``k`` sentences, the baseline news summaries are hard to beat with;
- :func:`centroid_scores`: each sentence's cosine similarity to the mean sentence embedding;
- :func:`lexrank_scores`: stationary scores of a random walk on the cosine-similarity graph of the
  sentences, by power iteration (LexRank, Erkan & Radev 2004; TextRank, Mihalcea & Tarau 2004);
- :func:`top_k_in_order`: the indices of the ``k`` best scores, in document order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = [
    "ABBREVIATIONS",
    "Score",
    "centroid_scores",
    "lead_k",
    "lexrank_scores",
    "rouge",
    "rouge_l",
    "rouge_n",
    "split_sentences",
    "tokenize",
    "top_k_in_order",
]

# fmt: off
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp", "gov", "gen",
    "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no",
    "fig", "e.g", "i.e", "u.s", "u.k",
})
# fmt: on
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_BOUNDARY = re.compile(r"([.!?])([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")


class Score(NamedTuple):
    """One ROUGE score: ``precision``, ``recall`` and their harmonic mean ``f1`` (a tuple in that order)."""

    precision: float
    recall: float
    f1: float


def tokenize(text: str) -> list[str]:
    """Lower-cased alphanumeric runs of ``text`` (``rouge-score``'s tokenizer, no stemming). Taught in: 08 §5"""
    return [token for token in _NON_ALNUM.sub(" ", text.lower()).split() if token]


def _score(overlap: int, candidate_total: int, reference_total: int) -> Score:
    precision = overlap / candidate_total if candidate_total else 0.0
    recall = overlap / reference_total if reference_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return Score(precision, recall, f1)


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(candidate: str, reference: str, n: int = 1) -> Score:
    """ROUGE-N of ``candidate`` against ``reference``: clipped n-gram overlap. Taught in: 08 §5"""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    cand, ref = _ngrams(tokenize(candidate), n), _ngrams(tokenize(reference), n)
    overlap = sum(min(count, ref[gram]) for gram, count in cand.items())
    return _score(overlap, sum(cand.values()), sum(ref.values()))


def _lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> Score:
    """ROUGE-L: longest common subsequence over candidate and reference lengths. Taught in: 08 §5"""
    cand, ref = tokenize(candidate), tokenize(reference)
    return _score(_lcs_length(cand, ref), len(cand), len(ref))


def rouge(candidate: str, reference: str) -> dict[str, Score]:
    """``{"rouge1", "rouge2", "rougeL"}`` scores of ``candidate`` against ``reference``. Taught in: 08 §5"""
    return {"rouge1": rouge_n(candidate, reference, 1), "rouge2": rouge_n(candidate, reference, 2),
            "rougeL": rouge_l(candidate, reference)}  # fmt: skip


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order (rules in the module docstring). Taught in: 08 §5"""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        words = text[start : match.start() + 1].split()
        last = words[-1].rstrip(".!?").lower().lstrip("\"'([") if words else ""
        if match.group(1) == "." and (last in ABBREVIATIONS or (len(last) == 1 and last.isalpha())):
            continue
        sentences.append(text[start : match.end(2)].strip())
        start = match.end()
    tail = text[start:].strip()
    return [s for s in sentences + [tail] if s]


def lead_k(sentences: Sequence[str], k: int) -> list[str]:
    """The first ``k`` sentences (all of them if there are fewer). Taught in: 08 §5"""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return list(sentences[:k])


def _unit_rows(embeddings: np.ndarray) -> np.ndarray:
    matrix = np.asarray(embeddings, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"embeddings must be 2-D (sentences, dimensions) with a row, got shape {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def centroid_scores(embeddings: np.ndarray) -> np.ndarray:
    """Each sentence's cosine similarity to the centroid of the (unit-length) sentence embeddings. Taught in: 08 §5"""
    unit = _unit_rows(embeddings)
    centroid = unit.mean(axis=0)
    norm = np.linalg.norm(centroid)
    return np.asarray(unit @ (centroid / norm) if norm > 0 else np.zeros(unit.shape[0]))


def lexrank_scores(
    embeddings: np.ndarray, damping: float = 0.85, threshold: float = 0.0, tol: float = 1e-10, max_iter: int = 1000
) -> np.ndarray:
    """Stationary random-walk scores (summing to 1) on the sentences' cosine-similarity graph.

    Edges are the similarities above ``threshold`` (self-loops dropped; negatives never count); each
    row is normalised to transition probabilities, a sentence with no edge jumps uniformly, and
    ``damping`` is the probability of following an edge rather than jumping anywhere (PageRank's
    teleport). Iterates ``p <- (1 - d)/n + d P^T p`` until the L1 change is below ``tol``.
    Taught in: 08 §5
    """
    if not 0.0 < damping < 1.0:
        raise ValueError(f"damping must be between 0 and 1 (exclusive), got {damping}")
    unit = _unit_rows(embeddings)
    n = unit.shape[0]
    weights = unit @ unit.T
    np.fill_diagonal(weights, 0.0)
    weights = np.where(weights > max(threshold, 0.0), weights, 0.0)
    rows = weights.sum(axis=1, keepdims=True)
    transition = np.where(rows > 0, weights / np.where(rows > 0, rows, 1.0), 1.0 / n)
    scores = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        updated = (1.0 - damping) / n + damping * transition.T @ scores
        if np.abs(updated - scores).sum() < tol:
            return np.asarray(updated)
        scores = updated
    return np.asarray(scores)


def top_k_in_order(scores: Sequence[float] | np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` highest ``scores`` (ties to the earlier sentence), sorted into document order.

    Taught in: 08 §5
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or k < 1:
        raise ValueError(f"scores must be 1-D and k at least 1, got shape {values.shape} and k={k}")
    best = np.argsort(-values, kind="stable")[:k]
    return sorted(int(i) for i in best)
