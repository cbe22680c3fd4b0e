"""Measuring a generative model: a classifier's accuracy on its samples, and the Fréchet distance.

:func:`accuracy_on_samples` asks a separately trained classifier which class each generated
image shows and compares it with the class the generator was asked for. :func:`frechet_distance`
is the distance between two Gaussians fitted to feature matrices (FID's formula, in whatever
feature space is given: a classifier's penultimate layer here, not Inception's).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (rounding's negative eigenvalues -> 0)."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))`` for the rows of two ``(n, d)`` matrices.

    The means and (unbiased) covariances are those of the rows. The trace of ``(C_a C_b)^(1/2)`` is
    computed as ``tr((C_a^(1/2) C_b C_a^(1/2))^(1/2))``: the two matrices have the same eigenvalues,
    and the second is symmetric positive semi-definite, so its square root is real and comes from
    a symmetric eigendecomposition. FID's reference code instead takes ``scipy.linalg.sqrtm`` of the
    non-symmetric product, retries with a regularised product when that fails, and drops the
    imaginary part that rounding leaves in the result; the symmetric form needs none of the three,
    and stays defined when the covariances are singular (``d`` above the number of rows).

    Taught in: 08 §5.
    """
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a and features_b must be (n, d) with the same d, got {a.shape} and {b.shape}")
    if a.shape[1] < 1:
        raise ValueError(f"features_a and features_b need at least one feature column, got d={a.shape[1]}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError(f"need at least 2 rows in each to estimate a covariance, got {a.shape[0]} and {b.shape[0]}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("features_a and features_b must be finite (no NaN or infinity)")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum())
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)
    return max(distance, 0.0)  # a distance: only rounding can take it below 0


@torch.no_grad()
def accuracy_on_samples(
    classifier: Callable[[torch.Tensor], torch.Tensor],
    samples: torch.Tensor,
    intended_labels: torch.Tensor,
    *,
    num_classes: int = 10,
    batch_size: int = 256,
) -> dict[str, object]:
    """How often ``classifier`` (images -> logits) names the class each sample was generated for.

    Returns ``{"accuracy": overall, "per_class": [accuracy for class 0..num_classes-1 (nan if none)]}``.
    A :class:`torch.nn.Module` classifier is run in evaluation mode and then put back as it was.

    Taught in: 08 §5.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer of at least 2, got {num_classes!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if intended_labels.dim() != 1:
        raise ValueError(
            f"intended_labels must be 1-d (one class per sample), got shape {tuple(intended_labels.shape)}"
        )
    if samples.shape[0] != intended_labels.shape[0]:
        raise ValueError(f"samples ({samples.shape[0]}) and intended_labels ({intended_labels.shape[0]}) differ")
    if samples.shape[0] == 0:
        raise ValueError("samples is empty: there is nothing to classify")
    labels = intended_labels.cpu().long()
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(
            f"intended_labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), "
            f"got values from {int(labels.min())} to {int(labels.max())}"
        )
    module = classifier if isinstance(classifier, torch.nn.Module) else None
    was_training = module.training if module is not None else False
    if module is not None:
        module.eval()
    try:
        batches = []
        for start in range(0, samples.shape[0], batch_size):
            logits = classifier(samples[start : start + batch_size])
            if logits.dim() != 2 or logits.shape[1] != num_classes:
                raise ValueError(
                    f"classifier must return logits [batch, num_classes={num_classes}], got shape {tuple(logits.shape)}"
                )
            batches.append(logits.argmax(dim=1).cpu())
    finally:
        if module is not None:
            module.train(was_training)
    correct = (torch.cat(batches) == labels).float()
    per_class = [
        float(correct[labels == c].mean()) if bool((labels == c).any()) else float("nan") for c in range(num_classes)
    ]
    return {"accuracy": float(correct.mean()), "per_class": per_class}
