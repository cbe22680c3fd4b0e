"""Our from-scratch transformer pieces against PyTorch's and Hugging Face's: how far apart, in numbers.

Each ``*_error`` function returns the largest absolute difference between one piece of
:mod:`ptft_utils.models.transformer` and its reference on the same inputs:
``torch.nn.functional.scaled_dot_product_attention``, ``layer_norm`` and ``gelu``; a BERT model
loaded into our :class:`~ptft_utils.models.transformer.Encoder` by :func:`copy_bert_into_encoder`
against ``transformers.BertModel`` itself. :func:`mlm_rates` measures the shares of BERT's masking
rule, ours or the ``DataCollatorForLanguageModeling`` of transformers.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F  # noqa: N812
from transformers import BertModel, DataCollatorForLanguageModeling, PreTrainedTokenizerFast

from ptft_utils.models import transformer as tf


def attention_error(seed: int = 0, batch: int = 2, heads: int = 4, length: int = 7, width: int = 16) -> float:
    """Ours vs ``F.scaled_dot_product_attention``, with a padding mask, in float64.

    Taught in: 07 §1
    """
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, length, width, generator=g, dtype=torch.float64) for _ in range(3))
    mask = torch.ones(batch, 1, 1, length, dtype=torch.bool)
    mask[0, ..., -3:] = False  # the first sequence is padded
    ours, _ = tf.scaled_dot_product_attention(q, k, v, mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    causal, _ = tf.scaled_dot_product_attention(q, k, v, tf.causal_mask(length))
    theirs_causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return float(max((ours - theirs).abs().max(), (causal - theirs_causal).abs().max()))


def layer_norm_error(seed: int = 0, width: int = 384, eps: float = 1e-12) -> float:
    """Ours vs ``F.layer_norm`` on random activations with random gain and bias (float64).

    Taught in: 07 §1
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 9, width, generator=g, dtype=torch.float64) * 3 + 1
    weight, bias = (torch.randn(width, generator=g, dtype=torch.float64) for _ in range(2))
    return float((tf.layer_norm(x, weight, bias, eps) - F.layer_norm(x, (width,), weight, bias, eps)).abs().max())


def gelu_error() -> float:
    """Ours vs ``F.gelu`` (exact, erf form) on a grid from -8 to 8 (float64).

    Taught in: 07 §1
    """
    x = torch.linspace(-8, 8, 2001, dtype=torch.float64)
    return float((tf.gelu(x) - F.gelu(x)).abs().max())


def copy_bert_into_encoder(bert: BertModel, encoder: tf.Encoder) -> tf.Encoder:
    """Copy every weight of a Hugging Face ``BertModel`` into our ``Encoder`` (in place; returned).

    Taught in: 07 §1
    """
    source = bert.state_dict()
    names = {
        "tokens.weight": "embeddings.word_embeddings.weight",
        "positions.weight": "embeddings.position_embeddings.weight",
        "segments.weight": "embeddings.token_type_embeddings.weight",
        "norm.weight": "embeddings.LayerNorm.weight",
        "norm.bias": "embeddings.LayerNorm.bias",
    }
    per_layer = {
        "attention.query": "attention.self.query",
        "attention.key": "attention.self.key",
        "attention.value": "attention.self.value",
        "attention.output": "attention.output.dense",
        "norm1": "attention.output.LayerNorm",
        "ff_in": "intermediate.dense",
        "ff_out": "output.dense",
        "norm2": "output.LayerNorm",
    }
    for i in range(len(encoder.blocks)):
        for ours, theirs in per_layer.items():
            for kind in ("weight", "bias"):
                names[f"blocks.{i}.{ours}.{kind}"] = f"encoder.layer.{i}.{theirs}.{kind}"
    encoder.load_state_dict({ours: source[theirs] for ours, theirs in names.items()}, strict=True)
    return encoder


def encoder_config_of(bert: BertModel) -> tf.EncoderConfig:
    """Our :class:`EncoderConfig` for a BERT model's shape.

    Taught in: 07 §1
    """
    c = bert.config
    shape = (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size)
    return tf.EncoderConfig(c.vocab_size, *shape, c.max_position_embeddings, c.type_vocab_size, c.layer_norm_eps)


@torch.no_grad()
def encoder_error(bert: BertModel, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> float:
    """Largest difference between ``bert``'s last hidden states and our Encoder's with its weights.

    Compared on the real (unpadded) tokens only: what a padded position holds does not matter.

    Taught in: 07 §1
    """
    ours = copy_bert_into_encoder(bert, tf.Encoder(encoder_config_of(bert))).eval()
    theirs = bert.eval()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    real = attention_mask.bool()
    return float((ours(input_ids, attention_mask) - theirs)[real].abs().max())


def mlm_rates(inputs: torch.Tensor, labels: torch.Tensor, original: torch.Tensor, mask_id: int) -> dict[str, float]:
    """Of the positions that carry a label: the share chosen, and of those masked / random / kept.

    Taught in: 07 §1
    """
    chosen = labels != -100
    n = max(1, int(chosen.sum()))
    masked = int((inputs[chosen] == mask_id).sum())
    kept = int((inputs[chosen] == original[chosen]).sum())
    return {"chosen": int(chosen.sum()) / chosen.numel(), "masked": masked / n, "kept": kept / n,
            "random": (n - masked - kept) / n}  # fmt: skip


def hf_mlm_rates(tokenizer: PreTrainedTokenizerFast, ids: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """:func:`mlm_rates` of transformers' ``DataCollatorForLanguageModeling`` (15%) on ``ids``.

    The shares are over the non-special tokens (the collator never chooses ``[CLS]``, ``[SEP]`` or
    padding), as :func:`mlm_rates` is used for our rule.

    Taught in: 07 §1
    """
    torch.manual_seed(seed)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15, return_tensors="pt")
    inputs, labels = collator.torch_mask_tokens(ids.clone())
    ordinary = ~torch.isin(ids, torch.tensor(tokenizer.all_special_ids))
    return mlm_rates(inputs[ordinary], labels[ordinary], ids[ordinary], int(tokenizer.mask_token_id))
