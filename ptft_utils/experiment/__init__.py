"""The fair-comparison harness: arms x budgets x seeds x pretraining seeds, selected on validation.

A chapter declares its :class:`Arm` s (each with its own training code and learning-rate grid),
its budgets, seeds and pretraining seeds, and a split provider, as one :class:`Experiment`;
:meth:`Experiment.run` trains the grid, picks each arm's learning rate on validation, scores the
chosen run (and only it) on test, and returns :class:`Results` (tidy frames, paired comparisons,
the budget-limited check). The figures are in :mod:`ptft_utils.experiment.figures`.

Nothing here imports a framework: arms bring their own PyTorch, Keras or scikit-learn code.
"""

from ptft_utils.experiment.arms import Arm, RunResult, Trial, budget_limited
from ptft_utils.experiment.harness import Experiment, check_splits, select
from ptft_utils.experiment.results import BudgetLimitedError, Results

__all__ = [
    "Arm",
    "BudgetLimitedError",
    "Experiment",
    "Results",
    "RunResult",
    "Trial",
    "budget_limited",
    "check_splits",
    "select",
]
