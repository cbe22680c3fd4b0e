"""Tests for chapter 08's measures of a generator: the Fréchet distance and a classifier's accuracy on samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import linalg
from torch import nn

from ptft_utils.eval.generation import accuracy_on_samples, frechet_distance


def _closed_form(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """The Fréchet distance of two Gaussians, with scipy's general matrix square root (a different route)."""
    root = linalg.sqrtm(cov_a @ cov_b)
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b) - 2.0 * np.trace(root).real)


def _with_exact_moments(rng: np.random.Generator, n: int, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``n`` rows whose sample mean and (unbiased) sample covariance are exactly ``mean`` and ``cov``."""
    z = rng.normal(size=(n, mean.size))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # sample covariance now I
    return mean + z @ np.linalg.cholesky(cov).T


COV_A = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
COV_B = np.array([[1.0, -0.4, 0.2], [-0.4, 0.8, 0.0], [0.2, 0.0, 1.5]])
MEAN_A, MEAN_B = np.array([0.0, 1.0, -1.0]), np.array([0.5, 0.0, -1.0])


def test_identical_feature_sets_are_at_distance_zero() -> None:
    features = np.random.default_rng(0).normal(size=(500, 12)) * np.linspace(0.1, 3.0, 12)
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)


def test_identical_feature_sets_are_at_distance_zero_with_more_features_than_rows() -> None:
    features = np.random.default_rng(1).normal(size=(20, 64))  # singular covariance
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)


def test_distance_equals_the_closed_form_for_samples_with_exactly_those_moments() -> None:
    rng = np.random.default_rng(2)
    a = _with_exact_moments(rng, 50, MEAN_A, COV_A)
    b = _with_exact_moments(rng, 80, MEAN_B, COV_B)
    assert np.allclose(np.cov(a, rowvar=False), COV_A) and np.allclose(b.mean(axis=0), MEAN_B)
    assert frechet_distance(a, b) == pytest.approx(_closed_form(MEAN_A, COV_A, MEAN_B, COV_B), rel=1e-10)


def test_distance_between_large_gaussian_samples_approaches_the_closed_form() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    a = rng.multivariate_normal(MEAN_A, COV_A, size=n)
    b = rng.multivariate_normal(MEAN_B, COV_B, size=n)
    expected = _closed_form(MEAN_A, COV_A, MEAN_B, COV_B)
    # The estimate's error shrinks as 1/sqrt(n); at this n it stayed under 0.01 over seeds 3..8.
    assert frechet_distance(a, b) == pytest.approx(expected, abs=0.03)
    assert expected > 0.5  # the two Gaussians differ by much more than that tolerance


def test_diagonal_gaussians_give_the_sum_of_squared_differences_of_means_and_deviations() -> None:
    rng = np.random.default_rng(4)
    deviations_a, deviations_b = np.array([1.0, 2.0, 0.5]), np.array([1.5, 1.0, 0.5])
    a = _with_exact_moments(rng, 40, MEAN_A, np.diag(deviations_a**2))
    b = _with_exact_moments(rng, 40, MEAN_B, np.diag(deviations_b**2))
    by_hand = float(np.sum((MEAN_A - MEAN_B) ** 2) + np.sum((deviations_a - deviations_b) ** 2))
    assert frechet_distance(a, b) == pytest.approx(by_hand, rel=1e-10)


def test_distance_is_symmetric() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(300, 10)), rng.normal(size=(200, 10)) * 1.7 + 0.3
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-10)
    assert frechet_distance(a, b) > 1.0


def test_shifting_every_row_adds_the_squared_length_of_the_shift() -> None:
    features = np.random.default_rng(6).normal(size=(100, 4))
    shift = np.array([3.0, 0.0, -4.0, 0.0])
    assert frechet_distance(features, features + shift) == pytest.approx(25.0, rel=1e-10)


def test_one_feature_column_is_the_difference_of_means_and_of_deviations() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(30, 1)), rng.normal(size=(45, 1)) * 2 + 1
    by_hand = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(by_hand, rel=1e-10)


@pytest.mark.parametrize(
    ("a", "b", "named"),
    [
        (np.zeros((5, 3)), np.zeros((5, 4)), "same d"),
        (np.zeros(5), np.zeros(5), r"\(n, d\)"),
        (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2 rows"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), "finite"),
        (np.zeros((5, 0)), np.zeros((5, 0)), "at least one feature"),
    ],
)
def test_frechet_distance_rejects_bad_features(a: np.ndarray, b: np.ndarray, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        frechet_distance(a, b)


class FirstPixelClassifier(nn.Module):
    """Names the class written in each image's top-left pixel; records the mode it was called in."""

    def __init__(self) -> None:
        super().__init__()
        self.modes: list[bool] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return nn.functional.one_hot(images[:, 0, 0, 0].long(), 10).float()


def _images_showing(classes: list[int]) -> torch.Tensor:
    images = torch.zeros(len(classes), 1, 28, 28)
    images[:, 0, 0, 0] = torch.tensor(classes, dtype=torch.float32)
    return images


def test_accuracy_on_samples_counts_agreements_overall_and_per_class() -> None:
    shown = [0, 1, 1, 2, 2, 2, 5, 5, 9, 9]
    intended = torch.tensor([0, 1, 3, 2, 2, 4, 5, 5, 9, 0])
    result = accuracy_on_samples(FirstPixelClassifier(), _images_showing(shown), intended, batch_size=3)
    assert result["accuracy"] == pytest.approx(7 / 10)
    per_class = result["per_class"]
    assert isinstance(per_class, list) and len(per_class) == 10
    expected = {0: 1 / 2, 1: 1.0, 2: 1.0, 3: 0.0, 4: 0.0, 5: 1.0, 9: 1.0}
    for c in range(10):
        if c in expected:
            assert per_class[c] == pytest.approx(expected[c])
        else:
            assert math.isnan(per_class[c])  # no sample was asked for class 6, 7 or 8


def test_batches_are_classified_in_order() -> None:
    shown = [c % 10 for c in range(23)]
    for batch_size in (1, 4, 23, 256):
        result = accuracy_on_samples(
            FirstPixelClassifier(), _images_showing(shown), torch.tensor(shown), batch_size=batch_size
        )
        assert result["accuracy"] == 1.0


def test_a_module_is_run_in_evaluation_mode_and_put_back_in_training_mode() -> None:
    classifier = FirstPixelClassifier().train()
    accuracy_on_samples(classifier, _images_showing([1, 2, 3]), torch.tensor([1, 2, 3]), batch_size=2)
    assert classifier.modes == [False, False] and classifier.training


def test_training_mode_is_restored_when_the_classifier_fails() -> None:
    classifier = FirstPixelClassifier().train()
    with pytest.raises(ValueError, match="num_classes=5"):
        accuracy_on_samples(classifier, _images_showing([1, 2]), torch.tensor([1, 2]), num_classes=5)
    assert classifier.training


def test_a_plain_function_serves_as_the_classifier() -> None:
    def always_seven(images: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(torch.full((images.shape[0],), 7), 10).float()

    result = accuracy_on_samples(always_seven, torch.zeros(4, 1, 28, 28), torch.tensor([7, 7, 1, 7]))
    assert result["accuracy"] == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    ("samples", "labels", "keywords", "named"),
    [
        (torch.zeros(3, 1, 28, 28), torch.tensor([0, 1]), {}, "differ"),
        (torch.zeros(2, 1, 28, 28), torch.tensor([0, 10]), {}, r"0\.\.9"),
        (torch.zeros(2, 1, 28, 28), torch.tensor([[0, 1]]), {}, "1-d"),
        (torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long), {}, "empty"),
        (torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]), {"batch_size": 0}, "batch_size"),
        (torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]), {"num_classes": 1}, "num_classes"),
    ],
)
def test_accuracy_on_samples_rejects_bad_arguments(
    samples: torch.Tensor, labels: torch.Tensor, keywords: dict, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        accuracy_on_samples(FirstPixelClassifier(), samples, labels, **keywords)
