"""Evaluating word vectors: similarity correlations, analogies, nearest neighbours.

Word-similarity Spearman (WordSim-353, SimLex-999) with the out-of-vocabulary rate and an interval;
3CosAdd analogy accuracy on a frequency-restricted vocabulary; nearest neighbours. Every function
takes our :class:`~ptft_utils.models.embeddings.Embeddings` or gensim's ``KeyedVectors``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ptft_utils.models.embeddings import as_embeddings


def word_similarity(vectors: Any, pairs: Iterable[tuple[str, str, float]], lowercase: bool = True) -> dict[str, Any]:
    """Spearman correlation between human scores and cosine similarities, on in-vocabulary pairs.

    Returns ``{"spearman", "pairs", "used", "oov", "oov_rate"}``: a pair with either word missing
    is excluded and counted in ``oov``; ``spearman`` is NaN when fewer than 3 pairs remain.

    Taught in: 03 §1.
    """
    from scipy import stats

    emb = as_embeddings(vectors)
    pairs = list(pairs)
    human, model = [], []
    for a, b, score in pairs:
        if lowercase:
            a, b = a.lower(), b.lower()
        if a in emb.index and b in emb.index:
            human.append(float(score))
            model.append(emb.similarity(a, b))
    used = len(human)
    rho = float(stats.spearmanr(human, model).statistic) if used >= 3 else float("nan")
    return {
        "spearman": rho,
        "pairs": len(pairs),
        "used": used,
        "oov": len(pairs) - used,
        "oov_rate": (len(pairs) - used) / len(pairs) if pairs else float("nan"),
    }


def analogy_accuracy(
    vectors: Any,
    sections: Mapping[str, Sequence[tuple[str, str, str, str]]],
    restrict_vocab: int = 30000,
    lowercase: bool = True,
    batch_size: int = 512,
) -> dict[str, Any]:
    """3CosAdd analogy accuracy: for a:b :: c:?, answer argmax_w cos(w, b - a + c), w not in {a, b, c}.

    Vectors are unit-normalised first; candidates and questions are restricted to the
    ``restrict_vocab`` most frequent words (the first rows). A question with any word outside
    that set is excluded and counted in ``oov_questions``; accuracy is over the questions answered.
    Returns totals and a per-section table (``sections``: name -> {correct, answered, total}).

    Taught in: 03 §5.
    """
    emb = as_embeddings(vectors)
    limit = min(restrict_vocab, len(emb.vocab))
    unit = emb.unit[:limit]
    index = {w: i for i, w in enumerate(emb.vocab[:limit])}
    per_section: dict[str, dict[str, int]] = {}
    correct_all = answered_all = total_all = 0
    unit_t = torch.as_tensor(unit)
    for name, questions in sections.items():
        encoded = []
        for question in questions:
            words = [w.lower() for w in question] if lowercase else list(question)
            if all(w in index for w in words):
                encoded.append([index[w] for w in words])
        correct = 0
        if encoded:
            q = torch.as_tensor(np.array(encoded, dtype=np.int64))
            for begin in range(0, len(q), batch_size):
                chunk = q[begin : begin + batch_size]
                a, b, c, d = chunk.T
                target = unit_t[b] - unit_t[a] + unit_t[c]
                scores = target @ unit_t.T
                rows = torch.arange(len(chunk))
                for excluded in (a, b, c):
                    scores[rows, excluded] = -torch.inf
                correct += int((scores.argmax(dim=1) == d).sum())
        per_section[name] = {"correct": correct, "answered": len(encoded), "total": len(questions)}
        correct_all += correct
        answered_all += len(encoded)
        total_all += len(questions)
    return {
        "accuracy": correct_all / answered_all if answered_all else float("nan"),
        "correct": correct_all,
        "answered": answered_all,
        "total": total_all,
        "oov_questions": total_all - answered_all,
        "oov_rate": (total_all - answered_all) / total_all if total_all else float("nan"),
        "restrict_vocab": limit,
        "sections": per_section,
    }


def nearest_neighbours(vectors: Any, words: Iterable[str], topn: int = 5) -> dict[str, list[tuple[str, float]]]:
    """Cosine neighbours of each word present in the vocabulary (absent words are skipped).

    Taught in: 03 §6.
    """
    emb = as_embeddings(vectors)
    return {w: emb.most_similar(w, topn) for w in words if w in emb.index}


def evaluate(
    vectors: Any,
    similarity_sets: Mapping[str, Iterable[tuple[str, str, float]]],
    analogies: Mapping[str, Sequence[tuple[str, str, str, str]]] | None = None,
    restrict_vocab: int = 30000,
) -> dict[str, float]:
    """One flat row of quality numbers: ``<set>_spearman``, ``<set>_oov_rate``, ``analogy_*``.

    Taught in: 03 §5.
    """
    row: dict[str, float] = {}
    for name, pairs in similarity_sets.items():
        result = word_similarity(vectors, pairs)
        row[f"{name}_spearman"] = result["spearman"]
        row[f"{name}_oov_rate"] = result["oov_rate"]
        row[f"{name}_pairs_used"] = result["used"]
    if analogies is not None:
        result = analogy_accuracy(vectors, analogies, restrict_vocab)
        row["analogy_accuracy"] = result["accuracy"]
        row["analogy_answered"] = result["answered"]
        row["analogy_oov_rate"] = result["oov_rate"]
    return row


def spearman_ci(rho: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Approximate CI for a Spearman correlation (Fisher z with SE 1.03/sqrt(n-3), Fieller et al.).

    Taught in: 03 §1.
    """
    from scipy import stats

    if n <= 3 or not math.isfinite(rho):
        return float("nan"), float("nan")
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    half = stats.norm.ppf(0.5 + confidence / 2) * 1.03 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)
