"""A small single-stage, anchor-free grid detector on the seed CNN's convolutional body.

The backbone (:class:`SeedCNNBackbone`) is the seed CNN's two conv-pool stages, so it can start
from a :class:`~ptft_utils.models.cnn.SeedCNN` trained on 28x28 digits (its state dict, no
download) and run on a larger canvas: each cell of its output grid sees a patch centred at pixel
``stride * index + offset``. The head predicts per cell an objectness logit, class logits and the
distances from the cell's centre to the box's four sides (in units of the stride), as FCOS does.
Each ground-truth box is assigned to the cell whose centre is nearest the box's centre (the
smaller box wins a shared cell). :func:`decode` turns per-cell predictions into boxes and applies
non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ptft_utils.models.boxes import nms
from ptft_utils.models.cnn import SeedCNN


class SeedCNNBackbone(nn.Module):
    """Conv(32,3x3)-ReLU-MaxPool(2) - Conv(64,3x3)-ReLU-MaxPool(2), the seed CNN's body, on any canvas.

    Input ``[B, 1, S, S]`` (or ``[B, S, S]``); output ``[B, 64, G, G]`` with ``G = grid_size(S)``.

    Taught in: 08 §3.
    """

    channels = 64
    stride = 4  # two 2x2 poolings
    offset = 5.0  # centre of cell 0 in pixel coordinates (two valid 3x3 convolutions shift it)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)

    @classmethod
    def from_seed_cnn(cls, cnn: SeedCNN) -> SeedCNNBackbone:
        """A backbone holding copies of ``cnn``'s two convolutions (its dense layers are not used)."""
        backbone = cls()
        backbone.conv1.load_state_dict(cnn.conv1.state_dict())
        backbone.conv2.load_state_dict(cnn.conv2.state_dict())
        return backbone

    @classmethod
    def from_state_dict(cls, state_dict: dict[str, torch.Tensor]) -> SeedCNNBackbone:
        """A backbone from a saved :class:`SeedCNN` state dict (loaded strictly, any number of classes)."""
        if "head.weight" not in state_dict:
            raise ValueError(f"state_dict is not a SeedCNN's: no 'head.weight' among {sorted(state_dict)[:6]}")
        cnn = SeedCNN(num_classes=int(state_dict["head.weight"].shape[0]))
        cnn.load_state_dict(state_dict)
        return cls.from_seed_cnn(cnn)

    @staticmethod
    def grid_size(canvas_size: int) -> int:
        """Side of the output grid for a ``canvas_size`` input."""
        return ((canvas_size - 2) // 2 - 2) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2)


class GridDetector(nn.Module):
    """A backbone and a per-cell head: output ``[B, 1 + num_classes + 4, G, G]`` (objectness, classes, box).

    Taught in: 08 §3.
    """

    def __init__(self, backbone: SeedCNNBackbone, num_classes: int = 10, hidden_channels: int = 64) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.backbone = backbone
        self.num_classes = num_classes
        self.head = nn.Sequential(
            nn.Conv2d(backbone.channels, hidden_channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_channels, 1 + num_classes + 4, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def cell_centres(self, grid_size: int) -> torch.Tensor:
        """Pixel coordinates of the cell centres along one axis, ``(grid_size,)``."""
        return torch.arange(grid_size, dtype=torch.float32) * self.backbone.stride + self.backbone.offset


@dataclass
class GridTargets:
    """Per-cell targets: ``objectness (B, G, G)`` 0/1, ``classes (B, G, G)`` (-1 where empty), ``box (B, 4, G, G)``."""

    objectness: torch.Tensor
    classes: torch.Tensor
    box: torch.Tensor

    def to(self, device: torch.device | str) -> GridTargets:
        return GridTargets(self.objectness.to(device), self.classes.to(device), self.box.to(device))


def encode_targets(
    model: GridDetector, boxes: Sequence[np.ndarray], labels: Sequence[np.ndarray], canvas_size: int
) -> GridTargets:
    """Grid targets for ``model`` from per-image boxes ``(k, 4)`` and labels ``(k,)``.

    Taught in: 08 §3.
    """
    grid = model.backbone.grid_size(canvas_size)
    centres = model.cell_centres(grid).numpy()
    stride = float(model.backbone.stride)
    objectness = torch.zeros(len(boxes), grid, grid)
    classes = torch.full((len(boxes), grid, grid), -1, dtype=torch.long)
    box = torch.zeros(len(boxes), 4, grid, grid)
    for n, (image_boxes, image_labels) in enumerate(zip(boxes, labels, strict=True)):
        areas = (image_boxes[:, 2] - image_boxes[:, 0]) * (image_boxes[:, 3] - image_boxes[:, 1])
        for k in np.argsort(-areas, kind="stable"):  # largest first, so a smaller box overwrites a shared cell
            x1, y1, x2, y2 = (float(v) for v in image_boxes[k])
            col = int(np.abs(centres - (x1 + x2) / 2).argmin())
            row = int(np.abs(centres - (y1 + y2) / 2).argmin())
            cx, cy = float(centres[col]), float(centres[row])
            objectness[n, row, col] = 1.0
            classes[n, row, col] = int(image_labels[k])
            box[n, :, row, col] = torch.tensor([cx - x1, cy - y1, x2 - cx, y2 - cy]) / stride
    return GridTargets(objectness, classes, box)


def detection_loss(
    outputs: torch.Tensor, targets: GridTargets, *, box_weight: float = 1.0, focal_gamma: float = 2.0
) -> dict[str, torch.Tensor]:
    """Focal objectness loss over all cells, cross-entropy and L1 box loss over assigned cells, each per object.

    Returns ``{"loss", "objectness", "classes", "box"}``; ``loss`` is their sum (box weighted).

    Taught in: 08 §3.
    """
    objectness_logit, class_logits, box_pred = outputs[:, 0], outputs[:, 1:-4], outputs[:, -4:]
    positives = targets.objectness > 0.5
    n_objects = positives.sum().clamp(min=1).to(outputs.dtype)
    bce = F.binary_cross_entropy_with_logits(objectness_logit, targets.objectness, reduction="none")
    p_true = torch.exp(-bce)
    objectness = ((1 - p_true) ** focal_gamma * bce).sum() / n_objects
    cells_classes = class_logits.permute(0, 2, 3, 1)[positives]
    classes = F.cross_entropy(cells_classes, targets.classes[positives], reduction="sum") / n_objects
    box = (box_pred.permute(0, 2, 3, 1)[positives] - targets.box.permute(0, 2, 3, 1)[positives]).abs().sum()
    box = box / n_objects
    return {"loss": objectness + classes + box_weight * box, "objectness": objectness, "classes": classes, "box": box}


def _decode_cells(
    model: GridDetector,
    objectness: torch.Tensor,
    class_probs: torch.Tensor,
    box: torch.Tensor,
    canvas_size: int,
    score_threshold: float,
    nms_iou: float | None,
    max_detections: int,
) -> list[dict[str, torch.Tensor]]:
    grid = objectness.shape[-1]
    centres = model.cell_centres(grid).to(box.device)
    cy, cx = torch.meshgrid(centres, centres, indexing="ij")
    stride = float(model.backbone.stride)
    box = box.clamp(min=0)  # a negative distance to a side is no box: it collapses to the cell's centre
    corners = torch.stack(
        [cx - box[:, 0] * stride, cy - box[:, 1] * stride, cx + box[:, 2] * stride, cy + box[:, 3] * stride], dim=1
    )
    corners = corners.clamp(0, canvas_size)
    best_prob, best_class = class_probs.max(dim=1)
    scores = objectness * best_prob
    detections = []
    for n in range(objectness.shape[0]):
        chosen = scores[n] > score_threshold
        image_boxes = corners[n].permute(1, 2, 0)[chosen]
        image_scores, image_labels = scores[n][chosen], best_class[n][chosen]
        if nms_iou is not None:
            keep = nms(image_boxes, image_scores, nms_iou, labels=image_labels)
        else:
            keep = torch.argsort(image_scores, descending=True)
        keep = keep[:max_detections]
        detections.append({"boxes": image_boxes[keep], "scores": image_scores[keep], "labels": image_labels[keep]})
    return detections


def decode(
    model: GridDetector,
    outputs: torch.Tensor,
    canvas_size: int,
    *,
    score_threshold: float = 0.3,
    nms_iou: float | None = 0.5,
    max_detections: int = 20,
) -> list[dict[str, torch.Tensor]]:
    """Per image, ``{"boxes" (k, 4), "scores" (k,), "labels" (k,)}`` from raw outputs; score = objectness x class.

    Taught in: 08 §3.
    """
    objectness = torch.sigmoid(outputs[:, 0])
    class_probs = torch.softmax(outputs[:, 1:-4], dim=1)
    return _decode_cells(
        model, objectness, class_probs, outputs[:, -4:], canvas_size, score_threshold, nms_iou, max_detections
    )


def decode_targets(model: GridDetector, targets: GridTargets, canvas_size: int) -> list[dict[str, torch.Tensor]]:
    """The boxes a target encoding stands for (score 1), through the same decoding as the predictions."""
    class_probs = F.one_hot(targets.classes.clamp(min=0), model.num_classes).permute(0, 3, 1, 2).float()
    return _decode_cells(
        model, targets.objectness, class_probs, targets.box, canvas_size, 0.5, None, targets.objectness[0].numel()
    )


@torch.no_grad()
def detect(
    model: GridDetector,
    images: torch.Tensor,
    *,
    score_threshold: float = 0.3,
    nms_iou: float = 0.5,
    max_detections: int = 20,
) -> list[dict[str, torch.Tensor]]:
    """Run ``model`` (in eval mode) on ``images [B, S, S]`` and decode its boxes.

    Taught in: 08 §3.
    """
    was_training = model.training
    model.eval()
    try:
        outputs = model(images)
    finally:
        model.train(was_training)
    return decode(
        model,
        outputs,
        int(images.shape[-1]),
        score_threshold=score_threshold,
        nms_iou=nms_iou,
        max_detections=max_detections,
    )
