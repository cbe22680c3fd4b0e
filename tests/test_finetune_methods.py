"""BitFit, adapters, L2-SP, rehearsal, schedules and the range test: each trains only what it should."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from ptft_utils.finetune import adapters, regularizers
from ptft_utils.models.cnn import SeedCNN
from ptft_utils.train import schedules
from ptft_utils.train.steps import SourceRehearsal, step_indices, train_steps


def cnn(seed: int = 0) -> SeedCNN:
    torch.manual_seed(seed)
    return SeedCNN()


def data(n: int = 40, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def train_briefly(model, steps: int = 5) -> None:
    x, y = data()
    params = [p for p in model.parameters() if p.requires_grad]
    train_steps(model, (x, y), (x, y), optimizer=torch.optim.SGD(params, lr=0.1), steps=steps, eval_every=steps)


def test_bitfit_trains_the_biases_and_the_head_only() -> None:
    model = cnn()
    before = copy.deepcopy(model.state_dict())
    count = adapters.bitfit(model, also=["head"])
    assert count == 32 + 64 + 128 + (128 * 10 + 10)
    train_briefly(model)
    for name, value in model.state_dict().items():
        changed = not torch.equal(value, before[name])
        assert changed == (name.endswith("bias") or name.startswith("head.")), name


def test_adapters_train_only_themselves_and_the_head() -> None:
    model = cnn()
    reference = cnn()
    added = adapters.add_adapters(model, ["conv2", "fc1"], bottleneck=8, seed=0)
    count = adapters.mark_only_adapters_trainable(model, also=["head"])
    conv2 = (64 * 8 + 8) + (8 * 64 + 64)  # 1x1 convolutions down and up
    fc1 = (128 * 8 + 8) + (8 * 128 + 128)
    assert count == conv2 + fc1 + 1290 and set(added) == {"conv2", "fc1"}
    x, _ = data(4)
    assert torch.equal(model(x), reference(x))  # zero-initialised up-projection: starts as the pretrained net
    frozen = {n: v.clone() for n, v in model.state_dict().items() if "adapter" not in n and not n.startswith("head")}
    train_briefly(model)
    for name, value in frozen.items():
        assert torch.equal(model.state_dict()[name], value), name
    assert not torch.equal(model.fc1.adapter.up.weight, torch.zeros_like(model.fc1.adapter.up.weight))


def test_l2_sp_is_zero_at_the_pretrained_weights() -> None:
    model = cnn()
    reference = regularizers.pretrained_reference(model)
    assert float(regularizers.l2_sp_penalty(model, reference, alpha=0.1)) == 0.0
    assert "head.weight" not in reference


def test_l2_sp_gradient_is_alpha_times_the_distance_and_matches_finite_differences() -> None:
    model = cnn()
    reference = regularizers.pretrained_reference(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    alpha, beta = 0.3, 0.05
    model.zero_grad()
    regularizers.l2_sp_penalty(model, reference, alpha=alpha, beta=beta).backward()
    assert torch.allclose(model.fc1.weight.grad, alpha * (model.fc1.weight - reference["fc1.weight"]), atol=1e-7)
    assert torch.allclose(model.head.weight.grad, beta * model.head.weight, atol=1e-7)
    # one coordinate by central differences, in float64
    double = copy.deepcopy(model).double()
    ref64 = {k: v.double() for k, v in reference.items()}
    eps, (i, j) = 1e-6, (3, 17)
    values = []
    for sign in (1, -1):
        with torch.no_grad():
            double.fc1.weight[i, j] += sign * eps
        values.append(float(regularizers.l2_sp_penalty(double, ref64, alpha=alpha, beta=beta)))
        with torch.no_grad():
            double.fc1.weight[i, j] -= sign * eps
    numeric = (values[0] - values[1]) / (2 * eps)
    assert math.isclose(numeric, float(model.fc1.weight.grad[i, j]), rel_tol=1e-4, abs_tol=1e-9)


def test_l2_sp_pulls_fine_tuning_toward_the_pretrained_weights() -> None:
    distances = []
    for alpha in (0.0, 5.0):
        model = cnn()
        reference = regularizers.pretrained_reference(model)
        x, y = data()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        penalty = lambda m, a=alpha, r=reference: regularizers.l2_sp_penalty(m, r, alpha=a)
        train_steps(model, (x, y), (x, y), optimizer=opt, steps=20, eval_every=20, penalty=penalty)
        distances.append(float((model.fc1.weight - reference["fc1.weight"]).norm()))
    assert distances[1] < 0.5 * distances[0]


def test_rehearsal_draws_the_same_source_batches_for_the_same_step() -> None:
    x, y = data(100)
    model = cnn()
    rehearsal = SourceRehearsal(x, y, model, batch_size=16, weight=0.5, seed=3)
    assert float(rehearsal(7)) == float(rehearsal(7))
    assert not torch.equal(step_indices(100, 16, 3 + 7919, 7), step_indices(100, 16, 3 + 7919, 8))
    with pytest.raises(ValueError, match="batch_size"):
        SourceRehearsal(x, y, model, batch_size=0)


def test_step_indices_cover_every_example_once_per_epoch() -> None:
    seen = torch.cat([step_indices(10, 3, seed=0, step=s) for s in range(4)])
    assert sorted(seen.tolist()) == list(range(10))
    assert torch.equal(step_indices(10, 32, 0, 5), torch.arange(10))  # full batch: gradient descent


@pytest.mark.parametrize("name", schedules.SCHEDULES)
def test_schedules_peak_at_one_and_stay_positive(name) -> None:
    factor = schedules.schedule_factor(name, 100, warmup_fraction=0.1)
    values = [factor(s) for s in range(100)]
    assert max(values) == pytest.approx(1.0) and min(values) >= 0.0
    if name == "warmup_cosine":
        assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0) and values[-1] < 0.01
    if name == "one_cycle":
        assert values[0] == pytest.approx(1 / 25) and values.index(max(values)) == 30


def test_build_optimizer_knows_its_five_and_refuses_others() -> None:
    params = [torch.nn.Parameter(torch.zeros(2))]
    kinds = {name: type(schedules.build_optimizer(name, params, 0.1)).__name__ for name in schedules.OPTIMIZERS}
    assert kinds == {"gd": "SGD", "sgd": "SGD", "momentum": "SGD", "adam": "Adam", "adamw": "AdamW"}
    assert schedules.build_optimizer("momentum", params, 0.1).param_groups[0]["momentum"] == 0.9
    with pytest.raises(ValueError, match="optimizer name"):
        schedules.build_optimizer("lion", params, 0.1)


def test_lr_range_test_leaves_the_model_unchanged_and_suggests_a_rate_in_range() -> None:
    model = cnn()
    before = copy.deepcopy(model.state_dict())
    x, y = data(64)
    found = schedules.lr_range_test(model, x, y, min_lr=1e-5, max_lr=1.0, steps=30)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert 1e-5 <= found["suggested_lr"] <= 1.0 and len(found["lrs"]) == len(found["losses"]) >= 3
