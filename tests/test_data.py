"""Shipped loaders (offline, always) and the splits every chapter uses."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptft_utils import data


# ----------------------------------------------------------------------------------------- imports
def test_importing_data_and_text_loads_no_framework() -> None:
    code = (
        "import sys, ptft_utils.data, ptft_utils.data.text; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'gensim', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------ digits
def test_digits28_are_1797_float_images_in_unit_range() -> None:
    digits = data.load_digits28()

    assert digits.images.shape == (1797, 28, 28)
    assert digits.images.dtype == np.float32 and digits.labels.dtype == np.int64
    assert digits.images.min() == 0.0 and digits.images.max() == 1.0
    assert np.bincount(digits.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits28_sit_in_a_20x20_box_like_mnist() -> None:
    images = data.load_digits28().images

    assert np.all(images[:, :4, :] == 0) and np.all(images[:, 24:, :] == 0)
    assert np.all(images[:, :, :4] == 0) and np.all(images[:, :, 24:] == 0)
    assert images[:, 4:24, 4:24].mean() > 0.1


def test_digits28_keep_the_8x8_content() -> None:
    from sklearn.datasets import load_digits

    small = load_digits().images / 16.0
    images = data.load_digits28().images
    # bilinear weights sum to one along each axis, so each image's mean intensity survives upsampling
    assert np.allclose(images[:, 4:24, 4:24].mean(axis=(1, 2)), small.mean(axis=(1, 2)), atol=0.02)


def test_digits28_returns_a_fresh_copy_each_time() -> None:
    first = data.load_digits28()
    first.images[0, 10, 10] = 5.0
    assert data.load_digits28().images[0, 10, 10] <= 1.0


def test_load_images_digits_names_its_provenance() -> None:
    digits = data.load_images("digits")
    assert digits.provenance.startswith("shipped: sklearn.datasets.load_digits")
    assert len(digits.subset([0, 5, 7])) == 3


def test_load_images_rejects_an_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="dataset must be one of"):
        data.load_images("cifar")


# -------------------------------------------------------------------------------- gensim shipped
def test_shipped_polarity_has_100_positive_and_100_negative_sentences() -> None:
    shipped = data.load_polarity("shipped")

    assert len(shipped) == 200
    assert shipped.labels.tolist() == [1] * 100 + [0] * 100
    assert not any(text.startswith("__label__") for text in shipped.texts)
    assert "pang_lee_polarity.cor" in shipped.provenance
    assert any("ladrón" in text for text in shipped.texts)  # Windows-1252 decoded


def test_lee_background_has_300_documents_and_lee_has_50() -> None:
    background = data.load_text("lee_background")
    lee = data.load_text("lee")

    assert len(background.documents()) == 300
    assert len(lee.documents()) == 50
    assert background.provenance.startswith("shipped: gensim")


def test_lee_similarity_is_a_symmetric_50x50_matrix_of_human_judgements() -> None:
    lee = data.load_lee_similarity()

    assert lee.similarity.shape == (50, 50)
    assert np.allclose(lee.similarity, lee.similarity.T)
    assert np.allclose(np.diag(lee.similarity), 1.0)
    assert lee.similarity.min() >= 0.0 and lee.similarity.max() <= 1.0
    assert len(lee.documents) == 50


@pytest.mark.parametrize(("name", "pairs"), [("wordsim353", 353), ("simlex999", 999)])
def test_word_similarity_sets_have_their_pairs_and_scores(name: str, pairs: int) -> None:
    loaded = data.load_word_similarity(name)

    assert len(loaded) == pairs
    assert all(isinstance(w1, str) and isinstance(w2, str) and 0.0 <= s <= 10.0 for w1, w2, s in loaded)
    assert loaded.provenance.startswith("shipped: gensim")
    assert loaded[0][0] == loaded[0][0].lower()


def test_analogies_have_14_sections_and_19544_questions() -> None:
    analogies = data.load_analogies()

    assert len(analogies) == 14
    assert sum(len(q) for q in analogies.values()) == 19_544
    assert analogies["capital-common-countries"][0] == ("athens", "greece", "baghdad", "iraq")
    assert data.load_analogies(lowercase=False)["capital-common-countries"][0][0] == "Athens"


def test_shipped_path_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown shipped file"):
        data.shipped_path("../../etc/passwd")


# ------------------------------------------------------------------------------------------ splits
LABELS = np.repeat(np.arange(10), 30)  # 300 samples, 30 per class


def test_class_partition_separates_source_from_target_classes() -> None:
    source, target = data.class_partition(LABELS, [0, 1, 2, 3, 4])

    assert set(LABELS[source]) == {0, 1, 2, 3, 4}
    assert set(LABELS[target]) == {5, 6, 7, 8, 9}
    assert np.intersect1d(source, target).size == 0
    assert len(source) + len(target) == len(LABELS)


def test_k_shot_takes_k_per_class() -> None:
    idx = data.k_shot_indices(LABELS, k=3, seed=0)

    assert np.bincount(LABELS[idx]).tolist() == [3] * 10
    assert len(np.unique(idx)) == 30


def test_k_shot_is_deterministic_per_seed_and_varies_across_seeds() -> None:
    assert np.array_equal(data.k_shot_indices(LABELS, 5, seed=7), data.k_shot_indices(LABELS, 5, seed=7))
    assert not np.array_equal(data.k_shot_indices(LABELS, 5, seed=7), data.k_shot_indices(LABELS, 5, seed=8))


def test_k_shot_sets_are_nested_in_k() -> None:
    one, five, ten = (set(data.k_shot_indices(LABELS, k, seed=3).tolist()) for k in (1, 5, 10))
    assert one < five < ten


def test_k_shot_draws_only_from_the_pool_and_the_classes_asked() -> None:
    pool = np.arange(0, 300, 2)
    idx = data.k_shot_indices(LABELS, k=2, seed=0, classes=[1, 3], pool=pool)

    assert set(idx.tolist()) <= set(pool.tolist())
    assert np.bincount(LABELS[idx], minlength=4).tolist() == [0, 2, 0, 2]


def test_k_shot_refuses_k_larger_than_a_class() -> None:
    with pytest.raises(ValueError, match="class 0 has 30 samples, fewer than k=31"):
        data.k_shot_indices(LABELS, k=31, seed=0)


def test_train_val_test_split_is_disjoint_complete_and_sized() -> None:
    train, val, test = data.train_val_test_split(1000, (0.7, 0.2, 0.1), seed=0)

    assert (len(train), len(val), len(test)) == (700, 200, 100)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(1000))


def test_stratified_split_keeps_every_class_balanced() -> None:
    train, val, test = data.train_val_test_split(len(LABELS), (0.6, 0.2, 0.2), seed=1, stratify=LABELS)

    for part, per_class in ((train, 18), (val, 6), (test, 6)):
        assert np.bincount(LABELS[part]).tolist() == [per_class] * 10


def test_split_depends_on_the_seed_only() -> None:
    assert all(map(np.array_equal, data.train_val_test_split(50, seed=4), data.train_val_test_split(50, seed=4)))
    assert not np.array_equal(data.train_val_test_split(50, seed=4)[0], data.train_val_test_split(50, seed=5)[0])


def test_split_rejects_fractions_that_do_not_sum_to_one() -> None:
    with pytest.raises(ValueError, match="summing to 1"):
        data.train_val_test_split(10, (0.5, 0.2, 0.2))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=400),
    cut=st.tuples(st.integers(0, 100), st.integers(0, 100)).map(sorted),
    seed=st.integers(0, 2**32 - 1),
    stratified=st.booleans(),
)
def test_splits_never_overlap_and_cover_everything(n: int, cut: list[int], seed: int, stratified: bool) -> None:
    fractions = (cut[0] / 100, (cut[1] - cut[0]) / 100, (100 - cut[1]) / 100)
    stratify = np.random.default_rng(seed).integers(0, 4, size=n) if stratified else None

    parts = data.train_val_test_split(n, fractions, seed=seed, stratify=stratify)

    joined = np.concatenate(parts)
    assert len(joined) == n
    assert np.array_equal(np.sort(joined), np.arange(n))
