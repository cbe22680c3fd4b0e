"""ROUGE against values worked by hand, sentence splitting, and extractive sentence ranking."""

from __future__ import annotations

import numpy as np
import pytest

from ptft_utils.eval.summaries import (
    centroid_scores,
    lead_k,
    lexrank_scores,
    rouge,
    rouge_l,
    rouge_n,
    split_sentences,
    tokenize,
    top_k_in_order,
)

CANDIDATE = "The cat was found under the bed."
REFERENCE = "The cat was under the bed."


def test_tokenize_lower_cases_and_splits_on_everything_but_letters_and_digits() -> None:
    assert tokenize("The U.S. grew 3.5% -- fast!") == ["the", "u", "s", "grew", "3", "5", "fast"]


def test_rouge_1_matches_the_hand_worked_value() -> None:
    # 6 of the candidate's 7 unigrams are in the reference, which has 6
    assert rouge_n(CANDIDATE, REFERENCE, 1) == pytest.approx((6 / 7, 1.0, 12 / 13))


def test_rouge_2_matches_the_hand_worked_value() -> None:
    # candidate bigrams: the cat, cat was, was found, found under, under the, the bed (6);
    # reference: the cat, cat was, was under, under the, the bed (5); 4 shared
    assert rouge_n(CANDIDATE, REFERENCE, 2) == pytest.approx((4 / 6, 4 / 5, 2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5)))


def test_rouge_l_matches_lins_worked_examples() -> None:
    reference = "police killed the gunman"
    assert rouge_l("police kill the gunman", reference).f1 == pytest.approx(3 / 4)  # LCS: police the gunman
    assert rouge_l("the gunman kill police", reference).f1 == pytest.approx(2 / 4)  # LCS: the gunman


def test_rouge_l_precision_and_recall_use_the_two_lengths() -> None:
    score = rouge_l("a b c d e", "a c e")
    assert (score.precision, score.recall) == pytest.approx((3 / 5, 1.0))


def test_rouge_n_clips_repeated_ngrams_at_the_reference_count() -> None:
    assert rouge_n("the the the the", "the cat", 1) == pytest.approx((1 / 4, 1 / 2, 1 / 3))


def test_an_empty_candidate_scores_zero_everywhere() -> None:
    assert list(rouge("", REFERENCE).values()) == [(0.0, 0.0, 0.0)] * 3


def test_scores_agree_with_the_rouge_score_package() -> None:
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    pairs = [(CANDIDATE, REFERENCE), ("police kill the gunman", "police killed the gunman"),
             ("Mars is red. It is far away, far far away.", "The red planet Mars is far from the Sun.")]  # fmt: skip
    for candidate, reference in pairs:
        theirs = scorer.score(reference, candidate)
        for name, ours in rouge(candidate, reference).items():
            expected = (theirs[name].precision, theirs[name].recall, theirs[name].fmeasure)
            assert (ours.precision, ours.recall, ours.f1) == pytest.approx(expected), (name, candidate)


def test_split_sentences_keeps_abbreviations_initials_and_quotes_together() -> None:
    text = 'Mr. Smith met Dr. J. Doe in the U.S. on Monday. "Was it fun?" she asked. Prices rose 3.5% in 2019! Done'
    assert split_sentences(text) == [
        "Mr. Smith met Dr. J. Doe in the U.S. on Monday.",
        '"Was it fun?" she asked.',
        "Prices rose 3.5% in 2019!",
        "Done",
    ]


def test_lead_k_takes_the_first_sentences() -> None:
    assert lead_k(["a", "b", "c"], 2) == ["a", "b"]
    assert lead_k(["a"], 3) == ["a"]


def test_centroid_scores_rank_the_sentence_nearest_the_mean_first() -> None:
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    scores = centroid_scores(embeddings)
    assert int(np.argmax(scores)) == 2 and scores[2] == pytest.approx(1.0)


def test_lexrank_scores_sum_to_one_and_favour_the_sentence_linked_to_all_others() -> None:
    hub = np.ones(3) / np.sqrt(3)
    embeddings = np.vstack([np.eye(3), hub])  # three unrelated sentences and one like each of them
    scores = lexrank_scores(embeddings)
    assert scores.sum() == pytest.approx(1.0)
    assert int(np.argmax(scores)) == 3


def test_lexrank_scores_are_the_stationary_vector_of_the_damped_walk() -> None:
    embeddings = np.abs(np.random.default_rng(0).normal(size=(6, 4)))
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    weights = unit @ unit.T
    np.fill_diagonal(weights, 0.0)
    google = 0.15 / 6 + 0.85 * weights / weights.sum(axis=1, keepdims=True)
    values, vectors = np.linalg.eig(google.T)
    stationary = np.real(vectors[:, np.argmax(np.real(values))])
    assert np.allclose(lexrank_scores(embeddings), stationary / stationary.sum(), atol=1e-9)


def test_top_k_in_order_returns_the_best_sentences_in_document_order() -> None:
    assert top_k_in_order([0.1, 0.9, 0.3, 0.9, 0.5], 3) == [1, 3, 4]
    assert top_k_in_order([0.2, 0.2, 0.2], 2) == [0, 1]
