"""GloVe (Pennington et al. 2014): weighted least squares on log co-occurrence counts.

Distance-weighted co-occurrence counts in a sparse matrix, the weighting ``f(x) = (x/x_max)^alpha``
capped at 1 (x_max = 100, alpha = 3/4), AdaGrad, and vectors ``W + W~``. The update loop is its
own (not :func:`ptft_utils.train.fit`): like SGNS it applies hand-written gradients to the rows a
batch touches with ``index_add_``.

What it is not: the reference C implementation (no shuffling of a co-occurrence file on disk, no
threads); the formulas themselves are checked in :mod:`ptft_utils.reference.formulas`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from ptft_utils.models.embeddings import Embeddings, EncodedCorpus
from ptft_utils.models.sgns import TrainLog


def cooccurrence(corpus: EncodedCorpus, window: int = 10, distance_weighting: bool = True) -> Any:
    """Symmetric co-occurrence counts X (scipy CSR, V x V) within ``window`` in a sentence.

    A pair of words ``d`` positions apart adds ``1/d`` to X[i, j] and to X[j, i] (GloVe's
    distance weighting; ``distance_weighting=False`` adds 1).

    Taught in: 03 §4.
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
    """GloVe's weighting f(x) = (x / x_max) ** alpha below x_max, 1 above.

    Taught in: 03 §4 (inside :func:`train_glove`; 02 §4 checks the formula).
    """
    if isinstance(x, torch.Tensor):
        return torch.clamp(x / x_max, max=1.0) ** alpha
    return np.minimum(np.asarray(x, dtype=np.float64) / x_max, 1.0) ** alpha


class GloVe(nn.Module):
    """Word vectors W, context vectors W~ and biases b, b~.

    ``loss = 1/2 sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2`` over the non-zero X_ij;
    initialised uniform in [-0.5/D, 0.5/D] like the reference C code. ``adagrad_step`` updates the
    rows a batch touches with AdaGrad (hand-written gradients, checked against autograd and
    ``torch.optim.Adagrad`` in the tests; much faster than sparse autograd on a CPU).

    Taught in: 03 §4.
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
    *,
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

    Taught in: 03 §4.
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
        loss = float(total_t) / max(1, len(x))
        log.steps.append({"epoch": epoch + 1, "loss": loss})
        log.add_epoch(epoch + 1, epochs, loss, corpus.raw_tokens, progress)
    log.seconds = time.perf_counter() - start
    return Embeddings(corpus.words, model.vectors()), log
