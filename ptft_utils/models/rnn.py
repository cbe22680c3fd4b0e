"""Recurrent models: the seed's LSTM in PyTorch, an LSTM encoder, a language model and a classifier.

``SeedLSTM`` is the PyTorch twin of the article's Keras model (LSTM(128, return_sequences) ->
LSTM(128, return_sequences) -> Dense(output_dim, softmax)); its weights are copied from Keras by
:mod:`ptft_utils.keras.parity`. ``LSTMEncoder`` runs packed sequences so padding never enters the
recurrence; ``LSTMLanguageModel`` (encoder + vocabulary decoder) and ``LSTMClassifier`` (the same
encoder + a pooling head) share it, so a pretrained encoder moves from one to the other unchanged.
The masking helpers pool right-padded outputs correctly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


class SeedLSTM(nn.Module):
    """LSTM(hidden, return_sequences) -> LSTM(hidden, return_sequences) -> Dense(output_dim).

    ``forward`` returns logits of shape (batch, time, output_dim); ``probabilities`` applies the
    softmax the Keras model ends with. Two separate single-layer ``nn.LSTM`` modules mirror the
    two Keras layers one to one.

    Taught in: 05 §1.
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


class LSTMEncoder(nn.Module):
    """Embedding -> ``num_layers`` single-layer LSTMs (kept separate so each is a layer group).

    With ``lengths`` given, the batch is packed (``pack_padded_sequence``): the recurrence stops
    at each sentence's last real token, and outputs at padded positions are zeros. With
    ``lengths=None`` every column is processed (language-model streams have no padding).

    Taught in: 05 §5.
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
    """Next-token model: ``LSTMEncoder`` + a linear decoder over the vocabulary.

    Taught in: 05 §3.
    """

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

    Taught in: 05 §4.
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
