"""Detection metrics: IoU, NMS and mean average precision (COCO's own evaluator, pycocotools).

:func:`mean_average_precision` reports COCO's mAP@[.5:.95] (IoU thresholds 0.50, 0.55, ..., 0.95,
101-point interpolated precision), and the looser mAP@0.5 and mAP@0.75, computed by pycocotools'
``COCOeval`` (the reference implementation the COCO benchmark uses) over per-image predictions
and ground truths, boxes ``[x1, y1, x2, y2]`` in pixels.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ptft_utils.models.boxes import box_iou, nms

__all__ = ["box_iou", "mean_average_precision", "nms"]


def _as_array(value: object) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _coco_rows(items: Sequence[Mapping[str, object]], with_scores: bool) -> list[dict[str, object]]:
    """One COCO annotation per box: ``bbox`` as ``[x, y, w, h]``, ids from 1 (COCO reads 0 as "unmatched")."""
    needed = ("boxes", "scores", "labels") if with_scores else ("boxes", "labels")
    rows: list[dict[str, object]] = []
    for i, item in enumerate(items):
        missing = [key for key in needed if key not in item]
        if missing:
            raise ValueError(f"item {i} lacks {missing}: each needs {list(needed)}")
        boxes = _as_array(item["boxes"]).reshape(-1, 4)
        labels = _as_array(item["labels"]).reshape(-1).astype(int)
        scores = _as_array(item["scores"]).reshape(-1) if with_scores else np.ones(len(boxes))
        if not len(boxes) == len(labels) == len(scores):
            raise ValueError(f"item {i}: boxes, labels (and scores) differ in length")
        if len(boxes) and (boxes[:, 2:] < boxes[:, :2]).any():
            raise ValueError(f"item {i}: a box has x2 < x1 or y2 < y1; boxes must be [x1, y1, x2, y2]")
        for box, label, score in zip(boxes, labels, scores, strict=True):
            width, height = float(box[2] - box[0]), float(box[3] - box[1])
            row: dict[str, object] = {"id": len(rows) + 1, "image_id": i + 1, "category_id": int(label) + 1}
            row |= {"iscrowd": 0, "bbox": [float(box[0]), float(box[1]), width, height], "area": width * height}
            if with_scores:
                row["score"] = float(score)
            rows.append(row)
    return rows


def mean_average_precision(
    predictions: Sequence[Mapping[str, object]], targets: Sequence[Mapping[str, object]]
) -> dict[str, float]:
    """``{"map", "map_50", "map_75"}``: COCO mAP@[.5:.95], mAP@0.5 and mAP@0.75 over the images.

    ``predictions[i]`` holds ``boxes (k, 4)``, ``scores (k,)`` and ``labels (k,)`` for image ``i``,
    ``targets[i]`` its ground-truth ``boxes`` and ``labels`` (arrays or tensors). The mean runs over
    the classes that have ground truth; no predictions at all score 0.

    Taught in: 08 §3.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if len(predictions) != len(targets):
        raise ValueError(f"predictions and targets differ in length: {len(predictions)} vs {len(targets)}")
    truth = _coco_rows(targets, with_scores=False)
    if not truth:
        raise ValueError("targets hold no ground-truth box: mAP is undefined")
    found = _coco_rows(predictions, with_scores=True)
    if not found:
        return {"map": 0.0, "map_50": 0.0, "map_75": 0.0}
    categories = sorted({row["category_id"] for row in truth + found}, key=str)
    with contextlib.redirect_stdout(io.StringIO()):  # COCO narrates every step
        ground = COCO()
        ground.dataset = {
            "images": [{"id": i + 1} for i in range(len(targets))],
            "annotations": truth,
            "categories": [{"id": c} for c in categories],
        }
        ground.createIndex()
        evaluator = COCOeval(ground, ground.loadRes(found), iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = [max(0.0, float(s)) for s in evaluator.stats[:3]]  # -1 means "no ground truth": none here
    return {"map": stats[0], "map_50": stats[1], "map_75": stats[2]}
