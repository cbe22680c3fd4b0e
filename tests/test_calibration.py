"""Chapter 09's calibration: ECE on hand-computable cases, reliability bins, input checks."""

import numpy as np
import pytest

from ptft_utils.eval import calibration


def test_ece_is_zero_when_each_bin_accuracy_equals_its_confidence():
    confidences = np.array([0.75] * 4 + [0.25] * 4)
    correct = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
    assert calibration.expected_calibration_error(confidences, correct, n_bins=4) == pytest.approx(0.0, abs=1e-12)


def test_ece_matches_a_hand_computed_value():
    # bin (0.8, 0.9]: confidence 0.9 x2, accuracy 0.5 -> gap 0.4; bin (0.5, 0.6]: 0.6 x2, accuracy 1 -> gap 0.4
    confidences = np.array([0.9, 0.9, 0.6, 0.6])
    correct = np.array([True, False, True, True])
    assert calibration.expected_calibration_error(confidences, correct, n_bins=10) == pytest.approx(0.4)


def test_reliability_bins_count_and_mean_per_bin_with_empty_bins_nan():
    bins = calibration.reliability_bins([0.1, 0.3, 0.35, 1.0], [True, False, True, True], n_bins=4)
    assert bins["count"].tolist() == [1, 2, 0, 1]
    assert bins["confidence"][1] == pytest.approx(0.325)
    assert bins["accuracy"][1] == pytest.approx(0.5)
    assert np.isnan(bins["accuracy"][2])


def test_probabilities_give_max_confidence_and_top_class_correctness():
    conf, hit = calibration.confidences_and_correct([[0.2, 0.8], [0.6, 0.4]], [1, 1])
    assert conf.tolist() == [0.8, 0.6] and hit.tolist() == [True, False]


def test_logits_are_refused_by_name():
    with pytest.raises(ValueError, match="probabilities"):
        calibration.confidences_and_correct([[2.0, -1.0]], [0])


def test_n_bins_must_be_positive():
    with pytest.raises(ValueError, match="n_bins"):
        calibration.expected_calibration_error([0.5], [True], n_bins=0)


def test_bootstrap_interval_contains_the_estimate():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1, 300)
    result = calibration.ece_bootstrap(conf, rng.uniform(size=300) < conf, n_resamples=200)
    assert result["ci_low"] <= result["ece"] <= result["ci_high"]
