"""Smoke run of notebooks/04_cnn_transfer.ipynb: the metrics, tables and claims it records."""

from __future__ import annotations

import pytest

from ptft_utils.kit import results

NOTEBOOK = "04_cnn_transfer"
ARMS = [
    "scratch",
    "linear probe",
    "top layers",
    "full fine-tune",
    "discriminative",
    "rotation: probe",
    "rotation: full",
]
FAMILY = [
    "finetune_beats_scratch_k1",
    "finetune_beats_scratch_k10",
    "linear_probe_worse_than_scratch_k",
    "linear_probe_negative_transfer_k",
    "finetune_equivalent_to_scratch_k",
    "gain_shrinks_with_labels",
    "pretraining_costs_more_than_one_finetune",
]


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def _claims(record):
    return {c["id"]: c for c in record["claims"]}


def _family_claim(record, prefix):
    claims = _claims(record)
    return claims[next(cid for cid in claims if cid.startswith(prefix))]


@pytest.mark.slow
def test_smoke_run_records_parameter_counts_of_both_frameworks(record) -> None:
    assert record["metrics"]["keras_parameters"] == 225_034
    assert record["metrics"]["torch_parameters"] == 225_034


@pytest.mark.slow
def test_smoke_run_records_parity_within_1e_5(record) -> None:
    metrics = record["metrics"]
    assert 0 <= metrics["parity_max_logit_error"] < 1e-5
    assert metrics["parity_wrong_flatten_logit_error"] > 1e-3
    assert metrics["parity_prediction_agreement"] == 1.0
    assert metrics["conv_formula_vs_keras"] < 1e-5


@pytest.mark.slow
def test_every_arm_runs_every_cell_over_seeds_and_pretraining_seeds(record) -> None:
    params = record["parameters"]
    table = record["tables"]["accuracy_vs_k"]
    assert {row["arm"] for row in table} == set(ARMS)
    ks = sorted({row["k"] for row in table})
    assert ks == sorted(params["k_values"])
    pairs = params["seeds"] * params["pretrain_seeds"]
    for row in table:
        assert 0.0 <= row["mean"] <= 1.0
        assert row["count"] == pairs
    runs = record["tables"]["accuracy_runs"]
    assert len(runs) == len(ARMS) * len(ks) * pairs
    assert {(r["seed"], r["pretrain_seed"]) for r in runs} == {
        (s, p) for s in range(params["seeds"]) for p in range(params["pretrain_seeds"])
    }


@pytest.mark.slow
def test_each_arm_chooses_from_its_own_learning_rate_grid(record) -> None:
    params = record["parameters"]
    grid = {
        "scratch": params["scratch_lr_grid"],
        "linear probe": params["probe_lr_grid"],
        "rotation: probe": params["probe_lr_grid"],
    }
    for row in record["tables"]["accuracy_runs"]:
        assert row["lr"] in grid.get(row["arm"], params["finetune_lr_grid"]), row


@pytest.mark.slow
def test_budget_limited_runs_are_counted(record) -> None:
    counts = record["tables"]["budget_limited_counts"]
    assert {row["arm"] for row in counts} == set(ARMS)
    chosen = sum(row["chosen_budget_limited"] for row in counts)
    assert record["metrics"]["budget_limited_chosen_runs"] == chosen
    assert 0 <= chosen <= len(record["tables"]["accuracy_runs"])


@pytest.mark.slow
def test_smoke_run_records_keras_strategies_and_compute_table(record) -> None:
    metrics = record["metrics"]
    for strategy in ("scratch", "linear_probe", "full"):
        assert any(k.startswith(f"keras_acc_{strategy}_k") for k in metrics)
    assert metrics["keras_linear_probe_trainable_parameters"] == 1_290
    keras_rows = [r for r in record["tables"]["keras_vs_torch"] if r["framework"] == "Keras"]
    assert len(keras_rows) == 3 * record["parameters"]["keras_seeds"]
    compute = {row["arm"]: row for row in record["tables"]["compute"]}
    assert set(compute) == set(ARMS)
    assert compute["scratch"]["pretrain_GFLOP"] == 0.0
    assert compute["full fine-tune"]["pretrain_GFLOP"] > 0.0


@pytest.mark.slow
def test_compute_table_counts_censored_runs_instead_of_dropping_them(record) -> None:
    params = record["parameters"]
    pairs = params["seeds"] * params["pretrain_seeds"]
    compute = record["tables"]["compute"]
    for row in compute:
        assert row["runs"] == pairs  # every run of the largest budget, reached the target or not
        assert 0 <= row["censored"] <= pairs
        if row["censored"] * 2 >= pairs:  # the median is unknown when half the runs or more are censored
            assert row["median_GFLOP_to_target"] == -1.0
    assert record["metrics"]["censored_runs"] == sum(row["censored"] for row in compute)
    assert record["metrics"]["cost_runs"] == len(ARMS) * pairs


@pytest.mark.slow
def test_family_claims_carry_their_holm_correction(record) -> None:
    for prefix in FAMILY:
        evidence = _family_claim(record, prefix)["evidence"]
        assert evidence["correction"] == "holm"
        assert evidence["family_size"] == len(FAMILY)
        assert evidence["p_value"] <= evidence["p_value_adjusted"] <= 1.0
    tost = _family_claim(record, "finetune_equivalent_to_scratch_k")["evidence"]
    assert tost["margin"] == record["parameters"]["equivalence_margin"]
    assert tost["test"] == "tost_paired_t"
    assert tost["equivalent"] == (-tost["margin"] < tost["ci_low"] and tost["ci_high"] < tost["margin"])


@pytest.mark.slow
def test_smoke_asserts_only_the_deterministic_parity_claim(record) -> None:
    asserted = {c["id"]: c for c in record["claims"] if c["expected"] is not None}
    assert set(asserted) == {"twin_matches_keras"}
    assert asserted["twin_matches_keras"]["holds"]
    for claim in asserted.values():
        verdict, reason = results.review_claim(claim, record["metric_order"])
        assert verdict == results.AGREES, f"{claim['id']}: {reason}"
        assert min(claim["rests_on"].values()) > claim["declared_at"], claim["id"]


@pytest.mark.slow
def test_findings_stay_findings_with_evidence(record) -> None:
    claims = _claims(record)
    findings = {cid for cid, c in claims.items() if c["expected"] is None}
    assert "pretraining_pays_off_across_tasks" in findings
    assert "linear_probe_beats_scratch_k1" in findings
    assert any(cid.startswith("self_supervised_beats_scratch_k") for cid in findings)
    assert any(cid.startswith("keras_finetune_beats_scratch_k") for cid in findings)
    for claim in claims.values():
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"], claim["id"]
    comparison = _family_claim(record, "finetune_beats_scratch_k")["evidence"]
    assert {"mean_diff", "diff_ci95", "seeds", "pretrain_seeds", "pairs"} <= set(comparison)
    assert comparison["pairs"] == record["parameters"]["seeds"] * record["parameters"]["pretrain_seeds"]
