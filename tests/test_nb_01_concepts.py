"""Smoke run of notebooks/01_concepts.ipynb: the record holds every arm, the compute numbers and the claims."""

import math

import pytest

NOTEBOOK = "01_concepts"
ARMS = ("finetune", "scratch", "logreg_pixels", "logreg_features")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def test_record_is_for_this_notebook_in_smoke_profile(record):
    assert record["notebook"] == NOTEBOOK
    assert record["profile"] == "smoke"
    assert record["parameters"]["k_values"] == [1, 5]


def test_data_provenance_says_which_images(record):
    provenance = record["data"]["images"]
    assert "MNIST" in provenance or "digits" in provenance


def test_accuracy_recorded_for_every_arm_and_k(record):
    metrics = record["metrics"]
    ks = sorted({1, 5, metrics["k_all"]})
    for arm in ARMS:
        for k in ks:
            mean = metrics[f"acc_{arm}_k{k}_mean"]
            assert 0.0 <= mean <= 1.0
            assert metrics[f"acc_{arm}_k{k}_ci_low"] <= mean <= metrics[f"acc_{arm}_k{k}_ci_high"]
        assert metrics[f"acc_{arm}_kmin_mean"] == metrics[f"acc_{arm}_k1_mean"]


def test_cnn_arms_beat_chance_with_all_labels(record):
    # Five target classes: chance is 0.2. Even the tiny smoke budget learns something.
    for arm in ("finetune", "scratch", "logreg_pixels"):
        assert record["metrics"][f"acc_{arm}_kall_mean"] > 0.3


def test_accuracy_table_has_one_row_per_arm_k_and_seed(record):
    seeds = record["parameters"]["seeds"]
    ks = {1, 5, record["metrics"]["k_all"]}
    rows = record["tables"]["accuracy_by_seed"]
    assert len(rows) == len(ARMS) * len(ks) * seeds
    assert {row["arm"] for row in rows} == set(ARMS)


def test_chosen_learning_rates_come_from_the_grid(record):
    grid = set(record["parameters"]["lr_grid"])
    assert {row["lr"] for row in record["tables"]["cnn_runs"]} <= grid


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
    }
    assert expected <= set(claims)
    for claim in claims.values():
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"]["seeds"] == seeds


def test_comparison_claims_hold_exactly_when_their_interval_says_so(record):
    claims = {c["id"]: c for c in record["claims"]}
    evidence = claims["finetune_beats_scratch_k1"]["evidence"]
    low, high = evidence["diff_ci95"]
    assert low <= evidence["mean_diff"] <= high
    assert evidence["finetune_mean"] - evidence["scratch_mean"] == pytest.approx(evidence["mean_diff"])
    assert claims["finetune_beats_scratch_k1"]["holds"] == (low > 0)
    assert all(math.isfinite(x) for x in evidence["finetune_ci95"] + evidence["scratch_ci95"])
