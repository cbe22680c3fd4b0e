"""Tests for chapter 08's convolutional VAE: shapes, the negative ELBO by hand, training, sampling, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions

from ptft_utils.data import load_digits28
from ptft_utils.models.vae import ConvVAE, elbo_loss


@pytest.fixture(autouse=True)
def one_thread():
    """Small convolutions: one thread is fastest on a shared CPU (two threads oversubscribe it)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_forward_returns_pixel_logits_and_the_posterior_parameters() -> None:
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=5)
    logits, mean, log_variance = model(torch.rand(3, 1, 28, 28))
    assert logits.shape == (3, 1, 28, 28)
    assert mean.shape == (3, 5) and log_variance.shape == (3, 5)
    assert model(torch.rand(2, 28, 28))[0].shape == (2, 1, 28, 28)  # a channel-less batch is accepted


def test_conditional_forward_takes_one_label_per_image() -> None:
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=4, num_classes=10)
    logits, mean, _ = model(torch.rand(4, 1, 28, 28), torch.tensor([0, 3, 9, 3]))
    assert logits.shape == (4, 1, 28, 28) and mean.shape == (4, 4)


def test_forward_decodes_the_mean_when_the_posterior_variance_vanishes() -> None:
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=3)
    with torch.no_grad():
        model.to_log_variance.weight.zero_()
        model.to_log_variance.bias.fill_(-200.0)  # sigma = exp(-100): z = mean + sigma * eps is the mean
    x = torch.rand(2, 1, 28, 28)
    logits, mean, _ = model(x)
    assert torch.allclose(logits, model.decode(mean), atol=1e-6)


def test_forward_draws_z_with_the_posterior_spread() -> None:
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=2)
    with torch.no_grad():
        for layer in (model.to_mean, model.to_log_variance):
            layer.weight.zero_()
        model.to_mean.bias.copy_(torch.tensor([1.5, -2.0]))
        model.to_log_variance.bias.copy_(torch.tensor([math.log(0.25), math.log(4.0)]))
    drawn: list[torch.Tensor] = []
    model.from_latent.register_forward_hook(lambda module, inputs, output: drawn.append(inputs[0]))
    n = 1000
    model(torch.rand(n, 1, 28, 28))
    z = drawn[0]
    # Five standard errors: of the mean, sigma / sqrt(n); of the standard deviation, about sigma / sqrt(2n).
    sigma = torch.tensor([0.5, 2.0])
    assert torch.all((z.mean(dim=0) - torch.tensor([1.5, -2.0])).abs() < 5 * sigma / math.sqrt(n))
    assert torch.all((z.std(dim=0) - sigma).abs() < 5 * sigma / math.sqrt(2 * n))


def _bce(logit: float, x: float) -> float:
    p = 1.0 / (1.0 + math.exp(-logit))
    return -(x * math.log(p) + (1.0 - x) * math.log(1.0 - p))


def test_negative_elbo_equals_a_hand_computation_on_a_tiny_case() -> None:
    logits = torch.tensor([[[[0.5, -1.0], [2.0, 0.0]]], [[[-0.3, 1.2], [0.0, -2.5]]]], dtype=torch.float64)
    x = torch.tensor([[[[1.0, 0.0], [1.0, 0.5]]], [[[0.0, 1.0], [0.25, 0.0]]]], dtype=torch.float64)
    mean = torch.tensor([[0.3, -1.0], [0.0, 2.0]], dtype=torch.float64)
    log_variance = torch.tensor([[0.0, -0.5], [1.0, math.log(0.1)]], dtype=torch.float64)
    reconstruction = sum(
        _bce(logit, pixel) for logit, pixel in zip(logits.flatten().tolist(), x.flatten().tolist(), strict=True)
    )
    kl = sum(
        0.5 * (math.exp(v) + m * m - 1.0 - v)
        for m, v in zip(mean.flatten().tolist(), log_variance.flatten().tolist(), strict=True)
    )
    result = elbo_loss(logits, x, mean, log_variance, beta=0.7)
    assert float(result["reconstruction"]) == pytest.approx(reconstruction / 2, rel=1e-12)
    assert float(result["kl"]) == pytest.approx(kl / 2, rel=1e-12)
    assert float(result["loss"]) == pytest.approx((reconstruction + 0.7 * kl) / 2, rel=1e-12)


def test_gaussian_likelihood_is_the_unit_variance_normal_negative_log_density() -> None:
    logits = torch.tensor([[[[0.5, -1.0]]]], dtype=torch.float64)
    x = torch.tensor([[[[0.9, 0.1]]]], dtype=torch.float64)
    zeros = torch.zeros(1, 2, dtype=torch.float64)
    means = torch.sigmoid(logits).flatten().tolist()
    expected = sum(
        0.5 * (v - m) ** 2 + 0.5 * math.log(2 * math.pi) for v, m in zip(x.flatten().tolist(), means, strict=True)
    )
    result = elbo_loss(logits, x, zeros, zeros, likelihood="gaussian")
    assert float(result["reconstruction"]) == pytest.approx(expected, rel=1e-12)
    assert float(result["kl"]) == 0.0  # q = N(0, I) is the prior


def test_kl_term_matches_torch_distributions() -> None:
    generator = torch.Generator().manual_seed(1)
    mean = torch.randn(6, 8, generator=generator, dtype=torch.float64)
    log_variance = torch.randn(6, 8, generator=generator, dtype=torch.float64)
    posterior = distributions.Normal(mean, torch.exp(0.5 * log_variance))
    prior = distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    expected = distributions.kl_divergence(posterior, prior).sum(dim=1).mean()
    logits = torch.zeros(6, 1, 28, 28, dtype=torch.float64)
    result = elbo_loss(logits, torch.full_like(logits, 0.5), mean, log_variance)
    assert torch.allclose(result["kl"], expected, rtol=1e-12)


def test_loss_falls_over_a_few_training_steps_on_digits() -> None:
    torch.manual_seed(0)
    images = torch.from_numpy(load_digits28().images[:128]).unsqueeze(1)
    model = ConvVAE(latent_dim=8)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)

    def evaluate() -> float:
        torch.manual_seed(123)
        with torch.no_grad():
            logits, mean, log_variance = model(images)
            return float(elbo_loss(logits, images, mean, log_variance)["loss"])

    before = evaluate()
    for step in range(16):
        batch = images[(step * 32) % 128 : (step * 32) % 128 + 32]
        logits, mean, log_variance = model(batch)
        optimiser.zero_grad()
        elbo_loss(logits, batch, mean, log_variance)["loss"].backward()
        optimiser.step()
    after = evaluate()
    assert math.isfinite(before) and after < 0.75 * before


def test_conditional_sampler_draws_images_of_the_requested_classes() -> None:
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=6, num_classes=10)
    labels = torch.tensor([0, 1, 2, 7, 7, 9])
    images = model.sample(6, labels, generator=torch.Generator().manual_seed(4))
    again = model.sample(6, labels, generator=torch.Generator().manual_seed(4))
    other = model.sample(6, torch.tensor([3, 3, 3, 3, 3, 3]), generator=torch.Generator().manual_seed(4))
    assert images.shape == (6, 1, 28, 28)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert torch.equal(images, again)  # the generator fixes z
    assert not torch.allclose(images[3], images[4])  # same class, different z
    assert not torch.allclose(images[0], other[0])  # same z, different class: the label is used


def test_unconditional_sampler_takes_no_labels() -> None:
    model = ConvVAE(latent_dim=3)
    assert model.sample(5).shape == (5, 1, 28, 28)
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, torch.tensor([0, 1]))


@pytest.mark.parametrize(
    ("n", "labels", "named"),
    [
        (3, None, "pass labels"),
        (3, torch.tensor([0, 1]), "labels must be 1-d with one label per row"),
        (2, torch.tensor([0, 10]), r"labels must lie in 0\.\.9"),
        (2, torch.tensor([-1, 0]), r"labels must lie in 0\.\.9"),
        (2, torch.tensor([0.0, 1.0]), "integer tensor"),
        (0, torch.tensor([], dtype=torch.long), "n must be a positive"),
    ],
)
def test_conditional_sampler_rejects_bad_requests(n: int, labels: torch.Tensor | None, named: str) -> None:
    model = ConvVAE(latent_dim=3, num_classes=10)
    with pytest.raises(ValueError, match=named):
        model.sample(n, labels)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [({"latent_dim": 0}, "latent_dim"), ({"latent_dim": 2.5}, "latent_dim"), ({"num_classes": 1}, "num_classes")],
)
def test_constructor_rejects_bad_arguments(arguments: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        ConvVAE(**arguments)


def test_encoder_rejects_images_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match=r"x must be images \[B, 1, 28, 28\]"):
        ConvVAE().encode(torch.rand(2, 1, 32, 32))


def test_decoder_rejects_codes_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="latent_dim=16"):
        ConvVAE().decode(torch.rand(2, 5))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"likelihood": "poisson"}, "likelihood"),
        ({"beta": -0.5}, "beta"),
        ({"x": torch.rand(2, 1, 14, 14)}, "same shape"),
        ({"x": torch.full((2, 1, 28, 28), 2.0)}, r"x in \[0, 1\]"),
        ({"log_variance": torch.zeros(2, 3)}, "log_variance"),
    ],
)
def test_elbo_loss_rejects_bad_arguments(change: dict, named: str) -> None:
    arguments = {
        "logits": torch.zeros(2, 1, 28, 28),
        "x": torch.rand(2, 1, 28, 28),
        "mean": torch.zeros(2, 4),
        "log_variance": torch.zeros(2, 4),
    } | change
    keywords = {k: arguments.pop(k) for k in ("likelihood", "beta") if k in arguments}
    with pytest.raises(ValueError, match=named):
        elbo_loss(arguments["logits"], arguments["x"], arguments["mean"], arguments["log_variance"], **keywords)


def test_a_conditional_vae_starts_from_an_unconditional_ones_matching_layers() -> None:
    torch.manual_seed(0)
    source, target = ConvVAE(latent_dim=4), ConvVAE(latent_dim=4, num_classes=10)
    fresh_to_mean = target.to_mean.weight.detach().clone()
    copied = target.load_pretrained(source.state_dict())
    assert set(copied) == {
        f"{layer}.{kind}" for layer in ("conv1", "conv2", "deconv1", "deconv2") for kind in ("weight", "bias")
    } | {"to_mean.bias", "to_log_variance.bias", "from_latent.bias"}
    assert torch.equal(target.conv1.weight, source.conv1.weight)
    assert torch.equal(target.to_mean.weight, fresh_to_mean)  # widened by the label: left as it was


def test_load_pretrained_rejects_a_state_dict_with_nothing_in_common() -> None:
    with pytest.raises(ValueError, match="shares no tensor"):
        ConvVAE().load_pretrained({"encoder.weight": torch.zeros(3)})
