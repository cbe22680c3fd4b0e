"""A synthetic detection set: 1-3 digits pasted onto a blank canvas, with their boxes and classes.

Each canvas holds digits taken from a labelled pool (MNIST or the shipped 28x28 digits), scaled
bilinearly, cleaned of faint interpolation haze (pixels under ``ink_threshold`` become 0) and cut
to their ink, then pasted (pixel-wise maximum) where the new box overlaps no earlier box by more
than ``max_iou``. A box is ``[x1, y1, x2, y2]`` in pixel edges (``x2``/``y2`` exclusive), the tight
bounding box of the pasted ink, so ``canvas[y1:y2, x1:x2]`` holds that digit whole. Everything
follows from ``seed``. NumPy and SciPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ptft_utils.data.datasets import ImageData


@dataclass(frozen=True)
class DetectionData:
    """Canvases ``float32 (N, S, S)`` in [0, 1]; per canvas, boxes ``float32 (k, 4)`` and labels ``int64 (k,)``."""

    images: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]
    provenance: str

    def __len__(self) -> int:
        return int(self.images.shape[0])


def box_iou_numpy(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one ``[x1, y1, x2, y2]`` box with each row of ``others`` (k, 4)."""
    if others.size == 0:
        return np.zeros(0)
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / (area + areas - inter)


def _ink_crop(digit: np.ndarray, scale: float, ink_threshold: float) -> np.ndarray:
    scaled = np.clip(ndimage.zoom(digit.astype(np.float64), scale, order=1), 0.0, 1.0)
    scaled[scaled < ink_threshold] = 0.0
    rows = np.flatnonzero(scaled.max(axis=1) > 0)
    cols = np.flatnonzero(scaled.max(axis=0) > 0)
    return scaled[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def make_detection_set(
    source: ImageData,
    n_images: int,
    *,
    canvas_size: int = 64,
    min_digits: int = 1,
    max_digits: int = 3,
    scale_range: tuple[float, float] = (0.7, 1.3),
    max_iou: float = 0.1,
    ink_threshold: float = 0.2,
    seed: int = 0,
) -> DetectionData:
    """``n_images`` canvases of ``canvas_size`` pixels, each with ``min_digits``..``max_digits`` digits of ``source``.

    A digit that finds no place overlapping earlier boxes by at most ``max_iou`` in 100 tries is
    left out, so a canvas may hold fewer digits than drawn (never fewer than one).

    Taught in: 08 §2.
    """
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got min_digits={min_digits}, max_digits={max_digits}")
    low, high = scale_range
    if not 0 < low <= high or 28 * high > canvas_size:
        raise ValueError(f"scale_range must satisfy 0 < low <= high and 28 * high <= canvas_size, got {scale_range}")
    if len(source) == 0:
        raise ValueError("source holds no images")
    rng = np.random.default_rng(seed)
    images = np.zeros((n_images, canvas_size, canvas_size), dtype=np.float32)
    all_boxes: list[np.ndarray] = []
    all_labels: list[np.ndarray] = []
    for n in range(n_images):
        boxes: list[list[float]] = []
        labels: list[int] = []
        for _ in range(int(rng.integers(min_digits, max_digits + 1))):
            index = int(rng.integers(len(source)))
            ink = _ink_crop(source.images[index], float(rng.uniform(low, high)), ink_threshold)
            height, width = ink.shape
            for _try in range(100):
                x, y = int(rng.integers(canvas_size - width + 1)), int(rng.integers(canvas_size - height + 1))
                box = np.array([x, y, x + width, y + height], dtype=np.float64)
                if not boxes or box_iou_numpy(box, np.array(boxes)).max() <= max_iou:
                    break
            else:
                continue
            region = images[n, y : y + height, x : x + width]
            np.maximum(region, ink.astype(np.float32), out=region)
            boxes.append(box.tolist())
            labels.append(int(source.labels[index]))
        all_boxes.append(np.array(boxes, dtype=np.float32).reshape(-1, 4))
        all_labels.append(np.array(labels, dtype=np.int64))
    provenance = (
        f"synthetic detection: {n_images} canvases {canvas_size}x{canvas_size}, {min_digits}-{max_digits} digits "
        f"scaled {low}-{high}, box overlap <= {max_iou} IoU, seed {seed}, digits from: {source.provenance}"
    )
    return DetectionData(images, all_boxes, all_labels, provenance)
