"""Word embeddings in PyTorch: skip-gram with negative sampling, GloVe, and their evaluation.

What is here, top to bottom:

1. :class:`Embeddings`, a small word -> vector table (``vocab``, ``vectors``, ``w[word]``,
   ``most_similar``) that gensim's ``KeyedVectors`` can be converted to, so every evaluator takes
   either.
2. Corpus statistics shared by both models: a frequency-sorted vocabulary, the corpus as one id
   array with sentence numbers, word2vec's frequent-word subsampling and the unigram^0.75 noise.
3. Skip-gram with negative sampling (SGNS, Mikolov et al. 2013): separate input and output
   vectors, a dynamic window, (centre, context) pairs made per epoch with NumPy, large batches.
4. GloVe (Pennington et al. 2014): distance-weighted co-occurrence counts in a sparse matrix,
   the weighted least-squares objective, AdaGrad, vectors = W + W~.
5. Evaluation: word-similarity Spearman (WordSim-353, SimLex-999) with the out-of-vocabulary
   rate, 3CosAdd analogy accuracy on a frequency-restricted vocabulary, nearest neighbours.

What is not here: tokenisation and corpus loading (``ptft_utils.text`` / ``ptft_utils.data``),
and downstream classifiers (the chapter notebook builds those in front of the reader).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

# --------------------------------------------------------------------------------------------
# 1. A word -> vector table
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# 2. Corpus statistics
# --------------------------------------------------------------------------------------------


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
    """Build the frequency-sorted vocabulary (words seen ``>= min_count`` times) and encode."""
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
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    frequency = counts / counts.sum()
    keep = (np.sqrt(frequency / sample) + 1.0) * sample / frequency
    return np.minimum(keep, 1.0)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Negative-sampling noise: P(w) proportional to count(w) ** power (0.75 in word2vec)."""
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


# --------------------------------------------------------------------------------------------
# 3. Skip-gram with negative sampling
# --------------------------------------------------------------------------------------------


class SkipGramNS(nn.Module):
    """Input vectors v (the embeddings we keep) and output vectors u (the classifier weights).

    For a centre c, its true context o and K noise words n_k drawn from P_n:
    ``loss = -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_{n_k} . v_c)``, the negative-sampling
    stand-in for the full softmax over the vocabulary. Initialised as word2vec does: v uniform in
    [-0.5/D, 0.5/D], u zero.

    ``forward`` gives the loss for autograd; ``sgd_step`` applies the same gradient written out by
    hand (what word2vec's C code does), which is several times faster on a CPU than sparse
    autograd. A test checks that the two agree.
    """

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.input = nn.Embedding(vocab_size, dim)
        self.output = nn.Embedding(vocab_size, dim)
        with torch.no_grad():
            self.input.weight.uniform_(-0.5 / dim, 0.5 / dim)
            self.output.weight.zero_()

    def forward(self, centre: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Summed loss over the batch (sum, as word2vec updates each pair with the full rate)."""
        v = self.input(centre)  # (B, D)
        u_pos = self.output(context)  # (B, D)
        u_neg = self.output(negatives)  # (B, K, D)
        positive = nn.functional.logsigmoid((v * u_pos).sum(-1))
        negative = nn.functional.logsigmoid(-torch.bmm(u_neg, v.unsqueeze(-1)).squeeze(-1)).sum(-1)
        return -(positive + negative).sum()

    @torch.no_grad()
    def sgd_step(self, centre: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor, lr: float) -> torch.Tensor:
        """One SGD step on the summed loss with hand-written gradients; returns the loss before it
        (a 0-d tensor, so a GPU need not wait for it).

        With s = sigmoid(score): d loss / d score is (s - 1) for the true context and s for a noise
        word, so grad v_c = (s_o - 1) u_o + sum_k s_k u_k and grad u_o = (s_o - 1) v_c,
        grad u_k = s_k v_c. ``index_add_`` sums the updates of a word that occurs several times.
        """
        w_in, w_out = self.input.weight, self.output.weight
        dim = w_in.shape[1]
        v = w_in.index_select(0, centre)  # (B, D)
        targets = torch.cat([context.unsqueeze(1), negatives], dim=1).reshape(-1)  # (B * (1 + K),)
        u = w_out.index_select(0, targets).view(len(centre), -1, dim)  # (B, 1 + K, D)
        scores = (u * v.unsqueeze(1)).sum(-1)  # (B, 1 + K); elementwise beats bmm for tiny matrices
        coeff = torch.sigmoid(scores)
        # loss = -log s_o - sum_k log(1 - s_k), from the same sigmoids (clamped away from log 0)
        loss = -(coeff[:, 0].clamp_min(1e-7).log().sum() + (1 - coeff[:, 1:]).clamp_min(1e-7).log().sum())
        coeff[:, 0] -= 1.0  # d loss / d score
        grad_v = (coeff.unsqueeze(-1) * u).sum(1)  # (B, D)
        grad_u = (coeff.unsqueeze(-1) * v.unsqueeze(1)).view(-1, dim)  # (B * (1 + K), D)
        w_in.index_add_(0, centre, grad_v, alpha=-lr)
        w_out.index_add_(0, targets, grad_u, alpha=-lr)
        return loss


@dataclass
class TrainLog:
    """What a training run measured: loss per logging step and per epoch, and its speed."""

    steps: list[dict[str, float]] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    words: int = 0  # corpus tokens processed (before subsampling), summed over epochs

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else float("nan")


def train_sgns(
    corpus: EncodedCorpus,
    dim: int = 100,
    window: int = 5,
    negatives: int = 5,
    epochs: int = 5,
    sample: float = 1e-3,
    lr: float = 0.025,
    min_lr: float = 1e-4,
    batch_size: int = 1024,
    seed: int = 0,
    log_every: int = 50,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> tuple[Embeddings, TrainLog]:
    """Train SGNS on ``corpus``; returns the input vectors and the training log.

    Optimiser: plain SGD with word2vec's linear learning-rate decay from ``lr`` to ``min_lr`` over
    all pairs, on the *summed* batch loss, so each pair moves its rows by about what one hogwild
    word2vec update would. Pairs are shuffled, so a batch of about a thousand pairs touches the
    rows of most words at most once; very large batches sum many updates into frequent words' rows and need a
    smaller rate. Noise words come from a unigram^0.75 table, as in word2vec.
    ``log.seconds`` covers everything after the corpus is encoded (pairs, sampling, updates).
    Pairs are made with NumPy on the CPU; the updates run on ``device`` (same results up to
    floating-point order on a GPU).
    """
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = SkipGramNS(len(corpus.words), dim).to(device)
    keep = keep_probabilities(corpus.counts, sample)
    noise = noise_distribution(corpus.counts)
    table = torch.as_tensor(rng.choice(len(noise), size=min(10_000_000, 100 * len(noise) + 100_000), p=noise))
    # Expected pairs over the run, for the learning-rate schedule (dynamic window: mean reach (W+1)/2).
    expected_pairs = max(1.0, float(keep[corpus.ids].sum()) * (window + 1) * epochs)
    log = TrainLog()
    done_pairs = 0
    step = 0
    for epoch in range(epochs):
        ids, sentence = subsample(corpus, keep, rng)
        centres, contexts = skipgram_pairs(ids, sentence, window, rng)
        order = rng.permutation(len(centres))
        centres_t = torch.as_tensor(centres[order]).to(device)
        contexts_t = torch.as_tensor(contexts[order]).to(device)
        noise_all = table[torch.randint(len(table), (len(centres), negatives), generator=generator)].to(device)
        epoch_total = torch.zeros((), device=device)
        for begin in range(0, len(centres_t), batch_size):
            end = begin + batch_size
            rate = max(min_lr, lr * (1.0 - done_pairs / expected_pairs))
            batch_loss = model.sgd_step(centres_t[begin:end], contexts_t[begin:end], noise_all[begin:end], rate)
            size = len(centres_t[begin:end])
            epoch_total += batch_loss
            done_pairs += size
            if step % log_every == 0:
                log.steps.append(
                    {"epoch": epoch + begin / len(centres_t), "loss": float(batch_loss) / size, "lr": rate}
                )
            step += 1
        epoch_loss = float(epoch_total)
        log.epochs.append({"epoch": epoch + 1, "loss": epoch_loss / max(1, len(centres)), "pairs": len(centres)})
        log.words += corpus.raw_tokens
        if progress:
            print(f"epoch {epoch + 1}/{epochs}: loss {epoch_loss / max(1, len(centres)):.4f}, {len(centres):,} pairs")
    log.seconds = time.perf_counter() - start
    return Embeddings(corpus.words, model.input.weight.detach().cpu().numpy().copy()), log


# --------------------------------------------------------------------------------------------
# 4. GloVe
# --------------------------------------------------------------------------------------------


def cooccurrence(corpus: EncodedCorpus, window: int = 10, distance_weighting: bool = True) -> Any:
    """Symmetric co-occurrence counts X (scipy CSR, V x V) within ``window`` in a sentence.

    A pair of words ``d`` positions apart adds ``1/d`` to X[i, j] and to X[j, i] (GloVe's
    distance weighting; ``distance_weighting=False`` adds 1).
    """
    from scipy import sparse

    ids, sentence = corpus.ids, corpus.sentence
    size = len(corpus.words)
    rows, cols, weights = [], [], []
    for d in range(1, window + 1):
        if d >= len(ids):
            break
        same = sentence[:-d] == sentence[d:]
        left, right = ids[:-d][same], ids[d:][same]
        weight = np.full(len(left), 1.0 / d if distance_weighting else 1.0)
        rows += [left, right]
        cols += [right, left]
        weights += [weight, weight]
    if not rows:
        return sparse.csr_matrix((size, size))
    matrix = sparse.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )
    return matrix.tocsr()  # duplicates are summed


def glove_weight(x: Any, x_max: float = 100.0, alpha: float = 0.75) -> Any:
    """GloVe's weighting f(x) = (x / x_max) ** alpha below x_max, 1 above."""
    if isinstance(x, torch.Tensor):
        return torch.clamp(x / x_max, max=1.0) ** alpha
    return np.minimum(np.asarray(x, dtype=np.float64) / x_max, 1.0) ** alpha


class GloVe(nn.Module):
    """Word vectors W, context vectors W~ and biases b, b~.

    ``loss = 1/2 sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2`` over the non-zero X_ij;
    initialised uniform in [-0.5/D, 0.5/D] like the reference C code. ``adagrad_step`` updates the
    rows a batch touches with AdaGrad (hand-written gradients, checked against autograd and
    ``torch.optim.Adagrad`` in the tests; much faster than sparse autograd on a CPU).
    """

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.empty(vocab_size, dim).uniform_(-0.5 / dim, 0.5 / dim))
        self.w_tilde = nn.Parameter(torch.empty(vocab_size, dim).uniform_(-0.5 / dim, 0.5 / dim))
        self.b = nn.Parameter(torch.empty(vocab_size).uniform_(-0.5 / dim, 0.5 / dim))
        self.b_tilde = nn.Parameter(torch.empty(vocab_size).uniform_(-0.5 / dim, 0.5 / dim))
        self.accumulators: list[torch.Tensor] | None = None

    def forward(self, i: torch.Tensor, j: torch.Tensor, log_x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        prediction = (self.w[i] * self.w_tilde[j]).sum(-1) + self.b[i] + self.b_tilde[j]
        return 0.5 * (weight * (prediction - log_x) ** 2).sum()

    @torch.no_grad()
    def adagrad_step(
        self, i: torch.Tensor, j: torch.Tensor, log_x: torch.Tensor, weight: torch.Tensor, lr: float, start: float = 1.0
    ) -> torch.Tensor:
        """One AdaGrad step over a batch of entries; returns the batch's loss before the step (0-d tensor).

        With e = f(X_ij)(w_i . w~_j + b_i + b~_j - log X_ij): grad w_i = e w~_j, grad w~_j = e w_i,
        grad b_i = grad b~_j = e. As in the reference ``glove.c``, each entry's step
        g = lr * grad moves its rows by -g / sqrt(G) and then adds g^2 to the accumulator G
        (which starts at ``start`` = 1); entries of one batch are applied together, so a row that
        occurs several times in a batch gets the sum of its steps (hogwild-like, as the C code's
        threads).
        """
        params = [self.w, self.w_tilde, self.b, self.b_tilde]
        if self.accumulators is None:
            self.accumulators = [torch.full_like(p, start) for p in params]
        wi, wj = self.w.index_select(0, i), self.w_tilde.index_select(0, j)
        diff = (wi * wj).sum(-1) + self.b.index_select(0, i) + self.b_tilde.index_select(0, j) - log_x
        error = weight * diff
        loss = 0.5 * (error * diff).sum()
        steps = [lr * error.unsqueeze(-1) * wj, lr * error.unsqueeze(-1) * wi, lr * error, lr * error]
        for param, acc, rows, step in zip(params, self.accumulators, (i, j, i, j), steps, strict=True):
            param.index_add_(0, rows, step / acc.index_select(0, rows).sqrt(), alpha=-1.0)
            acc.index_add_(0, rows, step * step)
        return loss

    def vectors(self) -> np.ndarray:
        """W + W~, the paper's choice of final vectors."""
        return (self.w + self.w_tilde).detach().cpu().numpy().copy()


def train_glove(
    corpus: EncodedCorpus,
    dim: int = 100,
    window: int = 10,
    epochs: int = 25,
    lr: float = 0.05,
    x_max: float = 100.0,
    alpha: float = 0.75,
    batch_size: int = 8192,
    seed: int = 0,
    cooc: Any = None,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> tuple[Embeddings, TrainLog]:
    """Fit GloVe with AdaGrad (rate 0.05, accumulators starting at 1, as the reference code).

    Each epoch visits every non-zero X_ij once in a random order, in mini-batches with the summed
    loss (AdaGrad's per-coordinate scaling keeps summed updates tame). ``log.seconds`` includes
    counting the co-occurrences when ``cooc`` is not given.
    """
    start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    if cooc is None:
        cooc = cooccurrence(corpus, window)
    coo = cooc.tocoo()
    rows = torch.as_tensor(coo.row.astype(np.int64)).to(device)
    cols = torch.as_tensor(coo.col.astype(np.int64)).to(device)
    x = torch.as_tensor(coo.data, dtype=torch.float32).to(device)
    log_x, weight = torch.log(x), glove_weight(x, x_max, alpha)
    model = GloVe(len(corpus.words), dim).to(device)
    log = TrainLog()
    for epoch in range(epochs):
        order = torch.as_tensor(rng.permutation(len(x))).to(device)
        total_t = torch.zeros((), device=device)
        for begin in range(0, len(order), batch_size):
            batch = order[begin : begin + batch_size]
            total_t += model.adagrad_step(rows[batch], cols[batch], log_x[batch], weight[batch], lr)
        total = float(total_t)
        log.epochs.append({"epoch": epoch + 1, "loss": total / max(1, len(x))})
        log.steps.append({"epoch": epoch + 1, "loss": total / max(1, len(x))})
        log.words += corpus.raw_tokens
        if progress:
            print(f"epoch {epoch + 1}/{epochs}: loss {total / max(1, len(x)):.4f}")
    log.seconds = time.perf_counter() - start
    return Embeddings(corpus.words, model.vectors()), log


# --------------------------------------------------------------------------------------------
# 5. Evaluation
# --------------------------------------------------------------------------------------------


def word_similarity(vectors: Any, pairs: Iterable[tuple[str, str, float]], lowercase: bool = True) -> dict[str, Any]:
    """Spearman correlation between human scores and cosine similarities, on in-vocabulary pairs.

    Returns ``{"spearman", "pairs", "used", "oov", "oov_rate"}``: a pair with either word missing
    is excluded and counted in ``oov``; ``spearman`` is NaN when fewer than 3 pairs remain.
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
    """Cosine neighbours of each word present in the vocabulary (absent words are skipped)."""
    emb = as_embeddings(vectors)
    return {w: emb.most_similar(w, topn) for w in words if w in emb.index}


def evaluate(
    vectors: Any,
    similarity_sets: Mapping[str, Iterable[tuple[str, str, float]]],
    analogies: Mapping[str, Sequence[tuple[str, str, str, str]]] | None = None,
    restrict_vocab: int = 30000,
) -> dict[str, float]:
    """One flat row of quality numbers: ``<set>_spearman``, ``<set>_oov_rate``, ``analogy_*``."""
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


def random_embeddings(vocab: Sequence[str], dim: int, seed: int = 0) -> Embeddings:
    """Gaussian random vectors for ``vocab``: the chance baseline for every evaluation."""
    rng = np.random.default_rng(seed)
    return Embeddings(vocab, rng.standard_normal((len(vocab), dim)).astype(np.float32))


def spearman_ci(rho: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Approximate CI for a Spearman correlation (Fisher z with SE 1.03/sqrt(n-3), Fieller et al.)."""
    from scipy import stats

    if n <= 3 or not math.isfinite(rho):
        return float("nan"), float("nan")
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    half = stats.norm.ppf(0.5 + confidence / 2) * 1.03 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)
