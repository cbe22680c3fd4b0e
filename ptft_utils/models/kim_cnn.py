"""Kim's (2014) CNN for sentence classification, in its four embedding variants.

An embedding layer, one 1-D convolution per filter width (3, 4 and 5 words, 100 feature maps
each), ReLU, max-over-time pooling, dropout 0.5 and a linear layer to the classes. The variants
differ only in the embedding:

- ``"rand"``: a random table, trained with the rest;
- ``"static"``: the pretrained table, frozen;
- ``"non-static"``: the pretrained table, fine-tuned;
- ``"multichannel"``: two copies of the pretrained table, one frozen and one fine-tuned, each a
  channel that every filter reads (the filters' outputs over the two channels are summed).

Padding: the padding row of the table is zero and stays zero. Every sentence is followed by
``widest - 1`` padding positions, so each real word starts a window of every width (as Kim's
zero-padding does), and windows that start on padding are masked out of the max over time: a
sentence's score does not depend on how much padding its batch needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

VARIANTS = ("rand", "static", "non-static", "multichannel")


class KimCNN(nn.Module):
    """Kim's sentence CNN: embedding, convolutions of widths 3/4/5, max over time, dropout, linear.

    ``table`` is the ``[vocab, dim]`` starting table: the pretrained vectors for ``"static"``,
    ``"non-static"`` and ``"multichannel"``, a random table for ``"rand"`` (copied; row
    ``pad_id``, the padding token, is set to zero). Input: ``ids`` ``[B, T]`` (int64, any
    ``T >= 1``, right-padded with ``pad_id``); output: logits ``[B, num_classes]``.

    Taught in: 03 §7.
    """

    def __init__(
        self,
        table: torch.Tensor,
        variant: str,
        *,
        num_classes: int = 2,
        widths: Sequence[int] = (3, 4, 5),
        feature_maps: int = 100,
        dropout: float = 0.5,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if table.dim() != 2:
            raise ValueError(f"table must be a [vocab, dim] matrix, got shape {tuple(table.shape)}")
        if not widths or any(int(w) < 1 for w in widths):
            raise ValueError(f"widths must be positive filter widths, got {list(widths)}")
        if feature_maps < 1:
            raise ValueError(f"feature_maps must be >= 1, got {feature_maps}")
        if not 0 <= pad_id < table.shape[0]:
            raise ValueError(f"pad_id must index a row of the table (0..{table.shape[0] - 1}), got {pad_id}")
        self.variant = variant
        self.pad_id = pad_id
        self.widths = tuple(int(w) for w in widths)
        dim = table.shape[1]
        table = table.detach().clone().float()
        table[pad_id] = 0.0
        self.embedding = nn.Embedding.from_pretrained(table.clone(), freeze=variant == "static", padding_idx=pad_id)
        # multichannel: a second, frozen copy of the same table
        self.static_embedding = (
            nn.Embedding.from_pretrained(table.clone(), freeze=True, padding_idx=pad_id)
            if variant == "multichannel"
            else None
        )
        self.convs = nn.ModuleList(nn.Conv1d(dim, feature_maps, w) for w in self.widths)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(feature_maps * len(self.widths), num_classes)

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """The pooled sentence features under the dropout and the linear layer, ``[B, maps x widths]``."""
        if ids.dim() != 2:
            raise ValueError(f"ids must be [batch, length], got shape {tuple(ids.shape)}")
        ids = F.pad(ids, (0, max(self.widths) - 1), value=self.pad_id)
        mask = ids != self.pad_id  # [B, T]
        channels = [self.embedding(ids)]
        if self.static_embedding is not None:
            channels.append(self.static_embedding(ids))
        pooled = []
        for conv in self.convs:
            # each channel through the same filters, summed (Kim's multichannel)
            out = sum(conv(x.transpose(1, 2)) for x in channels)  # [B, maps, T - width + 1]
            # a window is real when its first word is; all-pad windows never win the max
            valid = mask[:, : out.shape[2]]
            valid = valid | ~valid.any(dim=1, keepdim=True)  # an all-pad sentence keeps its windows
            out = F.relu(out).masked_fill(~valid.unsqueeze(1), float("-inf"))
            pooled.append(out.max(dim=2).values)
        return torch.cat(pooled, dim=1)

    def forward(self, ids: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits ``[B, num_classes]``; in training, ``generator`` (if given) draws the dropout mask.

        Without a generator, dropout draws from PyTorch's global generator, as ``nn.Dropout`` does.
        With one, the mask depends on that generator alone, so runs trained at the same time on
        several threads stay reproducible.
        """
        features = self.features(ids)
        rate = self.dropout.p
        if generator is None or not self.training or rate == 0.0:
            return self.linear(self.dropout(features))
        keep = torch.rand(features.shape, generator=generator, device=features.device) >= rate
        return self.linear(features * keep / (1.0 - rate))

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """The parameters that train, split into ``"embedding"`` (fine-tuned table) and ``"rest"``.

        A frozen table is in neither group. Chapters give the two groups their own learning rate.

        Taught in: 03 §7.
        """
        embedding = [self.embedding.weight] if self.embedding.weight.requires_grad else []
        rest = [p for name, p in self.named_parameters() if p.requires_grad and "embedding" not in name]
        return {"embedding": embedding, "rest": rest}


def pad_batch(sequences: Sequence[Sequence[int]], *, pad_id: int = 0, min_length: int = 5) -> torch.Tensor:
    """Sentences of token ids as one ``[B, T]`` int64 tensor, padded with ``pad_id`` to ``T >= min_length``.

    Taught in: 03 §7.
    """
    if len(sequences) == 0:
        raise ValueError("sequences must hold at least one sentence")
    length = max(min_length, max(len(s) for s in sequences))
    out = torch.full((len(sequences), length), pad_id, dtype=torch.int64)
    for i, sentence in enumerate(sequences):
        if len(sentence):
            out[i, : len(sentence)] = torch.as_tensor(list(sentence), dtype=torch.int64)
    return out
