"""Smoke run of notebooks/04_cnn_transfer.ipynb: the metrics and claims it records."""

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


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


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
def test_smoke_run_records_accuracy_vs_k_for_every_strategy(record) -> None:
    table = record["tables"]["accuracy_vs_k"]
    assert {row["arm"] for row in table} == set(ARMS)
    ks = sorted({row["k"] for row in table})
    assert len(ks) >= 2
    for row in table:
        assert 0.0 <= row["mean"] <= 1.0
        assert row["count"] >= 1
    runs = record["tables"]["accuracy_runs"]
    assert len(runs) == len(ARMS) * len(ks) * record["parameters"]["seeds"]


@pytest.mark.slow
def test_smoke_run_records_keras_strategies_and_compute_table(record) -> None:
    metrics = record["metrics"]
    for strategy in ("scratch", "linear_probe", "full"):
        assert any(k.startswith(f"keras_acc_{strategy}_k") for k in metrics)
    assert metrics["keras_linear_probe_trainable_parameters"] == 1_290
    compute = {row["arm"]: row for row in record["tables"]["compute"]}
    assert set(compute) == set(ARMS)
    assert compute["scratch"]["pretrain_GFLOP"] == 0.0
    assert compute["full fine-tune"]["pretrain_GFLOP"] > 0.0


@pytest.mark.slow
def test_smoke_run_records_claims_with_evidence(record) -> None:
    claims = {c["id"]: c for c in record["claims"]}
    assert "twin_matches_keras" in claims and claims["twin_matches_keras"]["holds"]
    expected_prefixes = [
        "finetune_beats_scratch_k",
        "linear_probe_beats_scratch_k",
        "self_supervised_beats_scratch_k",
        "gain_shrinks_with_labels",
        "finetune_advantage_vanishes",
        "linear_probe_negative_transfer_k",
        "keras_finetune_beats_scratch_k",
        "pretraining_pays_off_across_tasks",
    ]
    for prefix in expected_prefixes:
        assert any(cid.startswith(prefix) for cid in claims), prefix
    for claim in claims.values():
        assert isinstance(claim["holds"], bool)
        assert claim["evidence"], claim["id"]
    comparison = claims[next(c for c in claims if c.startswith("finetune_beats_scratch_k"))]["evidence"]
    assert {"mean_diff", "diff_ci95", "seeds"} <= set(comparison)


@pytest.mark.slow
def test_asserted_claims_are_declared_before_the_metrics_they_rest_on(record) -> None:
    asserted = {c["id"]: c for c in record["claims"] if c["expected"] is not None}
    declared = {"twin_matches_keras", "gain_shrinks_with_labels", "finetune_advantage_vanishes"}
    assert declared | {"pretraining_costs_more_than_one_finetune"} <= set(asserted)
    assert any(cid.startswith("linear_probe_negative_transfer_k") for cid in asserted)
    assert asserted["linear_probe_beats_scratch_k10"]["expected"] is False  # smoke's second k is 10
    for claim in asserted.values():
        verdict, reason = results.review_claim(claim, record["metric_order"])
        assert verdict != results.DEFECT, f"{claim['id']}: {reason}"
        assert claim["test"] in results.TESTS
        assert min(claim["rests_on"].values()) > claim["declared_at"], claim["id"]


@pytest.mark.slow
def test_findings_stay_findings(record) -> None:
    findings = {c["id"] for c in record["claims"] if c["expected"] is None}
    assert "pretraining_pays_off_across_tasks" in findings
    assert "linear_probe_beats_scratch_k1" in findings
    assert any(cid.startswith("finetune_beats_scratch_k") for cid in findings)
