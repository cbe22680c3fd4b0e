"""How far apart are two domains? A domain classifier's proxy A-distance and the kernel MMD.

**Proxy A-distance** (Ben-David et al. 2007): train a linear classifier to tell source examples
from target examples and measure its held-out error ``err``; ``d_A = 2 (1 - 2 err)`` is 0 when
the domains cannot be told apart (accuracy 0.5) and 2 when they always can.

**Maximum mean discrepancy** (Gretton et al. 2012) with an RBF kernel
``k(a, b) = exp(-|a - b|^2 / (2 sigma^2))``; the unbiased estimator of MMD^2 is

    (1/(m(m-1))) sum_{i != j} k(x_i, x_j) + (1/(n(n-1))) sum_{i != j} k(y_i, y_j) - (2/(mn)) sum_{i,j} k(x_i, y_j),

which is near 0 (and may be slightly negative) for one distribution. ``sigma`` is the median
heuristic: the median distance between distinct points of the pooled sample.
:func:`mmd_permutation_test` gives a p-value by re-splitting the pooled sample at random.

NumPy and scikit-learn only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import cdist, pdist
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def _pair(source: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(source, dtype=float), np.asarray(target, dtype=float)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"source and target must be (n, features) arrays with equal features, got {x.shape}, {y.shape}"
        )
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"source and target need at least 2 rows each, got {len(x)} and {len(y)}")
    return x, y


def proxy_a_distance(source: Any, target: Any, *, test_fraction: float = 0.5, seed: int = 0) -> dict[str, float]:
    """A logistic-regression domain classifier's held-out ``accuracy``, ``error`` and ``proxy_a_distance``.

    Taught in: 09 §5.
    """
    x, y = _pair(source, target)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    features = np.vstack([x, y])
    domain = np.r_[np.zeros(len(x)), np.ones(len(y))]
    train_x, test_x, train_d, test_d = train_test_split(
        features, domain, test_size=test_fraction, random_state=seed, stratify=domain
    )
    classifier = LogisticRegression(max_iter=1000).fit(train_x, train_d)
    accuracy = float((classifier.predict(test_x) == test_d).mean())
    error = 1 - accuracy
    return {"accuracy": accuracy, "error": error, "proxy_a_distance": 2 * (1 - 2 * error)}


def median_bandwidth(source: Any, target: Any) -> float:
    """The median heuristic: median Euclidean distance between distinct points of the pooled sample.

    Taught in: 09 §5.
    """
    x, y = _pair(source, target)
    distances = pdist(np.vstack([x, y]))
    positive = distances[distances > 0]
    return float(np.median(positive)) if positive.size else 1.0


def mmd2_unbiased(source: Any, target: Any, *, bandwidth: float | None = None) -> float:
    """Unbiased MMD^2 between the samples with an RBF kernel (``bandwidth`` sigma; default the median heuristic).

    Taught in: 09 §5.
    """
    x, y = _pair(source, target)
    sigma = median_bandwidth(x, y) if bandwidth is None else bandwidth
    if not sigma > 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth!r}")
    return _mmd2(x, y, sigma)


def _mmd2(x: np.ndarray, y: np.ndarray, sigma: float) -> float:
    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(-cdist(a, b, "sqeuclidean") / (2 * sigma**2))

    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * kxy.mean())


def mmd_permutation_test(source: Any, target: Any, *, n_permutations: int = 200, seed: int = 0,
                         bandwidth: float | None = None) -> dict[str, float]:  # fmt: skip
    """MMD^2 with a permutation p-value: ``{"mmd2", "p_value", "bandwidth"}`` (bandwidth fixed over permutations).

    Taught in: 09 §5.
    """
    x, y = _pair(source, target)
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, int) or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    sigma = median_bandwidth(x, y) if bandwidth is None else float(bandwidth)
    observed = _mmd2(x, y, sigma)
    pooled, rng = np.vstack([x, y]), np.random.default_rng(seed)
    exceed = 0
    for _ in range(n_permutations):
        order = rng.permutation(len(pooled))
        exceed += _mmd2(pooled[order[: len(x)]], pooled[order[len(x) :]], sigma) >= observed
    return {"mmd2": observed, "p_value": (exceed + 1) / (n_permutations + 1), "bandwidth": sigma}
