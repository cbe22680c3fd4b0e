"""predict_proba (class probabilities for raw sentences) and head_from_logistic (a fitted probe as the head)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from ptft_utils.hf import classify, encoder  # noqa: E402
from ptft_utils.hf.wordpiece import train_wordpiece  # noqa: E402

TEXTS = [
    "a gorgeous , moving film",
    "dull and far too long",
    "the best thing i have seen all year , funny and warm",
    "bad",
    "an uneven but often clever comedy about two brothers and their dog",
]


@pytest.fixture(scope="module")
def parts():
    tokenizer = train_wordpiece(TEXTS * 20, vocab_size=200)
    bert = encoder.tiny_bert(len(tokenizer), layers=1, hidden=16, heads=2, intermediate=32, seed=0)
    model = classify.SentenceClassifier(bert, 16, classes=3)
    return model, tokenizer


def test_probabilities_are_rows_that_sum_to_one(parts):
    model, tokenizer = parts
    probs = classify.predict_proba(model, tokenizer, TEXTS)
    assert probs.shape == (len(TEXTS), 3)
    assert np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0)


def test_batching_does_not_change_the_probabilities_or_their_order(parts):
    model, tokenizer = parts
    together = classify.predict_proba(model, tokenizer, TEXTS, batch_size=64)
    one_by_one = np.vstack([classify.predict_proba(model, tokenizer, [text], batch_size=1) for text in TEXTS])
    assert np.allclose(together, one_by_one, atol=1e-5)


def test_argmax_agrees_with_predict_and_the_training_mode_is_restored(parts):
    model, tokenizer = parts
    model.train()
    probs = classify.predict_proba(model, tokenizer, TEXTS)
    assert model.training
    tokens = classify.encode_texts(tokenizer, TEXTS)
    assert probs.argmax(axis=1).tolist() == classify.predict(model, tokens, list(range(len(TEXTS)))).tolist()


def test_an_empty_list_gives_an_empty_array_and_a_bare_string_is_refused(parts):
    model, tokenizer = parts
    assert classify.predict_proba(model, tokenizer, []).shape == (0, 3)
    with pytest.raises(ValueError, match="wrap it in a list"):
        classify.predict_proba(model, tokenizer, "one sentence")
    with pytest.raises(ValueError, match="batch_size"):
        classify.predict_proba(model, tokenizer, TEXTS, batch_size=0)


def test_a_binary_logistic_head_reproduces_scikit_learn_probabilities():
    from sklearn.linear_model import LogisticRegression

    tokenizer = train_wordpiece(TEXTS * 20, vocab_size=200)
    bert = encoder.tiny_bert(len(tokenizer), layers=1, hidden=16, heads=2, intermediate=32, seed=1)
    tokens = classify.encode_texts(tokenizer, TEXTS)
    features = classify.embed(bert, tokens)
    clf = LogisticRegression(C=10.0, max_iter=1000).fit(features, [1, 0, 1, 0, 1])
    model = classify.head_from_logistic(classify.SentenceClassifier(bert, 16, classes=2), clf.coef_, clf.intercept_)
    ours = classify.predict_proba(model, tokenizer, TEXTS)
    assert np.allclose(ours, clf.predict_proba(features), atol=1e-5)


def test_a_head_of_the_wrong_shape_is_refused_naming_the_shapes():
    bert = encoder.tiny_bert(50, layers=1, hidden=16, heads=2, intermediate=32)
    model = classify.SentenceClassifier(bert, 16, classes=3)
    with pytest.raises(ValueError, match=r"\(3, 16\)"):
        classify.head_from_logistic(model, np.zeros((3, 8)), np.zeros(3))
