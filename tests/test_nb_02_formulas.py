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
    "sgns_gradient_is_not_the_softmax_gradient_after_training",
    "adam_bias_correction_matters",
    "tuned_adam_slower_than_momentum",
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


def test_self_prediction_is_measured_on_models_trained_on_the_lee_corpus(record):
    table = record["tables"]["self_prediction"]
    assert len(table) == record["parameters"]["seeds"]
    for row in table:
        for key in ("one vector, trained", "two vectors, trained", "one vector, random"):
            assert 0.0 <= row[key] <= 1.0
        assert row["one vector, trained"] > row["two vectors, trained"]
    metrics = record["metrics"]
    assert metrics["lee_vocab_size"] > 100  # a real vocabulary, not the synthetic one
    assert metrics["lee_next_word_is_same_word"] < 0.01


def test_sgns_softmax_cosines_on_the_lee_corpus_at_both_points(record):
    table = record["tables"]["sgns_vs_softmax_gradient_lee"]
    k_values = record["parameters"]["sgns_k_values"]
    assert {row["vectors"] for row in table} == {"initialisation", "after training"}
    assert len(table) == 2 * len(k_values)
    for row in table:
        assert -1.0 <= row["cos(mean of draws, softmax)"] <= 1.0


def test_each_optimizer_is_swept_and_its_chosen_step_size_is_in_its_grid(record):
    sweep = record["tables"]["optimizer_lr_sweep"]
    steps = record["parameters"]["lr_steps"]
    assert len(sweep) == 3 * steps
    for name in ("gd", "momentum", "adam"):
        rows = [row for row in sweep if row["optimizer"] == name]
        assert len(rows) == steps
        best = min(rows, key=lambda row: row["final_loss"])
        assert record["metrics"][f"tuned_lr_{name}"] == pytest.approx(best["lr"])


def test_the_asserted_optimizer_ranking_is_holm_corrected_in_its_family(claims):
    asserted = claims["tuned_adam_slower_than_momentum"]
    assert asserted["family"] == "optimizer_ranking"
    assert asserted["evidence"]["family_size"] == 1
    assert asserted["evidence"]["p_value"] <= asserted["evidence"]["p_value_adjusted"]
    finding = claims["tuned_adam_slower_than_gd"]
    assert finding["expected"] is None  # a finding, reported either way
    assert finding["holds"] == (finding["evidence"]["p_value"] <= 0.05 and finding["evidence"]["mean_diff"] > 0)
