"""Attributions for PyTorch models: saliency and integrated gradients, from scratch and with Captum.

**Integrated gradients** (Sundararajan et al. 2017) attribute a model's output ``F`` for input
``x`` to its features by integrating the gradient along the straight path from a baseline ``x'``:

    IG_i(x) = (x_i - x'_i) * integral_0^1 dF(x' + a (x - x')) / dx_i  da.

It satisfies *completeness*: ``sum_i IG_i(x) = F(x) - F(x')``. :func:`integrated_gradients`
approximates the integral with ``steps`` points (a Riemann sum, or the trapezoid rule), and
:func:`completeness_gap` measures how far a result is from the axiom, which says whether the
steps were enough. :func:`captum_integrated_gradients` is the same with Captum (the maintained
library; its Riemann sums, ``riemann_left``, ``riemann_middle`` and ``riemann_right``, use the same
points and weights as ours, so the two agree to rounding; Captum's ``riemann_trapezoid`` weighs
the points ``1/n`` with halved ends, weights that sum to ``(n-1)/n``, so it returns ours, the
textbook trapezoid rule, times ``(n-1)/n``). **Saliency** (Simonyan et al. 2014) is the gradient itself, ``|dF/dx|``.

**Sanity check** (Adebayo et al. 2018): an attribution that explains the *model* must change
when the model's weights are replaced by random ones. :func:`randomisation_check` returns the
Spearman rank correlation between the attributions of the trained model and of a re-initialised
copy; near 1 means the method mostly shows the input, not what the model learnt.

``forward`` below is a function of one input tensor returning ``(batch, outputs)`` scores (logits);
``target`` picks the output attributed. For text, attribute the token embeddings (pass a function
of the embeddings). Captum is imported here only, inside ``ptft_utils.eval``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

Forward = Callable[[torch.Tensor], torch.Tensor]
IG_METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def _baseline(inputs: torch.Tensor, baseline: torch.Tensor | None) -> torch.Tensor:
    if baseline is None:
        return torch.zeros_like(inputs)
    baseline = torch.as_tensor(baseline, dtype=inputs.dtype)
    if baseline.shape != inputs.shape and baseline.shape != inputs.shape[1:]:
        raise ValueError(f"baseline must have the inputs' shape {tuple(inputs.shape)} (or one example's), "
                         f"got {tuple(baseline.shape)}")  # fmt: skip
    return baseline.expand_as(inputs)


def _target_scores(output: torch.Tensor, target: int | torch.Tensor) -> torch.Tensor:
    if output.ndim != 2:
        raise ValueError(f"forward must return (batch, outputs) scores, got shape {tuple(output.shape)}")
    index = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if index.numel() == 1:
        index = index.expand(output.shape[0])
    if index.numel() != output.shape[0] or index.min() < 0 or index.max() >= output.shape[1]:
        raise ValueError(f"target must be one class index or one per example, in [0, {output.shape[1] - 1}]")
    return output.gather(1, index[:, None]).squeeze(1)


def path_points(steps: int, method: str = "riemann_trapezoid") -> tuple[np.ndarray, np.ndarray]:
    """The points ``a`` in [0, 1] and weights of the quadrature over the path (weights sum to 1).

    Taught in: 09 §3.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    if method == "riemann_trapezoid":
        alphas = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2
    elif method in ("riemann_left", "riemann_right", "riemann_middle"):
        offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
        alphas = (np.arange(steps) + offset) / steps
        weights = np.full(steps, 1.0 / steps)
    else:
        raise ValueError(f"method must be one of {', '.join(IG_METHODS)}, got {method!r}")
    return alphas, weights


def integrated_gradients(forward: Forward, inputs: torch.Tensor, target: int | torch.Tensor, *,
                         baseline: torch.Tensor | None = None, steps: int = 64,
                         method: str = "riemann_trapezoid") -> torch.Tensor:  # fmt: skip
    """Integrated gradients of ``forward``'s ``target`` score, from scratch (the formula in the module).

    ``baseline`` defaults to zeros. Returns a tensor of ``inputs``' shape.

    Taught in: 09 §3.
    """
    inputs = torch.as_tensor(inputs).detach()
    base = _baseline(inputs, baseline).detach()
    alphas, weights = path_points(steps, method)
    total = torch.zeros_like(inputs)
    for alpha, weight in zip(alphas, weights, strict=True):
        point = (base + float(alpha) * (inputs - base)).requires_grad_(True)
        score = _target_scores(forward(point), target).sum()
        (gradient,) = torch.autograd.grad(score, point)
        total += float(weight) * gradient
    return (inputs - base) * total


def completeness_gap(forward: Forward, inputs: torch.Tensor, attributions: torch.Tensor, target: int | torch.Tensor,
                     *, baseline: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """Per example, ``sum_i IG_i - (F(x) - F(x'))``: zero for exact integrated gradients.

    Taught in: 09 §3.
    """
    inputs = torch.as_tensor(inputs).detach()
    base = _baseline(inputs, baseline)
    with torch.no_grad():
        difference = _target_scores(forward(inputs), target) - _target_scores(forward(base), target)
    return attributions.reshape(inputs.shape[0], -1).sum(1) - difference


def captum_integrated_gradients(forward: Forward, inputs: torch.Tensor, target: int | torch.Tensor, *,
                                baseline: torch.Tensor | None = None, steps: int = 64,
                                method: str = "riemann_trapezoid") -> torch.Tensor:  # fmt: skip
    """Integrated gradients through Captum's ``IntegratedGradients`` (the same quadrature ``method``).

    Taught in: 09 §3.
    """
    from captum.attr import IntegratedGradients

    if method not in IG_METHODS:
        raise ValueError(f"method must be one of {', '.join(IG_METHODS)}, got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    inputs = torch.as_tensor(inputs).detach()
    base = _baseline(inputs, baseline).detach()
    target_arg = target if isinstance(target, int) else torch.as_tensor(target, dtype=torch.long)
    return IntegratedGradients(forward).attribute(inputs, baselines=base, target=target_arg, n_steps=steps,
                                                  method=method)  # fmt: skip


def saliency(forward: Forward, inputs: torch.Tensor, target: int | torch.Tensor, *, absolute: bool = True
             ) -> torch.Tensor:  # fmt: skip
    """The gradient of the ``target`` score with respect to the inputs (its absolute value by default).

    Taught in: 09 §3.
    """
    point = torch.as_tensor(inputs).detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(_target_scores(forward(point), target).sum(), point)
    return gradient.abs() if absolute else gradient


def captum_saliency(forward: Forward, inputs: torch.Tensor, target: int | torch.Tensor, *, absolute: bool = True
                    ) -> torch.Tensor:  # fmt: skip
    """Captum's ``Saliency`` (the same gradient as :func:`saliency`).

    Taught in: 09 §3.
    """
    from captum.attr import Saliency

    target_arg = target if isinstance(target, int) else torch.as_tensor(target, dtype=torch.long)
    return Saliency(forward).attribute(torch.as_tensor(inputs).detach(), target=target_arg, abs=absolute)


def reinitialised(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose every layer with ``reset_parameters`` is re-initialised (seeded).

    Taught in: 09 §3.
    """
    fresh = copy.deepcopy(model)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        count = 0
        for module in fresh.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
                count += 1
    finally:
        torch.random.set_rng_state(generator_state)
    if count == 0:
        raise ValueError(f"model has no layer with reset_parameters to re-initialise ({type(model).__name__})")
    return fresh.eval()


def randomisation_check(model: nn.Module, inputs: torch.Tensor, target: int | torch.Tensor, *,
                        attribute: Callable[..., torch.Tensor] = saliency, seed: int = 0,
                        absolute: bool = True) -> dict[str, float]:  # fmt: skip
    """Adebayo et al.'s model-randomisation test: how alike are the attributions of trained and random weights?

    ``attribute(forward, inputs, target)`` is the method checked (:func:`saliency`,
    :func:`integrated_gradients`, ...). Each example's attributions from ``model`` and from
    :func:`reinitialised` ``(model, seed)`` are ranked (their absolute values with ``absolute``)
    and compared with Spearman's rho. Returns ``{"spearman_mean", "spearman_min",
    "spearman_max", "examples"}``; a method that passes has a mean well below 1.

    Taught in: 09 §3.
    """
    model = model.eval()
    random_model = reinitialised(model, seed)
    trained = attribute(model, inputs, target).detach().reshape(len(inputs), -1)
    randomised = attribute(random_model, inputs, target).detach().reshape(len(inputs), -1)
    if absolute:
        trained, randomised = trained.abs(), randomised.abs()
    rhos = []
    for a, b in zip(trained.numpy(), randomised.numpy(), strict=True):
        rho = spearmanr(a, b).statistic
        rhos.append(0.0 if np.isnan(rho) else float(rho))
    values = np.array(rhos)
    return {"spearman_mean": float(values.mean()), "spearman_min": float(values.min()),
            "spearman_max": float(values.max()), "examples": float(values.size)}  # fmt: skip
