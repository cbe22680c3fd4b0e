"""A Keras 3 transformer encoder block and the weight copy into its PyTorch twin.

:func:`encoder_block` builds, from Keras's own layers (``MultiHeadAttention``,
``LayerNormalization``, ``Dense``), the post-norm BERT layer that
:class:`ptft_utils.models.transformer.EncoderBlock` writes out by hand. :func:`copy_block_to_torch`
moves its weights across; the one layout difference is that Keras keeps each attention projection
per head, ``(d_model, heads, head_dim)`` for Q/K/V and ``(heads, head_dim, d_model)`` for the
output, where PyTorch's ``Linear`` holds one ``(out, in)`` matrix. :func:`block_error` is the
largest difference between the two blocks' outputs on the same inputs; :func:`attention_error` and
:func:`layer_norm_error` compare our formulas with Keras's layers alone.
"""

from __future__ import annotations

import numpy as np
import torch

from ptft_utils.models.transformer import EncoderBlock, layer_norm, scaled_dot_product_attention


def _keras():  # type: ignore[no-untyped-def]
    import keras

    return keras


def encoder_block(d_model: int, heads: int, d_ff: int, eps: float = 1e-12, seed: int = 0):  # type: ignore[no-untyped-def]
    """A Keras functional model ``(x, mask) -> y``: ``h = LN(x + MHA(x))``, ``y = LN(h + W2 gelu(W1 h))``.

    ``mask`` is ``(batch, n)`` with 1 for real tokens; a query may attend only to real keys.

    Taught in: 07 §1
    """
    keras = _keras()
    keras.utils.set_random_seed(seed)
    x = keras.Input((None, d_model), name="x")
    mask = keras.Input((None,), name="mask")
    pair_mask = keras.ops.cast(
        keras.ops.expand_dims(mask, 1) * keras.ops.ones_like(keras.ops.expand_dims(mask, 2)), "bool"
    )
    attended = keras.layers.MultiHeadAttention(heads, d_model // heads, name="attention")(
        x, x, attention_mask=pair_mask
    )
    h = keras.layers.LayerNormalization(epsilon=eps, name="norm1")(x + attended)
    inner = keras.layers.Dense(d_ff, activation=lambda t: keras.activations.gelu(t, approximate=False), name="ff_in")(h)
    y = keras.layers.LayerNormalization(epsilon=eps, name="norm2")(
        h + keras.layers.Dense(d_model, name="ff_out")(inner)
    )
    return keras.Model([x, mask], y, name="encoder_block")


def copy_block_to_torch(block, twin: EncoderBlock) -> EncoderBlock:  # type: ignore[no-untyped-def]
    """Copy the Keras block's weights into ``twin`` (in place; returned).

    Taught in: 07 §1
    """
    # get_weights order: query kernel, bias, key kernel, bias, value kernel, bias, output kernel, bias
    weights = [np.asarray(w) for w in block.get_layer("attention").get_weights()]
    d_model = twin.attention.d_model
    projections = (twin.attention.query, twin.attention.key, twin.attention.value, twin.attention.output)
    with torch.no_grad():
        for i, linear in enumerate(projections):
            kernel, bias = weights[2 * i], weights[2 * i + 1]
            linear.weight.copy_(torch.from_numpy(kernel.reshape(d_model, d_model).T.copy()))
            linear.bias.copy_(torch.from_numpy(bias.reshape(d_model)))
        for name in ("ff_in", "ff_out"):
            kernel, bias = (np.asarray(w) for w in block.get_layer(name).get_weights())
            getattr(twin, name).weight.copy_(torch.from_numpy(kernel.T.copy()))
            getattr(twin, name).bias.copy_(torch.from_numpy(bias))
        for name in ("norm1", "norm2"):
            gamma, beta = (np.asarray(w) for w in block.get_layer(name).get_weights())
            getattr(twin, name).weight.copy_(torch.from_numpy(gamma))
            getattr(twin, name).bias.copy_(torch.from_numpy(beta))
    return twin


def block_error(block, twin: EncoderBlock, x: np.ndarray, mask: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """Largest difference between the Keras block and its twin on ``x`` ``(b, n, d)``, real tokens only.

    Taught in: 07 §1
    """
    ours = twin.eval()(torch.from_numpy(x), torch.from_numpy(mask)).detach().numpy()
    theirs = np.asarray(block([x, mask.astype("float32")], training=False))
    return float(np.abs(ours - theirs)[mask.astype(bool)].max())


def attention_error(seed: int = 0, length: int = 6, width: int = 8) -> float:
    """Our scaled dot-product attention vs ``keras.layers.MultiHeadAttention`` with one identity head.

    With ``key_dim = width`` and identity projections (zero biases), Keras's layer computes exactly
    ``softmax(Q K^T / sqrt(d)) V`` on its inputs.

    Taught in: 07 §1
    """
    keras = _keras()
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(2, length, width)).astype("float32") for _ in range(3))
    layer = keras.layers.MultiHeadAttention(1, width)
    layer(q, v, key=k)
    eye, zero = np.eye(width, dtype="float32"), np.zeros((1, width), dtype="float32")
    layer.set_weights([eye[:, None, :], zero, eye[:, None, :], zero, eye[:, None, :], zero, eye[None], zero[0]])
    theirs = np.asarray(layer(q, v, key=k))
    ours, _ = scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)))
    return float(np.abs(ours.numpy() - theirs).max())


def layer_norm_error(seed: int = 0, width: int = 64, eps: float = 1e-6) -> float:
    """Our layer norm vs ``keras.layers.LayerNormalization`` with random gain and bias.

    Taught in: 07 §1
    """
    keras = _keras()
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(3, 5, width)) * 2 + 1).astype("float32")
    gamma, beta = rng.normal(size=width).astype("float32"), rng.normal(size=width).astype("float32")
    layer = keras.layers.LayerNormalization(epsilon=eps)
    layer(x)
    layer.set_weights([gamma, beta])
    ours = layer_norm(torch.from_numpy(x), torch.from_numpy(gamma), torch.from_numpy(beta), eps=eps).numpy()
    return float(np.abs(ours - np.asarray(layer(x))).max())
