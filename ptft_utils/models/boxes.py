"""Box geometry in PyTorch: pairwise IoU and greedy non-maximum suppression, boxes ``[x1, y1, x2, y2]``."""

from __future__ import annotations

import torch


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of ``(k, 4)`` boxes (0 for degenerate ones)."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every box in ``boxes_a`` (n, 4) with every box in ``boxes_b`` (m, 4): (n, m).

    Taught in: 08 §3.
    """
    top_left = torch.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = torch.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    sides = (bottom_right - top_left).clamp(min=0)
    inter = sides[..., 0] * sides[..., 1]
    union = box_area(boxes_a)[:, None] + box_area(boxes_b)[None, :] - inter
    return inter / union.clamp(min=torch.finfo(inter.dtype).tiny)


def nms(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """Indices of the boxes kept by greedy NMS, highest score first.

    A box is dropped when it overlaps a higher-scoring kept box by more than ``iou_threshold``;
    with ``labels``, only boxes of the same class suppress each other.

    Taught in: 08 §3.
    """
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    order = torch.argsort(scores, descending=True)
    if order.numel() == 0:
        return order
    overlaps = box_iou(boxes[order], boxes[order])
    if labels is not None:
        same = labels[order][:, None] == labels[order][None, :]
        overlaps = torch.where(same, overlaps, torch.zeros_like(overlaps))
    suppressed = torch.zeros(order.numel(), dtype=torch.bool)
    keep = []
    for i in range(order.numel()):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= overlaps[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]
