"""What a chapter hands the harness: an :class:`Arm`, and what one training run sees and returns.

An arm is one way of getting a model for the target task (fine-tune the pretrained network,
train it from scratch, a logistic regression on pixels). It brings its own training code as two
plain callables, so the harness imports no framework and serves PyTorch, Keras and scikit-learn
arms alike:

- ``run(trial) -> RunResult`` trains one model for one :class:`Trial`. A trial carries the
  training and validation data and nothing else: it has no test attribute, so no run can select
  on the test set;
- ``score(model, test) -> float`` scores a trained model on the test split. The harness calls it
  once per cell, on the run that validation chose, after the choice is made.

:func:`budget_limited` says whether a run was cut short by its step cap while validation was
still improving, so that a chapter does not assert a claim a longer run might overturn.

This module holds plain data and one rule; running the grid lives in :mod:`.harness`, the tables
and statistics in :mod:`.results`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

#: The tail of a curve in which an improvement means "still improving": the last two validation
#: checks, or the last 10% of the run's steps, whichever holds more checks.
TAIL_CHECKS = 2
TAIL_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class Trial:
    """One training run's brief: which arm, cell and learning rate, and the data it may see.

    ``train`` and ``val`` are the parts the chapter's split provider returned (index arrays, or
    any object the arm understands). There is deliberately no ``test``: the test split never
    reaches ``run``. ``max_steps`` is the arm's step cap (``None``: the arm has none).

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """

    arm: str
    budget: Any
    seed: int
    pretrain_seed: int
    lr: float
    max_steps: int | None
    train: Any
    val: Any


@dataclass(frozen=True)
class RunResult:
    """What one run returns: its best validation score and what it cost.

    ``val_score`` is the validation score of the weights the run keeps (with early stopping, the
    best check). ``steps`` is how many optimiser steps it took, ``max_steps`` its cap (``None``:
    take the trial's); ``curve`` holds ``(step, val_score)`` at every validation check. ``flops``
    and ``seconds`` are its training cost (``seconds=None``: the harness times the call).
    ``model`` is an opaque handle the arm's ``score`` understands; ``trainable_params`` is how
    many parameters the run updated (chapter 06 plots accuracy against it).

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """

    val_score: float
    steps: int | None = None
    max_steps: int | None = None
    curve: Sequence[tuple[int, float]] = ()
    flops: float | None = None
    seconds: float | None = None
    model: Any = field(default=None, repr=False)
    trainable_params: int | None = None


@dataclass(frozen=True)
class Arm:
    """One arm of a comparison: a name, its training and scoring code, and its own learning rates.

    Every arm goes through the same procedure: each learning rate in ``lr_grid`` is trained, the
    best validation score picks one, and only that run is scored on test. For an arm without a
    learning rate (a scikit-learn model), ``lr_grid`` holds whatever it selects on (its ``C``).
    ``trains`` says in words what the arm updates (``"all"``, ``"head"``, ``"LoRA r=4"``);
    ``baseline=True`` marks the arm the others are compared with; ``max_steps`` is its step cap.
    ``min_delta`` is the smallest change of the validation score that counts as an improvement
    when :func:`budget_limited` judges a capped run (0: any change; a chapter whose validation
    score moves in steps of one example may declare that one example's step is noise).

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """

    name: str
    run: Callable[[Trial], RunResult]
    score: Callable[[Any, Any], float]
    lr_grid: Sequence[float]
    trains: str = "all"
    baseline: bool = False
    max_steps: int | None = None
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Arm name must be a non-empty string, got {self.name!r}")
        if not callable(self.run) or not callable(self.score):
            raise ValueError(f"Arm {self.name!r}: run and score must be callables")
        object.__setattr__(self, "lr_grid", tuple(self.lr_grid))
        if any(isinstance(lr, bool) or not isinstance(lr, Real) for lr in self.lr_grid):
            raise ValueError(f"Arm {self.name!r}: lr_grid must hold numbers, got {list(self.lr_grid)}")
        if len(self.lr_grid) == 0:
            raise ValueError(f"Arm {self.name!r}: lr_grid must hold at least one value")
        if len(set(self.lr_grid)) != len(self.lr_grid):
            raise ValueError(f"Arm {self.name!r}: lr_grid has repeated values: {list(self.lr_grid)}")
        if self.max_steps is not None and (isinstance(self.max_steps, bool) or self.max_steps < 1):
            raise ValueError(f"Arm {self.name!r}: max_steps must be a positive int or None, got {self.max_steps!r}")
        if isinstance(self.min_delta, bool) or not isinstance(self.min_delta, Real) or not self.min_delta >= 0:
            raise ValueError(f"Arm {self.name!r}: min_delta must be a number >= 0, got {self.min_delta!r}")


def _better(a: float, b: float, higher_is_better: bool, min_delta: float) -> bool:
    return a > b + min_delta if higher_is_better else a < b - min_delta


def budget_limited(result: RunResult, *, higher_is_better: bool = True, min_delta: float = 0.0) -> bool:
    """True when a run stopped at its step cap while validation was still improving.

    Precisely: the run is *at its cap* (``steps >= max_steps``, both known) and its curve does
    not show convergence, i.e. the best validation score in the curve's tail beats the best
    score before the tail by more than ``min_delta``. The tail is the last :data:`TAIL_CHECKS`
    (two) checks or every check in the last :data:`TAIL_FRACTION` (10%) of the steps, whichever
    holds more. A capped run whose curve has no check before its tail (too short to tell) is
    flagged too: it has not shown that it converged. A run that stopped early (patience) or has
    no cap is never flagged.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """
    if result.steps is None or result.max_steps is None or result.steps < result.max_steps:
        return False
    curve = sorted((int(step), float(score)) for step, score in result.curve)
    late = [i for i, (step, _) in enumerate(curve) if step >= (1 - TAIL_FRACTION) * result.steps]
    tail_start = max(0, min([len(curve) - TAIL_CHECKS, *late]))
    head = [score for _, score in curve[:tail_start] if not math.isnan(score)]
    tail = [score for _, score in curve[tail_start:] if not math.isnan(score)]
    if not head:
        return True
    best_before = max(head) if higher_is_better else min(head)
    return any(_better(score, best_before, higher_is_better, min_delta) for score in tail)
