"""TREC question classification: the real files through the registry, from the shared mirror."""

from __future__ import annotations

import dataclasses
import functools
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ptft_utils.data import registry
from ptft_utils.data.download import DataUnavailableError
from ptft_utils.data.questions import COARSE_LABELS, FINE_LABELS, load_trec, read_trec


@pytest.fixture
def mirror(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(shared_data))
    return shared_data


@pytest.fixture
def offline_trec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point TREC's URLs at a closed loopback port, so a refused mirror copy cannot be rescued by the network."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for role in ("train", "test"):
        entry = registry.FILES[f"trec-{role}"]
        dead = dataclasses.replace(entry, urls=(f"http://127.0.0.1:{port}/{entry.filename}",))
        monkeypatch.setitem(registry.FILES, entry.key, dead)


def test_the_label_inventories_hold_6_coarse_and_50_fine_classes() -> None:
    assert COARSE_LABELS == ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    assert len(FINE_LABELS) == len(set(FINE_LABELS)) == 50
    assert {label.split(":")[0] for label in FINE_LABELS} == set(COARSE_LABELS)


def test_training_set_holds_5452_questions_in_6_coarse_and_50_fine_classes(mirror: Path) -> None:
    train = load_trec("train")
    assert len(train) == 5452 == len(train.coarse) == len(train.fine)
    assert len(np.unique(train.coarse)) == 6
    assert len(np.unique(train.fine)) == 50


def test_test_set_holds_500_questions_in_all_6_coarse_classes(mirror: Path) -> None:
    test = load_trec("test")
    assert len(test) == 500
    assert test.class_counts("coarse") == {"ABBR": 9, "DESC": 138, "ENTY": 94, "HUM": 65, "LOC": 81, "NUM": 113}


def test_class_counts_sum_to_the_number_of_questions(mirror: Path) -> None:
    train = load_trec("train")
    assert sum(train.class_counts("coarse").values()) == 5452
    assert sum(train.class_counts("fine").values()) == 5452
    fine_by_coarse = {
        c: sum(n for f, n in train.class_counts("fine").items() if f.startswith(c + ":")) for c in COARSE_LABELS
    }
    assert fine_by_coarse == train.class_counts("coarse")


def test_each_fine_label_lies_inside_its_coarse_label(mirror: Path) -> None:
    train = load_trec("train")
    coarse_of_fine = np.array([COARSE_LABELS.index(label.split(":")[0]) for label in FINE_LABELS])
    assert np.array_equal(coarse_of_fine[train.fine], train.coarse)


def test_the_mirror_training_copy_is_reported_as_the_variant(mirror: Path) -> None:
    train = load_trec("train")
    assert "re-saved variant" in train.provenance
    assert "official file" not in train.provenance.replace("variant of the official file", "")


def test_the_test_file_is_reported_as_the_official_file(mirror: Path) -> None:
    test = load_trec("test")
    assert "(official file)" in test.provenance and "variant" not in test.provenance


def test_the_one_non_ascii_byte_is_read_as_latin1(shared_data: Path) -> None:
    questions, _, _ = read_trec(shared_data / "train_5500.label")
    assert questions[65] == "Which city has the oldest relationship as a sister\u00f0city with Los Angeles ?"


def test_a_copy_with_one_changed_byte_is_refused(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline_trec: None
) -> None:
    folder = tmp_path / "mirror"
    folder.mkdir()
    data = bytearray((shared_data / "train_5500.label").read_bytes())
    data[100] ^= 0x01
    (folder / "train_5500.label").write_bytes(bytes(data))
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(folder))
    with pytest.raises(DataUnavailableError, match="checksum mismatch"):
        load_trec("train")


def test_a_line_with_an_unknown_label_is_refused_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.label"
    path.write_text("LOC:city Where is Rome ?\nPLACE:town Where is Paris ?\n")
    with pytest.raises(ValueError, match="line 2"):
        read_trec(path)


def test_an_unknown_split_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        load_trec("validation")


def test_a_copy_of_the_variant_in_a_mirror_folder_is_accepted(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline_trec: None
) -> None:
    folder = tmp_path / "mirror"
    folder.mkdir()
    shutil.copy(shared_data / "train_5500.label", folder / "train_5500.label")
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(folder))
    train = load_trec("train")
    assert len(train) == 5452 and f"mirror {folder / 'train_5500.label'}" in train.provenance


@pytest.fixture
def served_variant(shared_data: Path, tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server whose only file is the mirror's training copy; yields its base URL."""
    folder = tmp_path / "served"
    folder.mkdir()
    shutil.copy(shared_data / "train_5500.label", folder / "train_5500.label")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined,method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_download_of_the_variant_is_reported_as_a_download_of_the_variant(
    served_variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = registry.FILES["trec-train"]
    url = served_variant + "train_5500.label"
    monkeypatch.setitem(registry.FILES, entry.key, dataclasses.replace(entry, urls=(url,)))
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("PTFT_DATA_MIRROR", raising=False)
    train = load_trec("train")
    assert len(train) == 5452
    assert f"download {url}" in train.provenance and "re-saved variant" in train.provenance
    assert (tmp_path / "cache" / "trec" / "train_5500.label").is_file()
