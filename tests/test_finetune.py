"""Tests for ptft_utils.finetune: freezing, heads, discriminative rates, gradual unfreezing."""

from __future__ import annotations

import pytest
import torch

from ptft_utils import finetune, train
from ptft_utils.models import SeedCNN


def one_step(model: SeedCNN, **fit_kwargs) -> None:
    torch.manual_seed(1)
    x, y = torch.rand(16, 28, 28), torch.randint(0, 10, (16,))
    train.fit(model, (x, y), epochs=1, batch_size=16, progress=False, **fit_kwargs)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_frozen_weights_are_bit_identical_after_a_training_step() -> None:
    torch.manual_seed(0)
    model = SeedCNN()
    finetune.freeze([model.conv1, model.conv2])
    before_frozen, before_head = snapshot(model.conv2), snapshot(model.head)
    one_step(model, lr=0.01)
    for name, tensor in model.conv2.state_dict().items():
        assert torch.equal(tensor, before_frozen[name]), name
    assert not torch.equal(model.head.weight, before_head["weight"])


def test_unfreeze_lets_gradients_flow_again() -> None:
    model = SeedCNN()
    finetune.freeze(model.layer_groups())
    assert finetune.count_trainable(model) == 0
    finetune.unfreeze(model.layer_groups()[2:])
    assert finetune.count_trainable(model) == 204_928 + 1_290


def test_linear_probe_trains_only_a_reinitialised_head() -> None:
    torch.manual_seed(0)
    model = SeedCNN()
    old_head = model.head.weight.clone()
    finetune.linear_probe(model.layer_groups(), seed=3)
    assert finetune.count_trainable(model) == 1_290
    assert not torch.equal(model.head.weight, old_head)


def test_reinit_with_a_seed_gives_the_same_head_whatever_came_before() -> None:
    a, b = SeedCNN(), SeedCNN()
    torch.rand(100)  # consume randomness between the two calls
    finetune.reinit(a.head, seed=7)
    finetune.reinit(b.head, seed=7)
    assert torch.equal(a.head.weight, b.head.weight)


def test_discriminative_learning_rates_reach_the_optimizer_param_groups() -> None:
    model = SeedCNN()
    groups = finetune.discriminative_param_groups(model.layer_groups(), base_lr=1e-3, decay=2.0)
    optimizer = torch.optim.Adam(groups)
    lrs = [g["lr"] for g in optimizer.param_groups]
    assert lrs == pytest.approx([1e-3 / 8, 1e-3 / 4, 1e-3 / 2, 1e-3])
    assert optimizer.param_groups[0]["params"][0] is model.conv1.weight
    assert optimizer.param_groups[-1]["params"][0] is model.head.weight


def test_fit_uses_the_discriminative_param_groups() -> None:
    model = SeedCNN()
    groups = finetune.discriminative_param_groups(model.layer_groups(), base_lr=1e-3, decay=10.0)
    history = train.fit(
        model, (torch.rand(8, 28, 28), torch.randint(0, 10, (8,))), epochs=1, param_groups=groups, progress=False
    )
    assert history[0]["lr"] == pytest.approx(1e-3)  # the head's rate is reported


def test_discriminative_groups_move_lower_layers_less() -> None:
    torch.manual_seed(0)
    model = SeedCNN()
    before = snapshot(model)
    groups = finetune.discriminative_param_groups(model.layer_groups(), base_lr=1e-2, decay=10.0)
    one_step(model, param_groups=groups)
    # Adam's first step moves each weight by about its learning rate
    conv_step = (model.conv1.weight - before["conv1.weight"]).abs().max().item()
    head_step = (model.head.weight - before["head.weight"]).abs().max().item()
    assert conv_step == pytest.approx(1e-2 / 10**3, rel=0.05)
    assert head_step == pytest.approx(1e-2, rel=0.05)


def test_gradual_unfreezing_schedule_adds_one_group_per_step() -> None:
    assert finetune.gradual_unfreezing_schedule(4, 6) == [1, 2, 3, 4, 4, 4]
    assert finetune.gradual_unfreezing_schedule(3, 5, every=2) == [1, 1, 2, 2, 3]


def test_gradual_unfreezing_hook_freezes_lower_groups_in_early_epochs() -> None:
    model = SeedCNN()
    hook = finetune.gradual_unfreezing(model.layer_groups())
    trainable = []
    for epoch in (1, 2, 3, 4, 5):
        hook(epoch, model, None)
        trainable.append(finetune.count_trainable(model))
    assert trainable == [1_290, 1_290 + 204_928, 1_290 + 204_928 + 18_496, 225_034, 225_034]


@pytest.mark.parametrize(
    ("strategy", "trainable"),
    [("scratch", 225_034), ("linear_probe", 1_290), ("top", 206_218), ("full", 225_034), ("discriminative", 225_034)],
)
def test_setup_strategy_sets_what_trains(strategy: str, trainable: int) -> None:
    model = SeedCNN()
    kwargs = finetune.setup_strategy(model.layer_groups(), strategy, lr=1e-3, head_seed=0)
    assert finetune.count_trainable(model) == trainable
    assert ("param_groups" in kwargs) == (strategy == "discriminative")


def test_setup_strategy_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        finetune.setup_strategy(SeedCNN().layer_groups(), "everything", lr=1e-3)
