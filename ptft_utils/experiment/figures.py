"""The experiment's standard figures, drawn from :class:`~.results.Results` (or its frame).

- :func:`accuracy_vs_budget`: each arm's mean score against the budget, its 95% Student-t band
  (clipped to the metric's range, [0, 1] for accuracy) and one dot per run;
- :func:`paired_difference_vs_budget`: each arm minus the baseline, paired by (seed,
  pretrain_seed), with the interval :meth:`~.results.Results.compare` reports and a zero line;
- :func:`accuracy_vs_trainable_params`: what-to-update methods (chapter 06) as mean score
  against the number of parameters each trains, on a log axis.

The bands are the numbers the claims use (:func:`ptft_utils.eval.plots.mean_ci_table`, i.e.
:func:`ptft_utils.eval.stats.mean_ci`), not seaborn's bootstrap. Each function draws on the
Axes it is given (or a new one), sets a title and axis labels with units, and returns the Axes.
matplotlib and seaborn are imported inside the functions; this module draws, it computes no
statistics of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ptft_utils.eval import plots
from ptft_utils.eval.stats import mean_ci

ACCURACY_RANGE = (0.0, 1.0)
BUDGET_LABEL = "budget (labelled examples per class)"


def _frame(data: Any) -> Any:
    """The tidy frame of a :class:`~.results.Results`, or the frame itself."""
    return data.frame() if hasattr(data, "frame") else data


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def _colours(n: int) -> list[Any]:
    import seaborn as sns

    return list(sns.color_palette(plots.PALETTE, max(n, 1)))


def _clip(values: Any, limits: tuple[float, float] | None) -> Any:
    import numpy as np

    return np.asarray(values, dtype=float) if limits is None else np.clip(np.asarray(values, dtype=float), *limits)


def _budget_axis(ax: Any, budgets: Sequence[Any], xlabel: str, logx: bool) -> None:
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(list(budgets))
    ax.set_xticklabels([f"{b:g}" for b in budgets])
    ax.set_xlabel(f"{xlabel}{', log scale' if logx else ''}")


def accuracy_vs_budget(
    data: Any,
    *,
    metric: str = "test",
    arm_order: Sequence[str] | None = None,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = BUDGET_LABEL,
    ylabel: str | None = None,
    logx: bool = True,
    limits: tuple[float, float] | None = ACCURACY_RANGE,
    show_runs: bool = True,
):  # -> matplotlib.axes.Axes
    """Mean ``metric`` against budget, one line per arm, with its 95% t band and a dot per run.

    ``data`` is a :class:`~.results.Results` or its :meth:`~.results.Results.frame` (numeric
    budgets). The band is clipped to ``limits`` (``None``: not clipped), since an accuracy
    interval past 1 says nothing. ``show_runs`` adds each chosen run as a dot.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """
    frame = _frame(data)
    ax = _axes(ax)
    table = plots.mean_ci_table(frame, "budget", metric, "arm", hue_order=arm_order)
    arms = list(dict.fromkeys(table["arm"]))
    for colour, arm in zip(_colours(len(arms)), arms, strict=False):
        part = table[table["arm"] == arm]
        ax.plot(part["budget"], part["mean"], marker="o", color=colour, lw=2, label=arm)
        low, high = _clip(part["ci_low"], limits), _clip(part["ci_high"], limits)
        ax.fill_between(part["budget"], low, high, color=colour, alpha=0.2, lw=0)
        if show_runs:
            runs = frame[frame["arm"] == arm]
            ax.scatter(runs["budget"], runs[metric], color=colour, s=12, alpha=0.5, zorder=3)
    _budget_axis(ax, sorted(table["budget"].unique()), xlabel, logx)
    ax.set_ylabel(ylabel or f"{metric} accuracy (fraction correct; mean, 95% CI)")
    ax.set_title(title or f"{metric.capitalize()} accuracy against budget, per arm")
    ax.legend(title="arm")
    return ax


def _differences(frame: Any, arm: str, baseline: str, metric: str) -> Any:
    """Per-pair ``arm - baseline`` at every budget: columns budget, seed, pretrain_seed, diff."""
    keys = ["budget", "seed", "pretrain_seed"]
    first = frame[frame["arm"] == arm][[*keys, metric]]
    second = frame[frame["arm"] == baseline][[*keys, metric]]
    both = first.merge(second, on=keys, suffixes=("_arm", "_baseline"))
    return both.assign(diff=both[f"{metric}_arm"] - both[f"{metric}_baseline"])


def paired_difference_vs_budget(
    results: Any,
    *,
    baseline: str | None = None,
    metric: str = "test",
    test: str = "paired_t",
    ax: Any = None,
    title: str | None = None,
    xlabel: str = BUDGET_LABEL,
    ylabel: str | None = None,
    logx: bool = True,
    show_runs: bool = True,
):  # -> matplotlib.axes.Axes
    """Each arm minus ``baseline`` against budget: mean paired difference, its interval, a zero line.

    The mean and interval at each budget are :meth:`~.results.Results.compare`'s (``test``
    picks the interval), so the figure shows exactly the evidence a claim records; dots are the
    per-pair differences. A band wholly above the dashed zero line is an arm that wins.

    Taught in: 01 (the pretrained-vs-scratch comparison)
    """
    baseline = baseline if baseline is not None else results.baseline
    if baseline is None:
        raise ValueError("baseline: name one, or declare an arm with baseline=True")
    ax = _axes(ax)
    frame = results.frame()
    budgets = list(results.budgets)
    others = [arm.name for arm in results.arms if arm.name != baseline]
    for colour, arm in zip(_colours(len(others)), others, strict=False):
        evidence = [results.compare(arm, budget=b, baseline=baseline, test=test, metric=metric) for b in budgets]
        means = [e["mean_diff"] for e in evidence]
        ax.plot(budgets, means, marker="o", color=colour, lw=2, label=f"{arm} - {baseline}")
        lows, highs = zip(*(e["diff_ci95"] for e in evidence), strict=True)
        ax.fill_between(budgets, lows, highs, color=colour, alpha=0.2, lw=0)
        if show_runs:
            diffs = _differences(frame, arm, baseline, metric)
            ax.scatter(diffs["budget"], diffs["diff"], color=colour, s=12, alpha=0.5, zorder=3)
    ax.axhline(0.0, color="grey", lw=1, ls="--", label="no difference")
    _budget_axis(ax, sorted(budgets), xlabel, logx)
    ax.set_ylabel(ylabel or f"{metric} accuracy difference (fraction correct; mean, 95% CI)")
    ax.set_title(title or f"Paired difference in {metric} accuracy against {baseline}")
    ax.legend()
    return ax


def accuracy_vs_trainable_params(
    data: Any,
    *,
    params: str = "trainable_params",
    metric: str = "test",
    budgets: Sequence[Any] | None = None,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "trainable parameters (count, log scale)",
    ylabel: str | None = None,
    limits: tuple[float, float] | None = ACCURACY_RANGE,
    annotate: bool = True,
):  # -> matplotlib.axes.Axes
    """Mean ``metric`` of each arm against the parameters it trains, one series per budget.

    ``params`` names the column of trainable-parameter counts (filled from
    ``RunResult.trainable_params``, or added by the chapter). Each point is an arm's mean over
    runs with its 95% t interval (clipped to ``limits``); ``annotate`` writes the arm's name.

    Taught in: 06 (what to update)
    """
    import numpy as np

    frame = _frame(data)
    if params not in frame.columns or frame[params].isna().all():
        raise ValueError(f"params: column {params!r} is missing or empty (set RunResult.trainable_params)")
    ax = _axes(ax)
    budgets = list(budgets) if budgets is not None else list(dict.fromkeys(frame["budget"]))
    for colour, budget in zip(_colours(len(budgets)), budgets, strict=False):
        part = frame[frame["budget"] == budget]
        arms = list(dict.fromkeys(part["arm"]))
        xs = np.array([part.loc[part["arm"] == arm, params].astype(float).mean() for arm in arms])
        cis = np.array([mean_ci(part.loc[part["arm"] == arm, metric].astype(float).tolist()) for arm in arms])
        means, low, high = cis[:, 0], _clip(cis[:, 1], limits), _clip(cis[:, 2], limits)
        yerr = np.vstack([means - low, high - means])
        ax.errorbar(xs, means, yerr=yerr, fmt="o", color=colour, capsize=3, label=f"budget {budget}")
        if annotate:
            for x, y, arm in zip(xs, means, arms, strict=True):
                ax.annotate(arm, (x, y), xytext=(4, 4), textcoords="offset points", fontsize="small")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or f"{metric} accuracy (fraction correct; mean, 95% CI)")
    ax.set_title(title or f"{metric.capitalize()} accuracy against trainable parameters")
    ax.legend(title="budget")
    return ax
