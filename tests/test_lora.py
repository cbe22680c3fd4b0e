"""The from-scratch LoRA: parity with peft, merging, what trains, the adapter file, and resuming."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from ptft_utils.finetune import lora
from ptft_utils.hf.peft_parity import lora_parity
from ptft_utils.models.cnn import SeedCNN
from ptft_utils.train.schedules import build_optimizer
from ptft_utils.train.steps import train_steps


def pretrained_cnn(seed: int = 0) -> SeedCNN:
    torch.manual_seed(seed)
    return SeedCNN()


def images(n: int = 8, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_lora_matches_peft_forward_and_gradients_within_1e_6() -> None:
    parity = lora_parity(pretrained_cnn(), ["conv1", "conv2", "fc1"], images(), rank=4, alpha=8)
    for key in ("forward_max_abs", "grad_A_max_abs", "grad_B_max_abs", "grad_input_max_abs", "merged_ours_vs_peft"):
        assert parity[key] <= 1e-6, (key, parity[key])
    assert parity["trainable_ours"] == parity["trainable_peft"] > 0


def test_new_lora_layer_starts_as_the_pretrained_layer() -> None:
    model = pretrained_cnn()
    wrapped = copy.deepcopy(model)
    lora.inject_lora(wrapped, ["conv2", "fc1"], rank=2, seed=3)
    assert torch.equal(wrapped(images()), model(images()))


@pytest.mark.parametrize("targets", [["fc1"], ["conv1", "conv2"]])
def test_merged_weights_give_the_unmerged_outputs_within_1e_6(targets) -> None:
    model = pretrained_cnn()
    lora.inject_lora(model, targets, rank=4, alpha=8, seed=0)
    with torch.no_grad():
        for layer in lora.lora_layers(model).values():
            layer.lora_B.normal_(std=0.1)
    before = model(images())
    lora.merge_lora(model)
    merged = model(images())
    lora.unmerge_lora(model)
    after = model(images())
    assert float((merged - before).abs().max()) <= 1e-6
    assert float((after - before).abs().max()) <= 1e-6
    assert not lora.lora_layers(model)[targets[0]].merged


def test_mark_only_lora_trainable_counts_the_low_rank_matrices_and_the_head() -> None:
    model = pretrained_cnn()
    lora.inject_lora(model, ["conv2", "fc1"], rank=4)
    count = lora.mark_only_lora_trainable(model, also=["head"])
    conv2 = 4 * 32 * 3 * 3 + 64 * 4  # A: r x in x kh x kw, B: out x r x 1 x 1
    fc1 = 4 * 1600 + 128 * 4
    head = 128 * 10 + 10
    assert count == conv2 + fc1 + head
    assert count == sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_lora_refuses_a_layer_it_cannot_wrap() -> None:
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(ValueError, match="targets"):
        lora.inject_lora(model, ["0"])
    with pytest.raises(ValueError, match="rank"):
        lora.LoRALinear(nn.Linear(3, 3), rank=0)


def test_adapter_state_round_trips_into_a_fresh_model() -> None:
    model = pretrained_cnn()
    lora.inject_lora(model, ["fc1"], rank=4, seed=0)
    with torch.no_grad():
        model.fc1.lora_B.normal_()
    state = lora.lora_state_dict(model, also=["head"])
    assert set(state) == {"fc1.lora_A", "fc1.lora_B", "head.weight", "head.bias"}
    fresh = pretrained_cnn()
    lora.inject_lora(fresh, ["fc1"], rank=4, seed=1)
    lora.load_lora_state_dict(fresh, state)
    assert torch.equal(fresh(images()), model(images()))


def _lora_run(checkpoint, stop_after=None):
    torch.manual_seed(0)
    model = pretrained_cnn()
    lora.inject_lora(model, ["conv2", "fc1"], rank=4, dropout=0.1, seed=0)
    lora.mark_only_lora_trainable(model, also=["head"])
    x, y = images(40, seed=2), torch.arange(40) % 10
    optimizer = build_optimizer("adamw", [p for p in model.parameters() if p.requires_grad], 1e-2)
    result = train_steps(
        model, (x, y), (x[:10], y[:10]), optimizer=optimizer, steps=12, batch_size=8, eval_every=4,
        seed=0, checkpoint_path=checkpoint, checkpoint_every=4, stop_after=stop_after,
    )  # fmt: skip
    return model, result


def test_lora_run_killed_and_resumed_ends_bit_identical(tmp_path) -> None:
    straight, _ = _lora_run(None)
    path = tmp_path / "lora.pt"
    _lora_run(path, stop_after=6)  # killed after step 6: the last checkpoint is at step 4
    resumed, result = _lora_run(path)
    assert result.resumed_from == 4
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert 0 < result.checkpoint_bytes < 225_034 * 4  # adapter, head and optimiser: smaller than the model


def test_lora_checkpoint_holds_only_what_trains(tmp_path) -> None:
    from ptft_utils.train.checkpoint import load_checkpoint

    path = tmp_path / "lora.pt"
    _lora_run(path)
    saved = load_checkpoint(path)
    assert set(saved["trainable"]) == {
        "conv2.lora_A",
        "conv2.lora_B",
        "fc1.lora_A",
        "fc1.lora_B",
        "head.weight",
        "head.bias",
    }
