"""Chapter 09's probes with a control task, on synthetic layers where one holds the label."""

import numpy as np
import pytest

from ptft_utils.eval import probing


def synthetic(seed: int = 0):
    rng = np.random.default_rng(seed)
    n_types, n = 60, 600
    types = rng.integers(0, n_types, n)
    type_label = rng.integers(0, 2, n_types)
    labels = type_label[types]
    noise = rng.normal(size=(n, 8))
    label_layer = noise.copy()
    label_layer[:, 0] += 3 * (2 * labels - 1)  # the label, and nothing about the type
    identity = np.eye(n_types)[types] * 3 + 0.3 * rng.normal(size=(n, n_types))  # the type itself
    return {"noise": noise, "label": label_layer, "identity": identity}, labels, types


def test_the_layer_holding_the_label_is_accurate_and_most_selective():
    features, labels, types = synthetic()
    rows = {r["layer"]: r for r in probing.probe_layers(features, labels, types)}
    assert rows["label"]["accuracy"] > 0.9
    assert rows["noise"]["accuracy"] < 0.7
    assert rows["identity"]["control_accuracy"] > 0.8  # memorising types learns the control task too
    assert max(rows, key=lambda name: rows[name]["selectivity"]) == "label"


def test_control_labels_are_constant_within_a_type():
    types = np.array([0, 1, 0, 2, 1, 0])
    control = probing.control_labels(types, np.array([0, 1, 1, 0, 1, 0]), seed=3)
    assert control[0] == control[2] == control[5] and control[1] == control[4]


def test_mismatched_types_are_refused_by_name():
    with pytest.raises(ValueError, match="types and labels"):
        probing.control_labels([0, 1], [0])
