"""An :class:`~.harness.Experiment` run with several cells training at once, one thread each.

:meth:`Experiment.run <ptft_utils.experiment.harness.Experiment.run>` trains the grid one cell
after another. The book's CNNs are small: one training step of a batch of 32 keeps a single CPU
core busy, so on a laptop with two cores half the machine idles. PyTorch releases Python's global
interpreter lock inside its operations, so two cells trained by two threads of one process run in
parallel for most of their time. :func:`run_threaded` does that and nothing else: every cell is
the harness's own (each learning rate of the arm's grid trained, the best on validation chosen,
only that run scored on test), and the runs come back in the order :meth:`Experiment.run` would
return them, so the results do not depend on which thread finished first.

The arms' ``run`` functions are called from several threads at once. They must not share mutable
state without a lock; in particular, a model initialised from the framework's *global* random
generator (``torch.manual_seed`` followed by building the model) must be built under a lock, or two
threads would interleave their draws. The chapter that uses this (04 §6) does exactly that.

This module imports no framework, like the rest of :mod:`ptft_utils.experiment`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ptft_utils.experiment.harness import Experiment
from ptft_utils.experiment.results import GridRun, Results


def run_threaded(experiment: Experiment, workers: int = 2) -> Results:
    """Run ``experiment``'s grid with ``workers`` cells in training at once; the same Results as its ``run()``.

    ``workers=1`` is :meth:`Experiment.run` itself. The splits are drawn and checked in the
    calling thread, in the harness's order, before any cell trains.

    Taught in: 04 §7.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1 (cells trained at once), got {workers!r}")
    if workers == 1:
        return experiment.run()
    cells = list(experiment.cells())  # every split drawn and checked here, before any cell trains
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grid") as pool:
        futures = [pool.submit(experiment._run_cell, *cell) for cell in cells]
        try:
            runs: list[GridRun] = [run for future in futures for run in future.result()]
        except BaseException:
            for future in futures:  # a cell failed (or Ctrl-C): start no further cell
                future.cancel()
            raise
    return Results(experiment.arms, experiment.budgets, runs, higher_is_better=experiment.higher_is_better)
