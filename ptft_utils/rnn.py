"""Recurrent models for chapter 05: the seed's LSTM in PyTorch, language models and classifiers.

What is here, top to bottom:

* ``SeedLSTM`` -- the PyTorch twin of the article's Keras model (LSTM(128, return_sequences) ->
  LSTM(128, return_sequences) -> Dense(output_dim, softmax)), and ``keras_lstm_to_torch`` /
  ``copy_keras_seed_model``, which move a trained Keras model's weights into it. Keras stores one
  LSTM layer as ``kernel`` (input_dim, 4H), ``recurrent_kernel`` (H, 4H) and one ``bias`` (4H);
  torch as ``weight_ih`` (4H, input_dim), ``weight_hh`` (4H, H), ``bias_ih`` and ``bias_hh``. Both
  frameworks stack the four gate blocks in the order input, forget, cell candidate, output, so the
  mapping is a transpose per block, the Keras bias into ``bias_ih`` and zeros into ``bias_hh``
  (only their sum matters). ``gate_order`` lets a test permute the blocks to prove the parity
  check notices a wrong order.
* Masking helpers for right-padded batches: ``length_mask``, ``last_valid_state``,
  ``masked_mean``, ``masked_max``; ``LSTMEncoder`` runs packed sequences so padding never enters
  the recurrence.
* ``LSTMLanguageModel`` (encoder + vocabulary decoder) and ``LSTMClassifier`` (the same encoder +
  a pooling head), so a pretrained encoder moves from one to the other unchanged.
* LM data and training: ``batchify`` (contiguous streams, as in PyTorch's word_language_model),
  ``train_lm``, ``evaluate_lm``, ``perplexity``, ``bits_per_token``, ``sample`` (temperature
  sampling, deterministic given a seed).
* Classifier data and training: ``train_classifier`` (optional gradual unfreezing and
  discriminative learning rates, ULMFiT style, from ``ptft_utils.finetune``) and
  ``evaluate_classifier``.

Not here: the Keras builder (``keras_rnn``), tokenization and vocabularies (``text``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .finetune import apply_unfreezing, discriminative_param_groups, gradual_unfreezing_schedule, unfreeze

KERAS_GATES = ("i", "f", "c", "o")  # keras.layers.LSTM: input, forget, cell candidate, output
TORCH_GATES = ("i", "f", "c", "o")  # torch.nn.LSTM: input, forget, cell ("g"), output

# ---------------------------------------------------------------------------------------------
# The seed's model and the Keras -> torch weight mapping
# ---------------------------------------------------------------------------------------------


class SeedLSTM(nn.Module):
    """LSTM(hidden, return_sequences) -> LSTM(hidden, return_sequences) -> Dense(output_dim).

    ``forward`` returns logits of shape (batch, time, output_dim); ``probabilities`` applies the
    softmax the Keras model ends with. Two separate single-layer ``nn.LSTM`` modules mirror the
    two Keras layers one to one.
    """

    def __init__(self, input_dim: int, output_dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.lstm1 = nn.LSTM(input_dim, hidden, batch_first=True)
        self.lstm2 = nn.LSTM(hidden, hidden, batch_first=True)
        self.dense = nn.Linear(hidden, output_dim)

    def forward(self, x: torch.Tensor, state: tuple[Any, Any] | None = None) -> tuple[torch.Tensor, tuple[Any, Any]]:
        s1, s2 = state if state is not None else (None, None)
        h, s1 = self.lstm1(x, s1)
        h, s2 = self.lstm2(h, s2)
        return self.dense(h), (s1, s2)

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self(x)[0], dim=-1)


def _permute_gates(matrix: np.ndarray, order: Sequence[str], axis: int) -> np.ndarray:
    """Reorder the four gate blocks of ``matrix`` along ``axis`` from Keras order to ``order``."""
    blocks = np.split(matrix, 4, axis=axis)
    by_name = dict(zip(KERAS_GATES, blocks, strict=True))
    return np.concatenate([by_name[g] for g in order], axis=axis)


def keras_lstm_to_torch(
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    lstm: nn.LSTM,
    gate_order: Sequence[str] = TORCH_GATES,
) -> None:
    """Copy one Keras LSTM layer's weights into a single-layer ``nn.LSTM`` (in place).

    ``gate_order`` is the order torch expects the Keras blocks in; the right one is
    ``("i", "f", "c", "o")``. Keras' single bias goes to ``bias_ih``; ``bias_hh`` is set to zero
    (torch adds the two, so any split with the right sum is equivalent).
    """
    if sorted(gate_order) != sorted(KERAS_GATES):
        raise ValueError(f"gate_order must be a permutation of {KERAS_GATES}, got {tuple(gate_order)}")
    hidden = lstm.hidden_size
    if kernel.shape != (lstm.input_size, 4 * hidden) or recurrent_kernel.shape != (hidden, 4 * hidden):
        raise ValueError(
            f"Keras shapes {kernel.shape}, {recurrent_kernel.shape} do not fit nn.LSTM({lstm.input_size}, {hidden})"
        )
    weight_ih, weight_hh, bias_ih, bias_hh = (
        cast(torch.Tensor, getattr(lstm, name)) for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    )
    with torch.no_grad():
        weight_ih.copy_(torch.from_numpy(_permute_gates(np.asarray(kernel), gate_order, axis=1).T.copy()))
        weight_hh.copy_(torch.from_numpy(_permute_gates(np.asarray(recurrent_kernel), gate_order, axis=1).T.copy()))
        bias_ih.copy_(torch.from_numpy(_permute_gates(np.asarray(bias), gate_order, axis=0).copy()))
        bias_hh.zero_()


def copy_keras_seed_model(keras_model: Any, twin: SeedLSTM, gate_order: Sequence[str] = TORCH_GATES) -> SeedLSTM:
    """Copy the weights of the Keras seed model (two LSTMs and a Dense) into ``twin``."""
    lstm_layers = [layer for layer in keras_model.layers if layer.__class__.__name__ == "LSTM"]
    dense_layers = [layer for layer in keras_model.layers if layer.__class__.__name__ == "Dense"]
    if len(lstm_layers) != 2 or len(dense_layers) != 1:
        raise ValueError("expected the seed model: two LSTM layers and one Dense layer")
    for keras_layer, torch_layer in zip(lstm_layers, (twin.lstm1, twin.lstm2), strict=True):
        kernel, recurrent_kernel, bias = (np.asarray(w) for w in keras_layer.get_weights())
        keras_lstm_to_torch(kernel, recurrent_kernel, bias, torch_layer, gate_order)
    dense_kernel, dense_bias = (np.asarray(w) for w in dense_layers[0].get_weights())
    with torch.no_grad():
        twin.dense.weight.copy_(torch.from_numpy(dense_kernel.T.copy()))
        twin.dense.bias.copy_(torch.from_numpy(dense_bias.copy()))
    return twin


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# Masking for right-padded batches
# ---------------------------------------------------------------------------------------------


def length_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Boolean (batch, max_len): True at real tokens, False at padding."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def last_valid_state(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The output at each sequence's last real token (not at the last column of the batch)."""
    index = (lengths - 1).clamp(min=0).to(outputs.device)
    return outputs[torch.arange(outputs.size(0), device=outputs.device), index]


def masked_mean(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    mask = length_mask(lengths.to(outputs.device), outputs.size(1)).unsqueeze(-1).to(outputs.dtype)
    return (outputs * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def masked_max(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    mask = length_mask(lengths.to(outputs.device), outputs.size(1)).unsqueeze(-1)
    return outputs.masked_fill(~mask, float("-inf")).max(1).values


# ---------------------------------------------------------------------------------------------
# Encoder, language model, classifier
# ---------------------------------------------------------------------------------------------


class LSTMEncoder(nn.Module):
    """Embedding -> ``num_layers`` single-layer LSTMs (kept separate so each is a layer group).

    With ``lengths`` given, the batch is packed (``pack_padded_sequence``): the recurrence stops
    at each sentence's last real token, and outputs at padded positions are zeros. With
    ``lengths=None`` every column is processed (language-model streams have no padding).
    """

    def __init__(
        self, vocab_size: int, emb_dim: int = 64, hidden: int = 128, num_layers: int = 2, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        sizes = [emb_dim] + [hidden] * num_layers
        self.layers = nn.ModuleList(nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(num_layers))
        self.dropout = nn.Dropout(dropout)
        self.hidden = hidden

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor | None = None, state: list[Any] | None = None
    ) -> tuple[torch.Tensor, list[Any]]:
        x = self.dropout(self.embedding(ids))
        total = ids.size(1)
        packed: torch.Tensor | PackedSequence = x
        if lengths is not None:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        new_state = []
        for i, layer in enumerate(self.layers):
            packed, layer_state = layer(packed, None if state is None else state[i])
            new_state.append(layer_state)
            if i < len(self.layers) - 1:
                packed = _dropout(packed, self.dropout)
        if isinstance(packed, PackedSequence):
            out, _ = pad_packed_sequence(packed, batch_first=True, total_length=total)
        else:
            out = packed
        return self.dropout(out), new_state


def _dropout(x: torch.Tensor | PackedSequence, dropout: nn.Dropout) -> torch.Tensor | PackedSequence:
    if isinstance(x, PackedSequence):
        return PackedSequence(dropout(x.data), x.batch_sizes, x.sorted_indices, x.unsorted_indices)
    return dropout(x)


class LSTMLanguageModel(nn.Module):
    """Next-token model: ``LSTMEncoder`` + a linear decoder over the vocabulary."""

    def __init__(
        self, vocab_size: int, emb_dim: int = 64, hidden: int = 128, num_layers: int = 2, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.encoder = LSTMEncoder(vocab_size, emb_dim, hidden, num_layers, dropout)
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor, state: list[Any] | None = None) -> tuple[torch.Tensor, list[Any]]:
        out, state = self.encoder(ids, None, state)
        return self.decoder(out), state


POOLINGS = ("last", "last_padded", "mean", "concat")


class LSTMClassifier(nn.Module):
    """A (possibly pretrained) ``LSTMEncoder`` + pooling + a small head.

    ``pooling``: ``"last"`` -- the state at each sentence's last real token (packed run);
    ``"concat"`` -- [last, masked max, masked mean] as in ULMFiT's concat pooling; ``"mean"``;
    ``"last_padded"`` -- the *wrong* way, kept to measure it: run over the padding without
    packing and take the batch's last column.
    """

    def __init__(self, encoder: LSTMEncoder, num_classes: int = 2, pooling: str = "concat", dropout: float = 0.2):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        width = encoder.hidden * (3 if pooling == "concat" else 1)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, num_classes))

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor, pooling: str | None = None) -> torch.Tensor:
        pooling = pooling or self.pooling
        if pooling == "last_padded":
            out, _ = self.encoder(ids, None)
            return out[:, -1]
        out, _ = self.encoder(ids, lengths)
        if pooling == "last":
            return last_valid_state(out, lengths)
        if pooling == "mean":
            return masked_mean(out, lengths)
        return torch.cat([last_valid_state(out, lengths), masked_max(out, lengths), masked_mean(out, lengths)], dim=1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, pooling: str | None = None) -> torch.Tensor:
        return self.head(self.encode(ids, lengths, pooling))

    def layer_groups(self) -> list[nn.Module]:
        """Bottom to top: embedding, each LSTM layer, head (ULMFiT's groups)."""
        return [self.encoder.embedding, *self.encoder.layers, self.head]


# ---------------------------------------------------------------------------------------------
# Language-model data, training, evaluation, sampling
# ---------------------------------------------------------------------------------------------


def perplexity(mean_nll: float) -> float:
    """exp(mean negative log-likelihood in nats per token)."""
    return float(math.exp(mean_nll))


def bits_per_token(mean_nll: float) -> float:
    """Mean NLL in bits: nats / ln 2 (bits per character for a character model)."""
    return float(mean_nll / math.log(2.0))


def batchify(ids: Sequence[int] | np.ndarray | torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut one long id stream into ``batch_size`` contiguous streams: shape (batch, steps)."""
    data = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    steps = data.numel() // batch_size
    if steps < 2:
        raise ValueError(f"{data.numel()} tokens are too few for batch size {batch_size}")
    return data[: steps * batch_size].view(batch_size, steps)


def lm_chunks(streams: torch.Tensor, seq_len: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(input, target) windows along the streams; the target is the input shifted by one."""
    for start in range(0, streams.size(1) - 1, seq_len):
        stop = min(start + seq_len, streams.size(1) - 1)
        yield streams[:, start:stop], streams[:, start + 1 : stop + 1]


def _detach(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (list, tuple)):
        return type(state)(_detach(s) for s in state)
    return state


def _lm_forward(model: nn.Module, x: torch.Tensor, state: Any, one_hot: int | None) -> tuple[torch.Tensor, Any]:
    if one_hot is not None:  # the seed model reads one-hot vectors
        x = F.one_hot(x, one_hot).float()
    return model(x, state)


@torch.no_grad()
def evaluate_lm(
    model: nn.Module, streams: torch.Tensor, seq_len: int, one_hot: int | None = None, device: Any = "cpu"
) -> float:
    """Mean NLL (nats per token) over every window of ``streams``, state carried along."""
    model.eval()
    total, count, state = 0.0, 0, None
    for x, y in lm_chunks(streams, seq_len):
        logits, state = _lm_forward(model, x.to(device), state, one_hot)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1).to(device), reduction="sum").item()
        count += y.numel()
    return total / count


def train_lm(
    model: nn.Module,
    train_streams: torch.Tensor,
    val_streams: torch.Tensor | None,
    *,
    epochs: int = 1,
    seq_len: int = 64,
    lr: float = 2e-3,
    max_steps: int | None = None,
    eval_every: int | None = None,
    clip: float = 1.0,
    one_hot: int | None = None,
    device: Any = "cpu",
    optimizer: torch.optim.Optimizer | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Truncated-BPTT training with Adam; returns a history of {step, tokens, train_nll, val_nll}.

    Validation runs every ``eval_every`` steps (and at the end); ``max_steps`` caps the budget.
    """
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    step, tokens, running, running_n = 0, 0, 0.0, 0

    def record() -> None:
        nonlocal running, running_n
        row = {"step": step, "tokens": tokens, "train_nll": running / max(running_n, 1)}
        if val_streams is not None:
            row["val_nll"] = evaluate_lm(model, val_streams, seq_len, one_hot, device)
        history.append(row)
        if progress is not None:
            progress(row)
        running, running_n = 0.0, 0

    done = False
    for _ in range(epochs):
        state = None
        for x, y in lm_chunks(train_streams, seq_len):
            model.train()
            logits, state = _lm_forward(model, x.to(device), state, one_hot)
            state = _detach(state)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1).to(device))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            step += 1
            tokens += y.numel()
            running += loss.item()
            running_n += 1
            if eval_every and step % eval_every == 0:
                record()
            if max_steps is not None and step >= max_steps:
                done = True
                break
        if done:
            break
    if running_n or not history:
        record()
    return history


@torch.no_grad()
def sample(
    model: nn.Module,
    prefix: Sequence[int],
    length: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
    one_hot: int | None = None,
    device: Any = "cpu",
) -> list[int]:
    """Sample ``length`` ids after ``prefix`` from softmax(logits / temperature).

    A private ``torch.Generator`` seeded with ``seed`` makes the text a function of the
    arguments only. Temperature < 1 sharpens the distribution (safer, more repetitive);
    > 1 flattens it (more varied, more mistakes).
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor([list(prefix)], dtype=torch.long, device=device)
    logits, state = _lm_forward(model, x, None, one_hot)
    out: list[int] = []
    for _ in range(length):
        probs = torch.softmax(logits[0, -1].float().cpu() / temperature, dim=-1)
        next_id = int(torch.multinomial(probs, 1, generator=generator))
        out.append(next_id)
        logits, state = _lm_forward(model, torch.tensor([[next_id]], device=device), state, one_hot)
    return out


# ---------------------------------------------------------------------------------------------
# Classifier training (ULMFiT-style options)
# ---------------------------------------------------------------------------------------------


def iterate_batches(
    ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool, seed: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Mini-batches of a padded set, each trimmed to its own longest sentence."""
    order = (
        torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        if shuffle
        else torch.arange(len(labels))
    )
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = int(lengths[idx].max())
        yield ids[idx, :width], lengths[idx], labels[idx]


def train_classifier(
    model: LSTMClassifier,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 4,
    batch_size: int = 32,
    lr: float = 2e-3,
    min_steps: int = 0,
    discriminative: float | None = None,
    gradual_unfreezing: bool = False,
    seed: int = 0,
    device: Any = "cpu",
    param_groups: Callable[[LSTMClassifier, float], list[dict[str, Any]]] | None = None,
) -> list[dict[str, float]]:
    """Train with Adam; returns [{epoch, loss, trainable_groups}].

    ``min_steps`` raises the epoch count so tiny label budgets still get that many updates.
    ``discriminative`` (e.g. 2.6) gives each lower layer group the rate divided by that factor;
    ``gradual_unfreezing`` trains only the head in the first epoch and unfreezes one more group
    (top down) each epoch after. ``param_groups`` overrides how optimizer groups are made.
    """
    model.to(device)
    groups = model.layer_groups()
    if param_groups is not None:
        optim_groups = param_groups(model, lr)
    elif discriminative:
        optim_groups = discriminative_param_groups(groups, lr, discriminative)
    else:
        optim_groups = [{"params": list(model.parameters()), "lr": lr}]
    optimizer = torch.optim.Adam(optim_groups)
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    epochs = max(epochs, math.ceil(min_steps / steps_per_epoch))
    schedule = gradual_unfreezing_schedule(len(groups), epochs) if gradual_unfreezing else [len(groups)] * epochs
    history = []
    for epoch in range(epochs):
        n_open = schedule[epoch]
        apply_unfreezing(groups, n_open)
        model.train()
        total, n = 0.0, 0
        for x, lens, y in iterate_batches(ids, lengths, labels, batch_size, shuffle=True, seed=seed * 1000 + epoch):
            logits = model(x.to(device), lens)
            loss = F.cross_entropy(logits, y.to(device))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(y)
            n += len(y)
        history.append({"epoch": epoch + 1, "loss": total / n, "trainable_groups": n_open})
    unfreeze(groups)
    return history


@torch.no_grad()
def predict_classifier(
    model: LSTMClassifier,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    *,
    batch_size: int = 256,
    pooling: str | None = None,
    device: Any = "cpu",
) -> torch.Tensor:
    model.eval()
    dummy = torch.zeros(len(lengths), dtype=torch.long)
    preds = [
        model(x.to(device), lens, pooling).argmax(1).cpu()
        for x, lens, _ in iterate_batches(ids, lengths, dummy, batch_size, shuffle=False)
    ]
    return torch.cat(preds)


def evaluate_classifier(
    model: LSTMClassifier,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    pooling: str | None = None,
    device: Any = "cpu",
) -> float:
    """Accuracy on a padded set."""
    preds = predict_classifier(model, ids, lengths, pooling=pooling, device=device)
    return float((preds == labels.cpu()).float().mean())


# ---------------------------------------------------------------------------------------------
# Vocabulary coverage
# ---------------------------------------------------------------------------------------------


def oov_rate(token_lists: Sequence[Sequence[str]], vocab: Any, unk_id: int = 1) -> float:
    """Fraction of tokens that ``vocab.encode`` maps to ``<unk>`` (id 1 in ``ptft_utils.text.Vocab``)."""
    total = unknown = 0
    for tokens in token_lists:
        ids = vocab.encode(list(tokens))
        total += len(ids)
        unknown += sum(1 for i in ids if i == unk_id)
    if total == 0:
        raise ValueError("oov_rate needs at least one token")
    return unknown / total
