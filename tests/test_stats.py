"""Confidence intervals and paired comparisons against hand-computed values."""

import math

import pytest

from ptft_utils.eval.stats import compare, mean_ci, paired_difference, summarize


def test_mean_ci_matches_the_t_interval_by_hand():
    mean, lo, hi = mean_ci([1.0, 2.0, 3.0])
    # sd = 1, n = 3, t_{0.975, 2} = 4.302653
    half = 4.302652729911275 / math.sqrt(3)
    assert mean == pytest.approx(2.0)
    assert (lo, hi) == pytest.approx((2.0 - half, 2.0 + half))


def test_single_value_has_a_zero_width_interval():
    assert mean_ci([0.7]) == (0.7, 0.7, 0.7)


def test_summarize_reports_std_and_n():
    s = summarize([2.0, 4.0])
    assert s["n"] == 2 and s["std"] == pytest.approx(math.sqrt(2.0)) and s["mean"] == 3.0


def test_paired_difference_removes_shared_seed_variation():
    a = [0.50, 0.70, 0.90]
    b = [0.45, 0.65, 0.85]
    diff = paired_difference(a, b)
    assert diff["mean_diff"] == pytest.approx(0.05)
    assert diff["diff_ci95"] == pytest.approx([0.05, 0.05])


def test_compare_says_better_only_when_the_interval_excludes_zero():
    clear = compare([0.9, 0.91, 0.92], [0.5, 0.52, 0.49], names=("ft", "scratch"))
    assert clear["better"] and not clear["worse"] and clear["seeds"] == 3
    assert clear["ft_mean"] == pytest.approx(0.91)
    noisy = compare([0.6, 0.4, 0.55], [0.5, 0.52, 0.49])
    assert not noisy["better"] and not noisy["worse"]


def test_paired_difference_refuses_unequal_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0], [1.0, 2.0])
