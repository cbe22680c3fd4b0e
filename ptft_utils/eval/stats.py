"""The statistics behind every claim: intervals over seeds, paired tests, corrections, equivalence.

Chapters run each arm of an experiment over several seeds; these functions turn the per-seed
numbers into the evidence a claim rests on. Intervals use Student's t (the right choice for the
3 to 10 seeds a CPU budget allows), so two seeds give a wide interval, as they should.

Which test to use when:

- **Arm A beats arm B** (same seeds, same data): :func:`paired_difference`, the paired t test.
  It is the default for a handful of seeds. :func:`paired_bootstrap` makes no normality
  assumption; use it when there are many pairs (20 or more: per-example scores, many seeds) or
  the differences are skewed. With 3 seeds a bootstrap has only 10 distinct resamples.
- **Several claims in one chapter**: collect their results and pass them to :func:`family`,
  which applies :func:`holm` (Holm–Bonferroni) so that the chance of *any* false claim in the
  family stays below ``alpha``. A claim is then decided by ``rejected``, not by its raw p-value.
- **"No difference"**: only :func:`equivalence` (two one-sided tests, TOST) may support it, and
  only within a ``margin`` stated before the experiment. A large p-value from a difference test
  is absence of evidence, never evidence of absence.
- **Two embeddings on one word-similarity set**: :func:`compare_correlations` (the two
  correlations share the human scores and the word pairs, so they are dependent).
- **A ratio of means** (break-even number of tasks = pretraining cost / saving per task):
  :func:`ratio_interval`, which says when the interval is unbounded.

Evidence convention: every test returns a dict that can go straight into a claim's evidence in
``metrics.json``: built-in ``int``/``float``/``str``/``bool``/``None`` (and lists of them) only,
never NaN or infinity (an unbounded end is ``None``). It always holds :data:`EVIDENCE_KEYS`:
``test``, ``n``, ``p_value`` (``None`` where no hypothesis is tested), ``ci_low``/``ci_high``
(the interval of the estimate) and ``confidence`` (that interval's coverage); ``margin`` where
the test has one. :func:`family` adds ``p_value_adjusted``, ``family_size`` and ``rejected``.
Paired differences also keep the older ``mean_diff`` and ``diff_ci95`` keys (``diff_ci95`` is
``[ci_low, ci_high]`` at the requested ``confidence``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np

#: Keys every test result in this module carries (see the module docstring).
EVIDENCE_KEYS = ("test", "n", "p_value", "ci_low", "ci_high", "confidence")

#: Variance inflation of Fisher's z for a Spearman correlation (Fieller, Hartley & Pearson, 1957).
_SPEARMAN_Z_VARIANCE = 1.06
#: Resampled values held in memory at once by the bootstraps.
_CHUNK_VALUES = 2_000_000


# -- helpers ------------------------------------------------------------------------------------
def _vector(values: Any, name: str, min_n: int = 2) -> np.ndarray:
    """``values`` as a finite 1-D float array of at least ``min_n`` values, or a ValueError naming it."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size < min_n:
        raise ValueError(f"{name} needs at least {min_n} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers only (no NaN or infinity)")
    return arr


def _pairs(a: Any, b: Any, names: tuple[str, str] = ("a", "b"), min_n: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Two paired vectors of equal length, each checked by :func:`_vector`."""
    x, y = _vector(a, names[0], 0), _vector(b, names[1], 0)
    if x.size != y.size:
        raise ValueError(f"{names[0]} and {names[1]} must have equal lengths (paired), got {x.size} and {y.size}")
    return _vector(x, names[0], min_n), _vector(y, names[1], min_n)


def _check_confidence(confidence: float) -> float:
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(confidence)


def _check_resamples(n_resamples: int) -> int:
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples}")
    return int(n_resamples)


def _num(value: Any) -> float | None:
    """A finite built-in float, or None (unbounded, undefined)."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _t_sf(t: float, dof: float) -> float:
    """Upper tail of Student's t, with infinite ``t`` handled (a zero standard error)."""
    from scipy import stats

    if math.isnan(t):
        return 1.0
    return float(stats.t.sf(t, dof))


def _t_ppf(q: float, dof: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(q, dof))


def _t_stat(num: float, se: float) -> float:
    """``num / se``; a zero standard error gives +-inf, or NaN on the boundary (``num == 0``)."""
    if se > 0:
        return num / se
    return math.nan if num == 0 else math.copysign(math.inf, num)


def _resample_indices(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Bootstrap index arrays of shape ``(k, n)``, in chunks that bound the memory used."""
    step = max(1, _CHUNK_VALUES // max(n, 1))
    done = 0
    while done < n_resamples:
        k = min(step, n_resamples - done)
        yield rng.integers(0, n, size=(k, n))
        done += k


def _bootstrap_p(values: np.ndarray) -> float:
    """Two-sided bootstrap p-value of "the statistic is 0", from inverting the percentile interval.

    ``p = 2 * min(#(v <= 0) + 1, #(v >= 0) + 1) / (B + 1)``, capped at 1: it is below ``alpha``
    when the ``1 - alpha`` percentile interval excludes 0, and 1 when every resample is 0.
    """
    b = values.size
    low, high = int(np.sum(values <= 0)) + 1, int(np.sum(values >= 0)) + 1
    return min(1.0, 2.0 * min(low, high) / (b + 1))


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = 1.0 - confidence
    lo, hi = np.quantile(values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


# -- intervals over seeds -----------------------------------------------------------------------
def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided Student-t critical value (scipy, imported lazily).

    Taught in: 01 §7 (through ``compare``)
    """
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2.0, dof))


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its t confidence interval. One value gives a zero-width interval.

    Taught in: 01 §7 (through ``compare``)
    """
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
    """``{"mean", "ci95", "std", "n"}`` for a metrics file or a claim's evidence.

    Taught in: 05 §5
    """
    mean, lo, hi = mean_ci(values, confidence)
    n = len(values)
    std = math.sqrt(sum((float(v) - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "ci95": [lo, hi], "std": std, "n": n}


# -- paired differences -------------------------------------------------------------------------
def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> dict[str, Any]:
    """Mean of ``a - b`` over paired runs (same seed, same data) with its t interval: the paired t test.

    Pairing removes the seed-to-seed variation both arms share, so it is the sharper test when
    both arms saw the same labelled subset. Keys: ``test`` ("paired_t"), ``n``, ``mean_diff``,
    ``diff_ci95`` (``[ci_low, ci_high]``), ``ci_low``, ``ci_high``, ``confidence``, ``statistic``
    (t), ``dof`` and ``p_value`` (two-sided, H0: mean difference 0). One pair gives a zero-width
    interval and ``p_value`` None; differences with no spread give p = 0 (or 1 when all are 0).

    Taught in: 01 §7 (through ``compare``)
    """
    if len(a) != len(b):
        raise ValueError(f"paired_difference needs equal lengths, got {len(a)} and {len(b)}")
    diff = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    mean, lo, hi = mean_ci(diff, confidence)
    n = len(diff)
    t_stat: float | None = None
    p_value: float | None = None
    if n > 1 and math.isfinite(mean):
        se = math.sqrt(sum((d - mean) ** 2 for d in diff) / (n - 1) / n)
        t_stat = _t_stat(mean, se)
        p_value = 1.0 if math.isnan(t_stat) else min(1.0, 2.0 * _t_sf(abs(t_stat), n - 1))
    return {
        "mean_diff": mean,
        "diff_ci95": [lo, hi],
        "n": n,
        "test": "paired_t",
        "ci_low": _num(lo),
        "ci_high": _num(hi),
        "confidence": float(confidence),
        "statistic": _num(t_stat),
        "dof": n - 1,
        "p_value": p_value,
    }


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> dict[str, Any]:
    """Mean of ``a - b`` with a percentile bootstrap interval over the pairs and a two-sided p-value.

    Pairs are resampled with replacement (``numpy.random.default_rng(seed)``), so the result is
    the same for the same ``seed``. The p-value inverts the percentile interval: it is below
    ``1 - confidence`` exactly when the interval excludes 0. Keys as :func:`paired_difference`
    (``mean_diff``, ``diff_ci95``, ``ci_low``, ``ci_high``, ``n``, ``confidence``, ``p_value``)
    plus ``test`` ("paired_bootstrap"), ``n_resamples`` and ``seed``.

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    x, y = _pairs(a, b)
    confidence, n_resamples = _check_confidence(confidence), _check_resamples(n_resamples)
    d = x - y
    rng = np.random.default_rng(seed)
    means = np.concatenate([d[idx].mean(axis=1) for idx in _resample_indices(rng, d.size, n_resamples)])
    lo, hi = _percentile_interval(means, confidence)
    return {
        "test": "paired_bootstrap",
        "n": int(d.size),
        "mean_diff": float(d.mean()),
        "diff_ci95": [lo, hi],
        "ci_low": lo,
        "ci_high": hi,
        "confidence": confidence,
        "p_value": _bootstrap_p(means),
        "n_resamples": n_resamples,
        "seed": int(seed),
    }


# -- multiple claims ----------------------------------------------------------------------------
@overload
def holm(p_values: Mapping[str, float]) -> dict[str, float]: ...
@overload
def holm(p_values: Sequence[float]) -> list[float]: ...
def holm(p_values: Mapping[str, float] | Sequence[float]) -> dict[str, float] | list[float]:
    """Holm–Bonferroni step-down adjusted p-values, in the shape given (a dict or a list).

    Sort the ``m`` p-values ascending; the one of rank ``i`` (0-based) gets ``min(1, (m - i) * p)``,
    raised to the largest such value before it so that the adjusted values keep the order of the
    raw ones. Rejecting where the adjusted value is ``<= alpha`` keeps the family-wise error rate
    at ``alpha``. ``[0.01, 0.04, 0.03, 0.005]`` gives ``[0.03, 0.06, 0.06, 0.02]``.

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    if isinstance(p_values, str):
        raise ValueError("p_values must be a mapping or a sequence of numbers, got a string")
    keys = list(p_values.keys()) if isinstance(p_values, Mapping) else None
    raw = [float(v) for v in (p_values.values() if isinstance(p_values, Mapping) else p_values)]
    for i, p in enumerate(raw):
        if not 0.0 <= p <= 1.0:
            where = keys[i] if keys is not None else i
            raise ValueError(f"p_values[{where!r}] must lie in [0, 1], got {p}")
    m = len(raw)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: raw[j])):
        running = max(running, min(1.0, (m - rank) * raw[i]))
        adjusted[i] = running
    if keys is not None:
        return dict(zip(keys, adjusted, strict=True))
    return adjusted


@overload
def holm_rejected(p_values: Mapping[str, float], alpha: float = ...) -> dict[str, bool]: ...
@overload
def holm_rejected(p_values: Sequence[float], alpha: float = ...) -> list[bool]: ...
def holm_rejected(p_values: Mapping[str, float] | Sequence[float], alpha: float = 0.05) -> dict[str, bool] | list[bool]:
    """Which hypotheses Holm's procedure rejects at family-wise level ``alpha`` (adjusted p <= alpha).

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if isinstance(p_values, Mapping):
        return {k: v <= alpha for k, v in holm(p_values).items()}
    return [v <= alpha for v in holm(p_values)]


def family(results: Mapping[str, Mapping[str, Any]], alpha: float = 0.05) -> dict[str, dict[str, Any]]:
    """Holm over a chapter's family of test results: copies of each with the adjusted verdict added.

    Each result needs a ``p_value`` key (as every test here returns). Adds ``p_value_adjusted``,
    ``family_size``, ``family_alpha``, ``correction`` ("holm") and ``rejected`` (the claim's null
    is rejected for the family: a difference found, or for :func:`equivalence` results the
    equivalence shown). A ``p_value`` of None (nothing tested, e.g. one seed) counts as 1: it
    enlarges the family and is never rejected.

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    raw: dict[str, float] = {}
    for name, result in results.items():
        if "p_value" not in result:
            raise ValueError(f"results[{name!r}] has no 'p_value'; pass the dicts the tests return")
        p = result["p_value"]
        raw[name] = 1.0 if p is None else float(p)
    adjusted = holm(raw)
    out: dict[str, dict[str, Any]] = {}
    for name, result in results.items():
        out[name] = {
            **result,
            "p_value_adjusted": adjusted[name],
            "family_size": len(raw),
            "family_alpha": float(alpha),
            "correction": "holm",
            "rejected": bool(adjusted[name] <= alpha),
            **_adjusted_interval(result, len(raw)),
        }
    return out


def _adjusted_interval(result: Mapping[str, Any], size: int) -> dict[str, Any]:
    """The result's t interval widened to Bonferroni's level over ``size`` tests (simultaneous coverage).

    A paired t interval at ``confidence = 1 - a`` becomes the ``1 - a / size`` interval; a TOST's
    ``1 - 2a`` interval becomes ``1 - 2a / size``. Every Bonferroni interval that excludes 0 (or lies
    inside a TOST's margins) is also a Holm rejection. Other tests (bootstrap, correlations, ratios)
    keep their own interval and say that no adjusted one was computed.
    """
    test = result.get("test")
    keys = ("ci_low", "ci_high", "confidence", "dof")
    if test not in ("paired_t", "tost_paired_t", "tost_welch") or any(result.get(k) is None for k in keys):
        return {"ci_adjusted": None, "ci_adjusted_method": f"none: no t interval to widen for test {test!r}"}
    low, high, confidence, dof = (float(result[k]) for k in keys)
    alpha = (1.0 - confidence) / 2.0  # each tail: a / 2 for the t interval, a for the TOST's 1 - 2a interval
    if dof < 1 or high == low or size == 1:
        widened = [low, high]
    else:
        centre, half = (low + high) / 2.0, (high - low) / 2.0
        scale = _t_ppf(1.0 - alpha / size, dof) / _t_ppf(1.0 - alpha, dof)
        widened = [centre - half * scale, centre + half * scale]
    return {
        "ci_adjusted": widened,
        "ci_adjusted_confidence": 1.0 - 2.0 * alpha / size,
        "ci_adjusted_method": f"bonferroni over {size}",
    }


# -- equivalence --------------------------------------------------------------------------------
def _difference_se(x: np.ndarray, y: np.ndarray, paired: bool) -> tuple[float, float, float]:
    """Mean difference, its standard error and degrees of freedom (paired t or Welch)."""
    if paired:
        d = x - y
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)), float(d.size - 1)
    va, vb = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)) if se > 0 else float(x.size + y.size - 2)
    return float(x.mean() - y.mean()), se, dof


def equivalence(
    a: Sequence[float], b: Sequence[float], margin: float, *, paired: bool = True, confidence: float = 0.95
) -> dict[str, Any]:
    """Two one-sided tests (TOST): is the mean of ``a - b`` within ``(-margin, +margin)``?

    The only way a claim of "no difference" may be supported. With ``alpha = 1 - confidence``,
    H0 is ``|mean difference| >= margin``; ``p_lower`` tests ``diff <= -margin``, ``p_upper``
    tests ``diff >= +margin`` and ``p_value`` is their max. ``equivalent`` is True only when the
    ``1 - 2 alpha`` t interval (90% for the default) lies strictly inside the margins, which is
    the same as ``p_value < alpha``; ``ci_low``/``ci_high`` are that interval and ``confidence``
    its coverage (``1 - 2 alpha``), ``alpha`` the test's level. ``paired=False`` uses Welch's
    standard error and degrees of freedom (``test`` "tost_welch", ``n`` = both samples, with
    ``n_a``/``n_b``). ``margin`` must be > 0 and is chosen before the experiment.

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be a finite number > 0, got {margin!r}")
    confidence = _check_confidence(confidence)
    if confidence <= 0.5:
        raise ValueError(f"confidence must exceed 0.5 for a 1 - 2*alpha interval, got {confidence}")
    x, y = _pairs(a, b) if paired else (_vector(a, "a"), _vector(b, "b"))
    mean, se, dof = _difference_se(x, y, paired)
    alpha = round(1.0 - confidence, 12)  # 0.05, not 0.050000000000000044, in metrics.json
    half = _t_ppf(1.0 - alpha, dof) * se
    lo, hi = mean - half, mean + half
    p_lower = _t_sf(_t_stat(mean + margin, se), dof)  # H0: diff <= -margin
    p_upper = _t_sf(_t_stat(margin - mean, se), dof)  # H0: diff >= +margin
    return {
        "test": "tost_paired_t" if paired else "tost_welch",
        "n": int(x.size if paired else x.size + y.size),
        "n_a": int(x.size),
        "n_b": int(y.size),
        "mean_diff": mean,
        "ci_low": lo,
        "ci_high": hi,
        "confidence": round(1.0 - 2.0 * alpha, 12),
        "alpha": alpha,
        "margin": float(margin),
        "dof": float(dof),
        "p_lower": p_lower,
        "p_upper": p_upper,
        "p_value": max(p_lower, p_upper),
        "equivalent": bool(-margin < lo and hi < margin),
    }


# -- dependent correlations ---------------------------------------------------------------------
def _row_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with the same row of ``y`` (NaN for a constant row)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=-1) / np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    return np.asarray(np.clip(r, -1.0, 1.0))


def _corr(x: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """Row-wise Pearson or Spearman (Pearson of the average ranks within each row)."""
    if kind == "spearman":
        from scipy import stats

        x, y = stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1)
    return _row_corr(x, y)


def _steiger_z(r1: float, r2: float, r12: float, n: int, z_variance: float = 1.0) -> tuple[float, float]:
    """Steiger's (1980) Z (pooled r, his eq. 14) for r(x, y1) vs r(x, y2), and its two-sided p."""
    from scipy import stats

    diff = math.atanh(_clip_r(r1)) - math.atanh(_clip_r(r2))
    if diff == 0.0:
        return 0.0, 1.0
    rm2 = ((r1 + r2) / 2.0) ** 2
    psi = r12 * (1.0 - 2.0 * rm2) - 0.5 * rm2 * (1.0 - 2.0 * rm2 - r12**2)
    c = psi / (1.0 - rm2) ** 2
    var = z_variance * max(2.0 - 2.0 * c, 0.0) / (n - 3)
    z = diff / math.sqrt(var) if var > 0 else math.copysign(math.inf, diff)
    return z, float(2.0 * stats.norm.sf(abs(z)))


def _clip_r(r: float) -> float:
    return max(min(r, 1.0 - 1e-12), -1.0 + 1e-12)


def _zou_interval(
    r1: float, r2: float, r12: float, n: int, confidence: float, z_variance: float
) -> tuple[float, float]:
    """Zou's (2007) interval for r1 - r2 of two dependent correlations sharing one variable."""
    from scipy import stats

    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * math.sqrt(z_variance / (n - 3))
    l1, u1 = (math.tanh(math.atanh(_clip_r(r1)) + s * half) for s in (-1, 1))
    l2, u2 = (math.tanh(math.atanh(_clip_r(r2)) + s * half) for s in (-1, 1))
    den = (1.0 - r1**2) * (1.0 - r2**2)
    c = ((r12 - 0.5 * r1 * r2) * (1 - r1**2 - r2**2 - r12**2) + r12**3) / den if den > 0 else 1.0
    c = max(min(c, 1.0), -1.0)
    low = r1 - r2 - math.sqrt(max((r1 - l1) ** 2 + (u2 - r2) ** 2 - 2 * c * (r1 - l1) * (u2 - r2), 0.0))
    high = r1 - r2 + math.sqrt(max((u1 - r1) ** 2 + (r2 - l2) ** 2 - 2 * c * (u1 - r1) * (r2 - l2), 0.0))
    return low, high


def _bootstrap_corr_diff(
    x: np.ndarray, y1: np.ndarray, y2: np.ndarray, kind: str, n_resamples: int, seed: int
) -> tuple[np.ndarray, int]:
    """Resampled ``r(x, y1) - r(x, y2)`` over word pairs, and how many resamples were undefined."""
    rng = np.random.default_rng(seed)
    chunks = []
    for idx in _resample_indices(rng, x.size, n_resamples):
        xs = x[idx]
        chunks.append(_corr(xs, y1[idx], kind) - _corr(xs, y2[idx], kind))
    diffs = np.concatenate(chunks)
    ok = np.isfinite(diffs)
    return diffs[ok], int(np.sum(~ok))


def compare_correlations(
    x: Sequence[float],
    y1: Sequence[float],
    y2: Sequence[float],
    *,
    kind: Literal["spearman", "pearson"] = "spearman",
    method: Literal["bootstrap", "steiger"] = "bootstrap",
    confidence: float = 0.95,
    n_resamples: int = 2_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Is ``corr(x, y1)`` larger than ``corr(x, y2)``, when both use the same human scores ``x``?

    ``y1`` and ``y2`` are two models' scores on the SAME word pairs, so the correlations are
    dependent and share ``x``; comparing their separate intervals would be wrong. Reports
    ``r1``, ``r2``, ``r12`` = corr(y1, y2), ``diff`` = r1 - r2, ``ci_low``/``ci_high`` and a
    two-sided ``p_value`` (H0: equal correlations). ``method="bootstrap"`` resamples word pairs
    (ranks recomputed in every resample for Spearman): percentile interval, p from inverting it,
    ``n_undefined`` resamples where a vector was constant are dropped and counted.
    ``method="steiger"`` gives Steiger's (1980) Z with pooled r (``statistic``) and Zou's (2007)
    interval; for Spearman it applies Fisher's z with variance 1.06/(n-3), an approximation, so
    prefer the bootstrap there. Identical ``y1`` and ``y2`` give diff 0 and p = 1.

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    if kind not in ("spearman", "pearson"):
        raise ValueError(f"kind must be 'spearman' or 'pearson', got {kind!r}")
    if method not in ("bootstrap", "steiger"):
        raise ValueError(f"method must be 'bootstrap' or 'steiger', got {method!r}")
    xs, v1 = _pairs(x, y1, ("x", "y1"), min_n=4)
    _, v2 = _pairs(x, y2, ("x", "y2"), min_n=4)
    confidence = _check_confidence(confidence)
    for name, v in (("x", xs), ("y1", v1), ("y2", v2)):
        if np.ptp(v) == 0:
            raise ValueError(f"{name} is constant; its correlation is undefined")
    r1, r2, r12 = (float(_corr(p, q, kind)) for p, q in ((xs, v1), (xs, v2), (v1, v2)))
    out: dict[str, Any] = {"kind": kind, "n": int(xs.size), "r1": r1, "r2": r2, "r12": r12, "diff": r1 - r2}
    if method == "steiger":
        zvar = _SPEARMAN_Z_VARIANCE if kind == "spearman" else 1.0
        z, p = _steiger_z(r1, r2, r12, xs.size, zvar)
        lo, hi = _zou_interval(r1, r2, r12, xs.size, confidence, zvar)
        extra: dict[str, Any] = {"test": "steiger_z", "statistic": _num(z), "p_value": p}
    else:
        diffs, undefined = _bootstrap_corr_diff(xs, v1, v2, kind, _check_resamples(n_resamples), seed)
        if diffs.size == 0:
            raise ValueError("every bootstrap resample had a constant vector; the correlations are undefined")
        lo, hi = _percentile_interval(diffs, confidence)
        extra = {"test": "correlation_difference_bootstrap", "p_value": _bootstrap_p(diffs)}
        extra |= {"n_resamples": int(n_resamples), "n_undefined": undefined, "seed": int(seed)}
    return {**extra, **out, "ci_low": lo, "ci_high": hi, "confidence": confidence}


# -- ratios -------------------------------------------------------------------------------------
def _fieller(
    num: np.ndarray, den: np.ndarray, paired: bool, confidence: float
) -> tuple[float | None, float | None, float, float]:
    """Fieller's interval for mean(num)/mean(den): ends (None when unbounded) and the denominator's t interval."""
    a, b = float(num.mean()), float(den.mean())
    v11, v22 = float(num.var(ddof=1)) / num.size, float(den.var(ddof=1)) / den.size
    v12 = float(np.cov(num, den, ddof=1)[0, 1]) / num.size if paired else 0.0
    t2 = t_quantile(confidence, min(num.size, den.size) - 1) ** 2
    half = math.sqrt(t2 * v22)
    if b * b - t2 * v22 <= 0:  # the denominator's interval includes 0
        return None, None, b - half, b + half
    lead, mid = b * b - t2 * v22, a * b - t2 * v12
    root = math.sqrt(max(mid * mid - lead * (a * a - t2 * v11), 0.0))
    return (mid - root) / lead, (mid + root) / lead, b - half, b + half


def _bootstrap_ratio(
    num: np.ndarray, den: np.ndarray, paired: bool, n_resamples: int, seed: int
) -> tuple[np.ndarray, int]:
    """Resampled ratios of means; a resample whose denominator mean is <= 0 gives +-inf and is counted."""
    rng = np.random.default_rng(seed)
    if paired:
        pairs = [(num[i].mean(axis=1), den[i].mean(axis=1)) for i in _resample_indices(rng, num.size, n_resamples)]
        n_mean, d_mean = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    else:
        n_mean = np.concatenate([num[i].mean(axis=1) for i in _resample_indices(rng, num.size, n_resamples)])
        d_mean = np.concatenate([den[i].mean(axis=1) for i in _resample_indices(rng, den.size, n_resamples)])
    bad = d_mean <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(bad, np.where(n_mean < 0, -np.inf, np.inf), n_mean / np.where(bad, 1.0, d_mean))
    return ratios, int(np.sum(bad))


def ratio_interval(
    numerator_samples: Sequence[float],
    denominator_samples: Sequence[float],
    *,
    method: Literal["bootstrap", "fieller"] = "bootstrap",
    paired: bool = True,
    confidence: float = 0.95,
    n_resamples: int = 2_000,
    seed: int = 0,
) -> dict[str, Any]:
    """An interval for ``mean(numerator) / mean(denominator)``, e.g. break-even tasks = cost / saving.

    ``paired=True`` pairs the i-th numerator with the i-th denominator (same seed). ``"fieller"``
    solves Fieller's quadratic with a t critical value (df = the smaller sample size - 1); when
    the denominator's own t interval includes 0 the ratio's interval is unbounded and reported as
    ``ci_low``/``ci_high`` None with ``bounded`` False (the saving may be zero: no break-even is
    ruled out). ``"bootstrap"`` takes a percentile interval of resampled ratios and assumes a
    positive denominator: resamples whose denominator mean is <= 0 count as an infinite ratio
    and are reported in ``n_nonpositive_denominator``; an end they reach is None (``bounded``
    False), as is ``ratio`` when the observed denominator mean is <= 0. No hypothesis is tested:
    ``p_value`` is None.

    Taught in: the experiment harness (ptft_utils.experiment)
    """
    if method not in ("bootstrap", "fieller"):
        raise ValueError(f"method must be 'bootstrap' or 'fieller', got {method!r}")
    names = ("numerator_samples", "denominator_samples")
    if paired:
        num, den = _pairs(numerator_samples, denominator_samples, names)
    else:
        num, den = _vector(numerator_samples, names[0]), _vector(denominator_samples, names[1])
    confidence = _check_confidence(confidence)
    a, b = float(num.mean()), float(den.mean())
    out: dict[str, Any] = {"n": int(num.size if paired else num.size + den.size)}
    out |= {"n_numerator": int(num.size), "n_denominator": int(den.size), "paired": paired}
    if method == "fieller":
        lo, hi, dlo, dhi = _fieller(num, den, paired, confidence)
        out |= {"test": "ratio_fieller", "ratio": _num(a / b) if b != 0 else None}
        out |= {"denominator_ci_low": _num(dlo), "denominator_ci_high": _num(dhi)}
    else:
        ratios, bad = _bootstrap_ratio(num, den, paired, _check_resamples(n_resamples), seed)
        alpha = 1.0 - confidence
        qs = np.quantile(ratios, [alpha / 2.0, 1.0 - alpha / 2.0], method="inverted_cdf")
        lo, hi = (None, None) if b <= 0 else (_num(qs[0]), _num(qs[1]))
        out |= {"test": "ratio_bootstrap", "ratio": a / b if b > 0 else None}
        out |= {"n_resamples": int(n_resamples), "n_nonpositive_denominator": bad, "seed": int(seed)}
    bounded = lo is not None and hi is not None
    return {**out, "ci_low": lo, "ci_high": hi, "bounded": bounded, "confidence": confidence, "p_value": None}


# -- the chapters' one-line comparison ----------------------------------------------------------
def compare(a: Sequence[float], b: Sequence[float], names: tuple[str, str] = ("a", "b")) -> dict[str, Any]:
    """Evidence that ``a`` beats ``b``: both summaries and the paired difference.

    ``better`` is True when the paired difference's 95% interval lies above zero, ``worse``
    when it lies below, both False when the data cannot tell them apart.

    Taught in: 01 §7
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
