"""The typed results every loader returns, each with a ``provenance`` line.

``provenance`` says exactly what was loaded and from where, for ``rec.data(name, provenance)`` and
so for ``metrics.json``; :func:`announce` prints the visible line that ``dataset="auto"`` owes the
reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ptft_utils.data.download import (
    DataUnavailableError,
)


@dataclass
class ImageData:
    """Grey-scale images ``float32 (N, 28, 28)`` in [0, 1] and labels ``int64 (N,)``."""

    images: np.ndarray
    labels: np.ndarray
    provenance: str
    name: str = ""
    split: str = ""

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: np.ndarray | Sequence[int]) -> ImageData:
        """The images at ``indices`` (same provenance, which says what the pool was)."""
        idx = np.asarray(indices, dtype=np.int64)
        return ImageData(self.images[idx], self.labels[idx], self.provenance, self.name, self.split)


@dataclass
class TextData:
    """Labelled texts: ``texts`` (list of str) and ``labels`` ``int64 (N,)`` with 1 = positive."""

    texts: list[str]
    labels: np.ndarray
    provenance: str
    name: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: np.ndarray | Sequence[int]) -> TextData:
        idx = np.asarray(indices, dtype=np.int64)
        return TextData([self.texts[i] for i in idx], self.labels[idx], self.provenance, self.name)


@dataclass
class Corpus:
    """A raw text corpus; ``documents()`` gives its non-empty lines (one document per line in gensim's)."""

    text: str
    provenance: str
    name: str = ""

    def documents(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]

    def __len__(self) -> int:
        return len(self.text)


@dataclass
class LeeSimilarity:
    """The 50 Lee news documents and the mean human similarity of every pair (symmetric, 1 on the diagonal)."""

    documents: list[str]
    similarity: np.ndarray
    provenance: str


class WordPairs(list):  # type: ignore[type-arg]
    """A list of ``(word1, word2, score)`` with a ``provenance`` attribute."""

    provenance: str = ""


class Analogies(dict):  # type: ignore[type-arg]
    """``{section: [(a, b, c, d), ...]}`` (a is to b as c is to d) with a ``provenance`` attribute."""

    provenance: str = ""


def announce(message: str) -> None:
    """The visible line that ``dataset="auto"`` owes the reader."""
    print(message, flush=True)


def fall_back(stand_in: Any, real_name: str, err: Exception, using: str) -> Any:
    """Mark ``stand_in`` as replacing ``real_name`` (unavailable because of ``err``), say so, return it.

    The provenance starts ``stand-in for <real_name> (unavailable: <reason>)`` and the visible line
    says what is used instead, so a stand-in's result is never mistaken for the real dataset's.
    """
    reason = short_error(err)
    stand_in.provenance = f"stand-in for {real_name} (unavailable: {reason}) -> {stand_in.provenance}"
    announce(f"dataset='auto': {real_name} is not available here ({reason}); using {using}.")
    return stand_in


def short_error(err: Exception) -> str:
    if isinstance(err, DataUnavailableError):
        return err.summary()
    return str(err).splitlines()[0] if str(err) else type(err).__name__
