"""The from-scratch transformer pieces against PyTorch, Hugging Face and Keras; the WordPiece round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from ptft_utils.hf import parity
from ptft_utils.hf.wordpiece import pretokenized, train_wordpiece
from ptft_utils.models import transformer as tf

TEXTS = [
    "the film is a gripping , funny and moving story .",
    "a dull , lifeless mess that never finds its footing .",
    "one of the best movies of the year , beautifully acted .",
    "the plot is thin and the jokes fall flat .",
] * 20


@pytest.fixture(scope="module")
def tokenizer():
    return train_wordpiece(TEXTS, vocab_size=200, min_frequency=1)


def test_attention_matches_torch_with_padding_and_causal_masks():
    assert parity.attention_error() <= 1e-6


def test_attention_weights_ignore_padded_keys_and_sum_to_one():
    q = k = v = torch.randn(1, 4, 8)
    mask = torch.tensor([[True, True, False, False]])[:, None, :]
    _, weights = tf.scaled_dot_product_attention(q, k, v, mask)
    assert torch.allclose(weights.sum(-1), torch.ones(1, 4))
    assert weights[..., 2:].abs().max() == 0


def test_layer_norm_and_gelu_match_torch():
    assert parity.layer_norm_error() <= 1e-6
    assert parity.gelu_error() <= 1e-6


def test_sinusoidal_positions_follow_the_formula():
    table = tf.sinusoidal_positions(50, 16)
    p, i = 37, 3
    assert table[p, 2 * i].item() == pytest.approx(math.sin(p / 10000 ** (2 * i / 16)), abs=1e-6)
    assert table[p, 2 * i + 1].item() == pytest.approx(math.cos(p / 10000 ** (2 * i / 16)), abs=1e-6)
    with pytest.raises(ValueError, match="d_model must be even"):
        tf.sinusoidal_positions(4, 7)


def test_our_encoder_with_bert_weights_matches_transformers_bert():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=40)  # fmt: skip
    bert = BertModel(config).eval()
    ids = torch.randint(5, 120, (3, 11))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    assert parity.encoder_error(bert, ids, mask) <= 1e-5


def test_multi_head_attention_refuses_a_width_the_heads_do_not_divide():
    with pytest.raises(ValueError, match="d_model must be divisible by heads"):
        tf.MultiHeadAttention(30, 4)


def test_mlm_masking_follows_15_percent_then_80_10_10():
    ids = torch.randint(10, 1000, (400, 64))
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = True
    inputs, labels = tf.mlm_mask(ids, mask_id=4, vocab_size=1000, special=special,
                                 generator=torch.Generator().manual_seed(0))  # fmt: skip
    rates = parity.mlm_rates(inputs, labels, ids, mask_id=4)
    n_chosen = int((labels != -100).sum())
    assert rates["chosen"] == pytest.approx(0.15 * 63 / 64, abs=0.005)
    for share, expected in (("masked", 0.8), ("random", 0.1), ("kept", 0.1)):
        assert rates[share] == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / n_chosen))
    assert (labels[:, 0] == -100).all() and (inputs[:, 0] == ids[:, 0]).all()
    unchosen = labels == -100
    assert (inputs[unchosen] == ids[unchosen]).all()


def test_transformers_collator_masks_at_the_same_rates(tokenizer):
    ids = torch.randint(10, len(tokenizer), (400, 64))
    rates = parity.hf_mlm_rates(tokenizer, ids)
    assert rates["chosen"] == pytest.approx(0.15, abs=0.005)
    assert rates["masked"] == pytest.approx(0.8, abs=0.02)


def test_wordpiece_round_trip_gives_back_the_pretokenized_text(tokenizer):
    for text in TEXTS[:4] + ["The FILM, the Plot."]:
        ids = tokenizer(text)["input_ids"]
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
        decoded = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        assert decoded == pretokenized(tokenizer, text)
    assert tokenizer.pad_token_id == 0
    assert tokenizer.convert_ids_to_tokens(tokenizer("zyx")["input_ids"])[1:-1] != ["zyx"]  # unseen: split or [UNK]


def test_keras_attention_and_layer_norm_match_our_formulas():
    pytest.importorskip("keras")
    from ptft_utils.keras import transformer as keras_transformer

    assert keras_transformer.attention_error() <= 1e-6
    assert keras_transformer.layer_norm_error() <= 1e-5


def test_keras_block_and_its_pytorch_twin_agree_within_1e5():
    pytest.importorskip("keras")
    from ptft_utils.keras import transformer as keras_transformer

    block = keras_transformer.encoder_block(32, 4, 64, seed=1)
    twin = keras_transformer.copy_block_to_torch(block, tf.EncoderBlock(32, 4, 64))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 32)).astype("float32")
    mask = np.ones((3, 7), dtype="int64")
    mask[0, 4:] = 0
    assert keras_transformer.block_error(block, twin, x, mask) <= 1e-5
    with torch.no_grad():  # the layout mistake: a Keras kernel copied without its transpose is caught
        twin.attention.query.weight.copy_(twin.attention.query.weight.T.clone())
    assert keras_transformer.block_error(block, twin, x, mask) > 1e-3
