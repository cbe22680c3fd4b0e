"""Chapter 09's domain distance: MMD and the domain classifier on identical and shifted Gaussians."""

import numpy as np
import pytest

from ptft_utils.eval import domain


def gaussians(shift: float, n: int = 150, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.normal(size=(n, 4)) + np.array([shift, 0, 0, 0])


def test_identical_distributions_give_mmd_near_zero_and_chance_accuracy():
    x, y = gaussians(0.0)
    assert abs(domain.mmd2_unbiased(x, y)) < 0.01
    assert domain.proxy_a_distance(x, y)["accuracy"] == pytest.approx(0.5, abs=0.1)
    assert domain.mmd_permutation_test(x, y, n_permutations=50)["p_value"] > 0.05


def test_mmd_and_classifier_grow_with_the_shift():
    mmds = [domain.mmd2_unbiased(*gaussians(s), bandwidth=2.0) for s in (0.0, 0.5, 1.0, 2.0)]
    accuracies = [domain.proxy_a_distance(*gaussians(s))["accuracy"] for s in (0.0, 1.0, 3.0)]
    assert mmds == sorted(mmds) and accuracies == sorted(accuracies)
    assert domain.mmd_permutation_test(*gaussians(1.0), n_permutations=50)["p_value"] < 0.05


def test_proxy_a_distance_is_two_times_one_minus_two_errors():
    result = domain.proxy_a_distance(*gaussians(3.0))
    assert result["proxy_a_distance"] == pytest.approx(2 * (1 - 2 * result["error"]))


def test_mismatched_features_are_refused_by_name():
    with pytest.raises(ValueError, match="source and target"):
        domain.mmd2_unbiased(np.zeros((3, 2)), np.zeros((3, 3)))
