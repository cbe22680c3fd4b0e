"""Text corpora and word-level evaluation sets: Tiny Shakespeare, gensim's shipped files.

:func:`load_text` (``"tinyshakespeare"`` from the registry, ``"lee_background"``/``"lee"`` shipped
with gensim), :func:`load_lee_similarity` (50 Lee documents with human similarity judgements),
:func:`load_word_similarity` (WordSim-353, SimLex-999) and :func:`load_analogies` (Google's
analogy questions). gensim is imported only inside the loaders that read its files.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np

from ptft_utils.data.datasets import Analogies, Corpus, LeeSimilarity, WordPairs, announce, fall_back
from ptft_utils.data.download import (
    DataUnavailableError,
    fetch_result,
)

GENSIM_FILES = {
    "lee_background": "lee_background.cor",
    "lee": "lee.cor",
    "lee_similarity": "similarities0-1.txt",
    "pang_lee_polarity": "pang_lee_polarity.cor",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
    "questions-words": "questions-words.txt",
}


def shipped_path(name: str) -> Path:
    """Path of one of gensim's shipped test files (``GENSIM_FILES`` key or file name)."""
    filename = GENSIM_FILES.get(name, name)
    if filename not in GENSIM_FILES.values():
        raise ValueError(f"unknown shipped file {name!r}; known: {', '.join(GENSIM_FILES)}")
    from gensim.test.utils import datapath  # lazy: gensim is slow to import

    path = Path(datapath(filename))
    if not path.is_file():
        raise FileNotFoundError(f"gensim's test data lacks {filename} (looked at {path})")
    return path


def gensim_provenance(filename: str, what: str) -> str:
    import gensim

    return f"shipped: gensim {gensim.__version__} test data {filename} ({what})"


def decode_legacy(data: bytes) -> str:
    """UTF-8 if valid, else Windows-1252 (what the 2005 "latin-1" polarity files really are)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="ptft-latin1-fallback")


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("ptft-latin1-fallback", _latin1_fallback)


TEXT_NAMES = ("auto", "tinyshakespeare", "lee_background", "lee")


def load_text(name: str = "tinyshakespeare") -> Corpus:
    """A raw corpus: ``"tinyshakespeare"`` (registry, 1.1 MB), ``"lee_background"`` (gensim, 300
    news articles, one per line), ``"lee"`` (gensim, the 50 documents of :func:`load_lee_similarity`)
    or ``"auto"`` (Tiny Shakespeare if obtainable, else ``lee_background``, said out loud).

    Taught in: 03 §1; also used in 05 §1.
    """
    if name not in TEXT_NAMES:
        raise ValueError(f"name must be one of {TEXT_NAMES}, got {name!r}")
    if name == "auto":
        try:
            corpus = load_text("tinyshakespeare")
        except DataUnavailableError as err:  # an unwritable cache included (CacheNotWritableError)
            return fall_back(load_text("lee_background"), "Tiny Shakespeare", err, "gensim's lee_background corpus")
        announce(f"dataset='auto': using Tiny Shakespeare ({len(corpus):,} characters).")
        return corpus
    if name == "tinyshakespeare":
        got = fetch_result("tinyshakespeare-text")
        text = got.path.read_bytes().decode("utf-8")
        return Corpus(
            text, f"real: Tiny Shakespeare (char-rnn input.txt, {len(text):,} characters) from {got.describe()}", name
        )
    path = shipped_path(name)
    text = decode_legacy(path.read_bytes())
    n_docs = sum(1 for line in text.splitlines() if line.strip())
    return Corpus(text, gensim_provenance(path.name, f"{n_docs} documents, one per line"), name)


def load_lee_similarity() -> LeeSimilarity:
    """gensim's 50 Lee documents and their mean human pairwise similarity (0..1), a (50, 50) matrix.

    The file stores the upper triangle (Lee, Pincombe & Welsh, 2005); it is mirrored here.
    """
    documents = load_text("lee").documents()
    path = shipped_path("lee_similarity")
    rows = [[float(v) for v in line.split()] for line in path.read_text().splitlines() if line.strip()]
    upper = np.triu(np.array(rows, dtype=np.float64))
    similarity = upper + upper.T - np.diag(np.diag(upper))
    if similarity.shape != (len(documents), len(documents)):
        raise ValueError(f"{path}: a {similarity.shape} matrix for {len(documents)} documents")
    return LeeSimilarity(
        documents,
        similarity,
        gensim_provenance("lee.cor + similarities0-1.txt", "50 documents, mean human similarity of each pair"),
    )


def load_word_similarity(name: str = "wordsim353", lowercase: bool = True) -> WordPairs:
    """Human word-pair similarity: ``"wordsim353"`` (353 pairs, 0..10) or ``"simlex999"`` (999 pairs, 0..10).

    Returns a list of ``(word1, word2, score)``; ``lowercase`` matches :func:`ptft_utils.data.text.tokenize`.

    Taught in: 03 §1.
    """
    if name not in ("wordsim353", "simlex999"):
        raise ValueError(f"name must be 'wordsim353' or 'simlex999', got {name!r}")
    path = shipped_path(name)
    pairs = WordPairs()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        w1, w2, score = line.split("\t")[:3]
        if lowercase:
            w1, w2 = w1.lower(), w2.lower()
        pairs.append((w1, w2, float(score)))
    pairs.provenance = gensim_provenance(path.name, f"{len(pairs)} word pairs with mean human scores")
    return pairs


def load_analogies(lowercase: bool = True) -> Analogies:
    """Mikolov et al.'s analogy questions: ``{section: [(a, b, c, d), ...]}``, 14 sections, 19,544 questions.

    Taught in: 03 §1.
    """
    path = shipped_path("questions-words")
    sections = Analogies()
    current: list[tuple[str, str, str, str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = sections.setdefault(line[1:].strip(), [])
            continue
        words = line.lower().split() if lowercase else line.split()
        if len(words) == 4 and current is not None:
            current.append((words[0], words[1], words[2], words[3]))
    n = sum(len(v) for v in sections.values())
    sections.provenance = gensim_provenance(path.name, f"{len(sections)} sections, {n:,} analogy questions")
    return sections
