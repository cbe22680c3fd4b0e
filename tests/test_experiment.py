"""Tests for ptft_utils.experiment: the fair-comparison harness, its results and its figures.

The arms are fakes in NumPy whose validation and test scores are known functions of the learning
rate, the seed and the arm, so every assertion checks a value the harness must get right.
"""

from __future__ import annotations

import json
import math
import zlib

import matplotlib
import numpy as np
import pytest

from ptft_utils.eval import stats
from ptft_utils.experiment import (
    Arm,
    BudgetLimitedError,
    Experiment,
    RunResult,
    Trial,
    budget_limited,
    check_splits,
    figures,
    select,
)

LRS = (0.001, 0.01, 0.1)
N_IDS, N_TEST, N_VAL = 1000, 200, 50


@pytest.fixture
def agg():
    """Draw off-screen (the Agg backend), and close every figure afterwards."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def make_splits(budget, seed):
    """A fixed test set (ids 0..199); train and validation drawn from the rest by the seed."""
    rest = np.random.default_rng(seed).permutation(np.arange(N_TEST, N_IDS))
    n_train = 10 * budget
    return rest[:n_train], rest[n_train : n_train + N_VAL], np.arange(N_TEST)


def saturating_curve(final, tau, max_steps, every=10, patience=2):
    """Validation checks of ``final * (1 - exp(-step / tau))``, stopped after ``patience`` flat checks."""
    curve, best, flat = [(0, 0.0)], 0.0, 0
    for step in range(every, max_steps + 1, every):
        score = round(final * (1 - math.exp(-step / tau)), 4)
        curve.append((step, score))
        best, flat = (score, 0) if score > best else (best, flat + 1)
        if flat >= patience:
            break
    return curve


def fake_arm(name, *, peak, best_lr, lr_grid=LRS, tau=5.0, max_steps=200, noise=0.01, baseline=False, seen=None):
    """An arm whose quality is ``peak`` minus a penalty for missing ``best_lr``, plus seed noise.

    The seed's noise is shared by every arm (pairing removes it); the arm's own noise is fixed per
    (seed, pretrain_seed), so the best learning rate always wins on validation. The test score
    is the chosen model's quality minus 0.01. ``seen`` (a list) records what ``run`` received.
    """

    def quality(trial):
        penalty = 0.05 * (math.log10(trial.lr) - math.log10(best_lr)) ** 2
        shared = np.random.default_rng(trial.seed).normal(0, 0.03)
        own = np.random.default_rng([trial.seed, trial.pretrain_seed, zlib.crc32(name.encode())]).normal(0, noise)
        return peak + 0.02 * math.log(trial.budget) - penalty + shared + own

    def run(trial):
        if seen is not None:
            seen.append(trial)
        final = quality(trial)
        curve = saturating_curve(final, tau, trial.max_steps)
        steps = curve[-1][0]
        model = {"arm": name, "lr": trial.lr, "quality": final}
        return RunResult(max(s for _, s in curve), steps, curve=curve, flops=1000.0 * steps, seconds=0.5, model=model)

    return Arm(name, run, lambda model, test: model["quality"] - 0.01, lr_grid, baseline=baseline, max_steps=max_steps)


def two_arm_experiment(seeds=range(5), budgets=(1, 5, 20), **options):
    arms = [
        fake_arm("finetune", peak=0.80, best_lr=0.001),
        fake_arm("scratch", peak=0.70, best_lr=0.1, baseline=True),
    ]
    return Experiment(arms, budgets, list(seeds), splits=make_splits, **options)


@pytest.fixture(scope="module")
def results():
    return two_arm_experiment().run()


# -- selection --------------------------------------------------------------------------------


def test_planted_better_arm_is_found_with_an_interval_above_zero(results):
    evidence = results.compare("finetune", budget=5)
    assert evidence["baseline"] == "scratch"
    assert evidence["mean_diff"] == pytest.approx(0.10, abs=0.02)
    assert evidence["diff_ci95"][0] > 0 and evidence["better"] and not evidence["worse"]
    reverse = results.compare("scratch", budget=5, baseline="finetune")
    assert reverse["diff_ci95"][1] < 0 and reverse["worse"] and not reverse["better"]


def test_compare_is_stats_paired_difference_on_runs_paired_by_seed(results):
    frame = results.frame().query("budget == 20").sort_values(["seed", "pretrain_seed"])
    a = frame[frame.arm == "finetune"]["test"].tolist()
    b = frame[frame.arm == "scratch"]["test"].tolist()
    expected = stats.paired_difference(a, b)
    evidence = results.compare("finetune", budget=20)
    assert evidence["mean_diff"] == pytest.approx(expected["mean_diff"])
    assert evidence["diff_ci95"] == pytest.approx(expected["diff_ci95"])
    assert (evidence["pairs"], evidence["seeds"], evidence["pretrain_seeds"]) == (5, 5, 1)
    assert evidence["finetune_mean"] == pytest.approx(np.mean(a))


def test_each_arm_gets_its_own_best_learning_rate(results):
    chosen = results.frame().groupby("arm")["lr"].unique()
    assert list(chosen["finetune"]) == [0.001]
    assert list(chosen["scratch"]) == [0.1]


def test_ties_go_to_the_smaller_learning_rate_whatever_the_grid_order():
    flat = [RunResult(0.5), RunResult(0.5), RunResult(0.5)]
    assert select(flat, [0.1, 0.001, 0.01]) == 1
    assert select([RunResult(math.nan), RunResult(0.2)], [0.1, 0.01]) == 1  # a diverged run never wins
    assert select([RunResult(0.9), RunResult(0.4)], [0.1, 0.01], higher_is_better=False) == 1


def test_selection_uses_validation_and_only_the_chosen_run_is_scored():
    scored = []

    def run(trial):  # validation prefers lr=0.01; the test score would prefer lr=0.1
        return RunResult(val_score={0.01: 0.9, 0.1: 0.6}[trial.lr], model={"lr": trial.lr})

    def score(model, test):
        scored.append(model["lr"])
        return {0.01: 0.5, 0.1: 0.99}[model["lr"]]

    arm = Arm("probe", run, score, lr_grid=(0.01, 0.1))
    frame = Experiment([arm], [1], [0, 1], splits=make_splits).run().frame()
    assert frame["lr"].tolist() == [0.01, 0.01]
    assert frame["test"].tolist() == [0.5, 0.5]
    assert scored == [0.01, 0.01]


# -- the test split stays private -------------------------------------------------------------


class SealedSplit:
    """A test split that exposes its ids (for the overlap check) and fails on any other use."""

    def __init__(self, ids):
        self.__dict__["ids"] = np.asarray(ids)

    def __getattr__(self, name):
        raise AssertionError(f"the test split was read: .{name}")

    def __iter__(self):
        raise AssertionError("the test split was iterated")

    def __len__(self):
        raise AssertionError("the test split was measured")

    def __getitem__(self, item):
        raise AssertionError("the test split was indexed")


def test_the_test_split_never_reaches_run_or_selection():
    seen, scored, sealed = [], [], {}

    def splits(budget, seed):
        train, val, test = make_splits(budget, seed)
        sealed[(budget, seed)] = SealedSplit(test)
        return train, val, sealed[(budget, seed)]

    fake = fake_arm("finetune", peak=0.8, best_lr=0.01, seen=seen)

    def score(model, test):
        scored.append((model, test))
        return fake.score(model, test)

    arm = Arm(fake.name, fake.run, score, LRS, max_steps=200)
    frame = Experiment([arm], [1, 5], [0, 1], splits=splits).run().frame()
    assert len(seen) == 2 * 2 * len(LRS)
    assert all(isinstance(trial, Trial) and not hasattr(trial, "test") for trial in seen)
    received = [getattr(trial, field) for trial in seen for field in Trial.__slots__]
    assert not any(isinstance(value, SealedSplit) for value in received)
    assert [test for _, test in scored] == list(sealed.values())  # score, once per cell, gets the test split
    assert [model["lr"] for model, _ in scored] == frame["lr"].tolist()  # ... with the chosen model only


def test_overlapping_validation_and_test_raises():
    def leaky(budget, seed):
        train, val, test = make_splits(budget, seed)
        return train, np.concatenate([val, test[:3]]), test

    with pytest.raises(ValueError, match="val and test splits share 3"):
        Experiment([fake_arm("a", peak=0.8, best_lr=0.01)], [1], [0], splits=leaky).run()


def test_training_data_in_test_raises_and_ids_attribute_is_read():
    class Part:
        def __init__(self, ids):
            self.ids = ids

    with pytest.raises(ValueError, match="train and test splits share 1"):
        check_splits(Part([1, 2, 3]), Part([4, 5]), Part([3, 9]))
    with pytest.raises(ValueError, match="1-D array of indices or ids"):
        check_splits(object(), [4], [5])
    check_splits(Part(["a", "b"]), Part(["c"]), Part(["d"]))  # ids may be strings


# -- cost and budgets -------------------------------------------------------------------------


def test_selection_cost_sums_every_grid_point(results):
    frame, grid = results.frame(), results.grid_frame()
    assert len(grid) == len(frame) * len(LRS)
    assert grid["chosen"].sum() == len(frame)
    row = frame.query("arm == 'scratch' and budget == 5 and seed == 2").iloc[0]
    cell = grid.query("arm == 'scratch' and budget == 5 and seed == 2")
    assert row["selection_flops"] == pytest.approx(1000.0 * cell["steps"].sum())
    assert row["selection_flops"] > row["flops"] == pytest.approx(1000.0 * row["steps"])
    assert row["selection_seconds"] == pytest.approx(0.5 * len(LRS))


def test_runs_that_report_no_seconds_are_timed_by_the_harness():
    arm = Arm("fast", lambda trial: RunResult(0.5, flops=None), lambda model, test: 0.5, lr_grid=(0.1,))
    frame = Experiment([arm], [1], [0], splits=make_splits).run().frame()
    assert 0.0 <= frame["seconds"].item() < 1.0
    assert math.isnan(frame["selection_flops"].item())  # an unknown cost is not reported as zero


def test_capped_still_improving_run_is_flagged_and_converged_one_is_not():
    slow = fake_arm("slow", peak=0.8, best_lr=0.01, tau=1e4, max_steps=100)
    quick = fake_arm("quick", peak=0.8, best_lr=0.01, tau=5.0, max_steps=100, baseline=True)
    results = Experiment([slow, quick], [1, 5], [0, 1], splits=make_splits).run()
    frame = results.frame()
    assert frame.query("arm == 'slow'")["budget_limited"].all()
    assert (frame.query("arm == 'slow'")["steps"] == 100).all()
    assert not frame.query("arm == 'quick'")["budget_limited"].any()
    assert (frame.query("arm == 'quick'")["steps"] < 100).all()
    counts = results.budget_limited_counts().set_index(["arm", "budget"])
    assert counts.loc[("slow", 5), "budget_limited_runs"] == 2 * len(LRS)
    assert counts.loc[("slow", 5), "chosen_budget_limited"] == 2
    assert counts.loc[("quick", 5), "budget_limited_runs"] == 0
    assert results.compare("slow", budget=1)["budget_limited"] == {"slow": 2, "quick": 0}
    results.require_no_budget_limited(arm="quick")
    with pytest.raises(BudgetLimitedError, match="2 of 2 chosen runs"):
        results.require_no_budget_limited(arm="slow", budget=5)


def test_budget_limited_is_defined_by_the_tail_of_the_curve():
    rising = [(0, 0.1), (25, 0.5), (50, 0.6), (75, 0.7), (100, 0.71)]
    plateau = [(0, 0.1), (25, 0.7), (50, 0.72), (75, 0.72), (100, 0.72)]
    assert budget_limited(RunResult(0.71, steps=100, max_steps=100, curve=rising))
    assert not budget_limited(RunResult(0.72, steps=100, max_steps=100, curve=plateau))  # capped but converged
    assert not budget_limited(RunResult(0.71, steps=60, max_steps=100, curve=rising))  # stopped early
    assert not budget_limited(RunResult(0.71, steps=100, max_steps=None, curve=rising))  # no cap
    assert budget_limited(RunResult(0.7, steps=100, max_steps=100, curve=[(100, 0.7)]))  # too short to tell
    loss = RunResult(0.45, steps=100, max_steps=100, curve=[(0, 0.9), (25, 0.7), (50, 0.6), (75, 0.5), (100, 0.45)])
    assert budget_limited(loss, higher_is_better=False)  # a loss still dropping
    assert not budget_limited(loss, higher_is_better=True)
    assert not budget_limited(RunResult(0.71, steps=100, max_steps=100, curve=rising), min_delta=0.15)


# -- the grid and the frames ------------------------------------------------------------------


def test_pretrain_seeds_multiply_the_rows_and_reach_run():
    seen = []
    arms = [fake_arm("finetune", peak=0.8, best_lr=0.01, seen=seen), fake_arm("scratch", peak=0.7, best_lr=0.01)]
    results = Experiment(arms, [1, 5], [0, 1], splits=make_splits, pretrain_seeds=(0, 1, 2)).run()
    frame = results.frame()
    assert len(frame) == 2 * 2 * 2 * 3
    assert sorted(frame["pretrain_seed"].unique()) == [0, 1, 2]
    assert {trial.pretrain_seed for trial in seen} == {0, 1, 2}
    evidence = results.compare("finetune", budget=5, baseline="scratch")
    assert (evidence["pairs"], evidence["seeds"], evidence["pretrain_seeds"]) == (6, 2, 3)


def test_frame_has_exactly_the_documented_columns(results):
    assert list(results.frame().columns) == [
        "arm", "budget", "seed", "pretrain_seed", "lr", "steps", "max_steps", "budget_limited",
        "val", "test", "flops", "seconds", "selection_flops", "selection_seconds", "trainable_params",
    ]  # fmt: skip
    assert len(results.frame()) == 2 * 3 * 5
    assert "test" not in results.grid_frame().columns  # no run but the chosen one has a test score
    curves = results.curve_frame()
    assert set(curves.columns) == {"arm", "budget", "seed", "pretrain_seed", "lr", "chosen", "step", "val"}
    assert curves["chosen"].all() and curves["step"].min() == 0


def test_progress_reports_one_line_per_cell_and_arm():
    lines = []
    two_arm_experiment(seeds=[0, 1], budgets=[1]).run(progress=lines.append)
    assert len(lines) == 4
    assert lines[0].startswith("budget=1 seed=0 pretrain_seed=0 finetune: lr=0.001")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seeds": []}, "seeds must not be empty"),
        ({"budgets": [1, 1]}, "budgets has repeated values"),
        ({"arms": [fake_arm("a", peak=0.8, best_lr=0.01)] * 2}, "arms .their names. has repeated"),
        (
            {"arms": [fake_arm(n, peak=0.8, best_lr=0.01, baseline=True) for n in "ab"]},
            "at most one baseline",
        ),
        ({"splits": None}, "splits must be a callable"),
    ],
)
def test_bad_experiment_arguments_raise_value_error(change, message):
    arguments = {"arms": [fake_arm("a", peak=0.8, best_lr=0.01)], "budgets": [1], "seeds": [0], "splits": make_splits}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        Experiment(**arguments)


def test_bad_arm_and_compare_arguments_raise_value_error(results):
    with pytest.raises(ValueError, match="lr_grid must hold at least one"):
        Arm("a", print, print, lr_grid=())
    with pytest.raises(ValueError, match="max_steps must be a positive int"):
        Arm("a", print, print, lr_grid=(0.1,), max_steps=0)
    with pytest.raises(ValueError, match="arm 'nope' is not in this experiment"):
        results.compare("nope", budget=5)
    with pytest.raises(ValueError, match="budget 7 is not in this experiment"):
        results.compare("finetune", budget=7)
    with pytest.raises(ValueError, match="margin goes with test='tost'"):
        results.compare("finetune", budget=5, test="tost")
    with pytest.raises(ValueError, match="test must be one of"):
        results.compare("finetune", budget=5, test="bootstrap")


def test_run_must_return_a_run_result():
    arm = Arm("bad", lambda trial: 0.5, lambda model, test: 0.5, lr_grid=(0.1,))
    with pytest.raises(TypeError, match="must return a RunResult"):
        Experiment([arm], [1], [0], splits=make_splits).run()


# -- the other tests of eval.stats, and the evidence they give -----------------------------------


def test_bootstrap_comparison_agrees_in_direction(results):
    evidence = results.compare("finetune", budget=5, test="paired_bootstrap")
    t_interval = results.compare("finetune", budget=5)
    assert evidence["test"] == "paired_bootstrap" and evidence["better"] and evidence["diff_ci95"][0] > 0
    assert evidence["diff_ci95"] != t_interval["diff_ci95"]  # the bootstrap's own interval, not the t one
    assert evidence["mean_diff"] == pytest.approx(t_interval["mean_diff"])


def test_tost_finds_two_equal_arms_equivalent():
    arms = [fake_arm("a", peak=0.8, best_lr=0.01, noise=0.002), fake_arm("b", peak=0.8, best_lr=0.01, noise=0.002)]
    results = Experiment(arms, [5], range(6), splits=make_splits).run()
    evidence = results.compare("a", budget=5, baseline="b", test="tost", margin=0.02)
    assert evidence["equivalent"] and evidence["test"] == "tost_paired_t" and evidence["p_value"] < 0.05
    assert evidence["confidence"] == pytest.approx(0.90)  # TOST's 1 - 2 alpha interval, as stats reports it
    assert not evidence["better"] and not evidence["worse"]
    assert not results.compare("a", budget=5, baseline="b", test="tost", margin=0.0001)["equivalent"]


def test_compare_all_is_a_family_for_holm(results):
    comparisons = results.compare_all()
    assert sorted(comparisons) == ["finetune_vs_scratch_1", "finetune_vs_scratch_20", "finetune_vs_scratch_5"]
    corrected = stats.family(comparisons)
    for name, result in corrected.items():
        assert result["family_size"] == 3 and result["rejected"]
        assert result["p_value_adjusted"] >= comparisons[name]["p_value"]


def test_evidence_can_go_into_metrics_json(results):
    evidence = results.compare("finetune", budget=5)
    assert json.loads(json.dumps(evidence, allow_nan=False)) == evidence
    assert {"test", "n", "p_value", "mean_diff", "diff_ci95", "finetune_mean", "scratch_ci95"} <= set(evidence)


# -- figures ----------------------------------------------------------------------------------


def test_accuracy_vs_budget_draws_one_line_per_arm_with_clipped_bands(agg):
    arms = [fake_arm("high", peak=0.97, best_lr=0.01, noise=0.05), fake_arm("low", peak=0.5, best_lr=0.01)]
    results = Experiment(arms, [1, 5, 20], [0, 1, 2], splits=make_splits).run()
    table = results.frame().query("arm == 'high'").groupby("budget")["test"].apply(stats.mean_ci)
    assert max(high for _, _, high in table) > 1.0  # the interval itself spills past 1 ...
    ax = figures.accuracy_vs_budget(results)
    assert [line.get_label() for line in ax.get_lines()] == ["high", "low"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["high", "low"]
    bands = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(bands) == 2
    assert max(band.get_paths()[0].vertices[:, 1].max() for band in bands) <= 1.0  # ... the band does not
    dots = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    assert [len(d.get_offsets()) for d in dots] == [9, 9]
    assert ax.get_title() and "budget" in ax.get_xlabel() and "fraction" in ax.get_ylabel()


def test_paired_difference_plot_shows_compare_intervals_and_a_zero_line(agg, results):
    ax = figures.paired_difference_vs_budget(results)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["finetune - scratch", "no difference"]
    assert list(ax.get_lines()[1].get_ydata()) == [0.0, 0.0]
    np.testing.assert_allclose(
        ax.get_lines()[0].get_ydata(), [results.compare("finetune", budget=b)["mean_diff"] for b in (1, 5, 20)]
    )
    band = ax.collections[0].get_paths()[0].vertices
    low_at_5 = band[np.isclose(band[:, 0], 5), 1].min()
    assert low_at_5 == pytest.approx(results.compare("finetune", budget=5)["diff_ci95"][0])
    assert ax.get_title() and ax.get_xlabel() and "difference" in ax.get_ylabel()


def test_accuracy_vs_trainable_params_marks_each_arm_at_its_parameter_count(agg, results):
    frame = results.frame()
    frame["trainable_params"] = frame["arm"].map({"finetune": 120_000, "scratch": 120_000 // 10})
    ax = figures.accuracy_vs_trainable_params(frame, budgets=[5, 20])
    assert len(ax.containers) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["budget 5", "budget 20"]
    assert sorted(t.get_text() for t in ax.texts) == ["finetune", "finetune", "scratch", "scratch"]
    assert ax.get_xscale() == "log" and "trainable parameters" in ax.get_xlabel() and ax.get_title()
    with pytest.raises(ValueError, match="params: column 'trainable_params' is missing or empty"):
        figures.accuracy_vs_trainable_params(results)


def test_an_arms_min_delta_sets_how_much_a_capped_run_must_still_gain_to_be_flagged():
    curve = [(10, 0.50), (20, 0.60), (30, 0.60), (40, 0.605)]  # at its cap, the last check gains 0.005

    def arm(min_delta):
        run = lambda trial: RunResult(0.605, 40, curve=curve, max_steps=40)  # noqa: E731
        return Arm("a", run, lambda model, test: 0.5, lr_grid=(0.1,), max_steps=40, min_delta=min_delta)

    strict = Experiment([arm(0.0)], [1], [0], splits=make_splits).run().frame()
    tolerant = Experiment([arm(0.0075)], [1], [0], splits=make_splits).run().frame()
    assert strict["budget_limited"].item() and not tolerant["budget_limited"].item()
    with pytest.raises(ValueError, match="min_delta must be a number >= 0"):
        arm(-0.01)
