"""Running a fair comparison: every arm, budget, seed and pretraining seed, each arm tuned alike.

A chapter declares the comparison as an :class:`Experiment` (its arms, budgets, seeds,
pretraining seeds and a split provider) and calls :meth:`Experiment.run`. Fairness holds by
construction, not by care:

- every arm gets the same procedure: each learning rate of its own grid is trained, and the best
  validation score picks one (:func:`select`), so no arm is tuned harder than another;
- the test split stays in the harness: a :class:`~.arms.Trial` has only ``train`` and ``val``,
  and the test split is handed to the arm's ``score`` once, for the chosen run, after selection;
- the splits are checked: train, validation and test must not share an index (:func:`check_splits`);
- every run's cost is kept, so the cost of selection (the whole grid) is reported, not only the
  winner's.

This module runs the grid and nothing else: it imports no framework (arms bring their own
training code), and the tables, statistics and budget checks live in :mod:`.results`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import KW_ONLY, dataclass
from numbers import Real
from typing import Any

import numpy as np

from ptft_utils.experiment.arms import Arm, RunResult, Trial, budget_limited
from ptft_utils.experiment.results import GridRun, Results

#: ``splits(budget, seed) -> (train, val, test)``: the chapter's split provider.
SplitProvider = Callable[[Any, int], tuple[Any, Any, Any]]


def split_ids(part: Any, name: str) -> np.ndarray:
    """The indices or ids of one split part: the part itself (an index array) or its ``ids``.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """
    ids = np.asarray(getattr(part, "ids", part))
    if ids.ndim != 1:
        raise ValueError(
            f"the {name} split must be a 1-D array of indices or ids, or carry them as `.ids`; "
            f"got {type(part).__name__} (array of shape {ids.shape})"
        )
    return ids


def check_splits(train: Any, val: Any, test: Any, *, where: str = "") -> None:
    """Raise ``ValueError`` when two of train, validation and test share an index or id.

    Validation that overlaps test leaks the test set into selection; training data in test
    inflates the score; training data in validation biases the choice of learning rate.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """
    ids = {"train": split_ids(train, "train"), "val": split_ids(val, "val"), "test": split_ids(test, "test")}
    for first, second in (("val", "test"), ("train", "test"), ("train", "val")):
        shared = np.intersect1d(ids[first], ids[second])
        if shared.size:
            raise ValueError(
                f"splits{where}: the {first} and {second} splits share {shared.size} indices "
                f"(first few: {shared[:5].tolist()}); they must be disjoint"
            )


def select(results: Sequence[RunResult], lrs: Sequence[float], *, higher_is_better: bool = True) -> int:
    """Position of the run with the best validation score; ties go to the smaller learning rate.

    A NaN score (a diverged run) counts as the worst. The choice sees validation scores only.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """
    if not results or len(results) != len(lrs):
        raise ValueError(f"select needs one learning rate per result, got {len(results)} results, {len(lrs)} lrs")

    def key(i: int) -> tuple[float, float]:
        score = float(results[i].val_score)
        score = -math.inf if math.isnan(score) else score if higher_is_better else -score
        return score, -float(lrs[i])

    return max(range(len(results)), key=key)


def _unique(values: Sequence[Any], name: str) -> tuple[Any, ...]:
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} has repeated values: {list(values)}")
    return values


@dataclass(frozen=True)
class Experiment:
    """Arms x budgets x seeds x pretraining seeds, each arm's learning rate chosen on validation.

    ``splits(budget, seed)`` returns ``(train, val, test)`` for one cell, as index arrays into the
    chapter's data or objects with an ``ids`` attribute (checked disjoint with
    :func:`check_splits`). ``seed`` varies the split and the run; ``pretrain_seed`` reaches the
    arm's ``run`` as ``trial.pretrain_seed`` so that the intervals can include pretraining
    variance (``pretrain_seeds=(0, 1, 2)`` triples the grid). ``higher_is_better`` says which way
    the validation score (and the test score) points.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """

    arms: Sequence[Arm]
    budgets: Sequence[Any]
    seeds: Sequence[int]
    _: KW_ONLY
    splits: SplitProvider
    pretrain_seeds: Sequence[int] = (0,)
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        if not self.arms or not all(isinstance(arm, Arm) for arm in self.arms):
            raise ValueError(f"arms must be a non-empty sequence of Arm, got {self.arms!r}")
        _unique([arm.name for arm in self.arms], "arms (their names)")
        if sum(arm.baseline for arm in self.arms) > 1:
            raise ValueError(f"arms: at most one baseline, got {[a.name for a in self.arms if a.baseline]}")
        for name in ("budgets", "seeds", "pretrain_seeds"):
            object.__setattr__(self, name, _unique(getattr(self, name), name))
        if not callable(self.splits):
            raise ValueError(f"splits must be a callable (budget, seed) -> (train, val, test), got {self.splits!r}")

    @property
    def n_runs(self) -> int:
        """Training runs the grid holds (every learning rate of every arm in every cell)."""
        cells = len(self.budgets) * len(self.seeds) * len(self.pretrain_seeds)
        return cells * sum(len(arm.lr_grid) for arm in self.arms)

    def run(self, progress: Callable[[str], Any] | None = None) -> Results:
        """Run the whole grid and return its :class:`~.results.Results`.

        ``progress`` (e.g. ``print``) receives one line per (budget, seed, pretraining seed, arm).

        Taught in: 01 (the pretrained-vs-scratch comparison)
        """
        runs: list[GridRun] = []
        for cell_args in self.cells():
            cell = self._run_cell(*cell_args)
            runs.extend(cell)
            if progress is not None:
                progress(_progress_line(cell))
        return Results(self.arms, self.budgets, runs, higher_is_better=self.higher_is_better)

    def cells(self) -> Iterator[tuple[Arm, Any, int, int, Any, Any, Any]]:
        """``(arm, budget, seed, pretrain_seed, train, val, test)`` for every cell, in the grid's order.

        Each (budget, seed)'s splits are drawn and checked once, as the iteration reaches them.
        """
        for budget in self.budgets:
            for seed in self.seeds:
                train, val, test = self.splits(budget, seed)
                check_splits(train, val, test, where=f" for budget={budget!r}, seed={seed}")
                for pretrain_seed in self.pretrain_seeds:
                    for arm in self.arms:
                        yield arm, budget, seed, pretrain_seed, train, val, test

    def _run_cell(
        self, arm: Arm, budget: Any, seed: int, pretrain_seed: int, train: Any, val: Any, test: Any
    ) -> list[GridRun]:
        """Every learning rate of one arm in one cell; then the chosen run, and only it, on test."""
        results, models = [], []
        for lr in arm.lr_grid:
            trial = Trial(arm.name, budget, seed, pretrain_seed, lr, arm.max_steps, train, val)
            result, model = _train_once(arm, trial)
            results.append(result)
            models.append(model)
        best = select(results, arm.lr_grid, higher_is_better=self.higher_is_better)
        test_score = float(arm.score(models[best], test))
        del models  # only the chosen model was ever scored; let the others go
        runs = []
        for i, (lr, result) in enumerate(zip(arm.lr_grid, results, strict=True)):
            flag = budget_limited(result, higher_is_better=self.higher_is_better, min_delta=arm.min_delta)
            test_or_none = test_score if i == best else None
            runs.append(GridRun(arm.name, budget, seed, pretrain_seed, lr, result, flag, i == best, test_or_none))
        return runs


def _train_once(arm: Arm, trial: Trial) -> tuple[RunResult, Any]:
    """One call of ``arm.run``: its result (cap filled in, timed if the arm did not) and model."""
    start = time.perf_counter()
    result = arm.run(trial)
    elapsed = time.perf_counter() - start
    if not isinstance(result, RunResult):
        raise TypeError(f"arm {arm.name!r}: run must return a RunResult, got {type(result).__name__}")
    if isinstance(result.val_score, bool) or not isinstance(result.val_score, Real):
        raise TypeError(f"arm {arm.name!r}: val_score must be a number, got {result.val_score!r}")
    filled = dataclasses.replace(
        result,
        val_score=float(result.val_score),
        max_steps=result.max_steps if result.max_steps is not None else trial.max_steps,
        seconds=result.seconds if result.seconds is not None else elapsed,
        model=None,
    )
    return filled, result.model


def _progress_line(cell: Sequence[GridRun]) -> str:
    chosen = next(run for run in cell if run.chosen)
    seconds = sum(run.result.seconds or 0.0 for run in cell)
    flag = " BUDGET-LIMITED" if chosen.budget_limited else ""
    return (
        f"budget={chosen.budget!r} seed={chosen.seed} pretrain_seed={chosen.pretrain_seed} {chosen.arm}: "
        f"lr={chosen.lr:g} val={chosen.result.val_score:.4f} test={chosen.test:.4f} "
        f"({len(cell)} lrs, {seconds:.1f} s){flag}"
    )
