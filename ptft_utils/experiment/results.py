"""What an experiment leaves behind: every run of the grid, as tidy tables and paired comparisons.

:class:`Results` holds one :class:`GridRun` per training run (every learning rate of every arm in
every cell). From them it builds:

- :meth:`Results.frame`: one row per chosen run, with the cost of the selection that chose it;
- :meth:`Results.grid_frame` and :meth:`Results.curve_frame`: every run, and every validation check;
- :meth:`Results.compare`: an arm against the baseline at one budget, runs paired by
  ``(seed, pretrain_seed)``, through :mod:`ptft_utils.eval.stats` (the evidence a claim records);
- :meth:`Results.require_no_budget_limited`: the check a chapter makes before asserting a claim
  on runs that might still have been improving when their step cap stopped them.

Statistics are computed in :mod:`ptft_utils.eval.stats`, not here; figures are in :mod:`.figures`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ptft_utils.eval import stats
from ptft_utils.experiment.arms import Arm, RunResult

#: Columns of :meth:`Results.frame`, in order: one row per chosen run.
FRAME_COLUMNS = (
    "arm", "budget", "seed", "pretrain_seed", "lr", "steps", "max_steps", "budget_limited",
    "val", "test", "flops", "seconds", "selection_flops", "selection_seconds", "trainable_params",
)  # fmt: skip
#: Columns of :meth:`Results.grid_frame`, in order: one row per training run.
GRID_COLUMNS = (
    "arm", "budget", "seed", "pretrain_seed", "lr", "chosen", "steps", "max_steps", "budget_limited",
    "val", "flops", "seconds", "trainable_params",
)  # fmt: skip
#: Columns of :meth:`Results.curve_frame`, in order: one row per validation check.
CURVE_COLUMNS = ("arm", "budget", "seed", "pretrain_seed", "lr", "chosen", "step", "val")
#: The tests :meth:`Results.compare` runs, after their functions in :mod:`ptft_utils.eval.stats`.
TESTS = ("paired_t", "paired_bootstrap", "tost")


class BudgetLimitedError(ValueError):
    """Runs behind a claim stopped at their step cap while validation was still improving."""


@dataclass(frozen=True)
class GridRun:
    """One training run of the grid: its cell, learning rate and result (without the model).

    ``test`` is set on the chosen run of each cell only: no other run was ever scored on test.
    """

    arm: str
    budget: Any
    seed: int
    pretrain_seed: int
    lr: float
    result: RunResult
    budget_limited: bool
    chosen: bool
    test: float | None = None


def _total(values: Iterable[float | None]) -> float:
    """Sum of a cost over runs; NaN when any run did not report it (an unknown total)."""
    return sum(math.nan if value is None else float(value) for value in values)


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _difference(
    test: str, a: list[float], b: list[float], *, confidence: float, margin: float | None, n_resamples: int, seed: int
) -> dict[str, Any]:
    """The paired difference ``a - b`` by the named test: the test's own evidence dict.

    Every result has ``mean_diff`` and ``diff_ci95`` (the two-sided ``confidence`` interval of the
    difference: the bootstrap's for ``"paired_bootstrap"``, the t interval's otherwise); for
    ``"tost"`` the other keys (``p_value``, ``ci_low``/``ci_high`` at 1 - 2 alpha, ``equivalent``)
    are the equivalence test's.
    """
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    if (test == "tost") != (margin is not None):
        raise ValueError(f"margin goes with test='tost' and only with it; got test={test!r}, margin={margin!r}")
    if test == "paired_bootstrap":
        return stats.paired_bootstrap(a, b, confidence=confidence, n_resamples=n_resamples, seed=seed)
    paired = stats.paired_difference(a, b, confidence)
    if test == "tost" and margin is not None:
        return paired | stats.equivalence(a, b, margin, paired=True, confidence=confidence)
    return paired


def _row(run: GridRun) -> dict[str, Any]:
    """The columns one run fills in (the frames pick theirs)."""
    result = run.result
    return {
        "arm": run.arm,
        "budget": run.budget,
        "seed": run.seed,
        "pretrain_seed": run.pretrain_seed,
        "lr": run.lr,
        "chosen": run.chosen,
        "steps": result.steps,
        "max_steps": result.max_steps,
        "budget_limited": run.budget_limited,
        "val": result.val_score,
        "test": run.test,
        "flops": _nan(result.flops),
        "seconds": _nan(result.seconds),
        "trainable_params": result.trainable_params,
    }


class Results:
    """Every run of an :class:`~.harness.Experiment`, and the tables and comparisons built on them.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """

    def __init__(
        self, arms: Sequence[Arm], budgets: Sequence[Any], runs: Sequence[GridRun], *, higher_is_better: bool = True
    ) -> None:
        self.arms = tuple(arms)
        self.budgets = tuple(budgets)
        self.runs = tuple(runs)
        self.higher_is_better = higher_is_better

    @property
    def baseline(self) -> str | None:
        """Name of the arm declared ``baseline=True``, if any."""
        return next((arm.name for arm in self.arms if arm.baseline), None)

    def _cells(self) -> dict[tuple[Any, ...], list[GridRun]]:
        cells: dict[tuple[Any, ...], list[GridRun]] = {}
        for run in self.runs:
            cells.setdefault((run.arm, run.budget, run.seed, run.pretrain_seed), []).append(run)
        return cells

    def frame(self):  # -> pandas.DataFrame
        """One row per chosen run (columns :data:`FRAME_COLUMNS`).

        ``flops``, ``seconds`` and ``steps`` are the chosen run's; ``selection_flops`` and
        ``selection_seconds`` sum every learning rate tried in that cell (what choosing cost;
        NaN when a run did not report its FLOPs); ``budget_limited`` is the chosen run's flag.

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        import pandas as pd

        rows = []
        for runs in self._cells().values():
            chosen = next(run for run in runs if run.chosen)
            selection = {
                "selection_flops": _total(run.result.flops for run in runs),
                "selection_seconds": _total(run.result.seconds for run in runs),
            }
            rows.append(_row(chosen) | selection)
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))

    def grid_frame(self):  # -> pandas.DataFrame
        """One row per training run, chosen or not (columns :data:`GRID_COLUMNS`; no test score).

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        import pandas as pd

        return pd.DataFrame([_row(run) for run in self.runs], columns=list(GRID_COLUMNS))

    def curve_frame(self, *, chosen_only: bool = True):  # -> pandas.DataFrame
        """One row per validation check of the chosen runs (or of every run), columns :data:`CURVE_COLUMNS`.

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        import pandas as pd

        rows = [
            (run.arm, run.budget, run.seed, run.pretrain_seed, run.lr, run.chosen, int(step), float(score))
            for run in self.runs
            if run.chosen or not chosen_only
            for step, score in run.result.curve
        ]
        return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))

    def budget_limited_counts(self):  # -> pandas.DataFrame
        """Per (arm, budget): runs, budget-limited runs, chosen runs and budget-limited chosen runs.

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        import pandas as pd

        rows = []
        for arm in self.arms:
            for budget in self.budgets:
                runs = [run for run in self.runs if run.arm == arm.name and run.budget == budget]
                chosen = [run for run in runs if run.chosen]
                rows.append(
                    {
                        "arm": arm.name,
                        "budget": budget,
                        "runs": len(runs),
                        "budget_limited_runs": sum(run.budget_limited for run in runs),
                        "chosen_runs": len(chosen),
                        "chosen_budget_limited": sum(run.budget_limited for run in chosen),
                    }
                )
        return pd.DataFrame(rows)

    def _check_names(self, arm: str | None, budget: Any) -> None:
        names = [a.name for a in self.arms]
        if arm is not None and arm not in names:
            raise ValueError(f"arm {arm!r} is not in this experiment (arms: {names})")
        if budget is not None and budget not in self.budgets:
            raise ValueError(f"budget {budget!r} is not in this experiment (budgets: {list(self.budgets)})")

    def require_no_budget_limited(
        self, arm: str | None = None, budget: Any = None, *, chosen_only: bool = True
    ) -> None:
        """Raise :class:`BudgetLimitedError` if a run behind a claim was budget-limited.

        Looks at the chosen runs (``chosen_only=False``: every run of the grid) of ``arm`` at
        ``budget`` (``None``: every arm, every budget). A flagged run stopped at its step cap
        while validation was still improving (:func:`~.arms.budget_limited`): a longer run might
        change the verdict, so a claim on it should not be asserted until the cap is raised.

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        self._check_names(arm, budget)
        runs = [
            run
            for run in self.runs
            if (arm is None or run.arm == arm) and (budget is None or run.budget == budget)
            if run.chosen or not chosen_only
        ]
        flagged = [run for run in runs if run.budget_limited]
        if flagged:
            which = ", ".join(f"{r.arm} budget={r.budget!r} seed={r.seed} lr={r.lr:g}" for r in flagged[:5])
            raise BudgetLimitedError(
                f"{len(flagged)} of {len(runs)} {'chosen ' if chosen_only else ''}runs stopped at their step cap "
                f"while validation was still improving ({which}{', ...' if len(flagged) > 5 else ''}); "
                "raise the arm's max_steps before asserting a claim on them"
            )

    def _scores(self, arm: str, budget: Any, metric: str) -> dict[tuple[int, int], float]:
        return {
            (run.seed, run.pretrain_seed): float(run.test if metric == "test" else run.result.val_score)  # type: ignore[arg-type]
            for run in self.runs
            if run.chosen and run.arm == arm and run.budget == budget
        }

    def compare(
        self,
        arm: str,
        *,
        budget: Any,
        baseline: str | None = None,
        test: str = "paired_t",
        metric: str = "test",
        confidence: float = 0.95,
        margin: float | None = None,
        n_resamples: int = 10_000,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Evidence on ``arm`` against ``baseline`` at one budget, runs paired by (seed, pretrain_seed).

        ``baseline`` defaults to the arm declared ``baseline=True``. ``test`` is ``"paired_t"``
        (:func:`~ptft_utils.eval.stats.paired_difference`), ``"paired_bootstrap"``
        (:func:`~ptft_utils.eval.stats.paired_bootstrap`) or ``"tost"``
        (:func:`~ptft_utils.eval.stats.equivalence` within ``margin``, the only way to claim
        "no difference"; its keys, ``p_value`` and ``equivalent`` among them, join the t interval's
        ``diff_ci95``). ``metric`` is ``"test"`` or ``"val"``. The evidence holds the test's own
        keys (``test``, ``n``, ``p_value``, ``mean_diff``, ``diff_ci95``, ...: ready for
        :func:`~ptft_utils.eval.stats.family`), both arms' means and intervals, the counts of
        pairs, seeds and pretraining seeds, the budget-limited chosen runs of each arm, and
        ``better`` / ``worse``: ``diff_ci95`` lies wholly on the arm's side of zero (above zero
        when higher is better) or wholly on the baseline's. Pairs count as independent.

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        baseline = self._resolve_baseline(arm, baseline, budget)
        if metric not in ("test", "val"):
            raise ValueError(f"metric must be 'test' or 'val', got {metric!r}")
        a_by_pair, b_by_pair = self._scores(arm, budget, metric), self._scores(baseline, budget, metric)
        if set(a_by_pair) != set(b_by_pair):
            raise ValueError(f"arms {arm!r} and {baseline!r} were not run on the same (seed, pretrain_seed) pairs")
        pairs = sorted(a_by_pair)
        a, b = [a_by_pair[p] for p in pairs], [b_by_pair[p] for p in pairs]
        diff = _difference(test, a, b, confidence=confidence, margin=margin, n_resamples=n_resamples, seed=seed)
        return self._evidence(arm, baseline, budget, pairs, (a, b), diff, confidence) | {"metric": metric}

    def _resolve_baseline(self, arm: str, baseline: str | None, budget: Any) -> str:
        baseline = baseline if baseline is not None else self.baseline
        if baseline is None:
            raise ValueError("baseline: name one, or declare an arm with baseline=True")
        self._check_names(arm, budget)
        self._check_names(baseline, None)
        if arm == baseline:
            raise ValueError(f"arm and baseline are both {arm!r}: compare an arm with another")
        return baseline

    def _evidence(
        self, arm: str, baseline: str, budget: Any, pairs: list, scores: tuple, diff: dict, confidence: float
    ) -> dict[str, Any]:
        first, second = (stats.summarize(values, confidence) for values in scores)
        low, high = diff["diff_ci95"]
        chosen, names = [run for run in self.runs if run.chosen and run.budget == budget], (arm, baseline)
        return {
            "arm": arm,
            "baseline": baseline,
            "budget": budget,
            f"{arm}_mean": first["mean"],
            f"{arm}_ci95": first["ci95"],
            f"{baseline}_mean": second["mean"],
            f"{baseline}_ci95": second["ci95"],
            **diff,
            "pairs": len(pairs),
            "seeds": len({pair[0] for pair in pairs}),
            "pretrain_seeds": len({pair[1] for pair in pairs}),
            "budget_limited": {name: sum(run.budget_limited for run in chosen if run.arm == name) for name in names},
            "better": bool(low > 0) if self.higher_is_better else bool(high < 0),
            "worse": bool(high < 0) if self.higher_is_better else bool(low > 0),
        }

    def compare_all(self, *, baseline: str | None = None, **options: Any) -> dict[str, dict[str, Any]]:
        """:meth:`compare` for every other arm at every budget, keyed ``"{arm}_vs_{baseline}_{budget}"``.

        The mapping is what :func:`ptft_utils.eval.stats.family` corrects as one family (Holm).

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        baseline = baseline if baseline is not None else self.baseline
        return {
            f"{arm.name}_vs_{baseline}_{budget}": self.compare(arm.name, budget=budget, baseline=baseline, **options)
            for arm in self.arms
            if arm.name != baseline
            for budget in self.budgets
        }
