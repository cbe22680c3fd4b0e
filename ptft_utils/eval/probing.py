"""Linear probes per layer, with Hewitt & Liang's (2019) control task.

A probe is a logistic regression trained on one layer's features to predict a property. High
probe accuracy alone does not show that the layer *encodes* the property: a flexible probe can
memorise. The **control task** keeps the structure of the real one but not its meaning: each type
(a word type, a sentence id) gets a class drawn at random, once, from the real labels'
distribution, and every example of that type carries it. A probe can learn it only by memorising
types. **Selectivity** = task accuracy - control accuracy; a good probe of a layer that holds the
property is accurate *and* selective.

:func:`probe_layers` fits, per layer, the probe's inverse regularisation ``C`` on a validation
split (for the task and the control separately) and reports test accuracies. NumPy and scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression


def control_labels(types: Any, labels: Any, *, seed: int = 0) -> np.ndarray:
    """Control-task labels: each distinct type gets one class drawn from the empirical label distribution.

    Taught in: 09 §6.
    """
    types, labels = np.asarray(types), np.asarray(labels)
    if types.shape != labels.shape or types.ndim != 1 or types.size == 0:
        raise ValueError(f"types and labels must be 1-D arrays of one length, got {types.shape} and {labels.shape}")
    rng = np.random.default_rng(seed)
    distinct = np.unique(types)
    classes, counts = np.unique(labels, return_counts=True)
    assigned = dict(
        zip(distinct.tolist(), rng.choice(classes, size=distinct.size, p=counts / counts.sum()), strict=True)
    )
    return np.array([assigned[t] for t in types.tolist()])


def _fit(features: np.ndarray, labels: np.ndarray, split: Mapping[str, np.ndarray], cs: Sequence[float]) -> dict:
    best: dict[str, Any] = {"val": -1.0}
    for c in cs:
        probe = LogisticRegression(C=c, max_iter=2000).fit(features[split["train"]], labels[split["train"]])
        val = float((probe.predict(features[split["val"]]) == labels[split["val"]]).mean())
        if val > best["val"]:
            test = float((probe.predict(features[split["test"]]) == labels[split["test"]]).mean())
            best = {"val": val, "test": test, "C": c}
    return best


def probe_layers(features: Mapping[str, Any] | Sequence[Any], labels: Any, types: Any, *,
                 cs: Sequence[float] = (0.01, 0.1, 1.0, 10.0), val_fraction: float = 0.2,
                 test_fraction: float = 0.2, seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Per layer: ``{"layer", "accuracy", "control_accuracy", "selectivity", "C", "control_C"}`` on test examples.

    ``features`` maps layer names to ``(n, dim)`` arrays (or is a list, named 0, 1, ...); ``labels``
    are the property and ``types`` the type of each example, from which :func:`control_labels`
    draws the control task. Examples are split at random into train, validation and test.

    Taught in: 09 §6.
    """
    layers = dict(features) if isinstance(features, Mapping) else dict(enumerate(features))
    labels = np.asarray(labels)
    control = control_labels(types, labels, seed=seed)
    if not layers:
        raise ValueError("features must hold at least one layer")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be in (0, 1) with a sum below 1, got "
                         f"{val_fraction!r} and {test_fraction!r}")  # fmt: skip
    order = np.random.default_rng(seed).permutation(labels.size)
    n_val, n_test = int(round(val_fraction * labels.size)), int(round(test_fraction * labels.size))
    split = {"val": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}
    rows = []
    for name, layer in layers.items():
        array = np.asarray(layer, dtype=float)
        if array.ndim != 2 or len(array) != labels.size:
            raise ValueError(f"features[{name!r}] must be ({labels.size}, dim), got shape {array.shape}")
        task, ctrl = _fit(array, labels, split, cs), _fit(array, control, split, cs)
        rows.append({"layer": name, "accuracy": task["test"], "control_accuracy": ctrl["test"],
                     "selectivity": task["test"] - ctrl["test"], "C": task["C"], "control_C": ctrl["C"]})  # fmt: skip
    return rows
