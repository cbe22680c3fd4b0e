"""Chapter 05's recurrent models: Keras/torch parity, masking, LM training, sampling, vocabulary."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ptft_utils.eval import lm_metrics
from ptft_utils.keras import parity
from ptft_utils.models import cost, rnn
from ptft_utils.train import classify, lm


def _real_text() -> str:
    from gensim.test.utils import datapath

    with open(datapath("lee.cor"), encoding="latin-1") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def keras_seed_model():
    """A small seed model with random (not default-initialised) weights, and real one-hot input."""
    pytest.importorskip("tensorflow")
    import keras

    from ptft_utils.keras import rnn as keras_rnn

    keras.utils.set_random_seed(0)
    text = _real_text()[:4000]
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    x, _ = keras_rnn.char_windows(ids, 40)
    model = keras_rnn.build_seed_lstm(None, len(chars), len(chars), hidden=24)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in model.get_weights()])
    inputs = keras_rnn.one_hot(x[:6], len(chars))
    return model, inputs, len(chars)


def _max_error(model, inputs, vocab, gate_order=parity.TORCH_GATES) -> float:
    twin = rnn.SeedLSTM(vocab, vocab, hidden=24)
    parity.copy_keras_seed_model(model, twin, gate_order=gate_order)
    expected = np.asarray(model.predict(inputs, verbose=0))
    got = twin.probabilities(torch.from_numpy(inputs)).numpy()
    return float(np.abs(expected - got).max())


def test_torch_twin_matches_keras_seed_model_within_1e5(keras_seed_model):
    model, inputs, vocab = keras_seed_model
    assert _max_error(model, inputs, vocab) < 1e-5


@pytest.mark.parametrize("wrong_order", [("f", "i", "c", "o"), ("i", "f", "o", "c"), ("i", "c", "f", "o")])
def test_parity_check_fails_with_wrong_gate_order(keras_seed_model, wrong_order):
    model, inputs, vocab = keras_seed_model
    assert _max_error(model, inputs, vocab, gate_order=wrong_order) > 1e-3


def test_twin_has_the_keras_parameter_count(keras_seed_model):
    model, _, vocab = keras_seed_model
    twin = rnn.SeedLSTM(vocab, vocab, hidden=24)
    extra_torch_bias = 2 * 4 * 24  # bias_hh of both layers, zero after the copy
    assert cost.count_parameters(twin) - extra_torch_bias == model.count_params()


def test_keras_weights_with_wrong_shape_are_rejected():
    lstm = torch.nn.LSTM(5, 3, batch_first=True)
    with pytest.raises(ValueError, match="do not fit"):
        parity.keras_lstm_to_torch(np.zeros((4, 12)), np.zeros((3, 12)), np.zeros(12), lstm)


def test_gate_order_must_be_a_permutation():
    lstm = torch.nn.LSTM(5, 3, batch_first=True)
    with pytest.raises(ValueError, match="permutation"):
        parity.keras_lstm_to_torch(np.zeros((5, 12)), np.zeros((3, 12)), np.zeros(12), lstm, gate_order="iffo")


@pytest.mark.parametrize("pooling", ["last", "mean", "concat"])
def test_padding_does_not_change_a_sentence_encoding(pooling):
    torch.manual_seed(0)
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(50, 8, 16, num_layers=2), pooling=pooling).eval()
    short = torch.tensor([[5, 6, 7]])
    batch = torch.tensor([[5, 6, 7, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3]])
    with torch.no_grad():
        alone = model.encode(short, torch.tensor([3]))
        padded = model.encode(batch, torch.tensor([3, 7]))
    torch.testing.assert_close(padded[0:1], alone, atol=1e-6, rtol=0)


def test_last_column_of_a_padded_batch_is_not_the_sentence_state():
    torch.manual_seed(0)
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(50, 8, 16, num_layers=1), pooling="last").eval()
    batch = torch.tensor([[5, 6, 7, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3]])
    lengths = torch.tensor([3, 7])
    with torch.no_grad():
        right = model.encode(batch, lengths, pooling="last")
        wrong = model.encode(batch, lengths, pooling="last_padded")
    assert (right[0] - wrong[0]).abs().max() > 1e-3  # the short sentence is changed by its padding
    torch.testing.assert_close(right[1], wrong[1], atol=1e-6, rtol=0)  # the full-length one is not


def test_last_valid_state_picks_each_rows_last_real_position():
    outputs = torch.arange(2 * 4 * 1, dtype=torch.float32).view(2, 4, 1)
    assert rnn.last_valid_state(outputs, torch.tensor([2, 4])).flatten().tolist() == [1.0, 7.0]


def test_masked_mean_and_max_ignore_padding():
    outputs = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert rnn.masked_mean(outputs, torch.tensor([2])).item() == 2.0
    assert rnn.masked_max(outputs, torch.tensor([2])).item() == 3.0


def test_batchify_makes_contiguous_streams_and_chunks_shift_targets_by_one():
    streams = lm.batchify(list(range(20)), batch_size=2)
    assert streams.tolist() == [list(range(10)), list(range(10, 20))]
    x, y = next(lm.lm_chunks(streams, seq_len=4))
    assert x[0].tolist() == [0, 1, 2, 3] and y[0].tolist() == [1, 2, 3, 4]


def test_lm_loss_decreases_on_a_toy_corpus():
    torch.manual_seed(0)
    ids = [2, 3, 4, 5, 6] * 200  # a periodic "text": perfectly predictable
    streams = lm.batchify(ids, 8)
    model = rnn.LSTMLanguageModel(8, emb_dim=8, hidden=16, num_layers=1, dropout=0.0)
    before = lm.evaluate_lm(model, streams, 16)
    lm.train_lm(model, streams, None, epochs=3, seq_len=16, lr=1e-2)
    after = lm.evaluate_lm(model, streams, 16)
    assert after < 0.5 * before


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    vocab = 37
    model = rnn.LSTMLanguageModel(vocab, emb_dim=4, hidden=8, num_layers=1, dropout=0.0)
    torch.nn.init.zeros_(model.decoder.weight)
    torch.nn.init.zeros_(model.decoder.bias)
    nll = lm.evaluate_lm(model, lm.batchify(np.arange(200) % vocab, 4), 10)
    assert nll == pytest.approx(math.log(vocab), rel=1e-6)
    assert lm_metrics.perplexity(nll) == pytest.approx(vocab, rel=1e-6)
    assert lm_metrics.bits_per_token(nll) == pytest.approx(math.log2(vocab), rel=1e-6)


def test_bits_per_token_converts_nats_to_bits():
    assert lm_metrics.bits_per_token(math.log(2.0)) == pytest.approx(1.0)
    assert lm_metrics.perplexity(0.0) == 1.0


def test_sampling_is_deterministic_given_a_seed():
    torch.manual_seed(0)
    model = rnn.LSTMLanguageModel(30, emb_dim=8, hidden=16, num_layers=2)
    first = lm.sample(model, [3, 4], 40, temperature=1.0, seed=7)
    again = lm.sample(model, [3, 4], 40, temperature=1.0, seed=7)
    other = lm.sample(model, [3, 4], 40, temperature=1.0, seed=8)
    assert first == again
    assert first != other


def test_low_temperature_sampling_approaches_greedy_decoding():
    torch.manual_seed(0)
    model = rnn.SeedLSTM(12, 12, hidden=16)
    cold = lm.sample(model, [1, 2], 20, temperature=1e-4, seed=1, one_hot=12)
    also_cold = lm.sample(model, [1, 2], 20, temperature=1e-4, seed=2, one_hot=12)
    assert cold == also_cold  # with the distribution collapsed to its argmax, the seed no longer matters


def test_gradual_unfreezing_trains_only_the_head_in_the_first_epoch():
    torch.manual_seed(0)
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(20, 8, 16, num_layers=2))
    ids = torch.randint(2, 20, (16, 6))
    lengths = torch.full((16,), 6)
    labels = torch.randint(0, 2, (16,))
    encoder_before = [p.detach().clone() for p in model.encoder.parameters()]
    head_before = [p.detach().clone() for p in model.head.parameters()]
    classify.train_classifier(model, ids, lengths, labels, epochs=1, batch_size=8, gradual_unfreezing=True)
    assert all(torch.equal(a, b) for a, b in zip(encoder_before, model.encoder.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(head_before, model.head.parameters(), strict=True))
    assert all(p.requires_grad for p in model.parameters())  # unfrozen again afterwards


def test_train_classifier_reports_the_unfreezing_schedule_and_honours_min_steps():
    torch.manual_seed(0)
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(20, 8, 16, num_layers=2))  # 4 groups
    ids, lengths, labels = torch.randint(2, 20, (16, 6)), torch.full((16,), 6), torch.randint(0, 2, (16,))
    history = classify.train_classifier(
        model, ids, lengths, labels, epochs=2, batch_size=8, min_steps=10, gradual_unfreezing=True, discriminative=2.6
    )
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]  # 10 steps at 2 steps per epoch
    assert [row["trainable_groups"] for row in history] == [1, 2, 3, 4, 4]
    assert all(set(row) == {"epoch", "loss", "trainable_groups"} and row["loss"] > 0 for row in history)


def test_padded_forward_trims_each_batch_to_its_longest_sentence():
    widths = []

    def model(ids, lengths):
        widths.append(ids.shape[1])
        return torch.zeros(len(ids), 2)

    ids, lengths = torch.ones(2, 9, dtype=torch.long), torch.tensor([3, 5])
    _, targets = classify.padded_forward(model, (ids, lengths, torch.tensor([0, 1])))
    assert widths == [5]
    assert targets.tolist() == [0, 1]


def test_classifier_learns_a_separable_toy_task():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (200,), generator=gen)
    lengths = torch.randint(3, 9, (200,), generator=gen)
    ids = torch.randint(4, 30, (200, 8), generator=gen)
    ids[:, 0] = 2 + labels  # the first token gives the label away
    ids[torch.arange(8)[None, :] >= lengths[:, None]] = 0
    model = rnn.LSTMClassifier(rnn.LSTMEncoder(30, 8, 16, num_layers=1))
    classify.train_classifier(model, ids, lengths, labels, epochs=15, batch_size=32, lr=1e-2)
    assert classify.evaluate_classifier(model, ids, lengths, labels) > 0.95


def test_oov_rate_counts_tokens_mapped_to_unk():
    text = pytest.importorskip("ptft_utils.data.text")
    vocab = text.Vocab.build([["the", "movie", "was", "good"]])
    assert vocab.encode(["the", "zyzzyva"])[1] == 1  # unknown word -> <unk> (id 1)
    assert text.oov_rate([["the", "zyzzyva"], ["good", "qwerty"]], vocab) == pytest.approx(0.5)
