"""The registry's real entries, and real data through the download code path from the shared mirror.

``PTFT_DATA_MIRROR`` points at ``../shared/data`` (skipped, visibly, when it is absent); the cache
is a fresh folder, so every file is copied into it and verified exactly as a download would be.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest

from ptft_utils import data
from ptft_utils.data import registry
from ptft_utils.data.download import DataUnavailableError, cache_status, fetch_result, verify
from ptft_utils.data.registry import Checksum


@pytest.fixture
def mirror(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(shared_data))
    return tmp_path / "cache"


@pytest.fixture
def offline_mnist_train(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point MNIST train's URLs at a closed loopback port, so 'not obtainable' does not depend on the network."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for role in ("train-images", "train-labels"):
        key = f"mnist-{role}"
        entry = registry.FILES[key]
        dead = dataclasses.replace(entry, urls=(f"http://127.0.0.1:{port}/{entry.filename}",))
        monkeypatch.setitem(registry.FILES, key, dead)


# ------------------------------------------------------------------------------------ the registry
def test_every_registry_file_has_urls_checksums_licence_and_citation() -> None:
    for key, entry in registry.FILES.items():
        assert entry.urls, key
        assert entry.checksums, key
        assert all(len(c.digest) == {"md5": 32, "sha1": 40, "sha256": 64}[c.algorithm] for c in entry.checksums), key
        assert entry.licence and entry.citation and entry.homepage, key


def test_the_registry_holds_the_datasets_the_book_names() -> None:
    assert {"mnist", "fashion-mnist", "polarity", "polarity-utf8", "tinyshakespeare", "imdb"} <= set(registry.DATASETS)
    assert set(registry.DATASETS["mnist"].files) == {"train-images", "train-labels", "test-images", "test-labels"}


def test_mirror_filenames_are_unique_and_match_the_shared_folder() -> None:
    names = [entry.mirror_filename for entry in registry.FILES.values()]
    assert len(names) == len(set(names))
    assert {
        "rt-polarity.pos",
        "rt-polarity.neg",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "tinyshakespeare.txt",
    } <= set(names)


def test_every_download_url_is_https() -> None:
    plain = [url for entry in registry.FILES.values() for url in entry.urls if not url.startswith("https://")]
    assert plain == []


def test_no_entry_accepts_an_md5_where_a_stronger_checksum_is_listed() -> None:
    for key, entry in registry.FILES.items():
        kinds = {c.algorithm for c in entry.accepted_checksums}
        assert kinds == {"md5"} or "md5" not in kinds, key
        assert entry.accepted_checksums[0].algorithm == "sha256", key  # every real entry has a SHA-256


def test_an_entry_without_a_checksum_is_refused() -> None:
    with pytest.raises(ValueError, match="no checksum"):
        registry.FileEntry("x", "x", "x.bin", ("http://example.org/x.bin",), ())


@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
def test_shared_mnist_copies_fail_the_official_md5_but_pass_on_their_payload(shared_data: Path, name: str) -> None:
    key = {"t10k-images-idx3-ubyte.gz": "mnist-test-images", "t10k-labels-idx1-ubyte.gz": "mnist-test-labels"}[name]
    matched = verify(key, shared_data / name)
    assert (matched.algorithm, matched.of) == ("sha256", "gunzip")


# ---------------------------------------------------------------------------- real data via mirror
def test_mnist_test_loads_from_the_mirror_through_the_cache(mirror: Path) -> None:
    mnist = data.load_mnist("test")

    assert mnist.images.shape == (10_000, 28, 28)
    assert mnist.images.dtype == np.float32 and mnist.labels.dtype == np.int64
    assert mnist.images.min() == 0.0 and mnist.images.max() == 1.0
    assert sorted(np.unique(mnist.labels).tolist()) == list(range(10))
    assert np.bincount(mnist.labels).tolist()[:3] == [980, 1135, 1032]  # the well-known test counts
    assert (mirror / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    assert "real: MNIST test" in mnist.provenance and "mirror" in mnist.provenance
    assert "sha256 of the gunzipped payload ok" in mnist.provenance  # which checksum passed


def test_load_images_auto_uses_real_mnist_test_and_says_so(mirror: Path, capsys) -> None:
    images = data.load_images("auto")

    assert len(images) == 10_000 and images.name == "mnist"
    assert "using real MNIST test" in capsys.readouterr().out


def test_load_images_auto_train_falls_back_to_digits_and_says_so(mirror: Path, offline_mnist_train, capsys) -> None:
    images = data.load_images("auto", split="train")

    assert images.name == "digits" and len(images) == 1797
    assert images.provenance.startswith("stand-in for MNIST train")
    assert "ConnectionRefusedError" in images.provenance
    assert "using the shipped stand-in" in capsys.readouterr().out


def test_explicit_mnist_that_cannot_be_had_is_an_error(mirror: Path, offline_mnist_train) -> None:
    with pytest.raises(DataUnavailableError, match="train-images-idx3-ubyte.gz"):
        data.load_images("mnist", split="train")


def test_polarity_loads_5331_positive_and_5331_negative_sentences(mirror: Path) -> None:
    polarity = data.load_polarity("polarity")

    assert len(polarity) == 10_662
    assert int(polarity.labels.sum()) == 5331 and int((polarity.labels == 0).sum()) == 5331
    assert polarity.texts[0].startswith("the rock is destined to be the 21st century's new")
    assert all(text == text.strip() and text for text in polarity.texts)
    assert (mirror / "polarity-utf8" / "rt-polarity.pos").is_file()


def test_the_official_latin1_tarball_yields_the_same_sentences(mirror: Path, shared_data: Path, tmp_path) -> None:
    tarball = tmp_path / "rt-polaritydata.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        for ext in ("pos", "neg"):
            legacy = (shared_data / f"rt-polarity.{ext}").read_text(encoding="utf-8").encode("cp1252")
            info = tarfile.TarInfo(f"rt-polaritydata/rt-polarity.{ext}")
            info.size = len(legacy)
            archive.addfile(info, io.BytesIO(legacy))
    legacy_pos = (shared_data / "rt-polarity.pos").read_text(encoding="utf-8").encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        legacy_pos.decode("utf-8")  # the fixture really is in the legacy encoding

    pos, neg = data.read_polarity_tarball(tarball)
    real = data.load_polarity("polarity")

    assert (len(pos), len(neg)) == (5331, 5331)
    assert pos + neg == real.texts
    assert any("é" in text for text in pos)


def test_tiny_shakespeare_loads_from_the_mirror(mirror: Path) -> None:
    corpus = data.load_text("tinyshakespeare")

    assert len(corpus.text) == 1_115_394
    assert corpus.text.startswith("First Citizen:")
    assert "real: Tiny Shakespeare" in corpus.provenance
    assert (mirror / "tinyshakespeare" / "input.txt").is_file()


def test_a_corrupted_cached_mnist_file_is_replaced_from_the_mirror(mirror: Path, caplog) -> None:
    first = data.load_mnist("test")
    cached = mirror / "mnist" / "t10k-images-idx3-ubyte.gz"
    blob = bytearray(cached.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    cached.write_bytes(bytes(blob))

    with caplog.at_level(logging.WARNING, logger="ptft_utils.data.download"):
        second = data.load_mnist("test")

    assert any("failed its checksum, fetching again" in r.getMessage() for r in caplog.records)
    assert np.array_equal(first.images, second.images)
    assert verify("mnist-test-images", cached).of == "gunzip"
    assert fetch_result("mnist-test-images").origin == "cache"


def test_cache_status_tells_cached_from_mirror_from_missing(mirror: Path) -> None:
    data.load_text("tinyshakespeare")

    status = {row["key"]: row for row in cache_status()}

    assert status["tinyshakespeare-text"]["status"] == "cached"
    assert status["mnist-test-images"]["status"] == "in mirror"
    assert status["mnist-train-images"]["status"] == "not cached; mirror has no copy -> missing"
    assert status["mnist-train-images"]["path"] == str(mirror / "mnist" / "train-images-idx3-ubyte.gz")
    assert set(status) == set(registry.FILES)


def test_cache_status_says_a_corrupt_mirror_copy_fails_its_checksum(tmp_path: Path, monkeypatch) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "tinyshakespeare.txt").write_bytes(b"First Citizen: not the whole play")
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(mirror))
    actual = hashlib.sha256(b"First Citizen: not the whole play").hexdigest()

    row = {row["key"]: row for row in cache_status()}["tinyshakespeare-text"]

    assert row["status"] == f"not cached; mirror copy fails its checksum (sha256 {actual}) -> missing"
    assert registry.FILES["tinyshakespeare-text"].checksums[0].digest in str(row["note"])  # what it should be


def test_cache_status_says_a_corrupt_cached_copy_is_replaced_from_the_mirror(mirror: Path) -> None:
    data.load_text("tinyshakespeare")
    (mirror / "tinyshakespeare" / "input.txt").write_bytes(b"truncated")

    row = {row["key"]: row for row in cache_status()}["tinyshakespeare-text"]

    assert row["status"] == (
        f"cached copy corrupt: fails its checksum (sha256 {hashlib.sha256(b'truncated').hexdigest()}); "
        "the next load replaces it from the mirror -> in mirror"
    )
    assert str(row["path"]).endswith("tinyshakespeare.txt")  # the copy the next load will use


def test_imdb_loads_through_the_registry_from_a_fixture_tarball(tmp_path: Path, monkeypatch) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    tarball = mirror / "aclImdb_v1.tar.gz"
    reviews = {
        "aclImdb/train/pos/1_9.txt": "Great.<br />Loved it.",
        "aclImdb/train/pos/0_10.txt": "A masterpiece.",
        "aclImdb/train/neg/0_2.txt": "Dull.",
        "aclImdb/train/unsup/0_0.txt": "No label.",
        "aclImdb/test/neg/0_1.txt": "Awful.",
    }
    with tarfile.open(tarball, "w:gz") as archive:
        for name, text in reviews.items():
            blob = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    entry = dataclasses.replace(
        registry.FILES["imdb-tarball"], urls=("http://127.0.0.1:9/none",), checksums=(Checksum("sha256", digest),)
    )
    monkeypatch.setitem(registry.FILES, "imdb-tarball", entry)
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(mirror))

    train = data.load_imdb("train")

    assert train.texts == ["A masterpiece.", "Great.\nLoved it.", "Dull."]
    assert train.labels.tolist() == [1, 1, 0]
    assert (tmp_path / "cache" / "imdb" / "aclImdb_v1.tar.gz").is_file()
    assert data.load_imdb("test").texts == ["Awful."]
