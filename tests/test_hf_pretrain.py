"""MLM pretraining of a tiny BERT and the Trainer fine-tune (ptft_utils.hf.pretrain)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptft_utils.hf import classify
from ptft_utils.hf.pretrain import mlm_loss, mlm_windows, pretrain_mlm, tiny_mlm, trainer_fine_tune
from ptft_utils.hf.wordpiece import train_wordpiece

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "the film was good", "the film was bad"] * 30


@pytest.fixture(scope="module")
def tokenizer():
    return train_wordpiece(TEXTS, vocab_size=60, min_frequency=1)


def test_windows_are_cls_chunk_sep_of_the_given_length(tokenizer):
    windows = mlm_windows(tokenizer, TEXTS, length=10)
    assert windows.shape[1] == 10
    assert (windows[:, 0] == tokenizer.cls_token_id).all() and (windows[:, -1] == tokenizer.sep_token_id).all()


def test_windows_reject_a_length_below_three(tokenizer):
    with pytest.raises(ValueError, match="length"):
        mlm_windows(tokenizer, TEXTS, length=2)


def test_mlm_pretraining_lowers_the_masked_loss_on_a_tiny_corpus(tokenizer):
    windows = mlm_windows(tokenizer, TEXTS, length=12)
    model = tiny_mlm(len(tokenizer), hidden=32, heads=2, intermediate=64, seed=0, dropout=0.0)
    before = mlm_loss(model, windows, tokenizer, seed=1)
    run = pretrain_mlm(model, windows, tokenizer, steps=80, lr=3e-3, batch_size=16, seed=0)
    assert run.steps == 80 and run.tokens == 80 * 16 * 12
    assert mlm_loss(model, windows, tokenizer, seed=1) < before - 1.0


def test_mlm_loss_is_fixed_by_its_seed(tokenizer):
    windows = mlm_windows(tokenizer, TEXTS, length=12)
    model = tiny_mlm(len(tokenizer), hidden=32, heads=2, intermediate=64, seed=0)
    assert mlm_loss(model, windows, tokenizer, seed=5) == mlm_loss(model, windows, tokenizer, seed=5)


def test_trainer_fine_tune_updates_the_classifier_and_counts_examples(tokenizer):
    tokens = classify.encode_texts(tokenizer, TEXTS, 16)
    labels = np.array([0, 0, 1, 1] * 30)
    encoder = tiny_mlm(len(tokenizer), hidden=32, heads=2, intermediate=64, seed=0).bert
    model = classify.make_classifier("full", encoder, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    run = trainer_fine_tune(model, tokens, labels, np.arange(80), lr=1e-3, max_steps=4, batch_size=8, seed=0)
    assert run.steps == 4 and run.examples == 32 and run.seconds > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_trainer_fine_tune_rejects_zero_steps(tokenizer):
    with pytest.raises(ValueError, match="max_steps"):
        trainer_fine_tune(None, [], np.array([]), [], lr=1e-3, max_steps=0)
