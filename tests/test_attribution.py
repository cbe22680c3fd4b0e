"""Chapter 09's attributions: IG completeness, ours against Captum, the randomisation sanity check."""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

from torch import nn  # noqa: E402

from ptft_utils.eval import attribution  # noqa: E402


def small_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).eval()


def inputs() -> torch.Tensor:
    return torch.randn(5, 6, generator=torch.Generator().manual_seed(1))


def test_integrated_gradients_are_complete_within_1e_3():
    model, x = small_model(), inputs()
    ig = attribution.integrated_gradients(model, x, target=1, steps=200)
    assert attribution.completeness_gap(model, x, ig, target=1).abs().max() < 1e-3


def test_from_scratch_ig_agrees_with_captum():
    model, x = small_model(), inputs()
    ours = attribution.integrated_gradients(model, x, target=2, steps=32, method="riemann_middle")
    theirs = attribution.captum_integrated_gradients(model, x, target=2, steps=32, method="riemann_middle")
    assert (ours - theirs).abs().max() < 1e-5


def test_captum_trapezoid_is_ours_scaled_by_n_minus_1_over_n():
    model, x = small_model(), inputs()
    ours = attribution.integrated_gradients(model, x, target=0, steps=16)
    theirs = attribution.captum_integrated_gradients(model, x, target=0, steps=16, method="riemann_trapezoid")
    assert (ours * 15 / 16 - theirs).abs().max() < 1e-5


def test_saliency_agrees_with_captum():
    model, x = small_model(), inputs()
    target = torch.tensor([0, 1, 2, 0, 1])
    assert torch.allclose(attribution.saliency(model, x, target), attribution.captum_saliency(model, x, target))


def test_randomisation_check_is_one_for_the_same_weights_and_lower_for_random_ones():
    torch.manual_seed(0)
    x = torch.randn(200, 6)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    result = attribution.randomisation_check(model, x[:20], target=1, seed=3)
    assert 0 <= result["examples"] == 20
    assert result["spearman_mean"] < 0.9


def test_bad_steps_are_refused_by_name():
    with pytest.raises(ValueError, match="steps"):
        attribution.integrated_gradients(small_model(), inputs(), target=0, steps=1)
