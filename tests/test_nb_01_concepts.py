"""Smoke run of notebooks/01_concepts.ipynb: every arm, the compute numbers, the contrast and the claims."""

import math

import pytest

NOTEBOOK = "01_concepts"
ARMS = ("finetune", "scratch", "logreg_pixels", "logreg_features")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def _ks(record):
    return sorted({*record["parameters"]["k_values"], record["metrics"]["k_all"]})


def test_record_is_for_this_notebook_in_smoke_profile(record):
    assert record["notebook"] == NOTEBOOK
    assert record["profile"] == "smoke"
    assert record["parameters"]["k_values"] == [1, 5]
    assert record["parameters"]["contrast_k_values"] == [1]


def test_data_provenance_names_source_target_and_setting(record):
    data = record["data"]
    assert {"source", "target", "images", "setting"} <= set(data)
    if "MNIST (10 classes)" in data["setting"]:
        assert data["source"].startswith("real: MNIST")
        assert "sklearn" in data["target"]
    else:
        assert data["setting"].startswith("FALLBACK")
        assert "digits" in data["source"] and "digits" in data["target"]


def test_accuracy_recorded_for_every_arm_and_k(record):
    metrics = record["metrics"]
    for arm in ARMS:
        for k in _ks(record):
            mean = metrics[f"acc_{arm}_k{k}_mean"]
            assert 0.0 <= mean <= 1.0
            assert metrics[f"acc_{arm}_k{k}_ci_low"] <= mean <= metrics[f"acc_{arm}_k{k}_ci_high"]
        assert metrics[f"acc_{arm}_kmin_mean"] == metrics[f"acc_{arm}_k1_mean"]
        assert metrics[f"acc_{arm}_kall_mean"] == metrics[f"acc_{arm}_k{metrics['k_all']}_mean"]


def test_arms_beat_chance_with_all_labels(record):
    # Ten target classes: chance is 0.1. Even the tiny smoke budget learns something.
    for arm in ("finetune", "scratch", "logreg_pixels"):
        assert record["metrics"][f"acc_{arm}_kall_mean"] > 0.2


def test_accuracy_table_has_one_row_per_arm_k_and_seed(record):
    seeds = record["parameters"]["seeds"]
    rows = record["tables"]["accuracy_by_seed"]
    assert len(rows) == len(ARMS) * len(_ks(record)) * seeds
    assert {row["arm"] for row in rows} == set(ARMS)


def test_chosen_learning_rates_come_from_the_grid(record):
    grid = set(record["parameters"]["lr_grid"])
    assert {row["lr"] for row in record["tables"]["cnn_runs"]} <= grid


def test_finetune_minus_scratch_gap_is_the_difference_of_means(record):
    metrics = record["metrics"]
    for k in _ks(record):
        gap = metrics[f"acc_finetune_k{k}_mean"] - metrics[f"acc_scratch_k{k}_mean"]
        assert metrics[f"gap_finetune_minus_scratch_k{k}"] == pytest.approx(gap)
    assert 0 <= metrics["largest_k_where_finetune_wins"] <= metrics["k_all"]


def test_flop_counts_are_consistent(record):
    metrics = record["metrics"]
    assert metrics["flops_forward_per_image"] == 2 * metrics["macs_forward_per_image"]
    assert 2.0 < metrics["train_to_forward_ratio"] <= 3.0
    per_image = metrics["flops_train_per_image"]
    assert metrics["pretrain_flops"] == pytest.approx(metrics["pretrain_images_seen"] * per_image)
    for arm in ("finetune", "scratch"):
        flops = metrics[f"flops_to_target_{arm}_mean"]
        assert flops == pytest.approx(metrics[f"images_to_target_{arm}_mean"] * per_image)
        assert metrics[f"seconds_to_target_{arm}_mean"] >= 0.0


def test_break_even_matches_saving(record):
    metrics = record["metrics"]
    saving = metrics["flops_to_target_scratch_mean"] - metrics["flops_to_target_finetune_mean"]
    assert metrics["saving_per_task_flops"] == pytest.approx(saving)
    if saving > 0:
        assert metrics["break_even_tasks"] == pytest.approx(metrics["pretrain_flops"] / saving)
    else:
        assert metrics["break_even_tasks"] == "never"


def test_contrast_experiment_recorded_for_every_arm(record):
    metrics = record["metrics"]
    seeds = record["parameters"]["seeds"]
    rows = record["tables"]["contrast_accuracy_by_seed"]
    assert len(rows) == len(ARMS) * len(record["parameters"]["contrast_k_values"]) * seeds
    for k in record["parameters"]["contrast_k_values"]:
        for arm in ARMS:
            assert 0.0 <= metrics[f"contrast_acc_{arm}_k{k}_mean"] <= 1.0
        gap = metrics[f"contrast_acc_finetune_k{k}_mean"] - metrics[f"contrast_acc_scratch_k{k}_mean"]
        assert metrics[f"contrast_gap_finetune_minus_scratch_k{k}"] == pytest.approx(gap)
    assert metrics["contrast_seconds"] > 0.0


def test_claims_carry_evidence_with_seeds(record):
    claims = {c["id"]: c for c in record["claims"]}
    seeds = record["parameters"]["seeds"]
    k_all = record["metrics"]["k_all"]
    expected = {
        "finetune_beats_scratch_k1",
        f"finetune_beats_scratch_k{k_all}",
        "advantage_shrinks_with_labels",
        "finetune_beats_logreg_pixels_k1",
        f"scratch_cnn_beats_logreg_pixels_k{k_all}",
        "probe_beats_pixels_k1",
        "finetune_needs_fewer_flops_to_target",
        "pretraining_pays_off_on_one_task",
        "contrast_finetune_beats_scratch_k1",
        "main_gain_exceeds_contrast_gain_k1",
        "contrast_probe_worse_than_pixels_k1",
    }
    assert expected <= set(claims)
    for claim in claims.values():
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"]["seeds"] == seeds


def test_prose_expectations_are_only_on_the_claims_with_a_clear_margin(record):
    expectations = {c["id"]: c["expected"] for c in record["claims"] if c["expected"] is not None}
    assert expectations == {
        "finetune_beats_scratch_k1": True,
        "advantage_shrinks_with_labels": True,
        "probe_beats_pixels_k1": True,
        "pretraining_pays_off_on_one_task": False,
        "main_gain_exceeds_contrast_gain_k1": True,
        "contrast_probe_worse_than_pixels_k1": True,
    }


def test_comparison_claims_hold_exactly_when_their_interval_says_so(record):
    claims = {c["id"]: c for c in record["claims"]}
    for claim_id in ("finetune_beats_scratch_k1", "contrast_finetune_beats_scratch_k1"):
        evidence = claims[claim_id]["evidence"]
        low, high = evidence["diff_ci95"]
        assert low <= evidence["mean_diff"] <= high
        assert evidence["finetune_mean"] - evidence["scratch_mean"] == pytest.approx(evidence["mean_diff"])
        assert claims[claim_id]["holds"] == (low > 0)
        assert all(math.isfinite(x) for x in evidence["finetune_ci95"] + evidence["scratch_ci95"])
