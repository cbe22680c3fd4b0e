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

From the registry (cache, ``PTFT_DATA_MIRROR``, download; see :mod:`ptft_utils.data.download`):
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

This package imports no deep-learning framework (nor gensim, except inside the gensim loaders).
Modules: ``registry`` and ``download`` (verified, locked, resumable fetches), ``datasets`` (the
typed results), ``images``, ``corpora``, ``reviews``, ``splits`` and ``tokens``.
For chapter 08's text applications: ``questions`` (TREC), ``newsgroups`` (gensim's mini_newsgroup,
20 Newsgroups) and ``bilingual`` (gensim's English/Italian vectors and seed dictionary).
"""

from ptft_utils.data.bilingual import TranslationPairs, WordVectors, load_bilingual_vectors, load_translation_pairs
from ptft_utils.data.corpora import load_analogies, load_lee_similarity, load_text, load_word_similarity, shipped_path
from ptft_utils.data.datasets import Analogies, Corpus, ImageData, LeeSimilarity, TextData, WordPairs
from ptft_utils.data.download import (
    ChecksumError,
    DataUnavailableError,
    cache_dir,
    cache_path,
    cache_status,
    fetch,
    fetch_dataset,
    fetch_result,
    mirror_location,
    package_archive,
    verify,
)
from ptft_utils.data.images import load_digits28, load_fashion_mnist, load_images, load_mnist
from ptft_utils.data.newsgroups import NewsgroupData, load_mini_newsgroup, load_newsgroups, read_newsgroups_tarball
from ptft_utils.data.questions import QuestionData, load_trec, read_trec
from ptft_utils.data.reviews import (
    load_imdb,
    load_polarity,
    read_imdb_tarball,
    read_polarity_lines,
    read_polarity_tarball,
)
from ptft_utils.data.splits import class_partition, k_shot_indices, train_val_test_split

__all__ = [
    "Analogies",
    "ChecksumError",
    "Corpus",
    "DataUnavailableError",
    "ImageData",
    "LeeSimilarity",
    "NewsgroupData",
    "QuestionData",
    "TextData",
    "TranslationPairs",
    "WordPairs",
    "WordVectors",
    "cache_dir",
    "cache_path",
    "cache_status",
    "class_partition",
    "fetch",
    "fetch_dataset",
    "fetch_result",
    "k_shot_indices",
    "load_analogies",
    "load_bilingual_vectors",
    "load_digits28",
    "load_fashion_mnist",
    "load_images",
    "load_imdb",
    "load_lee_similarity",
    "load_mini_newsgroup",
    "load_mnist",
    "load_newsgroups",
    "load_polarity",
    "load_text",
    "load_translation_pairs",
    "load_trec",
    "load_word_similarity",
    "mirror_location",
    "package_archive",
    "read_imdb_tarball",
    "read_newsgroups_tarball",
    "read_polarity_lines",
    "read_polarity_tarball",
    "read_trec",
    "shipped_path",
    "train_val_test_split",
    "verify",
]
