"""Word-vector tables and the corpus statistics word2vec and GloVe share.

:class:`Embeddings` is a small word -> vector table (``vocab``, ``vectors``, ``w[word]``,
``most_similar``) that gensim's ``KeyedVectors`` converts to, so every evaluator takes either.
:func:`encode_corpus` gives a frequency-sorted vocabulary and the corpus as one id array with
sentence numbers; :func:`keep_probabilities` is word2vec's frequent-word subsampling and
:func:`noise_distribution` the unigram^0.75 noise; :func:`skipgram_pairs` makes (centre, context)
pairs with a dynamic window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


class Embeddings:
    """Words and their vectors, most frequent word first (the order the analogy test relies on).

    ``emb["king"]`` is a vector (``KeyError`` for a word not in ``vocab``), ``"king" in emb`` tests
    membership, ``emb.most_similar("king", topn=5)`` lists cosine neighbours.
    """

    def __init__(self, vocab: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
            raise ValueError(f"need one vector per word: {len(vocab)} words, vectors of shape {vectors.shape}")
        self.vocab = list(vocab)
        self.vectors = vectors
        self.index = {word: i for i, word in enumerate(self.vocab)}
        if len(self.index) != len(self.vocab):
            raise ValueError("vocab has repeated words")
        self._unit: np.ndarray | None = None

    @classmethod
    def from_keyed_vectors(cls, keyed_vectors: Any) -> Embeddings:
        """Wrap gensim ``KeyedVectors`` (or a ``Word2Vec`` model's ``.wv``) without retraining."""
        return cls(list(keyed_vectors.index_to_key), np.asarray(keyed_vectors.vectors))

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.index[word]]
        except KeyError:
            raise KeyError(f"word {word!r} not in vocabulary ({len(self.vocab)} words)") from None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def unit(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero); cached."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.maximum(norms, 1e-12)
        return self._unit

    def similarity(self, a: str, b: str) -> float:
        return float(self.unit[self.index[a]] @ self.unit[self.index[b]])

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` words with the highest cosine similarity to ``word`` (itself excluded)."""
        if word not in self.index:
            raise KeyError(f"word {word!r} not in vocabulary ({len(self.vocab)} words)")
        scores = self.unit @ self.unit[self.index[word]]
        scores[self.index[word]] = -np.inf
        best = np.argsort(-scores)[:topn]
        return [(self.vocab[i], float(scores[i])) for i in best]

    def __repr__(self) -> str:
        return f"Embeddings({len(self.vocab)} words x {self.dim} dims)"


def as_embeddings(vectors: Any) -> Embeddings:
    """Accept our :class:`Embeddings`, gensim ``KeyedVectors`` or a gensim ``Word2Vec`` model."""
    if isinstance(vectors, Embeddings):
        return vectors
    if hasattr(vectors, "wv") and hasattr(vectors.wv, "index_to_key"):
        vectors = vectors.wv
    if hasattr(vectors, "index_to_key") and hasattr(vectors, "vectors"):
        return Embeddings.from_keyed_vectors(vectors)
    raise TypeError(f"cannot read word vectors from a {type(vectors).__name__}")


@dataclass
class EncodedCorpus:
    """The corpus as one array of word ids plus, per token, the number of its sentence.

    ``words``/``counts`` are sorted by decreasing count (ties by first appearance), so id 0 is the
    most frequent word. Tokens of words under ``min_count`` are dropped, as word2vec does.
    """

    words: list[str]
    counts: np.ndarray  # int64 (V,)
    ids: np.ndarray  # int64 (N,)
    sentence: np.ndarray  # int64 (N,), non-decreasing
    raw_tokens: int  # tokens before min_count filtering

    @property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.ids)


def encode_corpus(sentences: Iterable[Sequence[str]], min_count: int = 1) -> EncodedCorpus:
    """Build the frequency-sorted vocabulary (words seen ``>= min_count`` times) and encode.

    Taught in: 03 §2.
    """
    sentences = [list(s) for s in sentences]
    counter: Counter[str] = Counter()
    for sentence in sentences:
        counter.update(sentence)
    # Counter keeps first-appearance order, and sorted() is stable: ties keep that order.
    kept = [(w, c) for w, c in sorted(counter.items(), key=lambda wc: -wc[1]) if c >= min_count]
    words = [w for w, _ in kept]
    counts = np.array([c for _, c in kept], dtype=np.int64)
    index = {w: i for i, w in enumerate(words)}
    ids: list[int] = []
    sentence_of: list[int] = []
    for number, sentence in enumerate(sentences):
        encoded = [index[w] for w in sentence if w in index]
        ids.extend(encoded)
        sentence_of.extend([number] * len(encoded))
    raw = sum(len(s) for s in sentences)
    return EncodedCorpus(words, counts, np.array(ids, dtype=np.int64), np.array(sentence_of, dtype=np.int64), raw)


def keep_probabilities(counts: np.ndarray, sample: float = 1e-3) -> np.ndarray:
    """Probability of keeping each token of a word under word2vec's frequent-word subsampling.

    The variant of the word2vec C code (and gensim), not the formula of the paper:
    with ``f = count / total`` and threshold ``t = sample``,
    ``keep = (sqrt(f / t) + 1) * t / f``, capped at 1. (The 2013 paper writes the *discard*
    probability ``1 - sqrt(t / f)``, which keeps ``sqrt(t / f)``; the code's version keeps a little
    more.) ``sample = 0`` turns subsampling off.

    Taught in: 03 §3.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    frequency = counts / counts.sum()
    keep = (np.sqrt(frequency / sample) + 1.0) * sample / frequency
    return np.minimum(keep, 1.0)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Negative-sampling noise: P(w) proportional to count(w) ** power (0.75 in word2vec).

    Taught in: 03 §3.
    """
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def subsample(corpus: EncodedCorpus, keep: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's draw: drop each token with probability ``1 - keep[word]``; returns (ids, sentence)."""
    mask = rng.random(len(corpus.ids)) < keep[corpus.ids]
    return corpus.ids[mask], corpus.sentence[mask]


def skipgram_pairs(
    ids: np.ndarray,
    sentence: np.ndarray,
    window: int,
    rng: np.random.Generator | None = None,
    dynamic: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) pairs of one epoch, vectorised over offsets.

    Each centre token draws its own window ``b`` uniformly from 1..``window`` (word2vec's dynamic
    window, which weights a context at distance d by (window - d + 1) / window on average) and is
    paired with every token within ``b`` positions in the same sentence. ``dynamic=False`` uses the
    full window for every token. Loops over the ``window`` offsets, never over tokens.

    Taught in: 03 §3.
    """
    n = len(ids)
    if dynamic:
        rng = rng or np.random.default_rng()
        reach = rng.integers(1, window + 1, size=n)
    else:
        reach = np.full(n, window)
    centres, contexts = [], []
    for d in range(1, window + 1):
        if d >= n:
            break
        same = sentence[:-d] == sentence[d:]
        forward = same & (reach[:-d] >= d)  # centre i, context i + d
        backward = same & (reach[d:] >= d)  # centre i + d, context i
        centres += [ids[:-d][forward], ids[d:][backward]]
        contexts += [ids[d:][forward], ids[:-d][backward]]
    if not centres:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(centres), np.concatenate(contexts)


def random_embeddings(vocab: Sequence[str], dim: int, seed: int = 0) -> Embeddings:
    """Gaussian random vectors for ``vocab``: the chance baseline for every evaluation.

    Taught in: 03 §5.
    """
    rng = np.random.default_rng(seed)
    return Embeddings(vocab, rng.standard_normal((len(vocab), dim)).astype(np.float32))
