"""The tiny GPT (ptft_utils.models.gpt) and its training loop (ptft_utils.train.causal_lm)."""

from __future__ import annotations

import pytest
import torch

from ptft_utils.models.gpt import GPT, GPTConfig
from ptft_utils.train.causal_lm import random_windows, stream_nll, train_causal_lm


def tiny(**overrides):
    torch.manual_seed(0)
    return GPT(GPTConfig(**({"vocab_size": 11, "block_size": 8, "n_layer": 2, "n_head": 2, "d_model": 16} | overrides)))


def test_logits_have_batch_length_vocab_shape():
    assert tiny()(torch.randint(11, (3, 5))).shape == (3, 5, 11)


def test_changing_a_future_token_leaves_earlier_logits_unchanged():
    model = tiny().eval()
    idx = torch.randint(11, (2, 8), generator=torch.Generator().manual_seed(1))
    changed = idx.clone()
    changed[:, 5] = (changed[:, 5] + 1) % 11
    before, after = model(idx), model(changed)
    torch.testing.assert_close(before[:, :5], after[:, :5])
    assert (before[:, 5:] - after[:, 5:]).abs().max() > 1e-6


def test_output_layer_is_tied_to_the_token_embedding():
    model = tiny()
    assert model.head.weight.data_ptr() == model.tokens.weight.data_ptr()


def test_parameter_count_counts_the_tied_matrix_once():
    model = tiny()
    unique = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    assert model.num_parameters() == unique
    assert model.num_parameters(non_embedding=True) == unique - 11 * 16 - 8 * 16


def test_flops_per_token_is_six_n_plus_attention_and_output():
    model = tiny()
    expected = 6 * model.num_parameters(non_embedding=True) + 6 * 2 * 8 * 16 + 6 * 16 * 11
    assert model.flops_per_token() == expected


def test_generate_is_reproducible_with_a_fixed_generator():
    model = tiny()
    start = torch.zeros(1, 1, dtype=torch.long)
    first = model.generate(start, 12, temperature=1.0, generator=torch.Generator().manual_seed(3))
    second = model.generate(start, 12, temperature=1.0, generator=torch.Generator().manual_seed(3))
    assert first.shape == (1, 13) and torch.equal(first, second)


def test_top_k_one_equals_greedy_decoding():
    model = tiny()
    idx = torch.zeros(1, 1, dtype=torch.long)
    sampled = model.generate(idx, 10, top_k=1, generator=torch.Generator().manual_seed(4))
    greedy = idx
    for _ in range(10):
        greedy = torch.cat([greedy, model(greedy[:, -8:])[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(sampled, greedy)


def test_generate_crops_the_context_past_block_size():
    out = tiny().generate(torch.zeros(1, 8, dtype=torch.long), 5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 13)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [({"vocab_size": 0}, "vocab_size"), ({"n_layer": 0}, "n_layer"), ({"d_model": 15}, "n_head"),
     ({"block_size": 2.5}, "block_size"), ({"dropout": 1.0}, "dropout")],
)  # fmt: skip
def test_config_rejects_a_bad_field_by_name(overrides, named):
    with pytest.raises(ValueError, match=named):
        GPTConfig(**({"vocab_size": 11, "n_head": 2, "d_model": 16} | overrides))


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [({"temperature": 0.0}, "temperature"), ({"top_k": 0}, "top_k"), ({"top_k": 12}, "top_k"),
     ({"max_new_tokens": -1}, "max_new_tokens")],
)  # fmt: skip
def test_generate_rejects_a_bad_argument_by_name(kwargs, named):
    with pytest.raises(ValueError, match=named):
        tiny().generate(torch.zeros(1, 1, dtype=torch.long), **({"max_new_tokens": 2} | kwargs))


def test_forward_rejects_a_window_longer_than_block_size():
    with pytest.raises(ValueError, match="block_size"):
        tiny()(torch.zeros(1, 9, dtype=torch.long))


def test_random_windows_targets_are_inputs_shifted_by_one():
    ids = torch.arange(100)
    x, y = random_windows(ids, 8, 4, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 8)
    assert torch.equal(y, x + 1)


def test_training_lowers_the_loss_on_a_repeating_stream():
    model = tiny()
    ids = torch.tensor([1, 2, 3, 4, 5] * 40)
    before = stream_nll(model, ids)
    run = train_causal_lm(model, ids, steps=60, lr=3e-3, batch_size=8, seed=0)
    assert run.steps == 60 and run.tokens == 60 * 8 * 8
    assert stream_nll(model, ids) < before / 2


def test_training_is_reproducible_under_a_seed():
    ids = torch.tensor([1, 2, 3, 4, 5, 6, 7] * 20)
    first, second = tiny(), tiny()
    train_causal_lm(first, ids, steps=5, lr=1e-3, batch_size=4, seed=2)
    train_causal_lm(second, ids, steps=5, lr=1e-3, batch_size=4, seed=2)
    torch.testing.assert_close(first.state_dict(), second.state_dict())


def test_stream_nll_rejects_a_stream_shorter_than_a_window():
    with pytest.raises(ValueError, match="block_size"):
        stream_nll(tiny(), torch.arange(5))
