"""The book's datasets: shipped stand-ins that always work offline, registry data, and splits.

Every loader returns typed data with a ``provenance`` string saying exactly what was loaded and
from where, for ``rec.data(name, data.provenance)`` and so for ``metrics.json``.

Shipped (no network, ever):

- :func:`load_digits28`: scikit-learn's 1,797 8x8 digits, upsampled to 28x28 so that models built
  for MNIST run unchanged.
- gensim's test corpora and evaluation sets, located with ``gensim.test.utils.datapath``:
  :func:`load_text` (``"lee_background"``, ``"lee"``), :func:`load_lee_similarity` (the 50 Lee
  documents with human similarity judgements), :func:`load_polarity` (``dataset="shipped"``: 200
  sentences), :func:`load_word_similarity` (WordSim-353, SimLex-999), :func:`load_analogies`.

From the registry (cache, ``PTFT_DATA_MIRROR``, download; see :mod:`ptft_utils.download`):
:func:`load_mnist`, :func:`load_fashion_mnist`, :func:`load_polarity` (``"polarity"``: 10,662
sentences), :func:`load_text` (``"tinyshakespeare"``).

``dataset="auto"`` means the real dataset when it can be had, else the shipped stand-in, and the
choice is printed and written into ``provenance``. Naming the real dataset explicitly makes
unavailability an error (:class:`DataUnavailableError`), never a silent fallback.

Note on ``load_images("auto", split="test")`` (the default): MNIST's *test* file holds 10,000 real
labelled images and is in the shared mirror, so chapters use it as a labelled pool and make their
own train/validation/test splits with :func:`train_val_test_split` and :func:`k_shot_indices`.
MNIST *train* (60,000 images) needs a download; offline, ``load_images("auto", split="train")``
falls back to the digits in well under a second.

Splits used across chapters: :func:`class_partition` (source vs. target classes for transfer),
:func:`k_shot_indices` (stratified, seeded, nested in ``k``), :func:`train_val_test_split`
(disjoint, optionally stratified).

This module imports no deep-learning framework (nor gensim, except inside the gensim loaders).
"""

from __future__ import annotations

import codecs
import functools
import gzip
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import registry
from .download import (
    ChecksumError,
    DataUnavailableError,
    cache_dir,
    cache_path,
    cache_status,
    fetch,
    fetch_result,
    mirror_location,
    verify,
)

__all__ = [
    "ChecksumError",
    "Corpus",
    "DataUnavailableError",
    "ImageData",
    "LeeSimilarity",
    "TextData",
    "WordPairs",
    "Analogies",
    "cache_dir",
    "cache_path",
    "cache_status",
    "class_partition",
    "fetch",
    "fetch_result",
    "k_shot_indices",
    "load_analogies",
    "load_digits28",
    "load_fashion_mnist",
    "load_images",
    "load_imdb",
    "load_lee_similarity",
    "load_mnist",
    "load_polarity",
    "load_text",
    "load_word_similarity",
    "read_imdb_tarball",
    "read_polarity_lines",
    "read_polarity_tarball",
    "mirror_location",
    "shipped_path",
    "train_val_test_split",
    "verify",
]


# ------------------------------------------------------------------------------------------ types
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


def _say(message: str) -> None:
    """The visible line that ``dataset="auto"`` owes the reader."""
    print(message, flush=True)


def _short(err: Exception) -> str:
    if isinstance(err, DataUnavailableError):
        return err.summary()
    return str(err).splitlines()[0] if str(err) else type(err).__name__


# --------------------------------------------------------------------------------- shipped: digits
def _upsample_matrix(size_in: int, size_out: int) -> np.ndarray:
    """Bilinear interpolation weights (pixel centres aligned), shape (size_out, size_in)."""
    centres = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    centres = np.clip(centres, 0, size_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    frac = centres - low
    weights = np.zeros((size_out, size_in))
    weights[np.arange(size_out), low] += 1 - frac
    weights[np.arange(size_out), high] += frac
    return weights


@functools.lru_cache(maxsize=1)
def _digits28_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = digits.images.astype(np.float64) / 16.0  # (1797, 8, 8), values 0..16 -> [0, 1]
    weights = _upsample_matrix(8, 20)
    box = np.einsum("ij,njk,lk->nil", weights, small, weights)  # 20x20, like MNIST's digit box
    images = np.zeros((small.shape[0], 28, 28), dtype=np.float32)
    images[:, 4:24, 4:24] = np.clip(box, 0.0, 1.0)
    images.setflags(write=False)
    labels = digits.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def load_digits28() -> ImageData:
    """scikit-learn's 1,797 handwritten digits as ``float32 (1797, 28, 28)`` in [0, 1], labels 0..9.

    Each 8x8 image (16 grey levels) is scaled to [0, 1], upsampled bilinearly to 20x20 and centred
    in a 28x28 frame with a 4-pixel margin, the layout of MNIST (digits in a 20x20 box). Shipped
    with scikit-learn: always offline. There is no official split: chapters split it themselves.
    """
    images, labels = _digits28_arrays()
    return ImageData(
        images.copy(),
        labels.copy(),
        "shipped: sklearn.datasets.load_digits (UCI optical digits, 1,797 images 8x8) "
        "upsampled bilinearly to 20x20 and centred in 28x28",
        name="digits",
        split="all",
    )


# ---------------------------------------------------------------------------------- MNIST (IDX files)
def _read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Parse a (gzipped) IDX file: big-endian header, then unsigned bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path} is not an IDX file of the expected kind (magic {magic}, expected {expected_magic})")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} holds {data.size} values; its header promises {dims}")
    return data.reshape(dims)


def _load_idx_pair(dataset: str, split: str, title: str) -> ImageData:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images_got = fetch_result(f"{dataset}-{split}-images")
    labels_got = fetch_result(f"{dataset}-{split}-labels")
    images = _read_idx(images_got.path, 2051).astype(np.float32) / 255.0
    labels = _read_idx(labels_got.path, 2049).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{dataset} {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    provenance = (
        f"real: {title} {split}, {len(labels):,} images 28x28 "
        f"(images from {images_got.describe()}; labels from {labels_got.describe()})"
    )
    return ImageData(images, labels, provenance, name=dataset, split=split)


def load_mnist(split: str = "test") -> ImageData:
    """MNIST ``split`` ("train": 60,000, "test": 10,000) as ``float32 (N, 28, 28)`` in [0, 1], labels 0..9.

    From the cache, ``PTFT_DATA_MIRROR`` or a download (checksums verified). Raises
    :class:`DataUnavailableError` if none works. The shared mirror holds only the test files.
    """
    return _load_idx_pair("mnist", split, "MNIST")


def load_fashion_mnist(split: str = "test") -> ImageData:
    """Fashion-MNIST ``split``: 10 clothing classes, same format as :func:`load_mnist`."""
    return _load_idx_pair("fashion-mnist", split, "Fashion-MNIST")


IMAGE_DATASETS = ("auto", "mnist", "digits", "fashion-mnist")


def load_images(dataset: str = "auto", split: str = "test") -> ImageData:
    """Images for a chapter: ``"mnist"``, ``"fashion-mnist"``, ``"digits"`` or ``"auto"``.

    ``"auto"`` loads MNIST ``split`` when it can be had (cache, mirror, download; offline the
    download fails within milliseconds) and otherwise the shipped digits; either way it prints one
    line saying which, and the provenance records it. ``"digits"`` has no official split: every
    ``split`` returns the whole 1,797-image pool. The default, ``split="test"``, gives 10,000 real
    MNIST images wherever the shared mirror is set: use them as a labelled pool and split them.
    """
    if dataset not in IMAGE_DATASETS:
        raise ValueError(f"dataset must be one of {IMAGE_DATASETS}, got {dataset!r}")
    if dataset == "mnist":
        return load_mnist(split)
    if dataset == "fashion-mnist":
        return load_fashion_mnist(split)
    if dataset == "digits":
        return load_digits28()
    try:
        data = load_mnist(split)
    except DataUnavailableError as err:
        digits = load_digits28()
        reason = _short(err)
        digits.provenance = f"stand-in for MNIST {split} (unavailable: {reason}) -> {digits.provenance}"
        _say(
            f"dataset='auto': MNIST {split} is not available here ({reason}); "
            f"using the shipped stand-in, sklearn digits upsampled to 28x28 ({len(digits):,} images)."
        )
        return digits
    _say(f"dataset='auto': using real MNIST {split} ({len(data):,} images).")
    return data


# ----------------------------------------------------------------------------------- gensim shipped
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


def _gensim_provenance(filename: str, what: str) -> str:
    import gensim

    return f"shipped: gensim {gensim.__version__} test data {filename} ({what})"


def _decode_legacy(data: bytes) -> str:
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


# ------------------------------------------------------------------------------------------- text
TEXT_NAMES = ("auto", "tinyshakespeare", "lee_background", "lee")


def load_text(name: str = "tinyshakespeare") -> Corpus:
    """A raw corpus: ``"tinyshakespeare"`` (registry, 1.1 MB), ``"lee_background"`` (gensim, 300
    news articles, one per line), ``"lee"`` (gensim, the 50 documents of :func:`load_lee_similarity`)
    or ``"auto"`` (Tiny Shakespeare if obtainable, else ``lee_background``, said out loud).
    """
    if name not in TEXT_NAMES:
        raise ValueError(f"name must be one of {TEXT_NAMES}, got {name!r}")
    if name == "auto":
        try:
            corpus = load_text("tinyshakespeare")
        except DataUnavailableError as err:
            corpus = load_text("lee_background")
            corpus.provenance = f"stand-in for Tiny Shakespeare (unavailable: {_short(err)}) -> {corpus.provenance}"
            _say("dataset='auto': Tiny Shakespeare is not available here; using gensim's lee_background corpus.")
            return corpus
        _say(f"dataset='auto': using Tiny Shakespeare ({len(corpus):,} characters).")
        return corpus
    if name == "tinyshakespeare":
        got = fetch_result("tinyshakespeare-text")
        text = got.path.read_bytes().decode("utf-8")
        return Corpus(
            text, f"real: Tiny Shakespeare (char-rnn input.txt, {len(text):,} characters) from {got.describe()}", name
        )
    path = shipped_path(name)
    text = _decode_legacy(path.read_bytes())
    n_docs = sum(1 for line in text.splitlines() if line.strip())
    return Corpus(text, _gensim_provenance(path.name, f"{n_docs} documents, one per line"), name)


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
        _gensim_provenance("lee.cor + similarities0-1.txt", "50 documents, mean human similarity of each pair"),
    )


def load_word_similarity(name: str = "wordsim353", lowercase: bool = True) -> WordPairs:
    """Human word-pair similarity: ``"wordsim353"`` (353 pairs, 0..10) or ``"simlex999"`` (999 pairs, 0..10).

    Returns a list of ``(word1, word2, score)``; ``lowercase`` matches :func:`ptft_utils.text.tokenize`.
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
    pairs.provenance = _gensim_provenance(path.name, f"{len(pairs)} word pairs with mean human scores")
    return pairs


def load_analogies(lowercase: bool = True) -> Analogies:
    """Mikolov et al.'s analogy questions: ``{section: [(a, b, c, d), ...]}``, 14 sections, 19,544 questions."""
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
    sections.provenance = _gensim_provenance(path.name, f"{len(sections)} sections, {n:,} analogy questions")
    return sections


# --------------------------------------------------------------------------------------- polarity
POLARITY_DATASETS = ("auto", "polarity", "shipped")


def read_polarity_lines(path: str | Path) -> list[str]:
    """The sentences of one ``rt-polarity.pos``/``.neg`` file, UTF-8 or Windows-1252, stripped."""
    return _polarity_lines(Path(path).read_bytes())


def _polarity_lines(data: bytes) -> list[str]:
    return [line.strip() for line in _decode_legacy(data).splitlines() if line.strip()]


def read_polarity_tarball(path: str | Path) -> tuple[list[str], list[str]]:
    """(positive, negative) sentences from the official ``rt-polaritydata.tar.gz`` (any encoding)."""
    path = Path(path)
    found: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            for ext in ("pos", "neg"):
                if member.isfile() and member.name.endswith(f"rt-polarity.{ext}"):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        found[ext] = handle.read()
    missing = {"pos", "neg"} - set(found)
    if missing:
        raise ValueError(f"{path} lacks rt-polarity.{'/'.join(sorted(missing))}")
    return _polarity_lines(found["pos"]), _polarity_lines(found["neg"])


def _polarity_text_data(pos: list[str], neg: list[str], provenance: str, name: str) -> TextData:
    labels = np.concatenate([np.ones(len(pos), dtype=np.int64), np.zeros(len(neg), dtype=np.int64)])
    return TextData(pos + neg, labels, provenance, name)


def _load_polarity_real() -> TextData:
    """The 10,662 sentences, from the flat UTF-8 copies or the official tarball (local sources first)."""
    errors: list[DataUnavailableError] = []
    for network in (False, True):
        try:
            pos_got = fetch_result("polarity-utf8-pos", network=network)
            neg_got = fetch_result("polarity-utf8-neg", network=network)
        except DataUnavailableError as err:
            errors.append(err)
        else:
            return _polarity_text_data(
                _polarity_lines(pos_got.path.read_bytes()),
                _polarity_lines(neg_got.path.read_bytes()),
                f"real: sentence polarity dataset v1.0 (Pang & Lee 2005), UTF-8 rt-polarity.pos from "
                f"{pos_got.describe()}, rt-polarity.neg from {neg_got.describe()}",
                "polarity",
            )
        try:
            tar_got = fetch_result("polarity-tarball", network=network)
        except DataUnavailableError as err:
            errors.append(err)
        else:
            pos, neg = read_polarity_tarball(tar_got.path)
            return _polarity_text_data(
                pos,
                neg,
                f"real: sentence polarity dataset v1.0 (Pang & Lee 2005), official rt-polaritydata.tar.gz "
                f"(Windows-1252 text) from {tar_got.describe()}",
                "polarity",
            )
    final = errors[-2:]  # the network pass: the UTF-8 pair, then the tarball
    neg_entry = registry.get("polarity-utf8-neg")
    message = (
        "The sentence polarity dataset v1.0 could not be obtained. Either place the two UTF-8 files "
        "rt-polarity.pos and rt-polarity.neg, or the official tarball:\n\n"
        f"{final[0]}\n(rt-polarity.neg likewise: place it at {cache_path(neg_entry)}; it must match "
        f"{neg_entry.describe_checksums()}.)\n\n{final[-1]}"
    )
    raise DataUnavailableError(
        message,
        dataset="polarity",
        attempts=tuple(a for err in final for a in err.attempts),
        target=final[-1].target,
        checksum=" / ".join(err.checksum for err in final),
    )


def load_polarity(dataset: str = "auto") -> TextData:
    """Movie-review sentences labelled positive (1) or negative (0); positives first, then negatives.

    - ``"polarity"``: the sentence polarity dataset v1.0, 5,331 + 5,331 = 10,662 sentences, from
      the flat UTF-8 copies (``rt-polarity.pos/.neg``, as in the shared mirror) or the official
      tarball ``rt-polaritydata.tar.gz`` (Windows-1252, decoded to the same text); cache and
      mirror are tried before any network.
    - ``"shipped"``: gensim's ``pang_lee_polarity.cor``, 100 + 100 sentences from the same data.
    - ``"auto"``: the real set if obtainable, else the shipped one, said out loud.
    Sentences are lower-cased and tokenised by the dataset's authors (tokens separated by spaces).
    """
    if dataset not in POLARITY_DATASETS:
        raise ValueError(f"dataset must be one of {POLARITY_DATASETS}, got {dataset!r}")
    if dataset == "polarity":
        return _load_polarity_real()
    if dataset == "auto":
        try:
            data = _load_polarity_real()
        except DataUnavailableError as err:
            shipped = load_polarity("shipped")
            shipped.provenance = f"stand-in for sentence polarity (unavailable: {_short(err)}) -> {shipped.provenance}"
            _say(
                f"dataset='auto': the sentence polarity dataset is not available here; "
                f"using gensim's shipped {len(shipped)} sentences."
            )
            return shipped
        _say(f"dataset='auto': using the real sentence polarity dataset ({len(data):,} sentences).")
        return data
    path = shipped_path("pang_lee_polarity")
    pos: list[str] = []
    neg: list[str] = []
    for line in _polarity_lines(path.read_bytes()):
        label, _, text = line.partition(" ")
        (pos if label == "__label__pos" else neg).append(text.strip())
    return _polarity_text_data(
        pos, neg, _gensim_provenance(path.name, f"{len(pos)} positive + {len(neg)} negative sentences"), "shipped"
    )


# ------------------------------------------------------------------------------------------- IMDb
def read_imdb_tarball(path: str | Path, split: str = "train") -> tuple[list[str], np.ndarray]:
    """Reviews and labels (1 = positive) of ``aclImdb/<split>/{pos,neg}/*.txt`` in ``aclImdb_v1.tar.gz``.

    Reviews are sorted by file name within each class (positives first) so the order is stable;
    ``<br />`` tags are replaced by newlines. Unlabelled reviews (``train/unsup``) are skipped.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    found: dict[str, list[tuple[str, str]]] = {"pos": [], "neg": []}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if (
                member.isfile()
                and len(parts) == 4
                and parts[1] == split
                and parts[2] in found
                and parts[3].endswith(".txt")
            ):
                handle = archive.extractfile(member)
                if handle is not None:
                    text = handle.read().decode("utf-8", errors="replace").replace("<br />", "\n")
                    found[parts[2]].append((parts[3], text))
    texts = [text for _, text in sorted(found["pos"])] + [text for _, text in sorted(found["neg"])]
    labels = np.concatenate([np.ones(len(found["pos"]), np.int64), np.zeros(len(found["neg"]), np.int64)])
    return texts, labels


def load_imdb(split: str = "train") -> TextData:
    """The IMDb large movie review set (Maas et al., 2011): 25,000 reviews per split, half positive.

    An 84 MB download (registry ``imdb-tarball``; not in the shared mirror), so use it on the
    ``full`` profile; reading the tarball takes several seconds.
    """
    got = fetch_result("imdb-tarball")
    texts, labels = read_imdb_tarball(got.path, split)
    provenance = f"real: IMDb large movie review v1.0 {split}, {len(texts):,} reviews, from {got.describe()}"
    return TextData(texts, labels, provenance, "imdb")


# ------------------------------------------------------------------------------------------ splits
def class_partition(labels: np.ndarray | Sequence[int], source_classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of samples whose label is in ``source_classes`` and of all the others (both sorted).

    The transfer chapters pretrain on the source classes and fine-tune on the target ones.
    """
    labels = np.asarray(labels)
    in_source = np.isin(labels, np.asarray(list(source_classes)))
    return np.flatnonzero(in_source).astype(np.int64), np.flatnonzero(~in_source).astype(np.int64)


def k_shot_indices(
    labels: np.ndarray | Sequence[int],
    k: int,
    seed: int,
    classes: Sequence[int] | None = None,
    pool: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """``k`` indices per class, drawn without replacement with ``seed``; sorted, into ``labels``.

    ``classes`` defaults to every class present (in ``pool``); ``pool`` restricts the draw to those
    indices (e.g. a training split). Each class is shuffled once per seed and its first ``k`` are
    taken, so for one seed the sets are nested: the 5-shot set contains the 1-shot set. A class
    with fewer than ``k`` samples is an error.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    labels = np.asarray(labels)
    candidates = np.arange(len(labels)) if pool is None else np.asarray(pool, dtype=np.int64)
    wanted = np.unique(labels[candidates]) if classes is None else np.asarray(list(classes))
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in sorted(wanted.tolist()):
        members = candidates[labels[candidates] == cls]
        if len(members) < k:
            raise ValueError(f"class {cls} has {len(members)} samples, fewer than k={k}")
        chosen.append(rng.permutation(members)[:k])
    return np.sort(np.concatenate(chosen)).astype(np.int64) if chosen else np.zeros(0, dtype=np.int64)


def _split_counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Largest-remainder rounding of ``n * fractions`` (sums to ``n``)."""
    raw = [n * f for f in fractions]
    counts = [int(np.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def train_val_test_split(
    n: int,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    stratify: np.ndarray | Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``range(n)`` into disjoint train/validation/test index arrays (each sorted) covering all of it.

    ``fractions`` are three non-negative numbers summing to 1. With ``stratify`` (labels of length
    ``n``) every class is split in those proportions, so class balance is kept in every part.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    rng = np.random.default_rng(seed)
    if stratify is None:
        groups = [np.arange(n)]
    else:
        strata = np.asarray(stratify)
        if strata.shape[0] != n:
            raise ValueError(f"stratify has {strata.shape[0]} labels for n={n}")
        groups = [np.flatnonzero(strata == c) for c in np.unique(strata)]
    parts: list[list[np.ndarray]] = [[], [], []]
    for group in groups:
        shuffled = rng.permutation(group)
        counts = _split_counts(len(group), fractions)
        bounds = np.cumsum([0, *counts])
        for i in range(3):
            parts[i].append(shuffled[bounds[i] : bounds[i + 1]])
    train, val, test = (np.sort(np.concatenate([np.zeros(0, np.int64), *p])).astype(np.int64) for p in parts)
    return train, val, test
