"""Tests for ptft_utils.models: the seed CNN's twin has the seed's shape, size and cost."""

from __future__ import annotations

import torch

from ptft_utils.models import SEED_CNN_PARAMETERS, SeedCNN, count_parameters, forward_flops, training_flops


def test_seed_cnn_twin_has_the_keras_parameter_count() -> None:
    assert SEED_CNN_PARAMETERS == 225_034
    assert count_parameters(SeedCNN()) == 225_034


def test_seed_cnn_layer_parameter_counts_match_the_keras_summary() -> None:
    model = SeedCNN()
    per_layer = [sum(p.numel() for p in group[0].parameters()) for group in model.layer_groups()]
    assert per_layer == [320, 18_496, 204_928, 1_290]  # the Param # column of model.summary()


def test_seed_cnn_maps_images_to_logits_and_features() -> None:
    model = SeedCNN()
    x = torch.rand(3, 28, 28)
    assert model(x).shape == (3, 10)
    assert model(x.unsqueeze(1)).shape == (3, 10)
    assert model.conv_features(x).shape == (3, 64, 5, 5)
    assert model.features(x).shape == (3, 128)
    assert SeedCNN(num_classes=4)(x).shape == (3, 4)


def test_forward_flops_counts_multiply_adds_twice() -> None:
    flops = forward_flops(SeedCNN(), torch.rand(1, 28, 28))
    assert flops == {
        "conv1": 2 * 9 * 26 * 26 * 32,
        "conv2": 2 * 32 * 9 * 11 * 11 * 64,
        "fc1": 2 * 1600 * 128,
        "head": 2 * 128 * 10,
    }


def test_training_flops_drop_when_the_trunk_is_frozen() -> None:
    model = SeedCNN()
    x = torch.rand(1, 28, 28)
    forward = sum(forward_flops(model, x).values())
    assert training_flops(model, x) == 3 * forward
    for p in [*model.conv1.parameters(), *model.conv2.parameters(), *model.fc1.parameters()]:
        p.requires_grad_(False)
    assert training_flops(model, x) == forward + 2 * 2 * 128 * 10
