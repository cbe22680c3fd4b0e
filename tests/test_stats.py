"""Intervals, paired tests, Holm, TOST, dependent correlations and ratios against hand-computed values."""

import json
import math

import numpy as np
import pytest

from ptft_utils.eval.stats import (
    EVIDENCE_KEYS,
    _bootstrap_p,
    _steiger_z,
    compare,
    compare_correlations,
    equivalence,
    family,
    holm,
    holm_rejected,
    mean_ci,
    paired_bootstrap,
    paired_difference,
    ratio_interval,
    summarize,
)


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


# -- the evidence convention --------------------------------------------------------------------
@pytest.fixture
def planted():
    """30 paired runs where arm a is better than arm b by 0.3, with shared seed noise."""
    rng = np.random.default_rng(1)
    b = rng.normal(0.6, 0.05, 30)
    return list(b + 0.3 + rng.normal(0.0, 0.02, 30)), list(b)


@pytest.fixture
def same_arms():
    """Two arms with the same mean: per-seed noise only."""
    rng = np.random.default_rng(2)
    base = rng.normal(0.7, 0.05, 12)
    return list(base + rng.normal(0.0, 0.01, 12)), list(base + rng.normal(0.0, 0.01, 12))


def _plain(value):
    """True when value holds only built-in JSON types and finite floats."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or type(value) in (bool, int, str)


def _all_results(planted):
    a, b = planted
    x = np.arange(20.0)
    return {
        "paired_t": paired_difference(a, b),
        "bootstrap": paired_bootstrap(a, b, n_resamples=200),
        "tost": equivalence(a, b, margin=0.5),
        "tost_welch": equivalence(a, b, margin=0.5, paired=False),
        "corr_boot": compare_correlations(x, x + np.sin(x), np.cos(x), n_resamples=100),
        "corr_steiger": compare_correlations(x, x + np.sin(x), np.cos(x), method="steiger", kind="pearson"),
        "ratio_fieller": ratio_interval([5, 6, 7, 5], [-1, 1, 0.5, -0.3], method="fieller"),
        "ratio_boot": ratio_interval([5, 6, 7, 5, 6, 5], [0.1, -0.1, 0.2, -0.15, 0.05, 0.3], n_resamples=200),
    }


def test_every_result_is_plain_json_with_the_evidence_keys(planted):
    for name, result in _all_results(planted).items():
        assert set(EVIDENCE_KEYS) <= set(result), name
        assert _plain(result), name
        json.dumps(result, allow_nan=False)
    assert _all_results(planted)["tost"]["margin"] == 0.5


# -- paired t and paired bootstrap --------------------------------------------------------------
def test_paired_t_reports_its_p_value_by_hand():
    result = paired_difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    # t = 2 / (1 / sqrt 3) = 2 sqrt 3, df 2: sf(t) = (1 - t / sqrt(t^2 + 2)) / 2
    t = 2 * math.sqrt(3)
    assert result["test"] == "paired_t" and result["n"] == 3
    assert result["statistic"] == pytest.approx(t)
    assert result["p_value"] == pytest.approx(1 - t / math.sqrt(t * t + 2))
    assert result["p_value"] == pytest.approx(0.0741799, abs=1e-6)
    assert [result["ci_low"], result["ci_high"]] == result["diff_ci95"]


def test_paired_t_with_one_pair_or_no_spread():
    assert paired_difference([1.0], [0.0])["p_value"] is None
    assert paired_difference([0.5, 0.7], [0.5, 0.7])["p_value"] == 1.0


def test_planted_difference_is_found_by_both_paired_tests(planted):
    a, b = planted
    t_test = paired_difference(a, b)
    boot = paired_bootstrap(a, b, n_resamples=500, seed=3)
    for result in (t_test, boot):
        assert result["p_value"] < 0.01
        assert 0 < result["ci_low"] < 0.3 < result["ci_high"]
    assert boot["mean_diff"] == pytest.approx(t_test["mean_diff"])
    assert boot["test"] == "paired_bootstrap" and boot["n"] == 30 and boot["n_resamples"] == 500


def test_paired_bootstrap_finds_nothing_between_same_arms(same_arms):
    boot = paired_bootstrap(*same_arms, n_resamples=500)
    assert boot["ci_low"] < 0 < boot["ci_high"] and boot["p_value"] > 0.05
    identical = paired_bootstrap([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], n_resamples=100)
    assert identical["p_value"] == 1.0 and identical["ci_low"] == identical["ci_high"] == 0.0


def test_bootstrap_p_value_is_two_sided_and_agrees_with_the_interval(same_arms):
    # 1 resample <= 0 and 3 >= 0 of 4: p = 2 * min(1 + 1, 3 + 1) / (4 + 1)
    assert _bootstrap_p(np.array([-1.0, 1.0, 2.0, 3.0])) == pytest.approx(0.8)
    a, b = np.array(same_arms[0]), np.array(same_arms[1])
    for shift in (0.0, 0.002, 0.004, 0.006, 0.008, 0.012, 0.02):
        boot = paired_bootstrap(a + shift, b, n_resamples=2000)
        excludes_zero = boot["ci_low"] > 0 or boot["ci_high"] < 0
        assert excludes_zero == (boot["p_value"] < 0.05), shift


def test_paired_bootstrap_is_deterministic_given_its_seed(planted):
    a, b = planted
    first = paired_bootstrap(a, b, n_resamples=300, seed=7)
    assert paired_bootstrap(a, b, n_resamples=300, seed=7) == first
    assert paired_bootstrap(a, b, n_resamples=300, seed=8)["ci_low"] != first["ci_low"]


# -- Holm ---------------------------------------------------------------------------------------
def test_holm_adjusts_a_known_family_to_known_values():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4p, 3p, 2p, 1p = 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    named = holm({"k1": 0.01, "k5": 0.04, "k10": 0.03, "k20": 0.005})
    assert named == pytest.approx({"k1": 0.03, "k5": 0.06, "k10": 0.06, "k20": 0.02})
    assert list(named) == ["k1", "k5", "k10", "k20"]
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0]) and holm([]) == []
    assert holm_rejected([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert holm_rejected({"a": 0.01, "b": 0.04}, alpha=0.1) == {"a": True, "b": True}


def test_holm_agrees_with_statsmodels_when_installed():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    ps = [0.001, 0.2, 0.013, 0.04, 0.04, 0.7, 0.02]
    expected = multitest.multipletests(ps, method="holm")[1]
    assert holm(ps) == pytest.approx(list(expected))


def test_holm_refuses_values_outside_0_1():
    with pytest.raises(ValueError, match=r"p_values\['b'\]"):
        holm({"a": 0.1, "b": 1.5})


def test_family_adds_the_adjusted_verdict(planted):
    a, b = planted
    results = {
        "planted": paired_difference(a, b),
        "weak": {"test": "paired_t", "n": 5, "p_value": 0.03},
        "one_seed": paired_difference([1.0], [0.0]),
    }
    fam = family(results)
    assert {r["family_size"] for r in fam.values()} == {3}
    assert fam["planted"]["rejected"] and fam["planted"]["p_value_adjusted"] < 0.01
    assert fam["weak"]["p_value_adjusted"] == pytest.approx(0.06) and not fam["weak"]["rejected"]
    assert fam["one_seed"]["p_value_adjusted"] == 1.0 and not fam["one_seed"]["rejected"]
    assert fam["weak"]["p_value"] == 0.03 and "p_value_adjusted" not in results["weak"]
    with pytest.raises(ValueError, match="'bare'"):
        family({"bare": {"n": 3}})


# -- equivalence (TOST) -------------------------------------------------------------------------
def test_tost_by_hand():
    # differences -0.1, 0, 0.1: mean 0, se = 0.1 / sqrt 3, df 2; sf(t) = (1 - t / sqrt(t^2 + 2)) / 2
    wide = equivalence([-0.1, 0.0, 0.1], [0.0, 0.0, 0.0], margin=0.5)
    t = 0.5 / (0.1 / math.sqrt(3))
    assert wide["p_lower"] == pytest.approx((1 - t / math.sqrt(t * t + 2)) / 2)
    assert wide["p_value"] == pytest.approx(0.0065362, abs=1e-6) and wide["equivalent"]
    assert wide["ci_high"] == pytest.approx(2.919986 * 0.1 / math.sqrt(3), rel=1e-6)
    assert wide["confidence"] == 0.9 and wide["alpha"] == 0.05 and wide["test"] == "tost_paired_t"
    narrow = equivalence([-0.1, 0.0, 0.1], [0.0, 0.0, 0.0], margin=0.1)
    assert narrow["p_value"] == pytest.approx(0.1127017, abs=1e-6) and not narrow["equivalent"]


def test_same_arms_are_equivalent_only_when_the_margin_is_wider_than_the_interval(same_arms):
    half_width = equivalence(*same_arms, margin=1.0)["ci_high"]
    assert 0 < half_width < 0.05
    for margin in (1e-4, 0.001, 0.01, 0.02, 0.05, 0.1, 1.0):
        result = equivalence(*same_arms, margin=margin)
        inside = -margin < result["ci_low"] and result["ci_high"] < margin
        assert result["equivalent"] == inside == (result["p_value"] < 0.05), margin
    assert equivalence(*same_arms, margin=0.1)["equivalent"]
    assert not equivalence(*same_arms, margin=1e-4)["equivalent"]


def test_a_planted_difference_is_not_equivalent(planted):
    result = equivalence(*planted, margin=0.1)
    assert not result["equivalent"] and result["p_upper"] > 0.5
    welch = equivalence(*planted, margin=0.1, paired=False)
    assert welch["test"] == "tost_welch" and not welch["equivalent"] and welch["n"] == 60


@pytest.mark.parametrize("margin", [0.0, -0.1, float("nan"), float("inf")])
def test_equivalence_needs_a_positive_margin(margin):
    with pytest.raises(ValueError, match="margin"):
        equivalence([1.0, 2.0], [1.0, 2.0], margin=margin)


# -- dependent correlations ---------------------------------------------------------------------
@pytest.fixture
def word_pairs():
    rng = np.random.default_rng(4)
    human = rng.permutation(40).astype(float)
    return human, human + rng.normal(0.0, 3.0, 40), rng.normal(size=40)


@pytest.mark.parametrize("method", ["bootstrap", "steiger"])
def test_identical_models_give_no_difference(word_pairs, method):
    human, good, _ = word_pairs
    result = compare_correlations(human, good, good, method=method, n_resamples=100)
    assert result["diff"] == 0.0 and result["p_value"] == 1.0 and result["r12"] == pytest.approx(1.0)
    assert result["ci_low"] <= 0.0 <= result["ci_high"]
    if method == "bootstrap":
        assert result["ci_low"] == result["ci_high"] == 0.0


@pytest.mark.parametrize(
    ("method", "kind"), [("bootstrap", "spearman"), ("steiger", "spearman"), ("steiger", "pearson")]
)
def test_a_much_better_model_is_found(word_pairs, method, kind):
    human, good, bad = word_pairs
    result = compare_correlations(human, good, bad, method=method, kind=kind, n_resamples=300)
    assert result["r1"] > 0.9 and abs(result["r2"]) < 0.4
    assert result["diff"] == pytest.approx(result["r1"] - result["r2"])
    assert result["p_value"] < 0.01 and result["ci_low"] > 0.3


def test_spearman_is_pearson_of_ranks(word_pairs):
    human, good, bad = word_pairs
    from scipy import stats

    result = compare_correlations(human, good, bad, method="steiger")
    assert result["r1"] == pytest.approx(stats.spearmanr(human, good).statistic)
    assert result["r2"] == pytest.approx(stats.spearmanr(human, bad).statistic)


def test_steiger_z_by_hand():
    # r1 .5, r2 .3, r12 .4, n 50: rbar^2 .16, psi = .4*.68 - .08*.52 = .2304, c = .2304/.84^2
    c = 0.2304 / 0.84**2
    z = (math.atanh(0.5) - math.atanh(0.3)) * math.sqrt(47) / math.sqrt(2 - 2 * c)
    assert z == pytest.approx(1.416445, abs=1e-5)
    got_z, got_p = _steiger_z(0.5, 0.3, 0.4, 50)
    assert got_z == pytest.approx(z) and got_p == pytest.approx(0.156645, abs=1e-5)


def test_compare_correlations_is_deterministic_and_checks_its_input(word_pairs):
    human, good, bad = word_pairs
    assert compare_correlations(human, good, bad, n_resamples=50, seed=1) == compare_correlations(
        human, good, bad, n_resamples=50, seed=1
    )
    with pytest.raises(ValueError, match="y2"):
        compare_correlations(human, good, bad[:-1])
    with pytest.raises(ValueError, match="y1 is constant"):
        compare_correlations(human, np.ones(40), bad)
    with pytest.raises(ValueError, match="method"):
        compare_correlations(human, good, bad, method="fisher")


# -- ratios -------------------------------------------------------------------------------------
def test_fieller_interval_solves_fiellers_equation():
    num, den = np.array([10.0, 11.0, 9.0, 10.0]), np.array([2.0, 2.1, 1.9, 2.0])
    result = ratio_interval(num, den, method="fieller")
    assert result["ratio"] == pytest.approx(5.0) and result["bounded"]
    assert result["ci_low"] < 5.0 < result["ci_high"]
    t2 = 3.182446305284263**2  # t_{0.975, 3}
    v11, v22 = num.var(ddof=1) / 4, den.var(ddof=1) / 4
    v12 = np.cov(num, den)[0, 1] / 4
    for r in (result["ci_low"], result["ci_high"]):
        lhs = (num.mean() - r * den.mean()) ** 2
        assert lhs == pytest.approx(t2 * (v11 - 2 * r * v12 + r * r * v22))


def test_fieller_is_unbounded_when_the_denominator_may_be_zero():
    result = ratio_interval([5, 6, 7, 5], [-1, 1, 0.5, -0.3], method="fieller")
    assert result["ci_low"] is None and result["ci_high"] is None and result["bounded"] is False
    assert result["denominator_ci_low"] < 0 < result["denominator_ci_high"]


def test_bootstrap_ratio_counts_nonpositive_denominators():
    tight = ratio_interval([10, 11, 9, 10], [2, 2.1, 1.9, 2.0], n_resamples=300)
    assert tight["bounded"] and tight["n_nonpositive_denominator"] == 0
    assert tight["ci_low"] <= 5.0 <= tight["ci_high"]
    loose = ratio_interval([5, 6, 7, 5, 6, 5], [0.1, -0.1, 0.2, -0.15, 0.05, 0.3], n_resamples=300)
    assert loose["n_nonpositive_denominator"] > 0.025 * 300
    assert loose["ci_high"] is None and loose["ci_low"] > 0 and not loose["bounded"]
    assert ratio_interval([1, 2], [-1, -2], n_resamples=50)["ratio"] is None
    unpaired = ratio_interval([10, 11, 9], [2, 2.1, 1.9, 2.0], paired=False, n_resamples=200)
    assert unpaired["n"] == 7 and unpaired["bounded"]


def test_bootstrap_ratio_is_deterministic_given_its_seed():
    args = ([10, 12, 9, 10, 11], [2, 2.5, 1.5, 2.0, 1.0])
    assert ratio_interval(*args, n_resamples=100, seed=5) == ratio_interval(*args, n_resamples=100, seed=5)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: paired_bootstrap([1.0, 2.0], [1.0]), "a and b must have equal lengths"),
        (lambda: paired_bootstrap([1.0], [1.0]), "a needs at least 2 values"),
        (lambda: paired_bootstrap([1.0, float("nan")], [1.0, 2.0]), "a must hold finite"),
        (lambda: paired_bootstrap([1.0, 2.0], [1.0, 2.0], n_resamples=0), "n_resamples"),
        (lambda: paired_bootstrap([1.0, 2.0], [1.0, 2.0], confidence=95), "confidence"),
        (lambda: equivalence([1.0, 2.0, 3.0], [1.0, 2.0], margin=0.1), "a and b must have equal lengths"),
        (lambda: equivalence([1.0], [2.0], margin=0.1), "a needs at least 2 values"),
        (lambda: equivalence([1.0, 2.0], [2.0], margin=0.1, paired=False), "b needs at least 2 values"),
        (lambda: compare_correlations([1, 2, 3], [1, 2, 3], [3, 2, 1]), "x needs at least 4"),
        (lambda: ratio_interval([1, 2, 3], [1, 2]), "numerator_samples and denominator_samples"),
        (lambda: ratio_interval([1], [1], paired=False), "numerator_samples needs at least 2"),
        (lambda: ratio_interval([1, 2], [1, 2], method="delta"), "method"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_family_widens_t_intervals_to_bonferroni_level_and_says_when_it_cannot(planted):
    a, b = planted
    alone = family({"planted": paired_difference(a, b)})["planted"]
    assert alone["ci_adjusted"] == [alone["ci_low"], alone["ci_high"]] and alone["ci_adjusted_confidence"] == 0.95
    results = {"planted": paired_difference(a, b), "other": paired_difference(b, a), "third": paired_difference(a, a)}
    fam = family(results)["planted"]
    by_hand = paired_difference(a, b, confidence=1 - 0.05 / 3)
    assert fam["ci_adjusted"] == pytest.approx([by_hand["ci_low"], by_hand["ci_high"]])
    assert fam["ci_adjusted_confidence"] == pytest.approx(1 - 0.05 / 3)
    assert fam["ci_adjusted_method"] == "bonferroni over 3"
    tost = family({"eq": equivalence(a, b, margin=5.0), "x": paired_difference(a, b)})["eq"]
    tost_by_hand = equivalence(a, b, margin=5.0, confidence=1 - 0.05 / 2)
    assert tost["ci_adjusted"] == pytest.approx([tost_by_hand["ci_low"], tost_by_hand["ci_high"]])
    boot = family({"boot": paired_bootstrap(a, b, n_resamples=200), "x": paired_difference(a, b)})["boot"]
    assert boot["ci_adjusted"] is None and "paired_bootstrap" in boot["ci_adjusted_method"]
