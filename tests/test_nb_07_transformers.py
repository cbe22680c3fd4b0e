"""Smoke run of chapter 07 (transformers): parity checks, the label-efficiency grid, practical measurements.

The smoke profile uses a tiny random BERT and a WordPiece tokenizer trained in the notebook, so it
needs no downloaded weights; the assertions are on what that run must still get right.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = "07_transformers"
ARMS = ("full", "lora", "frozen", "scratch", "word2vec")


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def test_smoke_run_uses_the_tiny_random_encoder_and_records_its_data(record):
    assert record["profile"] == "smoke"
    assert record["metrics"]["encoder_pretrained"] == 0
    assert record["data"]["encoder"].startswith("random initialisation")
    assert {"polarity", "lee", "lee_background", "tinyshakespeare"} <= set(record["data"])


def test_formulas_match_torch_to_1e6(record):
    metrics = record["metrics"]
    for key in ("attention_max_error", "layer_norm_max_error", "gelu_max_error"):
        assert 0 <= metrics[key] <= 1e-6


def test_our_encoder_reproduces_hf_bert(record):
    assert record["metrics"]["encoder_hf_max_error"] <= 1e-5


def test_keras_block_twin_agrees_and_a_wrong_copy_is_caught(record):
    metrics = record["metrics"]
    assert metrics["keras_block_max_error"] <= 1e-5
    assert metrics["keras_block_untransposed_error"] > 1e-3
    assert metrics["keras_attention_max_error"] <= 1e-5
    assert metrics["keras_layer_norm_max_error"] <= 1e-5


def test_mlm_masking_shares_follow_the_rule(record):
    assert record["metrics"]["mlm_rate_max_gap"] <= 0.01
    rates = {row["share"]: row for row in record["tables"]["mlm_rates"]}
    assert rates["masked"]["ours"] == pytest.approx(0.8, abs=0.01)


def test_label_efficiency_grid_has_every_arm_with_accuracies_in_range(record):
    table = record["tables"]["label_efficiency"]
    assert {row["arm"] for row in table} == set(ARMS)
    for row in table:
        assert 0.0 <= row["mean"] <= 1.0 and row["n"] == record["parameters"]["seeds"]
    runs = record["tables"]["label_efficiency_runs"]
    assert len(runs) == len(ARMS) * record["parameters"]["seeds"] * len(record["parameters"]["budgets"])


def test_lora_trains_a_small_share_with_its_head(record):
    metrics = record["metrics"]
    assert 0 < metrics["lora_trainable_share"] < 0.05
    assert metrics["lora_trainable_params"] < metrics["lora_total_params"]


def test_practical_measurements_are_recorded(record):
    metrics = record["metrics"]
    for key in ("tokens_per_s_dynamic", "tokens_per_s_max_length", "tokens_per_s_bf16"):
        assert metrics[key] > 0
    assert metrics["accumulation_max_grad_error"] <= 1e-5


def test_asserted_claims_agree_with_the_run(record):
    asserted = [c for c in record["claims"] if c["expected"] is not None]
    assert {c["id"] for c in asserted} >= {"formulas_match_torch", "keras_block_twin_parity", "mlm_rule_rates"}
    assert all(c["holds"] == c["expected"] for c in asserted)
