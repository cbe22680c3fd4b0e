"""Smoke run of notebooks/01_concepts.ipynb: every arm through the harness, compute, the contrast and the claims."""

import math

import pytest

from ptft_utils.kit import results as records

NOTEBOOK = "01_concepts"
ARMS = ("finetune", "scratch", "logreg_pixels", "logreg_features")
FAMILY = {
    "finetune_beats_scratch_k1",
    "advantage_shrinks_with_labels",
    "probe_beats_pixels_k1",
    "main_gain_exceeds_contrast_gain_k1",
    "contrast_probe_worse_than_pixels_k1",
    "pretraining_costs_more_than_one_task_saves",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def _ks(record):
    return sorted({*record["parameters"]["k_values"], record["metrics"]["k_all"]})


def _claims(record):
    return {c["id"]: c for c in record["claims"]}


def test_record_is_for_this_notebook_in_smoke_profile(record):
    assert record["notebook"] == NOTEBOOK
    assert record["profile"] == "smoke"
    assert record["parameters"]["k_values"] == [1, 5]
    assert record["parameters"]["contrast_k_values"] == [1]
    assert record["parameters"]["pretrain_seeds"] == 1
    assert record["metrics"]["pretraining_runs"] == 1


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


def test_accuracy_table_has_one_row_per_arm_k_seed_and_pretraining_seed(record):
    params = record["parameters"]
    rows = record["tables"]["accuracy_by_seed"]
    assert len(rows) == len(ARMS) * len(_ks(record)) * params["seeds"] * params["pretrain_seeds"]
    assert {row["arm"] for row in rows} == set(ARMS)
    cells = {(row["arm"], row["k"], row["seed"], row["pretrain_seed"]) for row in rows}
    assert len(cells) == len(rows)


def test_each_arm_chooses_from_its_own_grid(record):
    params = record["parameters"]
    grids = {
        "finetune": params["finetune_lr_grid"],
        "scratch": params["scratch_lr_grid"],
        "logreg_pixels": params["logreg_c_grid"],
        "logreg_features": params["logreg_c_grid"],
    }
    for row in record["tables"]["accuracy_by_seed"]:
        assert row["lr"] in grids[row["arm"]]
    for row in record["tables"]["cnn_runs"]:
        assert row["arm"] in ("finetune", "scratch")
        assert 0 < row["steps"] <= params["max_steps"]


def test_finetune_minus_scratch_gap_is_the_difference_of_means(record):
    # One pretraining run in smoke: the pairs are the seeds, so the mean gap is the gap of the means.
    metrics = record["metrics"]
    for k in _ks(record):
        gap = metrics[f"acc_finetune_k{k}_mean"] - metrics[f"acc_scratch_k{k}_mean"]
        assert metrics[f"gap_finetune_minus_scratch_k{k}"] == pytest.approx(gap)
        assert (
            metrics[f"gap_finetune_minus_scratch_k{k}_ci_low"]
            <= gap
            <= metrics[f"gap_finetune_minus_scratch_k{k}_ci_high"]
        )
    assert 0 <= metrics["largest_k_where_finetune_wins"] <= metrics["k_all"]


def test_budget_limited_counts_cover_every_arm_and_budget(record):
    params = record["parameters"]
    table = record["tables"]["budget_limited_counts"]
    assert {(row["arm"], row["budget"]) for row in table} == {(arm, k) for arm in ARMS for k in _ks(record)}
    cells = params["seeds"] * params["pretrain_seeds"]
    for row in table:
        assert row["chosen_runs"] == cells
        assert 0 <= row["chosen_budget_limited"] <= row["budget_limited_runs"] <= row["runs"]
        if row["arm"].startswith("logreg"):  # no step cap, never flagged
            assert row["budget_limited_runs"] == 0
    assert record["metrics"]["budget_limited_chosen_runs"] == sum(row["chosen_budget_limited"] for row in table)


def test_flop_counts_are_consistent(record):
    metrics = record["metrics"]
    assert metrics["flops_forward_per_image"] == 2 * metrics["macs_forward_per_image"]
    assert 2.0 < metrics["train_to_forward_ratio"] <= 3.0
    per_image = metrics["flops_train_per_image"]
    assert metrics["pretrain_flops"] == pytest.approx(metrics["pretrain_images_seen"] * per_image)
    for arm in ("finetune", "scratch"):
        flops = metrics[f"flops_to_target_{arm}_mean"]
        assert flops == pytest.approx(metrics[f"images_to_target_{arm}_mean"] * per_image)
        assert metrics[f"selection_flops_{arm}_mean"] >= flops  # the whole grid costs at least the chosen run
        assert metrics[f"seconds_to_target_{arm}_mean"] >= 0.0


def test_flops_to_target_counts_every_seed(record):
    params = record["parameters"]
    rows = record["tables"]["flops_to_target"]
    assert len(rows) == 2 * params["seeds"] * params["pretrain_seeds"]  # two CNN arms, no seed censored
    for row in rows:
        assert row["flops"] <= row["run_flops"] <= row["selection_flops"]


def test_break_even_is_stated_only_when_the_saving_is_shown(record):
    metrics = record["metrics"]
    for basis, mean in (("to_target", "flops_to_target"), ("with_selection", "selection_flops")):
        saving = metrics[f"{mean}_scratch_mean"] - metrics[f"{mean}_finetune_mean"]
        assert metrics[f"saving_{basis}_flops"] == pytest.approx(saving)
        low, high = metrics[f"saving_{basis}_ci_low"], metrics[f"saving_{basis}_ci_high"]
        assert low <= saving <= high
        if low > 0:
            assert metrics[f"break_even_tasks_{basis}"] == pytest.approx(metrics["pretrain_flops"] / saving)
        else:
            assert metrics[f"break_even_tasks_{basis}"] == "not shown"


def test_contrast_experiment_recorded_for_every_arm(record):
    metrics = record["metrics"]
    params = record["parameters"]
    rows = record["tables"]["contrast_accuracy_by_seed"]
    assert len(rows) == len(ARMS) * len(params["contrast_k_values"]) * params["seeds"] * params["pretrain_seeds"]
    for k in params["contrast_k_values"]:
        for arm in ARMS:
            assert 0.0 <= metrics[f"contrast_acc_{arm}_k{k}_mean"] <= 1.0
        gap = metrics[f"contrast_acc_finetune_k{k}_mean"] - metrics[f"contrast_acc_scratch_k{k}_mean"]
        assert metrics[f"contrast_gap_finetune_minus_scratch_k{k}"] == pytest.approx(gap)
    assert metrics["contrast_seconds"] > 0.0


def test_claims_carry_evidence_with_seeds(record):
    claims = _claims(record)
    seeds = record["parameters"]["seeds"]
    k_all = record["metrics"]["k_all"]
    findings = {
        f"finetune_beats_scratch_k{k_all}",
        "finetune_beats_logreg_pixels_k1",
        f"scratch_cnn_beats_logreg_pixels_k{k_all}",
        "finetune_needs_fewer_flops_to_target",
        "contrast_finetune_beats_scratch_k1",
    }
    assert FAMILY | findings <= set(claims)
    for claim in claims.values():
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"]["seeds"] == seeds


def test_smoke_asserts_nothing_and_verify_finds_no_defect(record):
    # Two seeds and twenty steps cannot support a claim: in smoke every claim is a finding.
    assert all(c["expected"] is None for c in record["claims"])
    sizes = records.family_sizes(record["claims"])
    for claim in record["claims"]:
        verdict, reason = records.review_claim(claim, record["metric_order"], sizes.get(claim.get("family") or ""))
        assert verdict == records.FINDING, (claim["id"], reason)


def test_family_is_holm_corrected_and_decides_the_claims(record):
    claims = _claims(record)
    for claim_id in FAMILY:
        evidence = claims[claim_id]["evidence"]
        assert evidence["correction"] == "holm"
        assert evidence["family_size"] == len(FAMILY)
        assert evidence["p_value_adjusted"] >= evidence["p_value"]
        low, high = evidence["diff_ci95"]
        adjusted_low, adjusted_high = evidence["ci_adjusted"]
        assert adjusted_low <= low <= evidence["mean_diff"] <= high <= adjusted_high  # Bonferroni is wider
        assert claims[claim_id]["holds"] == (evidence["rejected"] and evidence["mean_diff"] > 0)
        assert evidence["first_mean"] - evidence["second_mean"] == pytest.approx(evidence["mean_diff"])


def test_findings_hold_exactly_when_their_interval_says_so(record):
    claims = _claims(record)
    k_all = record["metrics"]["k_all"]
    for claim_id in (
        "contrast_finetune_beats_scratch_k1",
        f"finetune_beats_scratch_k{k_all}",
        "finetune_beats_logreg_pixels_k1",
    ):
        evidence = claims[claim_id]["evidence"]
        low, high = evidence["diff_ci95"]
        assert low <= evidence["mean_diff"] <= high
        assert claims[claim_id]["holds"] == (low > 0)
        baseline = evidence["baseline"]
        assert evidence["finetune_mean"] - evidence[f"{baseline}_mean"] == pytest.approx(evidence["mean_diff"])
        assert all(math.isfinite(x) for x in evidence["finetune_ci95"] + evidence[f"{baseline}_ci95"])
