"""Smoke run of notebooks/08_applications_vision_speech.ipynb: the metrics, tables and claims it records."""

from __future__ import annotations

import pytest

NOTEBOOK = "08_applications_vision_speech"
ARMS = {"pretrained", "scratch"}
RUN_TABLES = ("detection_runs", "generation_runs", "speech_voices_runs", "speech_german_runs")
FAMILY_PREFIXES = (
    "detection_pretrained_beats_scratch_",
    "generation_pretrained_beats_scratch_k",
    "speech_voices_pretrained_beats_scratch_k",
    "speech_german_pretrained_beats_scratch_k",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(smoke_run):
    return smoke_run(NOTEBOOK)


def _claims(record):
    return {c["id"]: c for c in record["claims"]}


def test_every_data_source_is_named_in_the_record(record) -> None:
    data = record["data"]
    assert set(data) == {"mnist", "detection", "target_digits", "speech_english", "speech_new_voices", "speech_german"}
    assert data["detection"].startswith("synthetic detection:")
    assert "espeak-ng" in data["speech_german"] and "de digit words" in data["speech_german"]
    assert "load_digits" in data["target_digits"]


def test_every_grid_runs_both_arms_at_both_budgets_over_every_seed(record) -> None:
    params = record["parameters"]
    budgets = {
        "detection_runs": params["detection_budgets"],
        "generation_runs": params["generation_k_values"],
        "speech_voices_runs": params["speech_k_values"],
        "speech_german_runs": params["speech_k_values"],
    }
    for name in RUN_TABLES:
        rows = record["tables"][name]
        cells = {(r["arm"], r["budget"], r["seed"]) for r in rows}
        expected = {(a, b, s) for a in ARMS for b in budgets[name] for s in range(params["seeds"])}
        assert cells == expected and len(rows) == len(expected), name


def test_each_arm_chooses_from_its_own_learning_rate_grid(record) -> None:
    params = record["parameters"]
    grids = {
        "detection_runs": ("detector_finetune_lr_grid", "detector_scratch_lr_grid"),
        "generation_runs": ("vae_finetune_lr_grid", "vae_scratch_lr_grid"),
        "speech_voices_runs": ("audio_finetune_lr_grid", "audio_scratch_lr_grid"),
        "speech_german_runs": ("audio_finetune_lr_grid", "audio_scratch_lr_grid"),
    }
    for name, (finetune, scratch) in grids.items():
        for row in record["tables"][name]:
            grid = params[finetune] if row["arm"] == "pretrained" else params[scratch]
            assert row["lr"] in grid, (name, row)


def test_scores_lie_in_their_ranges(record) -> None:
    for row in record["tables"]["detection_runs"]:
        assert 0.0 <= row["map_50_95"] <= row["test"] <= 1.0  # the strict mAP never exceeds mAP@0.5
    for row in record["tables"]["generation_runs"]:
        assert row["test"] >= 0.0 and 0.0 <= row["sample_accuracy"] <= 1.0
    for name in ("speech_voices_runs", "speech_german_runs"):
        assert all(0.0 <= row["test"] <= 1.0 for row in record["tables"][name])


def test_pretrained_networks_learned_their_source_tasks(record) -> None:
    metrics = record["metrics"]
    assert metrics["cnn_pretrain_val_accuracy"] > 0.5  # ten MNIST classes, chance 0.1
    assert metrics["judge_test_accuracy"] > 0.8  # the classifier that judges generated digits


def test_results_table_has_every_application_at_both_budgets(record) -> None:
    rows = record["tables"]["results"]
    applications = {r["application"] for r in rows}
    assert applications == {
        "object detection",
        "image generation",
        "voice commands: new voices",
        "voice commands: german",
    }
    assert len(rows) == 12  # detection and generation report two metrics each, speech one
    for row in rows:
        assert row["difference"] == pytest.approx(row["pretrained"] - row["scratch"], abs=1e-9)
        assert row["reference"].startswith("none")


def test_smoke_asserts_nothing_and_reports_every_comparison_as_a_finding(record) -> None:
    claims = record["claims"]
    assert claims and all(c["expected"] is None and isinstance(c["holds"], bool) for c in claims)
    for prefix in FAMILY_PREFIXES:
        assert any(cid.startswith(prefix) for cid in _claims(record)), prefix


def test_family_claims_carry_holm_corrected_evidence(record) -> None:
    family = [c for cid, c in _claims(record).items() if cid in {r["claim"] for r in record["tables"]["claims_family"]}]
    assert len(family) == 4
    for claim in family:
        evidence = claim["evidence"]
        assert evidence["correction"] == "holm" and evidence["family_size"] == 4
        assert evidence["p_value"] <= evidence["p_value_adjusted"] <= 1.0
        low, high = evidence["ci_adjusted"]
        assert low <= evidence["mean_diff"] <= high
