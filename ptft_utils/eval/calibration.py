"""Calibration: does a classifier's confidence match how often it is right?

A classifier's *confidence* on an example is its largest predicted probability, and it is
*correct* when that class is the label. Split [0, 1] into ``M`` equal-width bins
``B_m = ((m-1)/M, m/M]`` (the first bin also holds 0) and put each example in the bin of its
confidence. The **expected calibration error** (Naeini et al. 2015; Guo et al. 2017) is

    ECE = sum_m (|B_m| / n) * |acc(B_m) - conf(B_m)|,

the mean, over examples, of the gap between the accuracy and the mean confidence of their bin:
0 for a perfectly calibrated model, at most 1. :func:`reliability_bins` returns the per-bin
numbers a reliability diagram draws (mean confidence, accuracy, count); empty bins have NaN
confidence and accuracy and count 0, and carry no weight. ECE depends on the number of bins and
is biased upward on small samples (noise alone makes bins miss the diagonal), so report ``M``,
and an interval: :func:`ece_bootstrap` resamples examples.

NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def confidences_and_correct(probabilities: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each example's confidence (largest probability) and whether its top class is the label.

    ``probabilities`` is ``(n, classes)`` with rows summing to 1 (within 1e-3); ``labels`` holds
    ``n`` class indices.

    Taught in: 09 §2.
    """
    probs = np.asarray(probabilities, dtype=float)
    labels = np.asarray(labels)
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] < 2:
        raise ValueError(f"probabilities must be an (n, classes) array with n >= 1, classes >= 2; got {probs.shape}")
    if not np.all(np.isfinite(probs)) or probs.min() < 0 or probs.max() > 1:
        raise ValueError("probabilities must be finite and within [0, 1]")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probabilities: each row must sum to 1 (pass softmax outputs, not logits)")
    if labels.shape != (probs.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {probs.shape[0]} integer class indices, got shape {labels.shape}")
    if labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must lie in [0, {probs.shape[1] - 1}], got [{labels.min()}, {labels.max()}]")
    return probs.max(axis=1), probs.argmax(axis=1) == labels


def _check_binary(confidences: Any, correct: Any, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct)
    if conf.ndim != 1 or conf.size == 0:
        raise ValueError(f"confidences must be a non-empty 1-D array, got shape {conf.shape}")
    if not np.all(np.isfinite(conf)) or conf.min() < 0 or conf.max() > 1:
        raise ValueError("confidences must be finite and within [0, 1]")
    if hit.shape != conf.shape or not (hit.dtype == bool or np.isin(hit, (0, 1)).all()):
        raise ValueError(f"correct must be {conf.size} booleans (or 0/1), got shape {hit.shape}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return conf, hit.astype(bool)


def bin_index(confidences: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin of each confidence: ``m - 1`` for ``((m-1)/M, m/M]``, and 0 for a confidence of exactly 0.

    Taught in: 09 §2.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)  # a confidence on an edge goes to the bin below it
    return np.clip(np.searchsorted(edges, np.asarray(confidences, dtype=float), side="left") - 1, 0, n_bins - 1)


def reliability_bins(confidences: Any, correct: Any, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Per-bin data of a reliability diagram: ``lower``, ``upper``, ``confidence``, ``accuracy``, ``count``.

    ``confidences`` and ``correct`` as from :func:`confidences_and_correct`. Bins are equal-width
    over [0, 1]; an empty bin has ``count`` 0 and NaN ``confidence`` and ``accuracy``.

    Taught in: 09 §2.
    """
    conf, hit = _check_binary(confidences, correct, n_bins)
    index = bin_index(conf, n_bins)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=conf, minlength=n_bins) / count
        accuracy = np.bincount(index, weights=hit.astype(float), minlength=n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return {"lower": edges[:-1], "upper": edges[1:], "confidence": mean_conf, "accuracy": accuracy, "count": count}


def expected_calibration_error(confidences: Any, correct: Any, n_bins: int = 10) -> float:
    """ECE with ``n_bins`` equal-width bins: ``sum_m |B_m|/n * |acc(B_m) - conf(B_m)|`` (see the module).

    Taught in: 09 §2.
    """
    bins = reliability_bins(confidences, correct, n_bins)
    filled = bins["count"] > 0
    weights = bins["count"][filled] / bins["count"].sum()
    return float(np.sum(weights * np.abs(bins["accuracy"][filled] - bins["confidence"][filled])))


def ece_bootstrap(confidences: Any, correct: Any, n_bins: int = 10, *, n_resamples: int = 1000,
                  level: float = 0.95, seed: int = 0) -> dict[str, float]:  # fmt: skip
    """ECE with a percentile bootstrap interval over examples: ``{"ece", "ci_low", "ci_high", "level"}``.

    Taught in: 09 §2.
    """
    conf, hit = _check_binary(confidences, correct, n_bins)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 10:
        raise ValueError(f"n_resamples must be an integer >= 10, got {n_resamples!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, conf.size, size=(n_resamples, conf.size))
    values = np.array([expected_calibration_error(conf[i], hit[i], n_bins) for i in draws])
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return {"ece": expected_calibration_error(conf, hit, n_bins), "ci_low": float(low), "ci_high": float(high),
            "level": float(level)}  # fmt: skip
