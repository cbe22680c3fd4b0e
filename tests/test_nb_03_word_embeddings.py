"""Smoke run of notebooks/03_word_embeddings.ipynb: the metrics, tables and claims it records."""

from __future__ import annotations

import math

import pytest

NOTEBOOK = "03_word_embeddings"
MODELS = ["gensim skip-gram", "our SGNS", "our GloVe", "random vectors"]
VARIANTS = {"rand", "static", "non-static", "multichannel"}


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


@pytest.mark.slow
def test_smoke_run_runs_the_seed_example_and_the_min_count_sweep(record) -> None:
    metrics = record["metrics"]
    assert metrics["king_count_lee"] >= 1  # 'king' is in the Lee corpus, so the article's lookup works
    sizes = [metrics[f"lee_vocab_min_count_{mc}"] for mc in (1, 2, 5, 10)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 2 * sizes[-1]
    assert [row["min_count"] for row in record["tables"]["min_count_sweep"]] == [1, 2, 5, 10]
    assert metrics["gensim_rerun_max_diff_workers1"] == 0.0


@pytest.mark.slow
def test_smoke_run_records_the_quality_table_for_every_model(record) -> None:
    quality = {row["model"]: row for row in record["tables"]["quality"]}
    assert list(quality) == MODELS
    for row in quality.values():
        for column in ("wordsim353_spearman", "simlex999_spearman"):
            assert -1.0 <= row[column] <= 1.0
        assert 0.0 <= row["analogy_accuracy"] <= 1.0
        assert 0.0 < row["wordsim353_oov_rate"] < 1.0 and 0.0 < row["simlex999_oov_rate"] < 1.0
        assert row["wordsim353_pairs_used"] > 20
    # every model is scored on the same vocabulary, hence the same pairs
    assert len({row["wordsim353_pairs_used"] for row in quality.values()}) == 1


@pytest.mark.slow
def test_smoke_run_records_the_throughput_table(record) -> None:
    speed = {row["model"]: row for row in record["tables"]["throughput"]}
    assert set(speed) == {"gensim skip-gram", "our SGNS", "our GloVe"}
    for row in speed.values():
        assert row["seconds"] > 0 and 1_000 < row["words per second"] < 1e9
    assert math.isclose(record["metrics"]["sgns_vs_gensim_speed_ratio"], speed["our SGNS"]["relative to gensim"])


@pytest.mark.slow
def test_smoke_run_losses_fall_during_training(record) -> None:
    metrics = record["metrics"]
    assert metrics["sgns_loss_last_epoch"] < metrics["sgns_loss_first_epoch"]
    assert metrics["glove_loss_last_epoch"] < metrics["glove_loss_first_epoch"]


@pytest.mark.slow
def test_smoke_run_records_downstream_accuracy_for_every_variant_budget_and_seed(record) -> None:
    rows = record["tables"]["downstream"]
    assert {row["arm"] for row in rows} == VARIANTS
    cells = {(row["k"], row["seed"], row["pretrain_seed"]) for row in rows}
    assert len(rows) == len(VARIANTS) * len(cells) and len({row["seed"] for row in rows}) >= 2
    assert all(0.3 <= row["accuracy"] <= 1.0 and 0.0 <= row["val"] <= 1.0 for row in rows)
    assert {row["lr"] for row in rows} <= set(record["parameters"]["lr_grid"])  # each run's rate comes from the grid
    assert 0.0 < record["metrics"]["downstream_vocab_coverage"] <= 1.0


@pytest.mark.slow
def test_smoke_run_counts_what_each_kim_cnn_variant_trains(record) -> None:
    table = {row["variant"]: row for row in record["tables"]["kim_cnn_parameters"]}
    assert table["static"]["trainable embedding"] == 0
    assert table["rand"]["trainable"] == table["non-static"]["trainable"] == table["multichannel"]["trainable"]
    assert table["rand"]["trainable"] - table["static"]["trainable"] == table["rand"]["trainable embedding"]
    # multichannel holds a second, frozen copy of the table
    frozen = table["multichannel"]["parameters"] - table["multichannel"]["trainable"]
    assert frozen == table["rand"]["trainable embedding"]


@pytest.mark.slow
def test_smoke_run_records_downstream_comparisons_with_paired_evidence(record) -> None:
    claims = {c["id"]: c for c in record["claims"]}
    budgets = sorted({row["k"] for row in record["tables"]["downstream"]})
    for k in budgets:
        for claim_id in (f"static_beats_rand_k{k}", f"non_static_beats_rand_k{k}", f"multichannel_beats_rand_k{k}"):
            evidence = claims[claim_id]["evidence"]
            assert evidence["seeds"] >= 2 and len(evidence["diff_ci95"]) == 2 and evidence["baseline"] == "rand"
            assert claims[claim_id]["holds"] == evidence["better"]  # smoke asserts nothing: findings, unadjusted
        assert f"non_static_beats_static_k{k}" in claims and f"multichannel_beats_non_static_k{k}" in claims
    table = {row["claim"]: row for row in record["tables"]["downstream_claims"]}
    assert all(row["p_holm"] == "finding" for row in table.values())


@pytest.mark.slow
def test_smoke_run_sets_all_labels_accuracy_beside_kims_row(record) -> None:
    kim = {row["variant"]: row for row in record["tables"]["kim_comparison"]}
    assert set(kim) == VARIANTS
    assert kim["rand"]["Kim (2014), MR, all labels, 10-fold CV"] == 76.1
    assert kim["non-static"]["Kim (2014), MR, all labels, 10-fold CV"] == 81.5
    assert {row["arm"] for row in record["tables"]["all_labels"]} == VARIANTS
    for variant in ("rand", "static", "non_static", "multichannel"):
        assert 0.3 <= record["metrics"][f"acc_{variant}_all_labels_mean"] <= 1.0
    assert record["metrics"]["all_labels_train_sentences"] > 1000  # the real 10,662-sentence set


@pytest.mark.slow
def test_smoke_run_names_its_data(record) -> None:
    assert {"lee_background", "wordsim353", "simlex999", "analogies", "polarity"} <= set(record["data"])
