"""Skip-gram with negative sampling (SGNS, Mikolov et al. 2013), trained with sparse updates.

Separate input and output vectors, a dynamic window, (centre, context) pairs made per epoch with
NumPy, large batches. The update loop is its own (not :func:`ptft_utils.train.fit`): it applies
the closed-form SGNS gradient to the touched rows only with ``index_add_``, which is what makes
it fast on a CPU; an autograd loop over dense parameters would update every row each step.

What it is not: gensim's word2vec (no hierarchical softmax, no CBOW, no hogwild threads); chapter 03
compares the two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ptft_utils.models.embeddings import (
    Embeddings,
    EncodedCorpus,
    keep_probabilities,
    noise_distribution,
    skipgram_pairs,
    subsample,
)


class SkipGramNS(nn.Module):
    """Input vectors v (the embeddings we keep) and output vectors u (the classifier weights).

    For a centre c, its true context o and K noise words n_k drawn from P_n:
    ``loss = -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_{n_k} . v_c)``, the negative-sampling
    stand-in for the full softmax over the vocabulary. Initialised as word2vec does: v uniform in
    [-0.5/D, 0.5/D], u zero.

    ``forward`` gives the loss for autograd; ``sgd_step`` applies the same gradient written out by
    hand (what word2vec's C code does), which is several times faster on a CPU than sparse
    autograd. A test checks that the two agree.

    Taught in: 03 §3.
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
    """What a training run measured: loss per logging step and per epoch, and its speed.

    Taught in: 03 §3 and §4.
    """

    steps: list[dict[str, float]] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    words: int = 0  # corpus tokens processed (before subsampling), summed over epochs

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else float("nan")

    def add_epoch(self, epoch: int, epochs: int, loss: float, words: int, progress: bool, **extra: float) -> None:
        """Log the mean ``loss`` of ``epoch`` (1-based) over ``words`` corpus tokens; print it with ``progress``."""
        self.epochs.append({"epoch": epoch, "loss": loss, **extra})
        self.words += words
        if progress:
            counts = "".join(f", {value:,} {name}" for name, value in extra.items())
            print(f"epoch {epoch}/{epochs}: loss {loss:.4f}{counts}")


@dataclass
class LinearDecay:
    """word2vec's learning rate: from ``lr`` down to ``min_lr``, linearly in the pairs seen out of ``total``.

    Taught in: 03 §3 (inside :func:`train_sgns`).
    """

    lr: float
    min_lr: float
    total: float
    done: int = 0  # pairs seen so far
    steps: int = 0  # updates made so far

    def rate(self) -> float:
        return max(self.min_lr, self.lr * (1.0 - self.done / self.total))

    def advance(self, pairs: int) -> None:
        self.done += pairs
        self.steps += 1


def noise_table(counts: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """word2vec's table of noise words: ids drawn from the unigram^0.75 distribution, to sample from uniformly.

    Taught in: 03 §3 (inside :func:`train_sgns`).
    """
    noise = noise_distribution(counts)
    return torch.as_tensor(rng.choice(len(noise), size=min(10_000_000, 100 * len(noise) + 100_000), p=noise))


def epoch_pairs(
    corpus: EncodedCorpus,
    keep: np.ndarray,
    window: int,
    negatives: int,
    table: torch.Tensor,
    rngs: tuple[np.random.Generator, torch.Generator],
    device: str | torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One epoch's shuffled (centre, context, noise words) triples, from a freshly subsampled corpus.

    Taught in: 03 §3 (inside :func:`train_sgns`).
    """
    rng, generator = rngs
    ids, sentence = subsample(corpus, keep, rng)
    centres, contexts = skipgram_pairs(ids, sentence, window, rng)
    order = rng.permutation(len(centres))
    noise = table[torch.randint(len(table), (len(centres), negatives), generator=generator)]
    return torch.as_tensor(centres[order]).to(device), torch.as_tensor(contexts[order]).to(device), noise.to(device)


def sgns_epoch(
    model: SkipGramNS,
    pairs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    batch_size: int,
    decay: LinearDecay,
    log: TrainLog,
    epoch: int,
    log_every: int,
) -> float:
    """SGD over one epoch's ``pairs`` in batches; returns the summed loss. Logs every ``log_every`` updates.

    Taught in: 03 §3 (inside :func:`train_sgns`).
    """
    centres, contexts, noise = pairs
    total = torch.zeros((), device=centres.device)
    for begin in range(0, len(centres), batch_size):
        end = begin + batch_size
        rate = decay.rate()
        batch_loss = model.sgd_step(centres[begin:end], contexts[begin:end], noise[begin:end], rate)
        size = len(centres[begin:end])
        total += batch_loss
        if decay.steps % log_every == 0:
            log.steps.append({"epoch": epoch + begin / len(centres), "loss": float(batch_loss) / size, "lr": rate})
        decay.advance(size)
    return float(total)


def train_sgns(
    corpus: EncodedCorpus,
    *,
    dim: int = 100,
    window: int = 5,
    sample: float = 1e-3,
    negatives: int = 5,
    epochs: int = 5,
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

    Taught in: 03 §3.

    Taught in: 03 §3.
    """
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = SkipGramNS(len(corpus.words), dim).to(device)
    keep = keep_probabilities(corpus.counts, sample)
    table = noise_table(corpus.counts, rng)
    # Expected pairs over the run, for the learning-rate schedule (dynamic window: mean reach (W+1)/2).
    decay = LinearDecay(lr, min_lr, total=max(1.0, float(keep[corpus.ids].sum()) * (window + 1) * epochs))
    log = TrainLog()
    for epoch in range(epochs):
        pairs = epoch_pairs(corpus, keep, window, negatives, table, (rng, generator), device)
        total = sgns_epoch(model, pairs, batch_size, decay, log, epoch, log_every)
        n_pairs = len(pairs[0])
        log.add_epoch(epoch + 1, epochs, total / max(1, n_pairs), corpus.raw_tokens, progress, pairs=n_pairs)
    log.seconds = time.perf_counter() - start
    return Embeddings(corpus.words, model.input.weight.detach().cpu().numpy().copy()), log
