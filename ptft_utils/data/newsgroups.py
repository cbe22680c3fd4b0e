"""Newsgroup posts by topic: gensim's 200-post ``mini_newsgroup`` and the full 20 Newsgroups (bydate).

:func:`load_mini_newsgroup` reads the small file gensim ships with its tests: a zlib-compressed,
protocol-0 (Python 2) pickle of a scikit-learn ``Bunch`` holding 200 posts from two groups,
``alt.atheism`` (label 0) and ``sci.space`` (label 1), headers included. Its opcodes name exactly
six globals (:data:`MINI_NEWSGROUP_GLOBALS`): ``copy_reg._reconstructor``, ``__builtin__.dict``,
``sklearn.datasets.base.Bunch`` and, for the label and file-name arrays,
``numpy.core.multiarray._reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``. It is read with
:class:`~ptft_utils.kit.safe_pickle.RestrictedUnpickler`, which resolves those six and nothing
else (the ``Bunch`` becomes a plain ``dict`` subclass, so scikit-learn is not imported); a pickle
naming any other global is refused before anything runs.

:func:`load_newsgroups` reads the full set, 11,314 training and 7,532 test posts in 20 groups, from
the registry's ``20news-bydate.tar.gz`` (scikit-learn's URL and SHA-256), parsed straight from the
tarball by :func:`read_newsgroups_tarball`; a 14 MB download, for the ``full`` profile.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ptft_utils.data.datasets import TextData
from ptft_utils.data.download import fetch_result
from ptft_utils.kit.safe_pickle import restricted_loads

__all__ = [
    "MINI_NEWSGROUP_GLOBALS",
    "NewsgroupData",
    "load_mini_newsgroup",
    "load_newsgroups",
    "mini_newsgroup_path",
    "read_mini_newsgroup",
    "read_newsgroups_tarball",
]

SPLIT_FOLDERS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}


class NewsgroupData(TextData):
    """Posts (``texts``), labels ``int64 (N,)`` indexing ``target_names``, and where they came from."""

    def __init__(self, texts: list[str], labels: np.ndarray, provenance: str, name: str, target_names: list[str]):
        super().__init__(texts, labels, provenance, name)
        self.target_names = list(target_names)

    def subset(self, indices: Any) -> NewsgroupData:
        idx = np.asarray(indices, dtype=np.int64)
        return NewsgroupData(
            [self.texts[i] for i in idx], self.labels[idx], self.provenance, self.name, self.target_names
        )


class _Bunch(dict):  # type: ignore[type-arg]
    """Stands in for ``sklearn.datasets.base.Bunch`` (a dict with attribute access) while unpickling."""


def _numpy_reconstruct() -> Any:
    return np.zeros(1).__reduce__()[0]  # numpy's array reconstructor, wherever this numpy keeps it


def _allowed() -> dict[tuple[str, str], Any]:
    import copyreg

    return {
        ("copy_reg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
        ("__builtin__", "dict"): dict,
        ("sklearn.datasets.base", "Bunch"): _Bunch,
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


#: The globals mini_newsgroup's pickle names, as it spells them (Python 2 module names).
MINI_NEWSGROUP_GLOBALS = tuple(sorted(_allowed()))


def mini_newsgroup_path() -> Path:
    """Where gensim's ``mini_newsgroup`` test file is (found from gensim's package folder, not imported)."""
    spec = importlib.util.find_spec("gensim")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "test" / "test_data" / "mini_newsgroup"
        if path.is_file():
            return path
    raise FileNotFoundError(f"gensim's test data lacks mini_newsgroup (looked in {folders or 'no gensim install'})")


def read_mini_newsgroup(path: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """(posts, labels, target names) of a zlib-compressed newsgroup ``Bunch`` pickle, read with the allow-list.

    Raises ``pickle.UnpicklingError`` naming the global if the file names one outside
    :data:`MINI_NEWSGROUP_GLOBALS`, and ``ValueError`` if it lacks ``data``/``target``/``target_names``.
    """
    bunch = restricted_loads(zlib.decompress(Path(path).read_bytes()), _allowed(), encoding="latin1")
    if not isinstance(bunch, dict) or not {"data", "target", "target_names"} <= set(bunch):
        raise ValueError(f"{path} does not hold a newsgroup Bunch with data, target and target_names")
    texts = [str(text) for text in bunch["data"]]
    labels = np.asarray(bunch["target"], dtype=np.int64)
    if len(texts) != len(labels):
        raise ValueError(f"{path}: {len(texts)} posts but {len(labels)} labels")
    return texts, labels, [str(name) for name in bunch["target_names"]]


def load_mini_newsgroup() -> NewsgroupData:
    """gensim's 200 shipped posts: ``alt.atheism`` (0) and ``sci.space`` (1), full headers kept.

    Taught in: 08 §3
    """
    path = mini_newsgroup_path()
    texts, labels, names = read_mini_newsgroup(path)
    counts = ", ".join(f"{int((labels == i).sum())} {name}" for i, name in enumerate(names))
    version = importlib.metadata.version("gensim")
    provenance = (
        f"shipped: gensim {version} test data mini_newsgroup ({len(texts)} posts: {counts}; restricted unpickler)"
    )
    return NewsgroupData(texts, labels, provenance, "mini_newsgroup", names)


def read_newsgroups_tarball(path: str | Path, split: str = "train") -> tuple[list[str], np.ndarray, list[str]]:
    """(posts, labels, group names) of ``20news-bydate-<split>/<group>/<id>`` in the bydate tarball.

    Groups are sorted by name and label ``i`` is ``names[i]`` (scikit-learn's order); posts are
    sorted by group, then file name, and decoded as latin-1 (as scikit-learn does).
    """
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"split must be one of {tuple(SPLIT_FOLDERS)}, got {split!r}")
    found: dict[str, list[tuple[str, str]]] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            parts = member.name.lstrip("./").split("/")
            if member.isfile() and len(parts) == 3 and parts[0] == SPLIT_FOLDERS[split]:
                handle = archive.extractfile(member)
                if handle is not None:
                    found.setdefault(parts[1], []).append((parts[2], handle.read().decode("latin-1")))
    if not found:
        raise ValueError(f"{path} holds no posts under {SPLIT_FOLDERS[split]}/<group>/")
    names = sorted(found)
    texts = [text for name in names for _, text in sorted(found[name])]
    labels = np.concatenate([np.full(len(found[name]), i, dtype=np.int64) for i, name in enumerate(names)])
    return texts, labels, names


def load_newsgroups(split: str = "train") -> NewsgroupData:
    """The 20 Newsgroups bydate set (registry ``20newsgroups-tarball``): 20 groups, headers kept.

    Taught in: 08 §3
    """
    got = fetch_result("20newsgroups-tarball")
    texts, labels, names = read_newsgroups_tarball(got.path, split)
    provenance = (
        f"real: 20 Newsgroups bydate {split}, {len(texts):,} posts in {len(names)} groups, from {got.describe()}"
    )
    return NewsgroupData(texts, labels, provenance, "20newsgroups", names)
