"""Image datasets: scikit-learn's digits upsampled to 28x28 (shipped), MNIST and Fashion-MNIST.

MNIST's *test* file holds 10,000 real labelled images and is in the shared mirror, so chapters use
it as a labelled pool with their own splits; MNIST *train* (60,000 images) needs a download, and
offline ``load_images("auto", split="train")`` falls back to the digits, saying so.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np

from ptft_utils.data.datasets import ImageData, announce, fall_back
from ptft_utils.data.download import (
    DataUnavailableError,
    fetch_result,
)


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

    Taught in: 01 §3.
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
    :class:`DataUnavailableError` if none works (its subclass ``CacheNotWritableError`` when the
    cache, ``PTFT_DATA``, cannot be written). The shared mirror holds only the test files.
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

    Taught in: 01 §3; also used in 04 §1.
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
    except DataUnavailableError as err:  # an unwritable cache included (CacheNotWritableError)
        digits = load_digits28()
        using = f"the shipped stand-in, sklearn digits upsampled to 28x28 ({len(digits):,} images)"
        return fall_back(digits, f"MNIST {split}", err, using)
    announce(f"dataset='auto': using real MNIST {split} ({len(data):,} images).")
    return data
