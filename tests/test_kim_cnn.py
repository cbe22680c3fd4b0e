"""Kim's CNN (ptft_utils.models.kim_cnn): shapes, what trains in each variant, masking of padding."""

from __future__ import annotations

import pytest
import torch

from ptft_utils.models.kim_cnn import VARIANTS, KimCNN, pad_batch

VOCAB, DIM, MAPS = 30, 8, 4


def table() -> torch.Tensor:
    return torch.randn(VOCAB, DIM, generator=torch.Generator().manual_seed(0))


def model(variant: str) -> KimCNN:
    torch.manual_seed(0)
    return KimCNN(table(), variant, feature_maps=MAPS)


def trainable(net: KimCNN) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


CONVS = sum(MAPS * DIM * w + MAPS for w in (3, 4, 5))
HEAD = 3 * MAPS * 2 + 2


@pytest.mark.parametrize("variant", VARIANTS)
def test_output_is_one_row_of_class_logits_per_sentence(variant: str) -> None:
    net = model(variant)
    assert net(torch.randint(1, VOCAB, (7, 11))).shape == (7, 2)
    assert net.features(torch.randint(1, VOCAB, (7, 11))).shape == (7, 3 * MAPS)


def test_a_sentence_shorter_than_the_widest_filter_still_gets_features() -> None:
    net = model("rand").eval()
    assert torch.isfinite(net(torch.tensor([[3], [4]]))).all()


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("rand", VOCAB * DIM + CONVS + HEAD),
        ("static", CONVS + HEAD),
        ("non-static", VOCAB * DIM + CONVS + HEAD),
        ("multichannel", VOCAB * DIM + CONVS + HEAD),  # the second, frozen copy does not count
    ],
)
def test_trainable_parameter_count_of_each_variant(variant: str, expected: int) -> None:
    assert trainable(model(variant)) == expected


def test_multichannel_holds_a_frozen_copy_of_the_table() -> None:
    net = model("multichannel")
    assert net.static_embedding is not None and not net.static_embedding.weight.requires_grad
    total = sum(p.numel() for p in net.parameters())
    assert total == trainable(net) + VOCAB * DIM


def test_parameter_groups_leave_a_frozen_table_out() -> None:
    static, non_static = model("static").parameter_groups(), model("non-static").parameter_groups()
    assert static["embedding"] == [] and sum(p.numel() for p in static["rest"]) == CONVS + HEAD
    assert [p.numel() for p in non_static["embedding"]] == [VOCAB * DIM]


def one_step(net: KimCNN) -> None:
    optimiser = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.1)
    ids = torch.randint(1, VOCAB, (6, 9), generator=torch.Generator().manual_seed(1))
    loss = torch.nn.functional.cross_entropy(net(ids), torch.tensor([0, 1, 0, 1, 0, 1]))
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()


def test_multichannel_step_moves_the_tuned_channel_and_leaves_the_frozen_one_bit_identical() -> None:
    net = model("multichannel")
    before_static = net.static_embedding.weight.detach().clone()
    before_tuned = net.embedding.weight.detach().clone()
    one_step(net)
    assert torch.equal(net.static_embedding.weight, before_static)
    assert not torch.equal(net.embedding.weight, before_tuned)


def test_static_step_leaves_the_table_bit_identical() -> None:
    net = model("static")
    before = net.embedding.weight.detach().clone()
    one_step(net)
    assert torch.equal(net.embedding.weight, before)


def test_the_padding_row_is_zero_and_stays_zero_after_a_step() -> None:
    net = model("non-static")
    assert torch.equal(net.embedding.weight[0], torch.zeros(DIM))
    one_step(net)
    assert torch.equal(net.embedding.weight[0], torch.zeros(DIM))


def test_extra_padding_does_not_change_a_sentence_s_features() -> None:
    net = model("multichannel").eval()
    sentence = [5, 6, 7, 8, 9, 10]
    short = net.features(pad_batch([sentence]))
    long = net.features(pad_batch([sentence, list(range(1, 25))]))[:1]
    assert torch.allclose(short, long, atol=1e-6)


def test_max_over_time_pools_the_largest_window_response() -> None:
    net = model("rand").eval()
    ids = pad_batch([[3, 4, 5, 6, 7, 8, 9]])
    embedded = torch.nn.functional.pad(net.embedding(ids), (0, 0, 0, 4)).transpose(1, 2)
    conv = net.convs[0]  # width 3: windows starting at each of the 7 words
    responses = torch.relu(conv(embedded))[:, :, :7]
    assert torch.allclose(net.features(ids)[:, :MAPS], responses.max(dim=2).values, atol=1e-6)


def test_pad_batch_pads_to_at_least_min_length() -> None:
    batch = pad_batch([[1, 2], [3]], min_length=5)
    assert batch.tolist() == [[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]]
    assert pad_batch([list(range(1, 8))]).shape == (1, 7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "dynamic"}, "variant"),
        ({"variant": "rand", "widths": ()}, "widths"),
        ({"variant": "rand", "feature_maps": 0}, "feature_maps"),
        ({"variant": "rand", "pad_id": VOCAB}, "pad_id"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KimCNN(table(), **kwargs)


def test_pad_batch_refuses_an_empty_batch() -> None:
    with pytest.raises(ValueError, match="sequences"):
        pad_batch([])


def test_dropout_from_a_generator_depends_on_that_generator_alone() -> None:
    net = model("rand").train()
    ids = torch.randint(1, VOCAB, (6, 9), generator=torch.Generator().manual_seed(1))
    torch.manual_seed(5)
    first = net(ids, generator=torch.Generator().manual_seed(7))
    torch.manual_seed(99)  # the global generator's state does not matter
    second = net(ids, generator=torch.Generator().manual_seed(7))
    other = net(ids, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_generator_dropout_keeps_the_expected_scale_and_is_off_in_eval() -> None:
    net = model("rand")
    ids = torch.randint(1, VOCAB, (400, 9), generator=torch.Generator().manual_seed(1))
    features = net.features(ids).detach()
    net.train()
    generator = torch.Generator().manual_seed(3)
    dropped = net(ids, generator=generator) - net.linear.bias  # linear in the dropped features
    full = features @ net.linear.weight.T
    assert dropped.mean().item() == pytest.approx(full.mean().item(), rel=0.1)
    net.eval()
    assert torch.equal(net(ids, generator=generator), net.linear(features))
