"""TREC question classification (Li & Roth, 2002): what kind of answer a question asks for.

:func:`load_trec` gives the 5,452 training or 500 test questions of the official files, each with a
coarse label (6: ``ABBR``, ``DESC``, ``ENTY``, ``HUM``, ``LOC``, ``NUM``) and a fine one (50, such
as ``LOC:city`` or ``NUM:date``). Label indices follow the fixed inventories :data:`COARSE_LABELS`
and :data:`FINE_LABELS` (the taxonomy's order, alphabetical within a coarse class), so the same
index means the same class in both splits even where the test set lacks a fine class (it holds 42
of the 50). The files are ASCII but for one byte: line 66 of the training file holds ``0xF0``,
read as latin-1 (``ð``), as every copy we know does.

The registry pins the official files by SHA-256; the training file is also accepted as one named
variant (a re-saved copy, 28 bytes shorter, same lines), and ``provenance`` says which was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ptft_utils.data import registry
from ptft_utils.data.download import fetch_result

__all__ = ["COARSE_LABELS", "FINE_LABELS", "QuestionData", "load_trec", "read_trec"]

COARSE_LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
_FINE = {
    "ABBR": "abb exp",
    "DESC": "def desc manner reason",
    "ENTY": "animal body color cremat currency dismed event food instru lang letter other plant product "
    "religion sport substance symbol techmeth termeq veh word",
    "HUM": "desc gr ind title",
    "LOC": "city country mount other state",
    "NUM": "code count date dist money ord other perc period speed temp volsize weight",
}
FINE_LABELS = tuple(f"{coarse}:{fine}" for coarse in COARSE_LABELS for fine in _FINE[coarse].split())
SPLITS = ("train", "test")


@dataclass
class QuestionData:
    """Questions with ``coarse`` and ``fine`` labels (``int64 (N,)``, indices into the ``*_names``)."""

    questions: list[str]
    coarse: np.ndarray
    fine: np.ndarray
    provenance: str
    split: str = ""
    coarse_names: tuple[str, ...] = COARSE_LABELS
    fine_names: tuple[str, ...] = FINE_LABELS

    def __len__(self) -> int:
        return len(self.questions)

    def subset(self, indices: np.ndarray | Sequence[int]) -> QuestionData:
        idx = np.asarray(indices, dtype=np.int64)
        return QuestionData(
            [self.questions[i] for i in idx], self.coarse[idx], self.fine[idx], self.provenance, self.split
        )

    def class_counts(self, level: str = "coarse") -> dict[str, int]:
        """How many questions each class holds (every class of the inventory, zeros included)."""
        if level not in ("coarse", "fine"):
            raise ValueError(f"level must be 'coarse' or 'fine', got {level!r}")
        labels, names = (self.coarse, self.coarse_names) if level == "coarse" else (self.fine, self.fine_names)
        counts = np.bincount(labels, minlength=len(names))
        return {name: int(count) for name, count in zip(names, counts, strict=True)}


def read_trec(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(questions, coarse indices, fine indices) of one ``COARSE:fine question`` file, decoded as latin-1.

    A line whose label is not in :data:`FINE_LABELS` raises ``ValueError`` naming the line.
    """
    questions: list[str] = []
    coarse: list[int] = []
    fine: list[int] = []
    text = Path(path).read_bytes().decode("latin-1")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, _, question = line.partition(" ")
        if label not in FINE_LABELS or not question.strip():
            raise ValueError(f"{path} line {number}: expected 'COARSE:fine question', got {line[:60]!r}")
        questions.append(question.strip())
        fine.append(FINE_LABELS.index(label))
        coarse.append(COARSE_LABELS.index(label.partition(":")[0]))
    return questions, np.asarray(coarse, dtype=np.int64), np.asarray(fine, dtype=np.int64)


def load_trec(split: str = "train") -> QuestionData:
    """The TREC question classification set: ``"train"`` (5,452 questions) or ``"test"`` (500).

    From the registry (``trec-train``/``trec-test``: cache, ``PTFT_DATA_MIRROR``, then the
    publisher); a file matching no accepted SHA-256 is refused. ``provenance`` names the file read,
    where from, and whether it is the official file or the accepted re-saved variant.

    Taught in: 08 §2
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    got = fetch_result(f"trec-{split}")
    questions, coarse, fine = read_trec(got.path)
    which = (
        "the accepted re-saved variant of the official file, same lines, 28 bytes shorter"
        if got.checksum.digest == registry.TREC_TRAIN_VARIANT_SHA256
        else "official file"
    )
    provenance = (
        f"real: TREC question classification (Li & Roth 2002) {split}, {len(questions):,} questions, "
        f"{got.path.name} ({which}), from {got.describe()}"
    )
    return QuestionData(questions, coarse, fine, provenance, split)
