"""Tests for chapter 08's detection parts: the synthetic set, the grid detector, IoU, NMS and mAP."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptft_utils.data import load_digits28
from ptft_utils.data.detection import make_detection_set
from ptft_utils.eval.detection import box_iou, mean_average_precision, nms
from ptft_utils.models.cnn import SeedCNN
from ptft_utils.models.detector import (
    GridDetector,
    SeedCNNBackbone,
    decode,
    decode_targets,
    detect,
    detection_loss,
    encode_targets,
)


@pytest.fixture(scope="module")
def detection_set():
    return make_detection_set(load_digits28(), 24, canvas_size=64, seed=3)


def test_boxes_lie_inside_the_canvas(detection_set) -> None:
    for boxes in detection_set.boxes:
        assert len(boxes) >= 1
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 64).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()


def test_a_lone_digit_box_is_the_tight_bounding_box_of_the_ink() -> None:
    data = make_detection_set(load_digits28(), 10, max_digits=1, seed=1)
    for image, boxes in zip(data.images, data.boxes, strict=True):
        rows, cols = np.flatnonzero(image.max(axis=1) > 0), np.flatnonzero(image.max(axis=0) > 0)
        assert boxes.tolist() == [[cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]]


def test_every_box_edge_touches_ink_and_all_ink_lies_in_some_box(detection_set) -> None:
    for image, boxes in zip(detection_set.images, detection_set.boxes, strict=True):
        covered = np.zeros(image.shape, dtype=bool)
        for x1, y1, x2, y2 in boxes.astype(int):
            patch = image[y1:y2, x1:x2]
            assert patch[0].max() > 0 and patch[-1].max() > 0 and patch[:, 0].max() > 0 and patch[:, -1].max() > 0
            covered[y1:y2, x1:x2] = True
        assert not (image[~covered] > 0).any()


def test_detection_set_is_deterministic_for_a_seed() -> None:
    first = make_detection_set(load_digits28(), 5, seed=7)
    again = make_detection_set(load_digits28(), 5, seed=7)
    other = make_detection_set(load_digits28(), 5, seed=8)
    assert np.array_equal(first.images, again.images)
    assert all(np.array_equal(a, b) for a, b in zip(first.boxes, again.boxes, strict=True))
    assert not np.array_equal(first.images, other.images)


def test_overlap_between_boxes_stays_under_the_limit(detection_set) -> None:
    for boxes in detection_set.boxes:
        overlaps = box_iou(torch.from_numpy(boxes), torch.from_numpy(boxes)).fill_diagonal_(0)
        assert float(overlaps.max()) <= 0.1 + 1e-6


def test_backbone_loads_a_seed_cnn_state_dict_and_keeps_its_convolutions() -> None:
    cnn = SeedCNN()
    backbone = SeedCNNBackbone.from_state_dict(cnn.state_dict())
    assert torch.equal(backbone.conv2.weight, cnn.conv2.weight)
    x = torch.rand(2, 28, 28)
    assert torch.allclose(backbone(x), cnn.conv_features(x))


def test_detector_output_has_one_vector_per_grid_cell() -> None:
    model = GridDetector(SeedCNNBackbone(), num_classes=10)
    assert SeedCNNBackbone.grid_size(64) == 14
    assert model(torch.rand(3, 64, 64)).shape == (3, 1 + 10 + 4, 14, 14)


def test_decoding_a_target_encoding_returns_the_ground_truth(detection_set) -> None:
    model = GridDetector(SeedCNNBackbone())
    targets = encode_targets(model, detection_set.boxes, detection_set.labels, 64)
    decoded = decode_targets(model, targets, 64)
    for found, boxes, labels in zip(decoded, detection_set.boxes, detection_set.labels, strict=True):
        order, truth = torch.argsort(found["boxes"][:, 0]), np.argsort(boxes[:, 0], kind="stable")
        assert torch.allclose(found["boxes"][order], torch.from_numpy(boxes[truth]), atol=1e-4)
        assert found["labels"][order].tolist() == labels[truth].tolist()


def test_loss_is_finite_and_falls_over_a_few_steps(detection_set) -> None:
    torch.manual_seed(0)
    model = GridDetector(SeedCNNBackbone())
    images = torch.from_numpy(detection_set.images[:8])
    targets = encode_targets(model, detection_set.boxes[:8], detection_set.labels[:8], 64)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = detection_loss(model(images), targets)["loss"]
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_detect_returns_scored_boxes_per_image() -> None:
    found = detect(GridDetector(SeedCNNBackbone()), torch.rand(2, 64, 64), score_threshold=0.0, max_detections=5)
    assert len(found) == 2 and found[0]["boxes"].shape == (5, 4) and found[0]["scores"].shape == (5,)


def test_decode_never_returns_a_box_whose_sides_cross() -> None:
    detector = GridDetector(SeedCNNBackbone())
    outputs = torch.zeros(1, 1 + 10 + 4, 5, 5)
    outputs[:, 0] = 5.0  # every cell confident
    outputs[:, -4:] = torch.tensor([-2.0, 1.0, -3.0, 0.5]).view(1, 4, 1, 1)  # negative distances to two sides
    boxes = decode(detector, outputs, 28, score_threshold=0.0, nms_iou=None, max_detections=25)[0]["boxes"]
    assert boxes.shape == (25, 4)
    assert bool((boxes[:, 2] >= boxes[:, 0]).all()) and bool((boxes[:, 3] >= boxes[:, 1]).all())


def test_iou_equals_the_hand_computed_value() -> None:
    a = torch.tensor([[0.0, 0.0, 4.0, 4.0]])
    b = torch.tensor([[2.0, 2.0, 6.0, 6.0], [10.0, 10.0, 12.0, 12.0]])
    # overlap 2x2 = 4; union 16 + 16 - 4 = 28
    assert torch.allclose(box_iou(a, b), torch.tensor([[4 / 28, 0.0]]))


def test_nms_drops_an_overlapping_lower_score_box_of_the_same_class_only() -> None:
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert nms(boxes, scores, 0.5, labels=torch.tensor([1, 2, 1])).tolist() == [0, 1, 2]


def test_map_of_the_ground_truth_against_itself_is_one(detection_set) -> None:
    targets = [{"boxes": b, "labels": y} for b, y in zip(detection_set.boxes, detection_set.labels, strict=True)]
    predictions = [{**t, "scores": np.ones(len(t["labels"]))} for t in targets]
    result = mean_average_precision(predictions, targets)
    assert result["map"] == pytest.approx(1.0) and result["map_50"] == pytest.approx(1.0)


def test_a_shifted_box_lowers_strict_map_below_map_at_half() -> None:
    truth = [{"boxes": np.array([[10.0, 10.0, 30.0, 30.0]]), "labels": np.array([3])}]
    shifted = [{"boxes": np.array([[12.0, 12.0, 32.0, 32.0]]), "scores": np.array([0.9]), "labels": np.array([3])}]
    result = mean_average_precision(shifted, truth)  # IoU = 324 / 476 = 0.68
    assert result["map_50"] == pytest.approx(1.0)
    assert result["map"] < result["map_50"]


def test_map_at_half_equals_cocos_101_point_interpolation_by_hand() -> None:
    truth = [{"boxes": np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]]), "labels": np.array([0, 0])}]
    found = [
        {
            "boxes": np.array([[0.0, 0.0, 10.0, 10.0], [40.0, 40.0, 50.0, 50.0], [20.0, 20.0, 30.0, 30.0]]),
            "scores": np.array([0.9, 0.8, 0.7]),
            "labels": np.array([0, 0, 0]),
        }
    ]
    # precision/recall: (1, .5), (.5, .5), (2/3, 1); interpolated: 1 up to recall .5 (51 of COCO's 101
    # recall points), 2/3 above it (50 points)
    assert mean_average_precision(found, truth)["map_50"] == pytest.approx((51 + 50 * 2 / 3) / 101, abs=1e-6)


def test_map_names_a_malformed_input() -> None:
    truth = [{"boxes": np.array([[0.0, 0.0, 10.0, 10.0]]), "labels": np.array([0])}]
    with pytest.raises(ValueError, match="lacks"):
        mean_average_precision([{"boxes": truth[0]["boxes"], "labels": truth[0]["labels"]}], truth)
    with pytest.raises(ValueError, match="differ in length"):
        mean_average_precision([], truth)
    flipped = [{"boxes": np.array([[10.0, 0.0, 0.0, 10.0]]), "scores": np.array([1.0]), "labels": np.array([0])}]
    with pytest.raises(ValueError, match="x2 < x1"):
        mean_average_precision(flipped, truth)
    empty = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0)}]
    assert mean_average_precision(empty, truth)["map"] == 0.0
