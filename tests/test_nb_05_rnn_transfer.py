"""Smoke run of chapter 05 (RNN pretraining and fine-tuning): recorded metrics, tables and claims."""

from __future__ import annotations

import math

import pytest

from ptft_utils.kit import results

pytestmark = pytest.mark.slow

NOTEBOOK = "05_rnn_transfer"
ARMS = ("scratch", "pretrained", "ulmfit")


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def test_smoke_run_records_the_profile_and_data_sources(record):
    assert record["notebook"] == NOTEBOOK
    assert record["profile"] == "smoke"
    assert {"char_text", "word_pretraining_text", "polarity"} <= set(record["data"])
    assert all(record["data"].values())


def test_keras_and_torch_twin_agree_within_1e5(record):
    metrics = record["metrics"]
    assert metrics["parity_max_abs_error"] < 1e-5
    assert metrics["parity_hidden_max_abs_error"] < 1e-5
    assert metrics["parity_wrong_order_min_error"] > 1e-3


def test_twin_has_the_keras_parameter_count_plus_the_second_torch_bias(record):
    metrics = record["metrics"]
    assert metrics["twin_params"] - metrics["keras_params"] == 2 * 4 * 128


def test_sparse_and_categorical_cross_entropy_agree(record):
    assert record["metrics"]["sparse_vs_categorical_max_diff"] < 1e-5


def test_character_model_bits_per_character_are_sane(record):
    metrics = record["metrics"]
    uniform = metrics["char_uniform_bpc"]
    assert uniform == pytest.approx(math.log2(metrics["char_vocab_size"]))
    for key in ("keras_val_bpc", "twin_val_bpc"):
        assert 0.5 < metrics[key] < uniform + 0.5
    assert metrics["keras_val_perplexity"] == pytest.approx(2 ** metrics["keras_val_bpc"])


def test_word_language_model_perplexities_are_sane(record):
    metrics = record["metrics"]
    vocab = metrics["word_vocab_size_built"]
    assert metrics["word_lm_uniform_perplexity"] == vocab
    assert metrics["word_lm_init_perplexity"] == pytest.approx(vocab, rel=0.5)  # an untrained LM is near uniform
    assert 1.0 < metrics["word_lm_val_perplexity"] < metrics["word_lm_init_perplexity"]
    assert 1.0 < metrics["word_lm_unigram_perplexity"] < vocab
    assert metrics["review_perplexity_target_lm"] < metrics["review_perplexity_untrained"]


def test_oov_rates_are_fractions(record):
    metrics = record["metrics"]
    for key in ("oov_rate_general_heldout", "oov_rate_polarity"):
        assert 0.0 < metrics[key] < 1.0
    assert metrics["oov_rate_polarity"] > metrics["oov_rate_general_heldout"]  # the domain shift


def test_masking_keeps_encodings_batch_independent(record):
    metrics = record["metrics"]
    assert metrics["masked_encoding_max_diff"] < 1e-5
    assert metrics["unmasked_encoding_max_diff"] > 1e-3
    assert metrics["mask_flip_rate_packed"] == 0.0
    assert len(record["tables"]["masking"]) == 2


def test_accuracy_table_has_every_method_and_budget(record):
    table = record["tables"]["accuracy_vs_labels"]
    arms = {row["arm"].lower() for row in table}
    budgets = {row["labels"] for row in table}
    assert arms == set(ARMS)
    assert budgets == {50, 200}
    assert len(table) == len(arms) * len(budgets)
    for row in table:
        assert 0.0 <= row["ci95_low"] <= row["mean"] <= row["ci95_high"] <= 1.0
        assert row["seeds"] == 2
        assert record["metrics"][f"acc_{row['arm'].lower()}_n{row['labels']}_mean"] == pytest.approx(row["mean"])


def test_per_seed_accuracies_are_recorded(record):
    runs = record["tables"]["accuracy_runs"]
    assert len(runs) == 2 * 2 * 3  # seeds x budgets x methods
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in runs)


def test_claims_are_present_with_evidence(record):
    claims = {c["id"]: c for c in record["claims"]}
    expected = {
        "keras_torch_parity",
        "wrong_gate_order_detected",
        "twin_trains_like_keras",
        "lm_pretraining_beats_unigram",
        "target_lm_finetuning_lowers_review_perplexity",
        "masking_makes_encoding_batch_independent",
        "unmasked_predictions_depend_on_batch",
        "ulmfit_beats_scratch_n50",
        "pretrained_beats_scratch_n50",
        "ulmfit_beats_scratch_n200",
    }
    assert expected <= set(claims)
    for claim in claims.values():
        assert claim["statement"]
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"]
    comparison = claims["ulmfit_beats_scratch_n50"]["evidence"]
    assert {"ulmfit_mean", "scratch_mean", "diff_ci95", "seeds", "better"} <= set(comparison)
    assert comparison["seeds"] == 2


def test_parity_claims_hold_even_at_smoke_size(record):
    claims = {c["id"]: c for c in record["claims"]}
    assert claims["keras_torch_parity"]["holds"]
    assert claims["wrong_gate_order_detected"]["holds"]
    assert claims["masking_makes_encoding_batch_independent"]["holds"]


DECLARED = {
    "twin_trains_like_keras",
    "keras_torch_parity",
    "wrong_gate_order_detected",
    "lm_pretraining_beats_unigram",
    "target_lm_finetuning_lowers_review_perplexity",
    "masking_makes_encoding_batch_independent",
    "unmasked_predictions_depend_on_batch",
}


def test_asserted_claims_are_declared_before_the_metrics_they_rest_on(record):
    asserted = {c["id"]: c for c in record["claims"] if c["expected"] is not None}
    assert set(asserted) == DECLARED
    for claim in asserted.values():
        verdict, reason = results.review_claim(claim, record["metric_order"])
        assert verdict != results.DEFECT, f"{claim['id']}: {reason}"
        assert claim["test"] in results.TESTS
        assert min(claim["rests_on"].values()) > claim["declared_at"], claim["id"]


def test_comparisons_of_the_sentiment_grid_are_findings(record):
    findings = {c["id"] for c in record["claims"] if c["expected"] is None}
    assert {"ulmfit_beats_scratch_n50", "pretrained_beats_scratch_n50", "ulmfit_beats_scratch_n200"} <= findings
