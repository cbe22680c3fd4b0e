"""Language data into integers: tokenization, sentences, word and character vocabularies, padding.

- :func:`tokenize` lower-cases and keeps words (with inner apostrophes: ``don't``, ``it's``),
  numbers (``3``, ``2.5``, ``1,000``) and every other non-space character as its own token.
- :func:`sentences` splits a text into sentences (and lines), each a token list: gensim's
  ``Word2Vec(sentences=...)`` input.
- :class:`Vocab`: ``<pad>`` = 0, ``<unk>`` = 1, then tokens by decreasing frequency (ties in
  alphabetical order), with ``min_count`` and ``max_size``; out-of-vocabulary tokens encode to ``<unk>``.
- :func:`pad_sequences`: right padding into an ``int64 [B, T]`` array plus the true lengths.
- :class:`CharVocab`: the characters of a text, for character-level language models.

NumPy only; no framework.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["PAD", "UNK", "CharVocab", "Vocab", "pad_sequences", "sentences", "tokenize"]

PAD = "<pad>"
UNK = "<unk>"

TOKEN_PATTERN = re.compile(
    r"\d+(?:[.,]\d+)*(?![^\W_])"  # numbers: 3, 2.5, 1,000 (but "21st" is a word)
    r"|[^\W_]+(?:['’][^\W_]+)*"  # words, with inner apostrophes: don't, it's, o'clock
    r"|[^\w\s]|_",  # any other single character: punctuation, a lone apostrophe
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: words (keeping inner apostrophes), numbers, and punctuation one by one.

    >>> tokenize("It's 2.5 times better -- isn't it?")
    ["it's", '2.5', 'times', 'better', '-', '-', "isn't", 'it', '?']

    Taught in: 03 §2; also used in 05 §3.
    """
    return TOKEN_PATTERN.findall(text.lower().replace("’", "'"))


def sentences(text: str) -> list[list[str]]:
    """Split at ``.``, ``!`` or ``?`` followed by white space, and at line breaks; tokenize each piece.

    Empty pieces are dropped. Good enough for news and reviews; abbreviations ("Dr. Smith") split.

    Taught in: 03 §1; also used in 05 §3.
    """
    return [tokens for piece in _SENTENCE_END.split(text) if (tokens := tokenize(piece))]


@dataclass
class Vocab:
    """A word vocabulary: ``itos`` (id -> token) with ``<pad>`` at 0 and ``<unk>`` at 1, and ``counts``.

    Taught in: 03 §7; also used in 05 §3.
    """

    itos: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.itos[:2] != [PAD, UNK]:
            raise ValueError(f"a Vocab starts with {PAD!r}, {UNK!r}; got {self.itos[:2]}")
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("a Vocab's tokens must be unique")

    pad_id = 0
    unk_id = 1

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_count: int = 1, max_size: int | None = None) -> Vocab:
        """Count tokens; keep those seen ``min_count`` times or more, the ``max_size`` most frequent
        (``max_size`` counts regular tokens, not ``<pad>``/``<unk>``); order by frequency, then alphabetically.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0 or None, got {max_size}")
        counter: Counter[str] = Counter()
        for tokens in token_lists:
            counter.update(tokens)
        for special in (PAD, UNK):
            counter.pop(special, None)
        kept = sorted((t for t, c in counter.items() if c >= min_count), key=lambda t: (-counter[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        return cls([PAD, UNK, *kept], {t: counter[t] for t in kept})

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, self.unk_id)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token ids; unknown tokens become ``<unk>`` (1)."""
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int], skip_pad: bool = True) -> list[str]:
        """Tokens for ``ids`` (``<pad>`` dropped unless ``skip_pad=False``)."""
        return [self.itos[int(i)] for i in ids if not (skip_pad and int(i) == self.pad_id)]


def pad_sequences(
    seqs: Sequence[Sequence[int]], max_len: int | None = None, pad_id: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad ``seqs`` to ``int64 [B, T]`` (``T`` = ``max_len`` or the longest); longer ones are cut
    at the end. Returns ``(ids, lengths)`` with ``lengths`` the kept lengths, ``int64 [B]``.

    Taught in: 05 §4.
    """
    if max_len is not None and max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    width = int(lengths.max(initial=0)) if max_len is None else max_len
    ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
    for row, seq in enumerate(seqs):
        kept = list(seq[:width])
        ids[row, : len(kept)] = kept
    return ids, np.minimum(lengths, width)


@dataclass
class CharVocab:
    """Characters of a corpus, sorted, ids 0..n-1 (char-rnn style, no specials).

    Taught in: 05 §1.
    """

    chars: list[str]
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, text: str) -> CharVocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """``int64`` ids of ``text``; a character outside the vocabulary is an error naming it."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise KeyError(f"character {err.args[0]!r} is not in this CharVocab of {len(self)} characters") from None

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def oov_rate(token_lists: Sequence[Sequence[str]], vocab: Any, unk_id: int = 1) -> float:
    """Fraction of tokens that ``vocab.encode`` maps to ``<unk>`` (id 1 in ``ptft_utils.data.text.Vocab``).

    Taught in: 03 §1; also used in 05 §3.
    """
    total = unknown = 0
    for tokens in token_lists:
        ids = vocab.encode(list(tokens))
        total += len(ids)
        unknown += sum(1 for i in ids if i == unk_id)
    if total == 0:
        raise ValueError("oov_rate needs at least one token")
    return unknown / total
