"""Smoke run of notebooks/06_finetuning.ipynb: the metrics, tables and claims it records."""

from __future__ import annotations

import pytest

NOTEBOOK = "06_finetuning"
METHODS = [
    "linear probe", "top layers", "full", "discriminative", "gradual unfreezing", "LP-FT", "BitFit",
    "adapters", "LoRA", "full + L2-SP", "full + rehearsal",
]  # fmt: skip
OPTIMIZERS = ["gd", "sgd", "momentum", "adam", "adamw", "adam + warm-up cosine", "adam + one-cycle"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def test_smoke_run_records_every_optimiser_with_its_own_learning_rates(record) -> None:
    sensitivity = record["tables"]["optimizer_lr_sensitivity"]
    assert {row["arm"] for row in sensitivity} == set(OPTIMIZERS)
    rates = {row["arm"]: row["lr"] for row in sensitivity}
    assert rates["sgd"] != rates["adam"]  # each optimiser swept its own range
    for row in sensitivity:
        assert 0.0 <= row["mean"] <= 1.0
    assert 1e-5 <= record["metrics"]["range_test_suggested_lr"] <= 1.0


def test_smoke_run_records_the_pareto_table_for_every_method(record) -> None:
    pareto = {row["method"]: row for row in record["tables"]["pareto"]}
    assert set(pareto) == set(METHODS)
    assert pareto["linear probe"]["trainable_params"] == 1_290
    assert pareto["full"]["trainable_params"] == 225_034
    assert pareto["BitFit"]["trainable_params"] == 32 + 64 + 128 + 1_290
    assert pareto["linear probe"]["trainable_params"] < pareto["LoRA"]["trainable_params"] < 20_000
    for row in pareto.values():
        assert row["ms_per_step"] > 0
        assert all(0.0 <= row[key] <= 1.0 for key in row if key.startswith("acc_k") and "CI" not in key)


def test_smoke_run_checks_lora_against_peft_merge_and_resume(record) -> None:
    metrics = record["metrics"]
    assert metrics["lora_vs_peft_worst"] <= 1e-6
    assert metrics["lora_merge_worst"] <= 1e-6
    assert metrics["lora_parity_trainable_ours"] == metrics["lora_parity_trainable_peft"]
    assert metrics["lora_resume_max_abs_diff"] == 0.0
    assert 0 < metrics["lora_adapter_bytes"] < 0.1 * metrics["full_model_bytes"]
    assert 0 < metrics["lora_checkpoint_bytes"] < metrics["full_model_bytes"]
    assert 0.0 < metrics["lora_share_percent"] < metrics["lora_share_with_head_percent"] < 10.0


def test_smoke_run_records_forgetting_with_the_probe_at_zero(record) -> None:
    rows = record["tables"]["forgetting"]
    assert {row["method"] for row in rows} == set(METHODS)
    probe = [row for row in rows if row["method"] == "linear probe"]
    assert all(row["source_loss"] == 0.0 and row["target_gain_vs_probe"] == 0.0 for row in probe)
    assert record["metrics"]["probe_max_source_change"] == 0.0
    assert 0.0 < record["metrics"]["source_acc_pretrained"] <= 1.0


def test_smoke_run_compares_keras_with_pytorch_on_the_same_splits(record) -> None:
    rows = {row["method"]: row for row in record["tables"]["keras_vs_pytorch"]}
    assert set(rows) == {"linear probe", "top layers", "full", "discriminative", "gradual unfreezing"}
    assert rows["linear probe"]["keras_trainable"] == 1_290
    assert rows["full"]["keras_trainable"] == 225_034
    assert record["metrics"]["keras_copy_max_logit_error"] < 1e-4


def test_smoke_run_names_its_far_target_and_its_source(record) -> None:
    assert "stand-in" in record["data"]["far_target"] or "Fashion-MNIST" in record["data"]["far_target"]
    assert "MNIST" in record["data"]["source"] or "digits" in record["data"]["source"]
    assert 0.0 <= record["metrics"]["far_target_zero_shot_acc"] <= 1.0


def test_smoke_run_computes_a_decision_table_from_its_methods(record) -> None:
    table = record["tables"]["decision_table"]
    near = [row for row in table if row["distance"].startswith("near")]
    assert len(near) == 4  # two label budgets x two compute budgets
    assert all(row["distance"].startswith(("near", "far")) for row in table)
    for row in table:
        assert row["method"] in METHODS and row["runner_up"] in METHODS and row["method"] != row["runner_up"]
        assert row["margin"] >= 0.0


def test_smoke_run_declares_its_deterministic_claims_and_they_hold(record) -> None:
    claims = {c["id"]: c for c in record["claims"]}
    for claim_id in ("probe_forgets_nothing", "lora_matches_peft", "lora_merge_exact", "lora_resume_identical"):
        assert claims[claim_id]["expected"] is True and claims[claim_id]["holds"] is True
        assert claims[claim_id]["declared_at"] < claims[claim_id]["evaluated_at"]
    assert any(claim_id.startswith("full_forgets_more_than_probe_k") for claim_id in claims)


TEXT_METHODS = ["linear probe", "top layers", "full", "BitFit", "adapters", "LoRA"]


def test_smoke_run_records_the_text_pareto_table_for_every_method(record) -> None:
    pareto = {row["method"]: row for row in record["tables"]["text_pareto"]}
    assert list(pareto) == TEXT_METHODS
    hidden = 64  # smoke's tiny random BERT
    head = 2 * hidden + 2
    pooler = hidden * hidden + hidden  # never trained: mean pooling does not call it
    assert pareto["linear probe"]["trainable_params"] == head
    assert pareto["full"]["trainable_params"] == record["metrics"]["text_encoder_parameters"] - pooler + head
    for method in ("top layers", "BitFit", "adapters", "LoRA"):
        assert head < pareto[method]["trainable_params"] < pareto["full"]["trainable_params"]
    budgets = (record["metrics"]["text_budget_small"], record["metrics"]["text_budget_large"])
    for row in pareto.values():
        assert row["s_per_step"] > 0
        for k in budgets:
            assert 0.0 <= row[f"acc_k{k}"] <= 1.0
            assert row[f"acc_k{k} (95% CI)"].startswith(f"{row[f'acc_k{k}']:.3f} [")


def test_smoke_run_gives_each_text_method_its_own_grid_and_pairs_every_cell(record) -> None:
    grid = record["tables"]["text_grid_runs"]
    rates = {method: {row["lr"] for row in grid if row["arm"] == method} for method in TEXT_METHODS}
    # every method tries the same number of rates, each from its own grid
    assert {len(r) for r in rates.values()} == {record["parameters"]["text_lrs"]}
    assert rates["full"] != rates["LoRA"]
    runs = record["tables"]["text_runs"]
    cells = {(row["budget"], row["seed"]) for row in runs}
    assert len(runs) == len(TEXT_METHODS) * len(cells)  # one chosen run per method and cell
    chosen = [row for row in grid if row["chosen"]]
    assert len(chosen) == len(runs)
    metrics = record["metrics"]
    for row in runs:  # the probe's steps are nearly free, so it gets its own number of them
        assert row["steps"] == (metrics["text_probe_steps"] if row["arm"] == "linear probe" else metrics["text_steps"])


def test_smoke_run_tests_every_text_method_against_full_in_one_holm_family(record) -> None:
    rows = record["tables"]["text_vs_full_holm"]
    budgets = {record["metrics"]["text_budget_small"], record["metrics"]["text_budget_large"]}
    assert {row["comparison"] for row in rows} == {
        f"{method}_vs_full_{k}" for method in TEXT_METHODS if method != "full" for k in budgets
    }
    assert all(0.0 <= row["p_holm"] <= 1.0 for row in rows)


def test_smoke_run_names_its_text_encoder_and_checks_the_new_layers_start_as_the_encoder(record) -> None:
    assert "random initialisation" in record["data"]["text_encoder"]  # smoke: the tiny random BERT
    assert "polarity" in record["data"]["polarity"]
    claims = {c["id"]: c for c in record["claims"]}
    start = claims["text_new_layers_start_as_pretrained"]
    assert start["expected"] is True and start["holds"] is True
    assert start["declared_at"] < start["evaluated_at"]
    assert record["metrics"]["text_start_max_abs_change"] <= 1e-5
    # with the random encoder nothing about MiniLM is asserted: the step costs are findings
    assert "text_peft_trains_under_1_percent" not in claims
    assert claims["text_full_step_costs_more_than_LoRA"]["expected"] is None
