"""English and Italian word vectors and a small bilingual dictionary, as gensim ships them.

Mikolov, Le & Sutskever (2013) translate words by learning a map from one language's embedding
space to another's from a seed dictionary. gensim's tests carry a miniature of that setting, which
:func:`load_bilingual_vectors` and :func:`load_translation_pairs` read:

- ``EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt`` and ``IT.1-10....txt``: word2vec text
  format, 20 words each, 300 dimensions (CBOW, window 5, negative sampling); read with gensim's
  ``KeyedVectors.load_word2vec_format``;
- ``OPUS_en_it_europarl_train_one2ten.txt``: 20 English-Italian pairs, one ``english italian``
  pair per line (the numbers one to ten, animals, fruit), every word in both vocabularies. The
  file is kept as shipped, including its one wrong pair (``fish cavallo``: *cavallo* is horse).

gensim is imported only inside the vector loader.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BILINGUAL_FILES", "TranslationPairs", "WordVectors", "load_bilingual_vectors", "load_translation_pairs"]

BILINGUAL_FILES = {
    "en": "EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt",
    "it": "IT.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt",
    "pairs": "OPUS_en_it_europarl_train_one2ten.txt",
}


@dataclass
class WordVectors:
    """``words`` and their ``vectors`` ``float32 (len(words), dim)``, row ``i`` for ``words[i]``."""

    words: list[str]
    vectors: np.ndarray
    provenance: str
    language: str = ""

    def index(self, word: str) -> int:
        """The row of ``word``; ``KeyError`` naming it if it is not in the vocabulary."""
        try:
            return self.words.index(word)
        except ValueError:
            raise KeyError(f"{word!r} is not among the {len(self.words)} {self.language} words") from None


class TranslationPairs(list):  # type: ignore[type-arg]
    """A list of ``(source, target)`` word pairs with a ``provenance`` attribute."""

    provenance: str = ""


def _gensim_test_file(filename: str) -> Path:
    spec = importlib.util.find_spec("gensim")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "test" / "test_data" / filename
        if path.is_file():
            return path
    raise FileNotFoundError(f"gensim's test data lacks {filename} (looked in {folders or 'no gensim install'})")


def _provenance(filename: str, what: str) -> str:
    return f"shipped: gensim {importlib.metadata.version('gensim')} test data {filename} ({what})"


def load_bilingual_vectors(language: str) -> WordVectors:
    """gensim's 20 English (``"en"``) or Italian (``"it"``) 300-dimensional CBOW word vectors.

    Taught in: 08 §4
    """
    if language not in ("en", "it"):
        raise ValueError(f"language must be 'en' or 'it', got {language!r}")
    from gensim.models import KeyedVectors  # lazy: gensim is slow to import

    path = _gensim_test_file(BILINGUAL_FILES[language])
    keyed = KeyedVectors.load_word2vec_format(str(path), binary=False)
    words = list(keyed.index_to_key)
    vectors = np.asarray(keyed.vectors, dtype=np.float32)
    what = f"{len(words)} words, {vectors.shape[1]} dimensions, word2vec text format"
    return WordVectors(words, vectors, _provenance(path.name, what), language)


def load_translation_pairs() -> TranslationPairs:
    """gensim's 20 English-Italian seed pairs, in file order (``[("one", "uno"), ...]``).

    Taught in: 08 §4
    """
    path = _gensim_test_file(BILINGUAL_FILES["pairs"])
    pairs = TranslationPairs()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ValueError(f"{path} line {number}: expected 'source target', got {line!r}")
        pairs.append((fields[0], fields[1]))
    pairs.provenance = _provenance(path.name, f"{len(pairs)} English-Italian word pairs")
    return pairs
