"""A small convolutional variational autoencoder for 28x28 images, optionally conditioned on a label.

Encoder: Conv(32, 4x4, stride 2) - Conv(64, 4x4, stride 2) - Dense to the mean and log-variance of
``q(z | x[, y])``. Decoder: Dense - ConvTranspose(32) - ConvTranspose(1), pixel logits. With
``num_classes`` set, the label's one-hot vector is appended to the encoder's features and to
``z``, so that :meth:`ConvVAE.sample` draws images of a chosen class. :func:`elbo_loss` is the
negative ELBO per image (Bernoulli or unit-variance Gaussian likelihood).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class ConvVAE(nn.Module):
    """``forward(x[, labels])`` returns ``(logits [B, 1, 28, 28], mean [B, z], log_variance [B, z])``.

    Taught in: 08 §5.
    """

    def __init__(self, latent_dim: int = 16, num_classes: int | None = None) -> None:
        super().__init__()
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer of at least 1, got {latent_dim!r}")
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)):
            raise ValueError(
                f"num_classes must be None (unconditional) or an integer of at least 2, got {num_classes!r}"
            )
        if num_classes is not None and num_classes < 2:
            raise ValueError(f"num_classes must be None (unconditional) or at least 2, got {num_classes}")
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        extra = num_classes or 0
        self.conv1 = nn.Conv2d(1, 32, kernel_size=4, stride=2, padding=1)  # 28 -> 14
        self.conv2 = nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=1)  # 14 -> 7
        self.to_mean = nn.Linear(64 * 7 * 7 + extra, latent_dim)
        self.to_log_variance = nn.Linear(64 * 7 * 7 + extra, latent_dim)
        self.from_latent = nn.Linear(latent_dim + extra, 64 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)  # 7 -> 14
        self.deconv2 = nn.ConvTranspose2d(32, 1, kernel_size=4, stride=2, padding=1)  # 14 -> 28

    def _condition(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.num_classes is None:
            if labels is not None:
                raise ValueError("labels given to an unconditional ConvVAE (num_classes=None)")
            return h
        if labels is None:
            raise ValueError(f"this ConvVAE is conditional (num_classes={self.num_classes}): pass labels")
        if labels.dim() != 1 or labels.shape[0] != h.shape[0]:
            raise ValueError(
                f"labels must be 1-d with one label per row ({h.shape[0]}), got shape {tuple(labels.shape)}"
            )
        if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
            raise ValueError(f"labels must be an integer tensor of class indices, got dtype {labels.dtype}")
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(
                f"labels must lie in 0..{self.num_classes - 1}, "
                f"got values from {int(labels.min())} to {int(labels.max())}"
            )
        return torch.cat([h, F.one_hot(labels.long(), self.num_classes).to(h.dtype)], dim=1)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of ``q(z | x[, y])`` for images ``x`` ``[B, 1, 28, 28]`` or ``[B, 28, 28]``."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"x must be images [B, 1, 28, 28] or [B, 28, 28], got shape {tuple(x.shape)}")
        h = torch.flatten(F.relu(self.conv2(F.relu(self.conv1(x)))), 1)
        h = self._condition(h, labels)
        return self.to_mean(h), self.to_log_variance(h)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Pixel logits ``[B, 1, 28, 28]`` for latent codes ``z`` ``[B, latent_dim]``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be [B, latent_dim={self.latent_dim}], got shape {tuple(z.shape)}")
        h = F.relu(self.from_latent(self._condition(z, labels))).view(-1, 64, 7, 7)
        return self.deconv2(F.relu(self.deconv1(h)))

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_variance = self.encode(x, labels)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)  # the reparameterisation trick
        return self.decode(z, labels), mean, log_variance

    @torch.no_grad()
    def sample(
        self, n: int, labels: torch.Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` images ``[n, 1, 28, 28]`` in [0, 1] (pixel probabilities) decoded from ``z ~ N(0, I)``.

        A conditional model needs ``labels``, ``n`` class indices, the class each image is drawn
        for. ``generator`` is a CPU generator (``z`` is drawn on the CPU, then moved to the model).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive number of images, got {n!r}")
        weight = self.to_mean.weight
        z = torch.randn(n, self.latent_dim, generator=generator).to(device=weight.device, dtype=weight.dtype)
        return torch.sigmoid(self.decode(z, None if labels is None else labels.to(weight.device)))

    def load_pretrained(self, state_dict: dict[str, torch.Tensor]) -> list[str]:
        """Copy every tensor of ``state_dict`` whose name and shape match this model; return the names copied.

        A conditional model can so start from an unconditional one (the layers the label widens
        keep their fresh initialisation), or a VAE from another of the same shape.
        """
        own = self.state_dict()
        copied = [name for name, value in state_dict.items() if name in own and own[name].shape == value.shape]
        if not copied:
            raise ValueError("state_dict shares no tensor (by name and shape) with this ConvVAE")
        own.update({name: state_dict[name] for name in copied})
        self.load_state_dict(own)
        return copied


def elbo_loss(
    logits: torch.Tensor,
    x: torch.Tensor,
    mean: torch.Tensor,
    log_variance: torch.Tensor,
    *,
    likelihood: str = "bernoulli",
    beta: float = 1.0,
) -> dict[str, torch.Tensor]:
    """The negative ELBO per image, ``reconstruction + beta * KL(q(z|x) || N(0, I))``, in nats.

    ``likelihood="bernoulli"``: binary cross-entropy of the pixel logits; ``"gaussian"``: the
    negative log-density of ``x`` under ``N(sigmoid(logits), 1)`` per pixel. Returns
    ``{"loss", "reconstruction", "kl"}``, each a mean over the batch.

    Taught in: 08 §5.
    """
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.shape != logits.shape:
        raise ValueError(f"x {tuple(x.shape)} and logits {tuple(logits.shape)} must have the same shape")
    if mean.dim() != 2 or mean.shape != log_variance.shape or mean.shape[0] != x.shape[0]:
        raise ValueError(
            f"mean {tuple(mean.shape)} and log_variance {tuple(log_variance.shape)} must both be [B, latent] "
            f"with B = {x.shape[0]} images"
        )
    if not beta >= 0:
        raise ValueError(f"beta must be a non-negative weight of the KL term, got {beta}")
    if likelihood == "bernoulli":
        if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
            raise ValueError(
                f"the bernoulli likelihood needs pixels x in [0, 1], got {float(x.min())}..{float(x.max())}"
            )
        per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif likelihood == "gaussian":
        per_pixel = 0.5 * (torch.sigmoid(logits) - x) ** 2 + 0.5 * math.log(2 * math.pi)
    else:
        raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
    reconstruction = per_pixel.flatten(1).sum(dim=1).mean()
    kl = (-0.5 * (1 + log_variance - mean**2 - log_variance.exp()).sum(dim=1)).mean()
    return {"loss": reconstruction + beta * kl, "reconstruction": reconstruction, "kl": kl}
