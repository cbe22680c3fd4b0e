"""A data cache that cannot be written: one clear error naming ``PTFT_DATA``, and ``auto`` falls back.

Tests run as root, which ignores permission bits, so "unwritable" here is a cache path under a
regular *file*: every ``mkdir`` in it fails (``NotADirectoryError``), for root too. The mirror is
the shared folder of real copies, so the only thing in the way is the cache.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from ptft_utils import data
from ptft_utils.data.download import CacheNotWritableError, DataUnavailableError, cache_status, fetch_result


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A regular file: any folder "inside" it cannot be created."""
    path = tmp_path / "a-file"
    path.write_text("not a folder\n")
    return path


@pytest.fixture
def unwritable_cache(blocker: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = blocker / "cache"
    monkeypatch.setenv("PTFT_DATA", str(cache))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(shared_data))
    return cache


def test_an_unwritable_cache_gives_one_error_that_names_ptft_data(unwritable_cache: Path) -> None:
    with pytest.raises(CacheNotWritableError) as caught:
        fetch_result("tinyshakespeare-text")

    message = str(caught.value)
    assert isinstance(caught.value, DataUnavailableError)  # so that dataset="auto" can fall back
    assert f"PTFT_DATA={unwritable_cache}" in message
    assert "set PTFT_DATA to a writable folder" in message
    assert "NotADirectoryError" in message
    assert isinstance(caught.value.error, NotADirectoryError)


def test_unset_ptft_data_and_an_unwritable_home_name_the_default_without_a_chained_traceback(
    blocker: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PTFT_DATA", raising=False)
    monkeypatch.setenv("HOME", str(blocker / "home"))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(shared_data))

    with pytest.raises(CacheNotWritableError) as caught:
        fetch_result("tinyshakespeare-text")

    message = str(caught.value)
    assert "PTFT_DATA is not set, so the default ~/.cache/ptft" in message
    assert str(blocker / "home" / ".cache" / "ptft") in message
    assert "set PTFT_DATA to a writable folder" in message
    printed = "".join(traceback.format_exception(caught.value))
    assert "During handling of the above exception" not in printed


@pytest.mark.parametrize(
    ("load", "stand_in"),
    [
        (lambda: data.load_images("auto"), "digits"),
        (lambda: data.load_text("auto"), "lee_background"),
        (lambda: data.load_polarity("auto"), "shipped"),
    ],
    ids=["images", "text", "polarity"],
)
def test_auto_falls_back_to_the_stand_in_and_says_the_cache_is_why(unwritable_cache: Path, capsys, load, stand_in):
    loaded = load()

    line = capsys.readouterr().out
    assert loaded.name == stand_in
    assert loaded.provenance.startswith("stand-in for ")
    for text in (line, loaded.provenance):
        assert f"cache folder not writable (PTFT_DATA={unwritable_cache})" in text
        assert "set PTFT_DATA to a writable folder" in text


def test_an_explicit_dataset_with_an_unwritable_cache_is_an_error(unwritable_cache: Path) -> None:
    with pytest.raises(CacheNotWritableError, match="PTFT_DATA"):
        data.load_images("mnist")


def test_a_verified_file_already_in_an_unwritable_cache_is_still_read(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTFT_DATA", str(cache))
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(shared_data))
    data.load_text("tinyshakespeare")
    (cache / ".locks").rename(tmp_path / "old-locks")
    (cache / ".locks").write_text("a file where the lock folder should be\n")  # nothing new can be locked

    assert fetch_result("tinyshakespeare-text").origin == "cache"
    (cache / "tinyshakespeare" / "input.txt").write_bytes(b"corrupt")  # now it must be fetched again: refused
    with pytest.raises(CacheNotWritableError):
        fetch_result("tinyshakespeare-text")


def test_cache_status_says_the_cache_folder_is_not_writable(unwritable_cache: Path, blocker: Path) -> None:
    status = {row["key"]: row["status"] for row in cache_status()}

    assert status["mnist-test-images"] == (
        f"not cached; mirror copy ok, but cache folder not writable (PTFT_DATA={unwritable_cache}: "
        f"{blocker} is not a folder; set PTFT_DATA to a writable folder) -> unusable"
    )
    assert str(status["mnist-train-images"]).startswith("not cached; mirror has no copy; cache folder not writable")
