"""A checksum manifest for a folder of shared files (a saved model, an adapter), and its check.

:func:`write_manifest` writes ``MANIFEST.json`` beside the files: for each file under the folder
(its path relative to the folder, ``/``-separated) its SHA-256 and its size in bytes::

    {"schema": 1, "algorithm": "sha256",
     "files": {"config.json": {"sha256": "9f2c...", "bytes": 702},
               "model.safetensors": {"sha256": "41ab...", "bytes": 1046752}, ...}}

:func:`verify_manifest` re-hashes the folder and raises :class:`ManifestError` when anything
differs: a file whose bytes changed (named, with the expected and the actual hash), a file listed
but missing, a file present but not listed. A loader calls it *before* it reads a single weight,
so a model that was altered after it was shared (a flipped byte, a swapped file) is refused
rather than run. It is the same rule as :mod:`ptft_utils.data.download`'s: verify, then use; the
hashing is that module's :func:`~ptft_utils.data.download.file_digests`.

The manifest is written atomically (:mod:`ptft_utils.kit.atomic`), after the files it lists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ptft_utils.data.download import file_digests
from ptft_utils.kit.atomic import atomic_write_text

MANIFEST_FILE = "MANIFEST.json"
MANIFEST_SCHEMA = 1


class ManifestError(ValueError):
    """A folder that does not match its manifest; ``problems`` lists each difference, one a line."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        self.folder = folder
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{folder} does not match its {MANIFEST_FILE}; refusing to load it:\n{lines}")


def _files(folder: Path, manifest_name: str) -> list[str]:
    names = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(folder).as_posix()
            if relative != manifest_name and not relative.split("/")[-1].endswith(".tmp"):
                names.append(relative)
    return names


def file_entry(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"sha256": ..., "bytes": ...}`` of one file, as the manifest records it.

    Taught in: 09 §1.
    """
    path = Path(path)
    return {"sha256": file_digests(path, ("sha256",))["sha256"], "bytes": path.stat().st_size}


def write_manifest(folder: str | os.PathLike[str], *, exclude: Iterable[str] = ()) -> Path:
    """Hash every file under ``folder`` into ``folder/MANIFEST.json``; returns the manifest's path.

    ``exclude`` names files (relative paths) to leave out. Write the manifest last, after every
    file it should cover.

    Taught in: 09 §1.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory, got {str(folder)!r}")
    skip = set(exclude)
    files = {name: file_entry(folder / name) for name in _files(folder, MANIFEST_FILE) if name not in skip}
    if not files:
        raise ValueError(f"folder {str(folder)!r} holds no files to put in a manifest")
    text = json.dumps({"schema": MANIFEST_SCHEMA, "algorithm": "sha256", "files": files}, indent=1, sort_keys=True)
    return atomic_write_text(folder / MANIFEST_FILE, text + "\n")


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The ``files`` table of ``folder/MANIFEST.json``; :class:`ManifestError` if absent or unreadable.

    Taught in: 09 §1.
    """
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(folder, [f"{MANIFEST_FILE} is missing: nothing says what the files should be"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestError(folder, [f"{MANIFEST_FILE} cannot be read ({type(err).__name__}: {err})"]) from None
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict) or record.get("schema") != MANIFEST_SCHEMA:
        raise ManifestError(folder, [f"{MANIFEST_FILE} is not a schema-{MANIFEST_SCHEMA} manifest with a files table"])
    return files


def verify_manifest(folder: str | os.PathLike[str], *, allow_extra: bool = False) -> dict[str, dict[str, Any]]:
    """Check every file under ``folder`` against its manifest; return the manifest's files table.

    Raises :class:`ManifestError` listing each file that changed (``model.safetensors: sha256 is
    41ab..., the manifest says 9f2c...``), each listed file that is missing and, unless
    ``allow_extra``, each file present but not listed (an extra file can change what a loader
    reads: a second weights file, a custom code file).

    Taught in: 09 §1.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory, got {str(folder)!r}")
    expected = read_manifest(folder)
    present = set(_files(folder, MANIFEST_FILE))
    problems = []
    for name in sorted(expected):
        want = expected[name]
        if name not in present:
            problems.append(f"{name}: missing (the manifest lists it, sha256 {want.get('sha256')})")
            continue
        got = file_entry(folder / name)
        if got["sha256"] != want.get("sha256"):
            problems.append(
                f"{name}: sha256 is {got['sha256']} ({got['bytes']:,} bytes), "
                f"the manifest says {want.get('sha256')} ({want.get('bytes', 0):,} bytes)"
            )
    if not allow_extra:
        problems += [f"{name}: not in the manifest (an extra file)" for name in sorted(present - set(expected))]
    if problems:
        raise ManifestError(folder, problems)
    return expected


def folder_bytes(folder: str | os.PathLike[str], *, include_manifest: bool = False) -> int:
    """Total size in bytes of the files under ``folder`` (what sharing it costs).

    Taught in: 09 §1.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory, got {str(folder)!r}")
    names = _files(folder, "" if include_manifest else MANIFEST_FILE)
    return sum((folder / name).stat().st_size for name in names)
