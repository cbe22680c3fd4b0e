"""ptft_utils.models.embeddings: corpus statistics, SGNS and GloVe, and the evaluators, on hand-made data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ptft_utils.eval import embeddings as embedding_eval
from ptft_utils.models import embeddings as emb
from ptft_utils.models import glove, sgns

# ----------------------------------------------------------------------------------- helpers


def corpus_of(ids_per_sentence: list[list[int]], vocab_size: int | None = None) -> emb.EncodedCorpus:
    """An EncodedCorpus straight from id lists (words are "w0", "w1", ...)."""
    ids = np.array([i for s in ids_per_sentence for i in s], dtype=np.int64)
    sentence = np.array([n for n, s in enumerate(ids_per_sentence) for _ in s], dtype=np.int64)
    size = vocab_size or int(ids.max()) + 1
    counts = np.bincount(ids, minlength=size).astype(np.int64)
    return emb.EncodedCorpus([f"w{i}" for i in range(size)], counts, ids, sentence, len(ids))


def planted_corpus(seed: int = 0, sentences: int = 600, length: int = 12) -> tuple[list[list[str]], list[str]]:
    """Two topics of 10 words each; every sentence draws its words from one topic only."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]]
    text = [list(rng.choice(topics[rng.integers(2)], size=length)) for _ in range(sentences)]
    return text, topics[0] + topics[1]


def topic_pairs(words: list[str]) -> list[tuple[str, str, float]]:
    """Every pair of words, scored 1 when they share a topic (same first letter), else 0."""
    return [(a, b, float(a[0] == b[0])) for i, a in enumerate(words) for b in words[i + 1 :]]


# --------------------------------------------------------------------------- corpus statistics


def test_encode_corpus_sorts_by_count_and_drops_rare_words() -> None:
    corpus = emb.encode_corpus([["b", "a", "b", "c"], ["a", "b"]], min_count=2)
    assert corpus.words == ["b", "a"]
    assert corpus.counts.tolist() == [3, 2]
    assert corpus.ids.tolist() == [0, 1, 0, 1, 0]
    assert corpus.sentence.tolist() == [0, 0, 0, 1, 1]
    assert corpus.raw_tokens == 6


def test_keep_probabilities_match_hand_computed_values() -> None:
    # counts 6, 3, 1 of 10 tokens; t = 0.1: keep = (sqrt(f / t) + 1) * t / f, capped at 1
    keep = emb.keep_probabilities(np.array([6, 3, 1]), sample=0.1)
    expected = [(math.sqrt(6) + 1) / 6, (math.sqrt(3) + 1) / 3, 1.0]
    np.testing.assert_allclose(keep, expected, rtol=1e-12)
    assert keep[0] == pytest.approx(0.574915, abs=1e-6)


def test_keep_probabilities_with_sample_zero_keep_everything() -> None:
    np.testing.assert_array_equal(emb.keep_probabilities(np.array([100, 1]), sample=0), [1.0, 1.0])


def test_noise_distribution_is_count_to_the_three_quarters() -> None:
    # 16 ** 0.75 = 8 and 1 ** 0.75 = 1
    np.testing.assert_allclose(emb.noise_distribution(np.array([16, 1])), [8 / 9, 1 / 9], rtol=1e-12)


def test_skipgram_pairs_with_a_fixed_window_stay_inside_sentences() -> None:
    corpus = corpus_of([[0, 1, 2], [3, 4]])
    centres, contexts = emb.skipgram_pairs(corpus.ids, corpus.sentence, window=1, dynamic=False)
    pairs = sorted(zip(centres.tolist(), contexts.tolist(), strict=True))
    assert pairs == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]


def test_dynamic_window_weights_distance_d_by_window_minus_d_plus_one() -> None:
    n, window = 20_000, 3
    ids = np.arange(n)  # id = position, so |centre - context| is the distance
    centres, contexts = emb.skipgram_pairs(ids, np.zeros(n, np.int64), window, np.random.default_rng(0))
    distance = np.abs(centres - contexts)
    assert distance.min() == 1 and distance.max() == window
    share = np.bincount(distance, minlength=window + 1)[1:] / (2 * n)
    np.testing.assert_allclose(share, [3 / 3, 2 / 3, 1 / 3], atol=0.02)


def test_subsample_keeps_tokens_at_their_keep_probability() -> None:
    corpus = corpus_of([[0] * 10_000 + [1] * 10_000])
    ids, _ = emb.subsample(corpus, np.array([0.25, 1.0]), np.random.default_rng(0))
    assert (ids == 1).sum() == 10_000
    assert (ids == 0).sum() == pytest.approx(2_500, abs=150)


def test_cooccurrence_counts_weight_each_pair_by_one_over_distance() -> None:
    # sentence w0 w1 w2 w0, window 2: distance 1: (0,1) (1,2) (2,0); distance 2: (0,2) (1,0)
    corpus = corpus_of([[0, 1, 2, 0], [1, 2]])  # second sentence adds (1,2) at distance 1
    x = glove.cooccurrence(corpus, window=2).toarray()
    expected = np.array(
        [
            [0.0, 1.5, 1.5],
            [1.5, 0.0, 2.0],
            [1.5, 2.0, 0.0],
        ]
    )
    np.testing.assert_allclose(x, expected)


def test_cooccurrence_without_weighting_counts_pairs() -> None:
    corpus = corpus_of([[0, 1, 2, 0]])
    x = glove.cooccurrence(corpus, window=2, distance_weighting=False).toarray()
    assert x[0, 1] == 2.0 and x[0, 2] == 2.0 and x[1, 2] == 1.0


def test_glove_weight_is_capped_power() -> None:
    np.testing.assert_allclose(glove.glove_weight(np.array([5.0, 10.0, 200.0]), x_max=10.0), [0.5**0.75, 1.0, 1.0])
    assert float(glove.glove_weight(torch.tensor(50.0))) == pytest.approx(0.5**0.75)


# ------------------------------------------------------------------------------------ models


def test_sgns_hand_written_step_equals_autograd_sgd_step() -> None:
    torch.manual_seed(0)
    model = sgns.SkipGramNS(7, 4)
    with torch.no_grad():
        model.output.weight.normal_(0, 0.3)
    centre = torch.tensor([0, 3, 0, 5])  # repeated centre: updates must add up
    context = torch.tensor([1, 2, 1, 0])
    negatives = torch.tensor([[4, 6], [1, 1], [5, 2], [0, 3]])  # includes a repeat and a centre word
    lr = 0.1
    reference = sgns.SkipGramNS(7, 4)
    reference.load_state_dict(model.state_dict())
    loss = reference(centre, context, negatives)
    loss.backward()
    with torch.no_grad():
        expected_in = reference.input.weight - lr * reference.input.weight.grad
        expected_out = reference.output.weight - lr * reference.output.weight.grad
    returned = model.sgd_step(centre, context, negatives, lr)
    assert float(returned) == pytest.approx(float(loss.detach()), rel=1e-5)
    torch.testing.assert_close(model.input.weight, expected_in)
    torch.testing.assert_close(model.output.weight, expected_out)


def test_glove_adagrad_step_matches_the_reference_update_for_one_entry() -> None:
    torch.manual_seed(0)
    model = glove.GloVe(3, 2)
    i, j = torch.tensor([0]), torch.tensor([2])
    log_x, weight, lr = torch.tensor([math.log(4.0)]), torch.tensor([0.5]), 0.05
    w0, wt2 = model.w[0].detach().clone(), model.w_tilde[2].detach().clone()
    b0, bt2 = float(model.b[0].detach()), float(model.b_tilde[2].detach())
    diff = float(w0 @ wt2) + b0 + bt2 - math.log(4.0)
    loss = float(model.adagrad_step(i, j, log_x, weight, lr))
    assert loss == pytest.approx(0.5 * 0.5 * diff**2, rel=1e-5)
    step_w = lr * 0.5 * diff * wt2  # accumulators start at 1: the first step is lr * grad / 1
    torch.testing.assert_close(model.w[0].detach(), w0 - step_w)
    torch.testing.assert_close(model.b[0].detach(), torch.tensor(b0 - lr * 0.5 * diff))
    assert model.accumulators is not None
    torch.testing.assert_close(model.accumulators[0][0], 1.0 + step_w**2)
    assert float(model(i, j, log_x, weight).detach()) < loss  # the step lowered this entry's loss


def test_sgns_loss_decreases_and_beats_random_vectors_on_planted_topics() -> None:
    text, words = planted_corpus()
    corpus = emb.encode_corpus(text)
    vectors, log = sgns.train_sgns(corpus, dim=16, window=3, epochs=5, sample=0, seed=0, batch_size=256)
    assert log.epochs[-1]["loss"] < log.epochs[0]["loss"]
    trained = embedding_eval.word_similarity(vectors, topic_pairs(words))["spearman"]
    chance = embedding_eval.word_similarity(emb.random_embeddings(corpus.words, 16, seed=0), topic_pairs(words))[
        "spearman"
    ]
    assert trained > 0.6
    assert trained > chance + 0.4


def test_glove_loss_decreases_and_beats_random_vectors_on_planted_topics() -> None:
    text, words = planted_corpus()
    corpus = emb.encode_corpus(text)
    vectors, log = glove.train_glove(corpus, dim=16, window=3, epochs=30, x_max=10.0, seed=0, batch_size=64)
    assert log.epochs[-1]["loss"] < 0.5 * log.epochs[0]["loss"]
    trained = embedding_eval.word_similarity(vectors, topic_pairs(words))["spearman"]
    chance = embedding_eval.word_similarity(emb.random_embeddings(corpus.words, 16, seed=0), topic_pairs(words))[
        "spearman"
    ]
    assert trained > 0.6
    assert trained > chance + 0.4


def test_sgns_learning_rate_decays_linearly_to_its_floor() -> None:
    decay = sgns.LinearDecay(0.02, 1e-3, total=100)
    rates = []
    for pairs in (50, 40, 30):
        rates.append(decay.rate())
        decay.advance(pairs)
    assert rates == pytest.approx([0.02, 0.01, 0.002])
    assert decay.rate() == 1e-3  # past the expected pairs: the floor
    assert decay.steps == 3


def test_sgns_training_is_reproducible_with_a_seed() -> None:
    text, _ = planted_corpus(sentences=100)
    corpus = emb.encode_corpus(text)
    first, _ = sgns.train_sgns(corpus, dim=8, epochs=1, seed=3)
    second, _ = sgns.train_sgns(corpus, dim=8, epochs=1, seed=3)
    np.testing.assert_array_equal(first.vectors, second.vectors)


# -------------------------------------------------------------------------------- evaluation


@pytest.fixture
def angles() -> emb.Embeddings:
    """Unit vectors at 0, 30, 60 and 90 degrees: cosines fall as the angle between words grows."""
    words = ["w0", "w30", "w60", "w90"]
    rad = np.deg2rad([0, 30, 60, 90])
    return emb.Embeddings(words, np.stack([np.cos(rad), np.sin(rad)], axis=1))


def test_word_similarity_gives_one_for_scores_in_cosine_order(angles: emb.Embeddings) -> None:
    pairs = [("w0", "w90", 1.0), ("w0", "w60", 2.0), ("w0", "w30", 3.0), ("w30", "w30", 4.0)]
    assert embedding_eval.word_similarity(angles, pairs)["spearman"] == pytest.approx(1.0)
    reversed_pairs = [(a, b, -s) for a, b, s in pairs]
    assert embedding_eval.word_similarity(angles, reversed_pairs)["spearman"] == pytest.approx(-1.0)


def test_word_similarity_known_partial_spearman(angles: emb.Embeddings) -> None:
    # cosines rank the pairs 1 < 2 < 3 < 4; the human ranks are 2, 1, 4, 3: rho = 1 - 6*4/(4*15) = 0.6
    pairs = [("w0", "w90", 2.0), ("w0", "w60", 1.0), ("w0", "w30", 4.0), ("w30", "w30", 3.0)]
    assert embedding_eval.word_similarity(angles, pairs)["spearman"] == pytest.approx(0.6)


def test_word_similarity_excludes_and_counts_oov_pairs(angles: emb.Embeddings) -> None:
    pairs = [("w0", "w90", 1.0), ("w0", "w60", 2.0), ("w0", "w30", 3.0), ("w0", "nope", 9.0), ("W30", "w30", 4.0)]
    result = embedding_eval.word_similarity(angles, pairs)  # "W30" is lower-cased and found
    assert result["used"] == 4 and result["oov"] == 1 and result["oov_rate"] == pytest.approx(0.2)
    assert result["spearman"] == pytest.approx(1.0)
    assert math.isnan(embedding_eval.word_similarity(angles, [("x", "y", 1.0)])["spearman"])


@pytest.fixture
def analogy_vectors() -> emb.Embeddings:
    words = ["man", "woman", "king", "queen", "apple", "rare"]
    vectors = np.array(
        [
            [1.0, 0.0, 0.0],  # man
            [1.0, 1.0, 0.0],  # woman = man + "female"
            [1.0, 0.0, 1.0],  # king = man + "royal"
            [1.0, 1.0, 1.0],  # queen = man + female + royal
            [-1.0, 0.2, 0.1],  # apple: unrelated
            [1.0, 1.0, 1.0],  # rare: a queen look-alike, least frequent (last row)
        ]
    )
    return emb.Embeddings(words, vectors)


def test_analogy_accuracy_3cosadd_answers_and_oov_counts(analogy_vectors: emb.Embeddings) -> None:
    sections = {
        "royal": [
            ("man", "woman", "king", "queen"),
            ("man", "king", "woman", "queen"),
            ("man", "woman", "king", "apple"),
        ],
        "missing": [("man", "woman", "prince", "princess")],
    }
    result = embedding_eval.analogy_accuracy(analogy_vectors, sections, restrict_vocab=5)  # "rare" is outside the top 5
    assert result["answered"] == 3 and result["total"] == 4 and result["oov_questions"] == 1
    assert result["correct"] == 2 and result["accuracy"] == pytest.approx(2 / 3)
    assert result["sections"]["missing"] == {"correct": 0, "answered": 0, "total": 1}


def test_analogy_restrict_vocab_changes_the_candidates(analogy_vectors: emb.Embeddings) -> None:
    # Restricted to the 4 most frequent words, the question about "apple" is unanswerable (OOV),
    # not wrong, and "queen" is the only candidate left for the other one.
    sections = {"s": [("man", "woman", "king", "queen"), ("man", "woman", "king", "apple")]}
    result = embedding_eval.analogy_accuracy(analogy_vectors, sections, restrict_vocab=4)
    assert result["answered"] == 1 and result["correct"] == 1 and result["oov_questions"] == 1


def test_evaluators_accept_gensim_keyed_vectors(analogy_vectors: emb.Embeddings) -> None:
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(vector_size=3)
    keyed.add_vectors(analogy_vectors.vocab, analogy_vectors.vectors)
    pairs = [("man", "woman", 3.0), ("man", "apple", 1.0), ("king", "queen", 2.0), ("man", "ghost", 5.0)]
    ours, theirs = embedding_eval.word_similarity(analogy_vectors, pairs), embedding_eval.word_similarity(keyed, pairs)
    assert theirs == ours
    sections = {"royal": [("man", "woman", "king", "queen")]}
    assert embedding_eval.analogy_accuracy(keyed, sections, 5)["accuracy"] == 1.0
    assert embedding_eval.nearest_neighbours(keyed, ["king"], topn=1)["king"][0][0] == "queen"


def test_evaluators_accept_a_gensim_word2vec_model() -> None:
    from gensim.models import Word2Vec

    text, words = planted_corpus(sentences=50)
    model = Word2Vec(text, vector_size=8, min_count=1, workers=1, seed=0, epochs=1)
    assert embedding_eval.word_similarity(model, topic_pairs(words))["used"] == len(topic_pairs(words))


def test_embeddings_lookup_raises_keyerror_naming_the_word(angles: emb.Embeddings) -> None:
    with pytest.raises(KeyError, match="king"):
        angles["king"]
    assert "w0" in angles and "king" not in angles
    with pytest.raises(KeyError):
        angles.most_similar("king")


def test_most_similar_excludes_the_word_and_orders_by_cosine(angles: emb.Embeddings) -> None:
    found = angles.most_similar("w0", topn=3)
    assert [w for w, _ in found] == ["w30", "w60", "w90"]
    assert found[0][1] == pytest.approx(math.cos(math.radians(30)))


def test_nearest_neighbours_skips_absent_words(angles: emb.Embeddings) -> None:
    assert list(embedding_eval.nearest_neighbours(angles, ["w0", "absent"], topn=1)) == ["w0"]


def test_as_embeddings_rejects_other_objects() -> None:
    with pytest.raises(TypeError):
        emb.as_embeddings({"a": [1.0]})


def test_embeddings_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        emb.Embeddings(["a", "b"], np.zeros((3, 2)))


def test_spearman_ci_contains_the_estimate_and_narrows_with_more_pairs() -> None:
    low_small, high_small = embedding_eval.spearman_ci(0.5, 20)
    low_big, high_big = embedding_eval.spearman_ci(0.5, 2000)
    assert low_small < low_big < 0.5 < high_big < high_small


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trainers_run_on_a_gpu_and_return_cpu_vectors() -> None:
    text, words = planted_corpus(sentences=200)
    corpus = emb.encode_corpus(text)
    sgns_vectors, _ = sgns.train_sgns(corpus, dim=16, window=3, epochs=3, sample=0, batch_size=256, device="cuda")
    glove_vectors, _ = glove.train_glove(corpus, dim=16, window=3, epochs=10, x_max=10.0, batch_size=64, device="cuda")
    for vectors in (sgns_vectors, glove_vectors):
        assert isinstance(vectors.vectors, np.ndarray)
        assert embedding_eval.word_similarity(vectors, topic_pairs(words))["spearman"] > 0.5
