"""The book's figures: one seaborn theme and the few standard plots chapters share.

``set_theme()`` gives every chapter the same look (white grid, readable fonts, a colour-blind
palette). The figure functions take a tidy pandas DataFrame, draw on the Axes they are given
(or a new one) and return that Axes, so a notebook can add to it or put several in one figure:

- :func:`learning_curves`: loss or accuracy per epoch, one line per split (or arm);
- :func:`accuracy_vs_labels`: label-efficiency curves, mean over seeds with a 95% Student-t band;
- :func:`embedding_map`: words or images placed at 2-D coordinates, coloured by group;
- :func:`reliability_diagram`: accuracy against confidence per bin (chapter 09's calibration).

Bands are computed with :func:`ptft_utils.eval.stats.mean_ci`, the same function the claims use, so a
band in a figure is exactly the interval recorded in ``metrics.json`` (seaborn's own error bars
are bootstrap intervals, which differ and change with the random state). :func:`mean_ci_table`
returns those numbers as a table, for printing next to the figure.

matplotlib and seaborn are imported inside the functions: ``import ptft_utils.eval.plots`` is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ptft_utils.eval.stats import mean_ci

PALETTE = "colorblind"


def set_theme(font_scale: float = 1.1, figsize: tuple[float, float] = (7.0, 4.2), dpi: int = 110) -> None:
    """Apply the book's theme to matplotlib (call once, in a chapter's setup cell).

    Taught in: 02 §3; also used in 04 §8.
    """
    import seaborn as sns

    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        font_scale=font_scale,
        rc={
            "figure.figsize": figsize,
            "figure.dpi": dpi,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        },
    )


def _new_axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _order(values: Sequence[Any], order: Sequence[Any] | None) -> list[Any]:
    """Groups in the given order, else in order of first appearance."""
    present = list(dict.fromkeys(values))
    if order is None:
        return present
    missing = [v for v in present if v not in order]
    if missing:
        raise ValueError(f"hue_order lacks groups present in the data: {missing}")
    return [v for v in order if v in present]


def mean_ci_table(
    df: Any, x: str, y: str, hue: str | None = None, hue_order: Sequence[Any] | None = None, confidence: float = 0.95
):  # -> pandas.DataFrame
    """Mean of ``y`` over the rows (seeds) at each ``(hue, x)``, with its t interval.

    Columns: ``hue`` (when given), ``x``, ``mean``, ``ci_low``, ``ci_high``, ``n``; rows sorted by
    group (in ``hue_order``) and then by ``x``. One row per group and ``x`` gives a zero-width interval.

    Taught in: 01 §7.
    """
    import pandas as pd

    for column in (x, y, *([hue] if hue else [])):
        if column not in df.columns:
            raise KeyError(f"column {column!r} not in the data (columns: {list(df.columns)})")
    groups = _order(list(df[hue]), hue_order) if hue else [None]
    rows = []
    for group in groups:
        part = df if hue is None else df[df[hue] == group]
        for x_value in sorted(part[x].unique()):
            values = part.loc[part[x] == x_value, y].astype(float).tolist()
            mean, low, high = mean_ci(values, confidence)
            row = {x: x_value, "mean": mean, "ci_low": low, "ci_high": high, "n": len(values)}
            if hue:
                row = {hue: group, **row}
            rows.append(row)
    return pd.DataFrame(rows)


def _draw_mean_bands(ax: Any, table: Any, x: str, hue: str | None, markers: bool) -> None:
    import seaborn as sns

    groups = list(dict.fromkeys(table[hue])) if hue else [None]
    colours = sns.color_palette(PALETTE, max(len(groups), 1))
    for colour, group in zip(colours, groups, strict=False):
        part = table if hue is None else table[table[hue] == group]
        label = None if group is None else str(group)
        ax.plot(part[x], part["mean"], marker="o" if markers else None, color=colour, label=label, lw=2)
        if (part["n"] > 1).any():
            ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=colour, alpha=0.2, lw=0)


def learning_curves(
    df: Any,
    x: str = "epoch",
    y: str = "loss",
    hue: str | None = "split",
    ax: Any = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    hue_order: Sequence[Any] | None = None,
    markers: bool = False,
):  # -> matplotlib.axes.Axes
    """One line per ``hue`` group (``"train"``, ``"val"``, ...) of ``y`` against ``x``.

    When several rows share an ``(x, hue)`` pair (several seeds), the line is their mean and a
    band shows its 95% t interval.

    Taught in: 01 §9; also used in 03 §6, 04 §9, 05 §1.
    """
    ax = _new_axes(ax)
    if hue is not None and hue not in df.columns:
        hue = None
    table = mean_ci_table(df, x, y, hue, hue_order)
    _draw_mean_bands(ax, table, x, hue, markers)
    ax.set_xlabel(xlabel if xlabel is not None else x)
    ax.set_ylabel(ylabel if ylabel is not None else y)
    if title:
        ax.set_title(title)
    if hue is not None:
        ax.legend(title=hue)
    return ax


def accuracy_vs_labels(
    df: Any,
    x: str = "k",
    y: str = "accuracy",
    hue: str = "arm",
    ax: Any = None,
    title: str | None = None,
    logx: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    hue_order: Sequence[Any] | None = None,
):  # -> matplotlib.axes.Axes
    """Label-efficiency curves: test accuracy against labels per class, one line per arm.

    ``df`` holds one row per (arm, k, seed). Each line is the mean over seeds, with markers at the
    measured ``k`` and a band for the 95% Student-t interval from :func:`ptft_utils.eval.stats.mean_ci`.

    Taught in: 01 §7; also used in 03 §7, 04 §8, 05 §5.
    """
    ax = _new_axes(ax)
    table = mean_ci_table(df, x, y, hue, hue_order)
    _draw_mean_bands(ax, table, x, hue, markers=True)
    ks = sorted(table[x].unique())
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(ks)
    ax.set_xticklabels([f"{k:g}" for k in ks])
    ax.set_xlabel(xlabel if xlabel is not None else f"{x} (labelled examples per class{', log scale' if logx else ''})")
    ax.set_ylabel(ylabel if ylabel is not None else f"{y} (mean over seeds, 95% CI)")
    if title:
        ax.set_title(title)
    ax.legend(title=hue)
    return ax


def embedding_map(
    points_2d: Any,
    labels: Sequence[str],
    ax: Any = None,
    title: str | None = None,
    groups: Sequence[Any] | None = None,
    annotate: bool = True,
    xlabel: str = "component 1",
    ylabel: str = "component 2",
):  # -> matplotlib.axes.Axes
    """Scatter of 2-D coordinates (e.g. a PCA of word vectors), each point labelled.

    ``groups`` (one per point) colours the points and adds a legend; ``annotate`` writes each
    label next to its point (turn it off for hundreds of points).

    Taught in: 03 §6.
    """
    import numpy as np
    import seaborn as sns

    points = np.asarray(points_2d, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points_2d must have shape (n, 2), got {points.shape}")
    if len(labels) != len(points):
        raise ValueError(f"{len(labels)} labels for {len(points)} points")
    ax = _new_axes(ax)
    if groups is None:
        ax.scatter(points[:, 0], points[:, 1], s=30, color=sns.color_palette(PALETTE)[0])
    else:
        names = _order(list(groups), None)
        colours = sns.color_palette(PALETTE, len(names))
        group_array = np.asarray(groups, dtype=object)
        for colour, name in zip(colours, names, strict=True):
            mask = group_array == name
            ax.scatter(points[mask, 0], points[mask, 1], s=30, color=colour, label=str(name))
        ax.legend()
    if annotate:
        for (px, py), text in zip(points, labels, strict=True):
            ax.annotate(str(text), (px, py), xytext=(3, 3), textcoords="offset points", fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def reliability_diagram(bins: Mapping[str, Any], ax: Any = None, title: str | None = None) -> Any:
    """Accuracy against confidence per bin (bars), with the diagonal a calibrated model would follow.

    ``bins`` is :func:`ptft_utils.eval.calibration.reliability_bins`'s result; each non-empty bin
    is a bar from its lower to its upper edge, as high as its accuracy, with its mean confidence
    marked; the gap between the two is what the expected calibration error averages.

    Taught in: 09 §2.
    """
    import numpy as np

    for key in ("lower", "upper", "confidence", "accuracy", "count"):
        if key not in bins:
            raise ValueError(f"bins lacks {key!r}; pass calibration.reliability_bins(...)")
    ax = _new_axes(ax)
    filled = np.asarray(bins["count"]) > 0
    lower, upper = np.asarray(bins["lower"])[filled], np.asarray(bins["upper"])[filled]
    ax.bar(lower, np.asarray(bins["accuracy"])[filled], width=upper - lower, align="edge", alpha=0.7,
           edgecolor="black", label="accuracy")  # fmt: skip
    ax.plot((lower + upper) / 2, np.asarray(bins["confidence"])[filled], "o", color="black", label="mean confidence")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title or "Reliability diagram")
    ax.legend(loc="upper left")
    return ax
