"""Smoke run of chapter 08, text applications: inference helper, TREC, newsgroups, word translation, summaries.

The smoke profile uses a tiny random BERT and a WordPiece tokenizer trained in the notebook, so it
needs no downloaded weights; the claims about the pretrained encoder are then findings, and the
assertions here are on what that run must still get right.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = "08_applications_text"


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def test_smoke_run_uses_the_tiny_random_encoder_and_records_every_dataset(record):
    assert record["profile"] == "smoke"
    assert record["metrics"]["encoder_pretrained"] == 0
    expected = {"trec_train", "trec_test", "mini_newsgroup", "polarity", "lee_background", "encoder"}
    assert expected | {"bilingual_vectors", "translation_pairs"} <= set(record["data"])


def test_trec_has_the_official_split_sizes(record):
    metrics = record["metrics"]
    assert (metrics["trec_train_questions"], metrics["trec_test_questions"]) == (5452, 500)
    assert metrics["newsgroup_posts"] == 200


def test_inference_helper_reproduces_the_probe_and_gives_probabilities(record):
    assert record["metrics"]["sentiment_helper_max_error"] <= 1e-5
    rows = record["tables"]["my_sentences"]
    assert len(rows) == 6 and all(0.0 <= row["p_positive"] <= 1.0 for row in rows)


def test_trec_grid_has_every_arm_budget_and_seed(record):
    seeds, budgets = record["parameters"]["seeds"], record["parameters"]["trec_budgets"]
    table = record["tables"]["trec_accuracy"]
    assert {row["arm"] for row in table} == {"minilm", "random", "cnn"}
    assert all(row["n"] == seeds and 0.0 <= row["mean"] <= 1.0 for row in table)
    assert len(record["tables"]["trec_runs"]) == 3 * seeds * len(budgets)
    references = {row["model"]: row["accuracy"] for row in record["tables"]["trec_reference"]}
    assert references["Kim CNN-rand"] == 0.912 and references["ULMFiT"] == pytest.approx(0.964)


def test_newsgroup_arms_are_scored_on_the_posts(record):
    table = record["tables"]["news_accuracy"]
    assert {row["arm"] for row in table} == {"minilm", "random", "tfidf"}
    assert all(0.0 <= row["mean"] <= 1.0 for row in table)


def test_translation_beats_random_vectors_and_precision_grows_with_k(record):
    metrics = record["metrics"]
    largest = max(record["parameters"]["translation_budgets"])
    procrustes, random_vectors = (
        metrics[f"translation_p5_{arm}_b{largest}_mean"] for arm in ("procrustes", "random_vectors")
    )
    assert procrustes > random_vectors
    for arm in ("least_squares", "procrustes", "random_vectors"):
        assert metrics[f"translation_p1_{arm}_b{largest}_mean"] <= metrics[f"translation_p5_{arm}_b{largest}_mean"]
    assert len(record["tables"]["translation_examples"]) == 6


def test_summaries_are_scored_for_every_article_and_method(record):
    rows = record["tables"]["summary_divergence"]
    assert len(rows) == record["metrics"]["summary_articles"] == record["parameters"]["summary_documents"]
    for row in rows:
        assert all(0.0 <= row[arm] <= 1.0 for arm in ("lead3", "minilm", "random", "tfidf"))  # JS in bits is in [0, 1]


def test_closing_table_has_a_row_per_comparison(record):
    applications = {row["application"] for row in record["tables"]["closing"]}
    assert applications == {"TREC-6", "mini_newsgroup", "EN-IT words", "summaries (Lee)"}


def test_asserted_claims_agree_with_the_run(record):
    asserted = [c for c in record["claims"] if c["expected"] is not None]
    assert {c["id"] for c in asserted} >= {"inference_helper_matches_probe", "translation_procrustes_beats_random_b10"}
    assert all(c["holds"] == c["expected"] for c in asserted)
