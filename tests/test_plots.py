"""Tests for ptft_utils.eval.plots: bands equal stats.mean_ci, labels and titles are set, one line per group."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ptft_utils.eval import plots  # noqa: E402
from ptft_utils.eval.stats import mean_ci  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def seeds_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for arm, base in (("finetune", 0.8), ("scratch", 0.5)):
        for k in (1, 5, 20):
            for seed in range(4):
                rows.append({"arm": arm, "k": k, "seed": seed, "accuracy": base + 0.01 * k + rng.normal(0, 0.03)})
    return pd.DataFrame(rows)


def _band_bounds(collection, xs):
    """Lower and upper edge of a fill_between polygon at each x."""
    vertices = collection.get_paths()[0].vertices
    lows, highs = [], []
    for x in xs:
        ys = vertices[np.isclose(vertices[:, 0], x), 1]
        lows.append(ys.min())
        highs.append(ys.max())
    return np.array(lows), np.array(highs)


def test_accuracy_vs_labels_band_equals_mean_ci(seeds_frame):
    ax = plots.accuracy_vs_labels(seeds_frame, hue_order=["finetune", "scratch"])
    for collection, arm in zip(ax.collections, ["finetune", "scratch"], strict=True):
        part = seeds_frame[seeds_frame.arm == arm]
        expected = [mean_ci(part[part.k == k].accuracy) for k in (1, 5, 20)]
        lows, highs = _band_bounds(collection, [1, 5, 20])
        np.testing.assert_allclose(lows, [e[1] for e in expected], rtol=1e-12)
        np.testing.assert_allclose(highs, [e[2] for e in expected], rtol=1e-12)


def test_accuracy_vs_labels_draws_one_line_per_arm_through_the_means(seeds_frame):
    ax = plots.accuracy_vs_labels(seeds_frame)
    assert [line.get_label() for line in ax.get_lines()] == ["finetune", "scratch"]
    for line in ax.get_lines():
        part = seeds_frame[seeds_frame.arm == line.get_label()]
        np.testing.assert_allclose(line.get_xdata(), [1, 5, 20])
        np.testing.assert_allclose(line.get_ydata(), part.groupby("k").accuracy.mean().to_numpy())
        assert line.get_marker() == "o"


def test_accuracy_vs_labels_sets_title_labels_and_log_scale(seeds_frame):
    ax = plots.accuracy_vs_labels(seeds_frame, title="Label efficiency", ylabel="test accuracy")
    assert ax.get_title() == "Label efficiency"
    assert ax.get_ylabel() == "test accuracy"
    assert "labelled examples per class" in ax.get_xlabel()
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5", "20"]


def test_accuracy_vs_labels_linear_axis_when_asked(seeds_frame):
    ax = plots.accuracy_vs_labels(seeds_frame, logx=False)
    assert ax.get_xscale() == "linear"


def test_accuracy_vs_labels_draws_on_given_axes(seeds_frame):
    fig, (left, right) = plt.subplots(1, 2)
    returned = plots.accuracy_vs_labels(seeds_frame, ax=right)
    assert returned is right
    assert not left.get_lines()


def test_mean_ci_table_matches_stats_and_counts_seeds(seeds_frame):
    table = plots.mean_ci_table(seeds_frame, "k", "accuracy", "arm")
    assert list(table.columns) == ["arm", "k", "mean", "ci_low", "ci_high", "n"]
    assert len(table) == 6
    row = table[(table.arm == "scratch") & (table.k == 5)].iloc[0]
    values = seeds_frame[(seeds_frame.arm == "scratch") & (seeds_frame.k == 5)].accuracy
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx(mean_ci(values))
    assert row["n"] == 4


def test_mean_ci_table_rejects_unknown_column(seeds_frame):
    with pytest.raises(KeyError, match="acc"):
        plots.mean_ci_table(seeds_frame, "k", "acc", "arm")


def test_hue_order_missing_a_group_is_an_error(seeds_frame):
    with pytest.raises(ValueError, match="scratch"):
        plots.accuracy_vs_labels(seeds_frame, hue_order=["finetune"])


def test_single_seed_draws_no_band():
    df = pd.DataFrame({"k": [1, 2], "accuracy": [0.5, 0.6], "arm": ["a", "a"]})
    ax = plots.accuracy_vs_labels(df)
    assert len(ax.get_lines()) == 1
    assert not ax.collections


def test_learning_curves_one_line_per_split_with_labels():
    df = pd.DataFrame(
        {"epoch": [1, 2, 3] * 2, "loss": [1.0, 0.6, 0.4, 1.1, 0.8, 0.7], "split": ["train"] * 3 + ["val"] * 3}
    )
    ax = plots.learning_curves(df, title="Loss", xlabel="epoch", ylabel="cross-entropy (nats)")
    assert [line.get_label() for line in ax.get_lines()] == ["train", "val"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [1.1, 0.8, 0.7])
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Loss", "epoch", "cross-entropy (nats)")
    assert not ax.collections  # one run per split: no band


def test_learning_curves_band_over_seeds_equals_mean_ci():
    df = pd.DataFrame({"epoch": [1, 1, 1, 2, 2, 2], "loss": [1.0, 1.2, 0.9, 0.5, 0.7, 0.4], "split": ["val"] * 6})
    ax = plots.learning_curves(df)
    lows, highs = _band_bounds(ax.collections[0], [1, 2])
    expected = [mean_ci([1.0, 1.2, 0.9]), mean_ci([0.5, 0.7, 0.4])]
    np.testing.assert_allclose(lows, [e[1] for e in expected])
    np.testing.assert_allclose(highs, [e[2] for e in expected])


def test_embedding_map_labels_every_point_and_colours_groups():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    ax = plots.embedding_map(points, ["king", "queen", "apple"], groups=["royal", "royal", "fruit"], title="Map")
    assert [t.get_text() for t in ax.texts] == ["king", "queen", "apple"]
    assert len(ax.collections) == 2  # one scatter per group
    assert ax.get_title() == "Map"


def test_embedding_map_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        plots.embedding_map(np.zeros((3, 3)), ["a", "b", "c"])


def test_set_theme_applies_whitegrid_and_colourblind_palette():
    import seaborn as sns

    plots.set_theme()
    assert plt.rcParams["axes.grid"]
    cycle = [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
    assert matplotlib.colors.to_hex(cycle[0]) == matplotlib.colors.to_hex(sns.color_palette("colorblind")[0])
    assert plt.rcParams["figure.figsize"] == [7.0, 4.2]


def test_importing_plots_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, ptft_utils.eval.plots; print('matplotlib' in sys.modules, 'seaborn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
