"""Smoke run of chapter 05 (RNN pretraining and fine-tuning): recorded metrics, tables and claims."""

from __future__ import annotations

import math

import pytest

from ptft_utils.kit import results

pytestmark = pytest.mark.slow

NOTEBOOK = "05_rnn_transfer"
ARMS = ("scratch", "general_lm", "target_lm", "target_lm_gradual", "ulmfit")


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
    for key in ("oov_rate_general_heldout", "oov_rate_polarity", "oov_rate_polarity_general_vocab"):
        assert 0.0 < metrics[key] < 1.0


def test_the_unlabelled_reviews_in_the_vocabulary_cut_the_review_oov_rate(record):
    metrics = record["metrics"]
    assert metrics["oov_rate_polarity"] < metrics["oov_rate_polarity_general_vocab"]
    assert metrics["polarity_word_types_covered"] > metrics["polarity_word_types_covered_general_vocab"]
    rows = {row["vocabulary"]: row for row in record["tables"]["vocabularies"]}
    assert len(rows) == 2
    assert rows["general text + unlabelled reviews"]["OOV, test reviews"] == pytest.approx(metrics["oov_rate_polarity"])


def test_masking_keeps_encodings_batch_independent(record):
    metrics = record["metrics"]
    assert metrics["masked_encoding_max_diff"] < 1e-5
    assert metrics["unmasked_encoding_max_diff"] > 1e-3
    assert metrics["mask_flip_rate_packed"] == 0.0
    assert len(record["tables"]["masking"]) == 2


def test_masking_table_compares_accuracies_on_one_set_of_sentences(record):
    metrics = record["metrics"]
    packed = record["tables"]["masking"][0]
    # a packed classifier gives the same predictions batched or one at a time, so the same accuracy
    assert packed["accuracy, batched (256)"] == pytest.approx(packed["accuracy, one at a time"])
    assert metrics["mask_acc_packed"] == pytest.approx(metrics["mask_acc_single_packed"])
    assert metrics["mask_check_sentences"] == 100


def test_accuracy_table_has_every_arm_and_budget(record):
    table = record["tables"]["accuracy_vs_labels"]
    arms = {row["arm"] for row in table}
    budgets = {row["labels_per_class"] for row in table}
    assert arms == set(ARMS)
    assert budgets == {50, 200}
    assert len(table) == len(arms) * len(budgets)
    for row in table:
        assert row["ci95_low"] - 1e-9 <= row["mean"] <= row["ci95_high"] + 1e-9  # equal runs: a zero-width interval
        assert 0.0 <= row["mean"] <= 1.0
        assert row["runs"] == 2  # 2 seeds x 1 pretraining run
        metric = record["metrics"][f"acc_{row['arm']}_k{row['labels_per_class']}_mean"]
        assert metric == pytest.approx(row["mean"])


def test_every_chosen_run_was_selected_on_validation_from_the_lr_grid(record):
    runs = record["tables"]["accuracy_runs"]
    assert len(runs) == 2 * 2 * len(ARMS)  # seeds x budgets x arms, one pretraining run
    grid = set(record["parameters"]["lr_grid"])
    for run in runs:
        assert 0.0 <= run["test"] <= 1.0
        assert 0.0 <= run["val"] <= 1.0
        assert run["lr"] in grid
    assert record["metrics"]["classifier_runs"] == len(runs) * len(grid)


def test_paired_comparisons_are_holm_corrected_within_their_family(record):
    rows = record["tables"]["paired_comparisons"]
    sizes = {"vs_scratch": 4 * 2, "single_change": 4 * 2}  # 4 comparisons x 2 budgets per family
    assert {row["family"] for row in rows} == set(sizes)
    for row in rows:
        assert row["family_size"] == sizes[row["family"]]
        assert row["p"] <= row["p_holm"] <= 1.0
        assert row["ci95_low"] <= row["mean_diff"] <= row["ci95_high"]
        assert row["found"] == (row["p_holm"] <= 0.05 and row["mean_diff"] > 0)


def test_claims_are_present_with_evidence(record):
    claims = {c["id"]: c for c in record["claims"]}
    expected = DECLARED | {
        "ulmfit_vs_scratch_k50_better",
        "general_lm_vs_scratch_k50_better",
        "ulmfit_vs_scratch_k200_better",
        "step_target_lm_vs_general_lm_k50_better",
        "step_ulmfit_vs_target_lm_gradual_k200_better",
        "scratch_k200_above_chance",
        "probe_target_vs_random_better",
    }
    assert expected <= set(claims)
    for claim in claims.values():
        assert claim["statement"]
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"]
    comparison = claims["ulmfit_vs_scratch_k50_better"]["evidence"]
    assert {"ulmfit_mean", "scratch_mean", "diff_ci95", "seeds", "p_value_adjusted", "family_size"} <= set(comparison)
    assert comparison["seeds"] == 2
    assert comparison["family_size"] == 8


def test_frozen_probes_are_compared_with_a_random_encoder(record):
    rows = {row["probe"]: row for row in record["tables"]["frozen_probes"]}
    assert set(rows) == {"probe_general", "probe_target"}
    for row in rows.values():
        assert 0.0 <= row["mean"] <= 1.0
        assert row["mean_diff"] == pytest.approx(row["mean"] - row["random_mean"])


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
    assert {"ulmfit_vs_scratch_k50_better", "target_lm_vs_scratch_k200_better"} <= findings
