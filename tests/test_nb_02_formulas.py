"""Smoke run of chapter 02 (formulas): every formula's error is recorded, within tolerance, with claims."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = "02_formulas"
TOLERANCE = {"float64": 1e-9, "float32": 1e-5}
EXPECTED_PAIRS = {
    ("skipgram_softmax", "torch"),
    ("skipgram_softmax_grad", "torch"),
    ("sgns", "torch"),
    ("sgns_grad", "torch"),
    ("glove", "torch"),
    ("glove_grad", "torch"),
    ("conv2d", "torch"),
    ("conv2d", "keras"),
    ("lstm", "torch"),
    ("lstm", "keras"),
    ("gru", "torch"),
    ("gru", "keras"),
    ("gru_reset_before", "keras"),
    ("gd", "torch"),
    ("gd", "keras"),
    ("momentum", "torch"),
    ("momentum", "keras"),
    ("adam", "torch"),
    ("adam", "keras"),
    ("cross_entropy_sparse", "torch"),
    ("cross_entropy_onehot", "torch"),
    ("cross_entropy_grad", "torch"),
    ("cross_entropy_sparse", "keras"),
    ("cross_entropy_onehot", "keras"),
}
SEED_ERROR_CLAIMS = {
    "seed_skipgram_one_vector_predicts_itself",
    "seed_glove_softmax_is_a_different_objective",
    "framework_conv2d_is_cross_correlation",
    "seed_recurrent_cell_does_not_match_torch_lstm",
    "gru_reset_variants_differ",
    "adam_epsilon_placement_differs_between_frameworks",
    "sgns_gradient_is_not_the_softmax_gradient",
    "adam_bias_correction_matters",
}


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


@pytest.fixture(scope="module")
def claims(record):
    return {claim["id"]: claim for claim in record["claims"]}


def test_smoke_run_records_the_profile(record):
    assert record["notebook"] == NOTEBOOK
    assert record["profile"] == "smoke"


def test_errors_table_covers_every_formula_and_framework(record):
    pairs = {(row["formula"], row["framework"]) for row in record["tables"]["formula_errors"]}
    assert pairs >= EXPECTED_PAIRS


def test_every_recorded_error_is_within_its_tolerance(record):
    for row in record["tables"]["formula_errors"]:
        assert row["tolerance"] == TOLERANCE[row["dtype"]], row
        assert 0.0 <= row["max_rel_error"] <= row["tolerance"], row
        assert row["pass"] is True, row
        name = f"{row['formula']}_{row['framework']}"
        assert record["metrics"][f"max_rel_error_{name}"] == row["max_rel_error"]
        assert record["metrics"][f"max_abs_error_{name}"] == row["max_abs_error"]


def test_each_formula_pair_has_a_claim_with_its_error_evidence(record, claims):
    for formula, framework in EXPECTED_PAIRS:
        claim = claims[f"formula_{formula}_matches_{framework}"]
        evidence = claim["evidence"]
        assert {"max_abs_error", "max_rel_error", "tolerance", "dtype"} <= set(evidence)
        assert claim["holds"] == (evidence["max_rel_error"] <= evidence["tolerance"])


def test_seed_error_claims_are_recorded_with_evidence(claims):
    assert set(claims) >= SEED_ERROR_CLAIMS
    for claim_id in SEED_ERROR_CLAIMS:
        assert claims[claim_id]["evidence"], claim_id


def test_seed_recurrent_cell_error_is_large_and_corrected_cell_is_tiny(record):
    metrics = record["metrics"]
    assert metrics["seed_recurrent_min_rel_error_vs_torch_lstm"] > 0.05
    assert metrics["max_rel_error_lstm_torch"] < 1e-9


def test_true_convolution_differs_from_framework_convolution(record):
    metrics = record["metrics"]
    assert metrics["seed_conv_formula_rel_error_vs_torch"] < 1e-9
    assert metrics["true_convolution_rel_error_vs_torch"] > 0.1


def test_sgns_table_has_one_row_per_k_with_cosines_in_range(record):
    table = record["tables"]["sgns_vs_softmax_gradient"]
    assert [row["k"] for row in table] == record["parameters"]["sgns_k_values"]
    for row in table:
        assert -1.0 <= row["cos(mean of draws, softmax)"] <= 1.0
        assert 0.0 < row["cos(one draw, mean of draws)"] <= 1.0


def test_adam_bias_correction_changes_the_first_step(record):
    metrics = record["metrics"]
    assert metrics["adam_without_bias_correction_rel_error_vs_torch"] > 1e-2
    assert metrics["adam_first_step_without_bias_correction"] != pytest.approx(
        metrics["adam_first_step_with_bias_correction"], rel=1e-3
    )
