"""Smoke run of chapter 07b (transformers from scratch): MLM budgets, a tiny GPT, Trainer against the book's loop.

The smoke profile pretrains for a handful of steps, so its claims are recorded as findings and not
asserted; the assertions are on what that run must still get right: every table complete, the
compute axis consistent, perplexities in range, samples reproducible in shape, and each claim's
evidence corrected over its family.
"""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = "07_transformers_from_scratch"
CLAIMS = {
    "largest_pretraining_beats_none": 1,
    "finetune_lowers_review_perplexity": 2,
    "finetune_raises_shakespeare_perplexity": 2,
    "trainer_equivalent_to_book_loop": 1,
}


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def test_smoke_run_records_its_three_unlabelled_sources(record):
    assert record["profile"] == "smoke"
    assert {"polarity", "tinyshakespeare", "lee_background"} <= set(record["data"])
    for name in ("tinyshakespeare", "lee_background", "polarity_pool"):
        assert 0 < record["metrics"][f"unlabelled_chars_{name}"] <= record["parameters"]["corpus_chars"]


def test_wordpiece_vocabulary_and_held_out_windows(record):
    metrics = record["metrics"]
    assert metrics["vocabulary"] <= record["parameters"]["wordpiece_vocab"]
    assert metrics["mlm_train_windows"] > metrics["mlm_val_windows"] >= 16


def test_mlm_compute_axis_is_six_n_tokens(record):
    params = record["parameters"]
    rows = {row["mlm_steps"]: row for row in record["tables"]["mlm_pretraining"]}
    assert sorted(rows) == sorted(params["mlm_budgets"])
    n_params = record["metrics"]["bert_parameters"]
    for steps, row in rows.items():
        assert row["tokens"] == steps * params["window"] * params["mlm_batch"]
        assert row["flops"] == pytest.approx(6.0 * n_params * row["tokens"])
        assert 0 < row["val_mlm_loss"] < 2 * math.log(record["metrics"]["vocabulary"])


def test_every_checkpoint_is_fine_tuned_on_every_seed(record):
    params = record["parameters"]
    summary = record["tables"]["pretraining_budgets"]
    assert [row["arm"] for row in summary] == [f"mlm_{steps}" for steps in params["mlm_budgets"]]
    for row in summary:
        assert 0.0 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 1.0
        assert row["n"] == params["seeds"]
    assert len(record["tables"]["pretraining_runs"]) == len(params["mlm_budgets"]) * params["seeds"]


def test_gpt_perplexities_cover_both_domains_stages_and_seeds(record):
    params = record["parameters"]
    runs = record["tables"]["gpt_perplexity_runs"]
    assert len(runs) == params["gpt_seeds"] * 2 * 2
    vocabulary = record["metrics"]["gpt_vocabulary"]
    for row in runs:
        assert 1.0 < row["perplexity"] < 2 * vocabulary
        assert row["perplexity"] == pytest.approx(math.exp(row["nll"]))
        assert row["finetune_lr"] in params["gpt_finetune_lrs"]


def test_review_fine_tuning_lowers_review_perplexity_even_in_smoke(record):
    metrics = record["metrics"]
    assert metrics["ppl_reviews_after_mean"] < metrics["ppl_reviews_before_mean"]


def test_samples_cover_both_models_and_three_settings(record):
    samples = record["tables"]["gpt_samples"]
    assert {(row["model"], row["setting"]) for row in samples} == {
        (model, setting) for model in ("pretrained", "fine-tuned") for setting in ("T=0.5", "T=1.0", "T=1.0, top-k=5")
    }
    for row in samples:
        assert row["text"].startswith("the film ")
        assert len(row["text"]) == len("the film ") + record["parameters"]["sample_chars"]


def test_trainer_and_book_loop_each_run_every_seed_with_throughput(record):
    params = record["parameters"]
    runs = record["tables"]["trainer_runs"]
    assert sorted(row["arm"] for row in runs) == sorted(["book_loop", "trainer"] * params["trainer_seeds"])
    for row in runs:
        assert row["steps"] == params["trainer_steps"] and row["lr"] == params["trainer_lr"]
        assert row["examples_per_s"] > 0 and 0.0 <= row["test"] <= 1.0
    assert record["metrics"]["trainer_speed_ratio"] > 0


def test_each_claim_is_recorded_with_its_family_correction(record):
    claims = {claim["id"]: claim for claim in record["claims"]}
    assert set(CLAIMS) <= set(claims)
    for claim_id, size in CLAIMS.items():
        evidence = claims[claim_id]["evidence"]
        assert evidence["correction"] == "holm" and evidence["family_size"] == size
    assert claims["trainer_equivalent_to_book_loop"]["evidence"]["test"] == "tost_paired_t"


def test_asserted_claims_agree_with_the_run(record):
    asserted = [c for c in record["claims"] if c["expected"] is not None]
    assert all(c["holds"] == c["expected"] for c in asserted)
