"""Seeding makes CPU runs repeat exactly; the environment record names what ran."""

import random

import numpy as np
import torch

from ptft_utils import environment, seed_everything


def draw_and_train(seed: int):
    seed_everything(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return random.random(), np.random.rand(), [p.detach().clone() for p in model.parameters()]


def test_same_seed_gives_identical_numbers_twice():
    a, b = draw_and_train(7), draw_and_train(7)
    assert a[0] == b[0] and a[1] == b[1]
    assert all(torch.equal(p, q) for p, q in zip(a[2], b[2], strict=True))


def test_different_seeds_differ():
    a, b = draw_and_train(1), draw_and_train(2)
    assert not torch.equal(a[2][0], b[2][0])


def test_environment_names_python_cpu_and_versions():
    env = environment("cpu")
    assert env["python"].startswith("3.")
    assert env["cpu_count"] >= 1 and env["device"] == "cpu"
    assert env["torch"].startswith(torch.__version__.split("+")[0])
