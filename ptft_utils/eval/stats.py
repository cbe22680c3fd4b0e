"""Summaries over seeds: means with confidence intervals and paired comparisons.

Chapters run each arm of an experiment over several seeds; these functions turn the per-seed
numbers into the evidence a claim rests on. Intervals use Student's t (the right choice for the
3 to 10 seeds a CPU budget allows), so two seeds give a wide interval, as they should.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided Student-t critical value (scipy, imported lazily)."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2.0, dof))


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its t confidence interval. One value gives a zero-width interval."""
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("mean_ci needs at least one value")
    n = len(xs)
    mean = sum(xs) / n
    if n == 1:
        return mean, mean, mean
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    half = t_quantile(confidence, n - 1) * math.sqrt(var / n)
    return mean, mean - half, mean + half


def summarize(values: Sequence[float], confidence: float = 0.95) -> dict[str, Any]:
    """``{"mean", "ci95", "std", "n"}`` for a metrics file or a claim's evidence."""
    mean, lo, hi = mean_ci(values, confidence)
    n = len(values)
    std = math.sqrt(sum((float(v) - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "ci95": [lo, hi], "std": std, "n": n}


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> dict[str, Any]:
    """Mean of ``a - b`` over paired runs (same seed, same data) with its t interval.

    Pairing removes the seed-to-seed variation both arms share, so it is the sharper test when
    both arms saw the same labelled subset.
    """
    if len(a) != len(b):
        raise ValueError(f"paired_difference needs equal lengths, got {len(a)} and {len(b)}")
    diff = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    mean, lo, hi = mean_ci(diff, confidence)
    return {"mean_diff": mean, "diff_ci95": [lo, hi], "n": len(diff)}


def compare(a: Sequence[float], b: Sequence[float], names: tuple[str, str] = ("a", "b")) -> dict[str, Any]:
    """Evidence that ``a`` beats ``b``: both summaries and the paired difference.

    ``better`` is True when the paired difference's 95% interval lies above zero, ``worse``
    when it lies below, both False when the data cannot tell them apart.
    """
    first, second = summarize(a), summarize(b)
    diff = paired_difference(a, b)
    lo, hi = diff["diff_ci95"]
    return {
        f"{names[0]}_mean": first["mean"],
        f"{names[0]}_ci95": first["ci95"],
        f"{names[1]}_mean": second["mean"],
        f"{names[1]}_ci95": second["ci95"],
        "mean_diff": diff["mean_diff"],
        "diff_ci95": diff["diff_ci95"],
        "seeds": len(a),
        "better": bool(lo > 0),
        "worse": bool(hi < 0),
    }
