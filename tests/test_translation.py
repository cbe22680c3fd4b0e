"""Word translation maps: planted maps recovered, retrieval scored, dictionaries split by source word."""

from __future__ import annotations

import numpy as np
import pytest

from ptft_utils.data.bilingual import load_bilingual_vectors, load_translation_pairs
from ptft_utils.eval.translation import (
    fit_least_squares,
    fit_procrustes,
    nearest_neighbours,
    normalize_embeddings,
    precision_at_k,
    split_pairs,
)


def _rotation(dim: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def test_procrustes_recovers_a_planted_rotation_exactly() -> None:
    rotation = _rotation(20, seed=1)
    source = np.random.default_rng(2).normal(size=(100, 20))
    recovered = fit_procrustes(source, source @ rotation)
    assert np.abs(recovered - rotation).max() <= 1e-8


def test_procrustes_gives_an_orthogonal_map_even_from_noisy_pairs() -> None:
    rng = np.random.default_rng(3)
    source, target = rng.normal(size=(30, 8)), rng.normal(size=(30, 8))
    mapping = fit_procrustes(source, target)
    assert np.allclose(mapping.T @ mapping, np.eye(8), atol=1e-10)


def test_least_squares_recovers_a_planted_linear_map() -> None:
    planted = np.random.default_rng(4).normal(size=(10, 6))
    source = np.random.default_rng(5).normal(size=(50, 10))
    assert np.abs(fit_least_squares(source, source @ planted) - planted).max() <= 1e-8


def test_least_squares_maps_between_spaces_of_different_dimension() -> None:
    source = np.random.default_rng(6).normal(size=(40, 5))
    assert fit_least_squares(source, source @ np.ones((5, 3))).shape == (5, 3)


def test_procrustes_refuses_spaces_of_different_dimension() -> None:
    with pytest.raises(ValueError, match="one dimension"):
        fit_procrustes(np.ones((4, 3)), np.ones((4, 2)))


def test_nearest_neighbours_ranks_by_cosine_and_breaks_ties_to_the_lower_index() -> None:
    candidates = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    assert nearest_neighbours(np.array([[3.0, 0.1]]), candidates, k=4).tolist() == [[0, 2, 3, 1]]


def test_precision_at_k_on_a_constructed_case() -> None:
    candidates = np.eye(4)
    mapped = np.array([[1.0, 0.0, 0.0, 0.0], [0.9, 0.5, 0.0, 0.0], [0.0, 0.0, 0.2, 1.0]])
    # query 0 ranks [0, ...] (gold 0: hit at 1); query 1 ranks [0, 1] (gold 1: hit at 2 only);
    # query 2 ranks [3, 2] (gold 0: never in the top 2)
    assert precision_at_k(mapped, candidates, [0, 1, 0], ks=(1, 2)) == {
        1: pytest.approx(1 / 3),
        2: pytest.approx(2 / 3),
    }


def test_precision_at_k_accepts_several_gold_translations() -> None:
    candidates = np.eye(3)
    assert precision_at_k(np.array([[0.0, 0.0, 1.0]]), candidates, [{0, 2}], ks=(1,)) == {1: 1.0}


def test_normalize_embeddings_centres_then_scales_each_row_to_length_one() -> None:
    vectors = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    assert np.allclose(normalize_embeddings(vectors), [[0.6, 0.8], [1.0, 0.0], [0.0, 0.0]])
    centred = normalize_embeddings(vectors, center=True, unit_length=False)
    assert np.allclose(centred.mean(axis=0), 0.0)


def test_split_pairs_puts_no_source_word_on_both_sides() -> None:
    pairs = [(f"w{i % 7}", f"t{i}") for i in range(21)]  # every source word has three translations
    train, test = split_pairs(pairs, test_fraction=0.3, seed=0)
    assert {s for s, _ in train}.isdisjoint({s for s, _ in test})
    assert sorted(train + test) == sorted(pairs)
    assert len({s for s, _ in test}) == 2  # round(0.3 * 7) source words


def test_split_pairs_is_the_same_for_the_same_seed_and_differs_across_seeds() -> None:
    pairs = [(f"w{i}", f"t{i}") for i in range(20)]
    assert split_pairs(pairs, seed=3) == split_pairs(pairs, seed=3)
    assert len({tuple(split_pairs(pairs, seed=s)[1]) for s in range(5)}) > 1


def test_gensims_bilingual_files_cover_every_dictionary_pair() -> None:
    english, italian, pairs = load_bilingual_vectors("en"), load_bilingual_vectors("it"), load_translation_pairs()
    assert english.vectors.shape == italian.vectors.shape == (20, 300)
    assert len(pairs) == 20 and pairs[0] == ("one", "uno")
    assert all(source in english.words and target in italian.words for source, target in pairs)
