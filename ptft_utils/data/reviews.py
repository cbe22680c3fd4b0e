"""Review sentiment datasets: sentence polarity (Pang & Lee 2005) and IMDb (Maas et al. 2011).

:func:`load_polarity` gives the 10,662 sentences from the registry (``"polarity"``; the official
latin-1 tarball or UTF-8 line files) or gensim's 200 shipped ones (``"shipped"``); ``"auto"``
takes the first it can have and says which. :func:`load_imdb` reads the IMDb tarball.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

from ptft_utils.data import registry
from ptft_utils.data.corpora import decode_legacy, gensim_provenance, shipped_path
from ptft_utils.data.datasets import TextData, announce, fall_back
from ptft_utils.data.download import (
    CacheNotWritableError,
    DataUnavailableError,
    cache_path,
    fetch_result,
)

POLARITY_DATASETS = ("auto", "polarity", "shipped")


def read_polarity_lines(path: str | Path) -> list[str]:
    """The sentences of one ``rt-polarity.pos``/``.neg`` file, UTF-8 or Windows-1252, stripped."""
    return _polarity_lines(Path(path).read_bytes())


def _polarity_lines(data: bytes) -> list[str]:
    return [line.strip() for line in decode_legacy(data).splitlines() if line.strip()]


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
        except CacheNotWritableError:
            raise  # no other file or pass can help: the cache is the problem
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
        except CacheNotWritableError:
            raise
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

    Taught in: 03 §2; also used in 05 §3.
    """
    if dataset not in POLARITY_DATASETS:
        raise ValueError(f"dataset must be one of {POLARITY_DATASETS}, got {dataset!r}")
    if dataset == "polarity":
        return _load_polarity_real()
    if dataset == "auto":
        try:
            data = _load_polarity_real()
        except DataUnavailableError as err:  # an unwritable cache included (CacheNotWritableError)
            shipped = load_polarity("shipped")
            return fall_back(shipped, "sentence polarity", err, f"gensim's shipped {len(shipped)} sentences")
        announce(f"dataset='auto': using the real sentence polarity dataset ({len(data):,} sentences).")
        return data
    path = shipped_path("pang_lee_polarity")
    pos: list[str] = []
    neg: list[str] = []
    for line in _polarity_lines(path.read_bytes()):
        label, _, text = line.partition(" ")
        (pos if label == "__label__pos" else neg).append(text.strip())
    return _polarity_text_data(
        pos, neg, gensim_provenance(path.name, f"{len(pos)} positive + {len(neg)} negative sentences"), "shipped"
    )


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

    Taught in: 03 §2.
    """
    got = fetch_result("imdb-tarball")
    texts, labels = read_imdb_tarball(got.path, split)
    provenance = f"real: IMDb large movie review v1.0 {split}, {len(texts):,} reviews, from {got.describe()}"
    return TextData(texts, labels, provenance, "imdb")
