"""Language-model metrics: perplexity and bits per token from a mean negative log-likelihood."""

from __future__ import annotations

import math


def perplexity(mean_nll: float) -> float:
    """exp(mean negative log-likelihood in nats per token).

    Taught in: 05 §3.
    """
    return float(math.exp(mean_nll))


def bits_per_token(mean_nll: float) -> float:
    """Mean NLL in bits: nats / ln 2 (bits per character for a character model).

    Taught in: 05 §1.
    """
    return float(mean_nll / math.log(2.0))
