"""Newsgroup posts: the restricted unpickler, gensim's mini_newsgroup, and the bydate tarball reader."""

from __future__ import annotations

import builtins
import collections
import dataclasses
import hashlib
import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from ptft_utils.data import registry
from ptft_utils.data.newsgroups import (
    MINI_NEWSGROUP_GLOBALS,
    load_mini_newsgroup,
    load_newsgroups,
    mini_newsgroup_path,
    read_mini_newsgroup,
    read_newsgroups_tarball,
)
from ptft_utils.data.registry import Checksum
from ptft_utils.kit.safe_pickle import globals_named, restricted_loads


class _OpensAFile:
    """Pickles as a call to ``builtins.open(path, "w")``: if it ever ran, the file would exist."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (builtins.open, (str(self.path), "w"))


# ------------------------------------------------------------------------------ the unpickler
@pytest.mark.parametrize(
    ("payload", "refused"),
    [
        (pickle.dumps(os.system, protocol=0), f"{os.system.__module__}.system"),
        (pickle.dumps(builtins.eval, protocol=2), "__builtin__.eval"),
        (pickle.dumps(builtins.eval, protocol=4), "builtins.eval"),
        (pickle.dumps(collections.OrderedDict(a=1), protocol=5), "collections.OrderedDict"),
    ],
)
def test_the_unpickler_refuses_a_global_outside_the_allow_list_by_name(payload: bytes, refused: str) -> None:
    with pytest.raises(pickle.UnpicklingError, match=f"refused to load global {refused}"):
        restricted_loads(payload, {("__builtin__", "dict"): dict})


def test_a_refused_call_never_runs(tmp_path: Path) -> None:
    target = tmp_path / "created"
    with pytest.raises(pickle.UnpicklingError, match="refused to load global io.open"):
        restricted_loads(pickle.dumps(_OpensAFile(target)), {})
    assert not target.exists()


def test_mini_newsgroups_allow_list_refuses_anything_else() -> None:
    allowed = dict.fromkeys(MINI_NEWSGROUP_GLOBALS, dict)
    with pytest.raises(pickle.UnpicklingError, match=f"refused to load global {os.system.__module__}.system"):
        restricted_loads(pickle.dumps(os.system, protocol=0), allowed)


def test_an_allowed_global_resolves_to_its_stand_in() -> None:
    loaded = restricted_loads(pickle.dumps(collections.OrderedDict(a=1, b=2)), {("collections", "OrderedDict"): dict})
    assert type(loaded) is dict and loaded == {"a": 1, "b": 2}


def test_globals_named_reads_every_global_without_running_anything(tmp_path: Path) -> None:
    payload = pickle.dumps([os.path.join, collections.Counter, _OpensAFile(tmp_path / "x")], protocol=5)
    assert globals_named(payload) == [
        (os.path.join.__module__, "join"),
        ("collections", "Counter"),
        ("io", "open"),
    ]
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------- mini_newsgroup
def test_mini_newsgroup_names_exactly_the_six_allowed_globals() -> None:
    data = zlib.decompress(mini_newsgroup_path().read_bytes())
    assert set(globals_named(data)) == set(MINI_NEWSGROUP_GLOBALS)
    assert len(MINI_NEWSGROUP_GLOBALS) == 6


def test_mini_newsgroup_holds_200_posts_in_2_groups() -> None:
    mini = load_mini_newsgroup()
    assert len(mini) == 200 and mini.labels.shape == (200,)
    assert mini.target_names == ["alt.atheism", "sci.space"]
    assert np.bincount(mini.labels).tolist() == [100, 100]
    assert "restricted unpickler" in mini.provenance


def test_mini_newsgroup_labels_agree_with_each_posts_newsgroups_header() -> None:
    mini = load_mini_newsgroup()
    headers = [text.split("\n\n", 1)[0] for text in mini.texts]
    assert all(("alt.atheism" in header) == (label == 0) for header, label in zip(headers, mini.labels, strict=True))


def test_a_tampered_mini_newsgroup_is_refused(tmp_path: Path) -> None:
    data = zlib.decompress(mini_newsgroup_path().read_bytes())
    tampered = data.replace(b"csklearn.datasets.base\nBunch", b"cposix\nsystem", 1)
    path = tmp_path / "mini_newsgroup"
    path.write_bytes(zlib.compress(tampered))
    with pytest.raises(pickle.UnpicklingError, match="posix.system"):
        read_mini_newsgroup(path)


# --------------------------------------------------------------------------- the bydate tarball
def _tiny_bydate(path: Path) -> Path:
    posts = {
        "20news-bydate-train/sci.space/2": "Subject: orbit\n\nThe shuttle reached orbit.",
        "20news-bydate-train/sci.space/1": "Subject: moon\n\nThe moon is far.",
        "20news-bydate-train/alt.atheism/7": "Subject: belief\n\nCaf\xe9 discussion.",
        "20news-bydate-test/sci.space/9": "Subject: mars\n\nMars next.",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, text in posts.items():
            body = text.encode("latin-1")
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return path


def test_the_tarball_reader_sorts_groups_and_posts_and_decodes_latin1(tmp_path: Path) -> None:
    texts, labels, names = read_newsgroups_tarball(_tiny_bydate(tmp_path / "t.tar.gz"), "train")
    assert names == ["alt.atheism", "sci.space"]
    assert labels.tolist() == [0, 1, 1]
    assert texts[0].endswith("Caf\xe9 discussion.") and texts[1].startswith("Subject: moon")


def test_the_tarball_reader_keeps_the_splits_apart(tmp_path: Path) -> None:
    texts, labels, names = read_newsgroups_tarball(_tiny_bydate(tmp_path / "t.tar.gz"), "test")
    assert (texts, labels.tolist(), names) == (["Subject: mars\n\nMars next."], [0], ["sci.space"])


def test_load_newsgroups_reads_the_registry_file_from_a_mirror_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mirror"
    folder.mkdir()
    tarball = _tiny_bydate(folder / "20news-bydate.tar.gz")
    entry = registry.FILES["20newsgroups-tarball"]
    sha256 = hashlib.sha256(tarball.read_bytes()).hexdigest()
    monkeypatch.setitem(registry.FILES, entry.key, dataclasses.replace(entry, checksums=(Checksum("sha256", sha256),)))
    monkeypatch.setenv("PTFT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(folder))
    train = load_newsgroups("train")
    assert len(train) == 3 and train.target_names == ["alt.atheism", "sci.space"]
    assert "3 posts in 2 groups" in train.provenance and "sha256 ok" in train.provenance


def test_the_registry_pins_scikit_learns_archive() -> None:
    entry = registry.FILES["20newsgroups-tarball"]
    assert entry.filename == "20news-bydate.tar.gz"
    assert [c.digest for c in entry.accepted_checksums] == [
        "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610"
    ]
