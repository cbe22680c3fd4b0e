"""Smoke run of notebooks/04_cnn_transfer.ipynb: the metrics, tables and claims it records."""

from __future__ import annotations

import numpy as np
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


# The threaded grid of section 7 (ptft_utils.experiment.threaded): fake arms whose scores are known
# functions of the cell, which finish in an order unlike the harness's, so that order is tested.


def _fake_experiment(calls):
    import threading
    import time

    from ptft_utils.experiment import Arm, Experiment, RunResult

    def splits(budget, seed):
        rest = np.random.default_rng(seed).permutation(np.arange(100, 1000))
        return rest[: 10 * budget], rest[10 * budget : 10 * budget + 50], np.arange(100)

    def make_arm(name, offset):
        def run(trial):
            calls.append(threading.get_ident())
            time.sleep(0.002 * ((trial.seed * 7 + trial.budget) % 3))  # later cells often finish first
            score = offset + 0.1 * trial.budget - abs(np.log10(trial.lr) + 2) / 10 + 0.01 * trial.seed
            return RunResult(val_score=score, steps=5, max_steps=10, curve=[(1, score)], model=(score, trial.lr))

        def score(model, test):
            return model[0] + model[1] + len(test) / 1000

        return Arm(name, run, score, (0.001, 0.01, 0.1), baseline=name == "base", max_steps=10)

    arms = [make_arm("base", 0.0), make_arm("other", 0.05)]
    return Experiment(arms, [1, 2], [0, 1, 2], splits=splits, pretrain_seeds=[0, 1])


def _run_rows(outcome):
    return [
        (run.arm, run.budget, run.seed, run.pretrain_seed, run.lr, run.chosen, run.test, run.result.val_score)
        for run in outcome.runs
    ]


def test_threaded_grid_returns_the_harness_runs_in_the_harness_order() -> None:
    from ptft_utils.experiment.threaded import run_threaded

    sequential_calls: list[int] = []
    threaded_calls: list[int] = []
    sequential = _fake_experiment(sequential_calls).run()
    threaded = run_threaded(_fake_experiment(threaded_calls), workers=3)
    assert _run_rows(threaded) == _run_rows(sequential)
    assert len(threaded.runs) == 2 * 2 * 3 * 2 * 3  # arms x budgets x seeds x pretraining seeds x learning rates
    assert len(set(threaded_calls)) > 1  # the cells really ran on several threads
    assert len(set(sequential_calls)) == 1
    frame = threaded.frame()
    assert frame.test.notna().all() and len(frame) == 2 * 2 * 3 * 2


def test_threaded_grid_with_one_worker_is_the_harness_run() -> None:
    from ptft_utils.experiment.threaded import run_threaded

    calls: list[int] = []
    assert _run_rows(run_threaded(_fake_experiment(calls), workers=1)) == _run_rows(_fake_experiment([]).run())
    assert len(set(calls)) == 1


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_threaded_grid_rejects_a_bad_worker_count(workers) -> None:
    from ptft_utils.experiment.threaded import run_threaded

    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        run_threaded(_fake_experiment([]), workers=workers)


def test_threaded_grid_raises_the_error_of_a_failing_cell() -> None:
    from ptft_utils.experiment import Arm, Experiment
    from ptft_utils.experiment.threaded import run_threaded

    def run(trial):
        raise RuntimeError(f"diverged at lr={trial.lr}")

    broken = Experiment(
        [Arm("base", run, lambda model, test: 0.0, (0.1,), baseline=True)],
        [1],
        [0, 1],
        splits=lambda budget, seed: (np.arange(5) + 10 * seed, np.arange(5) + 100, np.arange(5) + 200),
    )
    with pytest.raises(RuntimeError, match="diverged at lr=0.1"):
        run_threaded(broken, workers=2)


@pytest.mark.slow
def test_smoke_run_records_where_the_grid_time_went(record) -> None:
    table = record["tables"]["grid_train_seconds"]
    assert {row["arm"] for row in table} == set(ARMS)
    for row in table:
        for k in record["parameters"]["k_values"]:
            assert row[f"k={k}"] > 0.0
    assert record["metrics"]["grid_seconds"] > 0.0
