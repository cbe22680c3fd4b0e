"""NumPy reference implementations of every formula in chapter 02 (float64, NumPy only).

Each function is the formula written out as directly as NumPy allows, so that the chapter can
print its source next to the LaTeX and check it against PyTorch and Keras. Nothing here is fast
or meant for training; it is meant to be read and to be right. The seed article's (wrong)
versions are here too, prefixed ``seed_``, so the chapter can measure how far off they are.

Contents, in the chapter's order:

1. skip-gram with a full softmax (separate input/output vectors, a context window) and its gradient
2. skip-gram with negative sampling (SGNS), the unigram^0.75 noise distribution, and its gradient
3. GloVe's weighted least squares objective and its gradient
4. 2-D cross-correlation (what frameworks call convolution) and true convolution, NCHW / OIHW
5. the LSTM cell and sequence, and the mapping to/from PyTorch and Keras weight layouts
6. the GRU cell (both ``reset_after`` variants) and the mapping to/from PyTorch and Keras
7. gradient descent, SGD with momentum (PyTorch and Keras update forms), Adam with bias correction
8. softmax cross-entropy with integer labels and with one-hot (or soft) targets

No deep-learning framework is imported here: tests and the notebook do the framework side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Array = np.ndarray
LSTM_GATES = ("i", "f", "g", "o")
GRU_GATES = ("r", "z", "n")


# -- comparing numbers ------------------------------------------------------------------------
def max_errors(ours: Array, reference: Array) -> dict[str, float]:
    """Largest absolute difference, and that difference relative to the reference's scale.

    The relative error divides by ``max |reference|`` (not elementwise), so that entries that are
    nearly zero do not turn rounding noise into a huge ratio.

    Taught in: 02 §1.
    """
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if ours.shape != reference.shape:
        raise ValueError(f"shapes differ: {ours.shape} vs {reference.shape}")
    abs_err = float(np.max(np.abs(ours - reference))) if ours.size else 0.0
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return {"max_abs_error": abs_err, "max_rel_error": abs_err / max(scale, np.finfo(np.float64).tiny)}


# -- small numerical helpers ------------------------------------------------------------------
def sigmoid(x: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def log_softmax(scores: Array, axis: int = -1) -> Array:
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(scores: Array, axis: int = -1) -> Array:
    return np.exp(log_softmax(scores, axis=axis))


# -- 1. skip-gram with a full softmax ---------------------------------------------------------
def skipgram_pairs(token_ids: Sequence[int], window: int) -> Array:
    """Every (center, context) pair with 1 <= |offset| <= window: the labels come from the text.

    Taught in: 02 §2.
    """
    ids = np.asarray(token_ids, dtype=np.int64)
    pairs = [
        (ids[t], ids[t + offset])
        for t in range(len(ids))
        for offset in range(-window, window + 1)
        if offset != 0 and 0 <= t + offset < len(ids)
    ]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def skipgram_loss(w_in: Array, w_out: Array, centers: Array, contexts: Array) -> float:
    """Mean over pairs of -log p(o | c), p(o | c) = exp(u_o . v_c) / sum_w exp(u_w . v_c).

    Taught in: 02 §2.
    """
    scores = w_in[centers] @ w_out.T  # (N, V): u_w . v_c for every word w
    return float(-np.mean(log_softmax(scores)[np.arange(len(centers)), contexts]))


def skipgram_grad(w_in: Array, w_out: Array, centers: Array, contexts: Array) -> tuple[Array, Array]:
    """Gradient of :func:`skipgram_loss`: dL/ds = softmax(s) - onehot(o), then the chain rule.

    Taught in: 02 §2.
    """
    n = len(centers)
    v_c = w_in[centers]
    delta = softmax(v_c @ w_out.T)
    delta[np.arange(n), contexts] -= 1.0
    delta /= n
    grad_out = delta.T @ v_c  # (V, d)
    grad_in = np.zeros_like(w_in)
    np.add.at(grad_in, centers, delta @ w_out)
    return grad_in, grad_out


def seed_skipgram_loss(vectors: Array, token_ids: Sequence[int]) -> float:
    """The article's version: ONE vector per word, and only the next word is predicted.

    Taught in: 02 §2.
    """
    ids = np.asarray(token_ids, dtype=np.int64)
    centers, nexts = ids[:-1], ids[1:]
    scores = vectors[centers] @ vectors.T
    return float(-np.mean(log_softmax(scores)[np.arange(len(centers)), nexts]))


# -- 2. skip-gram with negative sampling ------------------------------------------------------
def unigram_noise(counts: Array, power: float = 0.75) -> Array:
    """P_n(w) proportional to count(w)^power (word2vec uses 3/4).

    Taught in: 02 §3.
    """
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def sgns_loss(w_in: Array, w_out: Array, centers: Array, contexts: Array, negatives: Array) -> float:
    """Mean over pairs of -log s(u_o . v_c) - sum_k log s(-u_k . v_c); ``negatives`` is (N, k).

    Taught in: 02 §3.
    """
    v_c = w_in[centers]
    positive = np.sum(w_out[contexts] * v_c, axis=1)
    negative = np.einsum("nkd,nd->nk", w_out[negatives], v_c)
    # -log sigmoid(x) = logaddexp(0, -x), stable for large |x|
    return float(np.mean(np.logaddexp(0.0, -positive) + np.sum(np.logaddexp(0.0, negative), axis=1)))


def sgns_grad(w_in: Array, w_out: Array, centers: Array, contexts: Array, negatives: Array) -> tuple[Array, Array]:
    """Gradient of :func:`sgns_loss`: (s(u_o.v_c) - 1) on the positive, s(u_k.v_c) on each negative.

    Taught in: 02 §3.
    """
    n = len(centers)
    v_c = w_in[centers]
    pos_coef = (sigmoid(np.sum(w_out[contexts] * v_c, axis=1)) - 1.0) / n  # (N,)
    neg_coef = sigmoid(np.einsum("nkd,nd->nk", w_out[negatives], v_c)) / n  # (N, k)
    grad_in = np.zeros_like(w_in)
    np.add.at(
        grad_in, centers, pos_coef[:, None] * w_out[contexts] + np.einsum("nk,nkd->nd", neg_coef, w_out[negatives])
    )
    grad_out = np.zeros_like(w_out)
    np.add.at(grad_out, contexts, pos_coef[:, None] * v_c)
    np.add.at(grad_out, negatives, neg_coef[:, :, None] * v_c[:, None, :])
    return grad_in, grad_out


# -- 3. GloVe ---------------------------------------------------------------------------------
def cooccurrence_matrix(token_ids: Sequence[int], vocab_size: int, window: int) -> Array:
    """Symmetric co-occurrence counts, each pair weighted 1/distance as in the GloVe paper.

    Taught in: 02 §4.
    """
    ids = np.asarray(token_ids, dtype=np.int64)
    counts = np.zeros((vocab_size, vocab_size))
    for distance in range(1, window + 1):
        np.add.at(counts, (ids[:-distance], ids[distance:]), 1.0 / distance)
        np.add.at(counts, (ids[distance:], ids[:-distance]), 1.0 / distance)
    return counts


def glove_weight(x: Array, x_max: float = 100.0, alpha: float = 0.75) -> Array:
    """f(x) = min(1, (x / x_max)^alpha): rare pairs count less, frequent ones are capped at 1.

    Taught in: 02 §4.
    """
    return np.minimum(1.0, (np.asarray(x, dtype=np.float64) / x_max) ** alpha)


def glove_loss(
    w: Array, w_tilde: Array, b: Array, b_tilde: Array, counts: Array, x_max: float = 100.0, alpha: float = 0.75
) -> float:
    """J = sum over X_ij > 0 of f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2.

    Taught in: 02 §4.
    """
    i, j = np.nonzero(counts)
    x = counts[i, j]
    residual = np.sum(w[i] * w_tilde[j], axis=1) + b[i] + b_tilde[j] - np.log(x)
    return float(np.sum(glove_weight(x, x_max, alpha) * residual**2))


def glove_grad(
    w: Array, w_tilde: Array, b: Array, b_tilde: Array, counts: Array, x_max: float = 100.0, alpha: float = 0.75
) -> tuple[Array, Array, Array, Array]:
    """Gradient of :func:`glove_loss` with respect to (w, w~, b, b~).

    Taught in: 02 §4.
    """
    i, j = np.nonzero(counts)
    x = counts[i, j]
    residual = np.sum(w[i] * w_tilde[j], axis=1) + b[i] + b_tilde[j] - np.log(x)
    coef = 2.0 * glove_weight(x, x_max, alpha) * residual
    grad_w, grad_wt = np.zeros_like(w), np.zeros_like(w_tilde)
    grad_b, grad_bt = np.zeros_like(b), np.zeros_like(b_tilde)
    np.add.at(grad_w, i, coef[:, None] * w_tilde[j])
    np.add.at(grad_wt, j, coef[:, None] * w[i])
    np.add.at(grad_b, i, coef)
    np.add.at(grad_bt, j, coef)
    return grad_w, grad_wt, grad_b, grad_bt


# -- 4. convolution ---------------------------------------------------------------------------
def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, as in torch's docs.

    Taught in: 02 §5.
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def cross_correlate2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Array:
    """y[n,o,i,j] = b[o] + sum_{c,p,q} x[n, c, s i + d p, s j + d q] w[o, c, p, q] (x zero-padded).

    ``x`` is NCHW and ``weight`` is (out, in, kh, kw): PyTorch's layouts. This is what every
    framework computes under the name "convolution".

    Taught in: 02 §5.
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, _, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    ho, wo = conv_output_size(height, kh, sh, ph, dh), conv_output_size(width, kw, sw, pw, dw)
    if ho < 1 or wo < 1:
        raise ValueError(f"the kernel does not fit: output would be {ho}x{wo}")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((n, out_channels, ho, wo), dtype=np.result_type(x, weight))
    for p in range(kh):
        for q in range(kw):
            # the input pixels that kernel tap (p, q) sees, for every output position at once
            patch = xp[:, :, p * dh : p * dh + sh * (ho - 1) + 1 : sh, q * dw : q * dw + sw * (wo - 1) + 1 : sw]
            y += np.einsum("nchw,oc->nohw", patch, weight[:, :, p, q])
    if bias is not None:
        y += bias[None, :, None, None]
    return y


def convolve2d(x: Array, weight: Array, bias: Array | None = None, **kwargs) -> Array:
    """True (textbook) convolution: the same sum with the kernel flipped in both spatial axes.

    Taught in: 02 §5.
    """
    return cross_correlate2d(x, weight[:, :, ::-1, ::-1], bias, **kwargs)


def seed_conv2d(x: Array, w: Array, b: float = 0.0) -> Array:
    """The article's formula, one channel, as written: y(i,j) = sum_p sum_q x(i+p, j+q) w(p,q) + b.

    Taught in: 02 §5.
    """
    big_p, big_q = w.shape
    out = np.empty((x.shape[0] - big_p + 1, x.shape[1] - big_q + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + big_p, j : j + big_q] * w) + b
    return out


def nchw_to_nhwc(x: Array) -> Array:
    return np.transpose(x, (0, 2, 3, 1))


def nhwc_to_nchw(x: Array) -> Array:
    return np.transpose(x, (0, 3, 1, 2))


def oihw_to_hwio(weight: Array) -> Array:
    """PyTorch kernel layout (out, in, kh, kw) -> Keras/TensorFlow layout (kh, kw, in, out).

    Taught in: 02 §5.
    """
    return np.transpose(weight, (2, 3, 1, 0))


# -- 5. LSTM ----------------------------------------------------------------------------------
# Parameters are a dict with one entry per gate: W_<g> (H, D), U_<g> (H, H), b_<g> (H,),
# g in i (input), f (forget), g (candidate), o (output). One bias per gate: PyTorch's two biases
# (bias_ih + bias_hh) only ever appear summed.


def lstm_cell(x: Array, h: Array, c: Array, params: dict[str, Array]) -> tuple[Array, Array]:
    """One LSTM step on a batch: x (B, D), h and c (B, H); returns (h_t, c_t).

    Taught in: 02 §6.
    """

    def pre(g: str) -> Array:
        return x @ params[f"W_{g}"].T + h @ params[f"U_{g}"].T + params[f"b_{g}"]

    i, f, o = sigmoid(pre("i")), sigmoid(pre("f")), sigmoid(pre("o"))
    c_tilde = np.tanh(pre("g"))
    c_new = f * c + i * c_tilde
    h_new = o * np.tanh(c_new)
    return h_new, c_new


def lstm_sequence(
    xs: Array, params: dict[str, Array], h0: Array | None = None, c0: Array | None = None
) -> tuple[Array, Array, Array]:
    """Run :func:`lstm_cell` over xs (B, T, D); returns (all h (B, T, H), h_T, c_T).

    Taught in: 02 §6.
    """
    batch, hidden = xs.shape[0], params["b_i"].shape[0]
    h = np.zeros((batch, hidden)) if h0 is None else h0
    c = np.zeros((batch, hidden)) if c0 is None else c0
    outputs = []
    for t in range(xs.shape[1]):
        h, c = lstm_cell(xs[:, t], h, c, params)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def seed_recurrent_sequence(xs: Array, params: dict[str, Array], h0: Array | None = None) -> Array:
    """The article's "GRU": LSTM gates, but h_t = f h_{t-1} + i h~_t; no cell state, o unused.

    Taught in: 02 §6.
    """
    batch, hidden = xs.shape[0], params["b_i"].shape[0]
    h = np.zeros((batch, hidden)) if h0 is None else h0
    outputs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]

        def pre(g: str, x: Array = x, h: Array = h) -> Array:
            return x @ params[f"W_{g}"].T + h @ params[f"U_{g}"].T + params[f"b_{g}"]

        i, f = sigmoid(pre("i")), sigmoid(pre("f"))
        _unused_output_gate = sigmoid(pre("o"))
        h = f * h + i * np.tanh(pre("g"))
        outputs.append(h)
    return np.stack(outputs, axis=1)


def lstm_from_torch(weight_ih: Array, weight_hh: Array, bias_ih: Array, bias_hh: Array) -> dict[str, Array]:
    """torch.nn.LSTM stacks the gates as rows in the order i, f, g, o and has two biases.

    Taught in: 02 §6.
    """
    w, u, b = np.split(weight_ih, 4), np.split(weight_hh, 4), np.split(bias_ih + bias_hh, 4)
    params = {}
    for k, g in enumerate(LSTM_GATES):
        params[f"W_{g}"], params[f"U_{g}"], params[f"b_{g}"] = w[k], u[k], b[k]
    return params


def lstm_to_keras(params: dict[str, Array]) -> list[Array]:
    """keras.layers.LSTM weights: kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,), gates i, f, c, o.

    Taught in: 02 §6.
    """
    order = ("i", "f", "g", "o")  # Keras calls the candidate "c"; the order is the same as torch's
    kernel = np.concatenate([params[f"W_{g}"].T for g in order], axis=1)
    recurrent = np.concatenate([params[f"U_{g}"].T for g in order], axis=1)
    bias = np.concatenate([params[f"b_{g}"] for g in order])
    return [kernel, recurrent, bias]


# -- 6. GRU -----------------------------------------------------------------------------------
# Parameters: W_<g> (H, D), U_<g> (H, H), input bias bx_<g> and recurrent bias bh_<g>, for
# g in r (reset), z (update), n (candidate). Only the candidate needs two biases to be told apart.


def gru_cell(x: Array, h: Array, params: dict[str, Array], reset_after: bool = True) -> Array:
    """One GRU step. reset_after=True (PyTorch, Keras' default): n = tanh(W x + bx + r * (U h + bh)).

    reset_after=False (Cho et al. 2014): n = tanh(W x + U (r * h) + bx + bh). Either way
    h_t = (1 - z) * n + z * h_{t-1}: z close to 1 keeps the old state.

    Taught in: 02 §7.
    """

    def gate(g: str) -> Array:
        return sigmoid(x @ params[f"W_{g}"].T + params[f"bx_{g}"] + h @ params[f"U_{g}"].T + params[f"bh_{g}"])

    r, z = gate("r"), gate("z")
    if reset_after:
        n = np.tanh(x @ params["W_n"].T + params["bx_n"] + r * (h @ params["U_n"].T + params["bh_n"]))
    else:
        n = np.tanh(x @ params["W_n"].T + (r * h) @ params["U_n"].T + params["bx_n"] + params["bh_n"])
    return (1.0 - z) * n + z * h


def gru_sequence(xs: Array, params: dict[str, Array], h0: Array | None = None, reset_after: bool = True) -> Array:
    """Run :func:`gru_cell` over xs (B, T, D); returns every h, (B, T, H).

    Taught in: 02 §7.
    """
    h = np.zeros((xs.shape[0], params["bx_r"].shape[0])) if h0 is None else h0
    outputs = []
    for t in range(xs.shape[1]):
        h = gru_cell(xs[:, t], h, params, reset_after)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def gru_from_torch(weight_ih: Array, weight_hh: Array, bias_ih: Array, bias_hh: Array) -> dict[str, Array]:
    """torch.nn.GRU stacks the gates as rows in the order r, z, n.

    Taught in: 02 §7.
    """
    w, u, bx, bh = (np.split(a, 3) for a in (weight_ih, weight_hh, bias_ih, bias_hh))
    params = {}
    for k, g in enumerate(GRU_GATES):
        params[f"W_{g}"], params[f"U_{g}"], params[f"bx_{g}"], params[f"bh_{g}"] = w[k], u[k], bx[k], bh[k]
    return params


def gru_to_keras(params: dict[str, Array], reset_after: bool = True) -> list[Array]:
    """keras.layers.GRU weights, gates in the order z, r, h (h is the candidate, our n).

    reset_after=True: bias has shape (2, 3H), row 0 the input bias and row 1 the recurrent bias.
    reset_after=False: one bias (3H,), the two summed (they are never told apart in that variant).

    Taught in: 02 §7.
    """
    order = ("z", "r", "n")
    kernel = np.concatenate([params[f"W_{g}"].T for g in order], axis=1)
    recurrent = np.concatenate([params[f"U_{g}"].T for g in order], axis=1)
    bx = np.concatenate([params[f"bx_{g}"] for g in order])
    bh = np.concatenate([params[f"bh_{g}"] for g in order])
    bias = np.stack([bx, bh]) if reset_after else bx + bh
    return [kernel, recurrent, bias]


# -- 7. optimizers ----------------------------------------------------------------------------
GradFn = Callable[[Array], Array]


def gradient_descent(grad: GradFn, x0: Array, lr: float, steps: int) -> Array:
    """x_{t+1} = x_t - lr grad(x_t); returns the trajectory, (steps + 1, n).

    Taught in: 02 §8.
    """
    xs = [np.asarray(x0, dtype=np.float64)]
    for _ in range(steps):
        xs.append(xs[-1] - lr * grad(xs[-1]))
    return np.stack(xs)


def sgd_momentum(grad: GradFn, x0: Array, lr: float, momentum: float, steps: int, form: str = "torch") -> Array:
    """Heavy-ball momentum in either framework's form; with a constant lr they are the same.

    torch: b_t = mu b_{t-1} + g_t,        x_{t+1} = x_t - lr b_t
    keras: m_t = mu m_{t-1} - lr g_t,     x_{t+1} = x_t + m_t      (m_t = -lr b_t)

    Taught in: 02 §8.
    """
    if form not in ("torch", "keras"):
        raise ValueError("form must be 'torch' or 'keras'")
    xs = [np.asarray(x0, dtype=np.float64)]
    buf = np.zeros_like(xs[0])
    for _ in range(steps):
        g = grad(xs[-1])
        if form == "torch":
            buf = momentum * buf + g
            xs.append(xs[-1] - lr * buf)
        else:
            buf = momentum * buf - lr * g
            xs.append(xs[-1] + buf)
    return np.stack(xs)


def adam(
    grad: GradFn,
    x0: Array,
    lr: float,
    steps: int,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    epsilon_on: str = "v_hat",
    bias_correction: bool = True,
) -> Array:
    """Adam (Kingma & Ba 2015): moment estimates m, v, bias-corrected by 1 - beta^t.

    epsilon_on="v_hat" (PyTorch, the paper): x -= lr m_hat / (sqrt(v_hat) + eps).
    epsilon_on="v"     (Keras, the paper's "epsilon hat"): x -= lr_t m / (sqrt(v) + eps) with
    lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t). Same with eps = 0; eps acts larger early on.
    ``bias_correction=False`` drops the 1 - beta^t factors (wrong; kept to show what breaks).

    Taught in: 02 §8.
    """
    if epsilon_on not in ("v_hat", "v"):
        raise ValueError("epsilon_on must be 'v_hat' or 'v'")
    xs = [np.asarray(x0, dtype=np.float64)]
    m, v = np.zeros_like(xs[0]), np.zeros_like(xs[0])
    for t in range(1, steps + 1):
        g = grad(xs[-1])
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g**2
        c1, c2 = (1.0 - beta1**t, 1.0 - beta2**t) if bias_correction else (1.0, 1.0)
        if epsilon_on == "v_hat":
            step = lr * (m / c1) / (np.sqrt(v / c2) + eps)
        else:
            step = lr * np.sqrt(c2) / c1 * m / (np.sqrt(v) + eps)
        xs.append(xs[-1] - step)
    return np.stack(xs)


def quadratic(a: Array, center: Array | None = None) -> tuple[Callable[[Array], float], GradFn]:
    """f(x) = 1/2 (x - c)^T A (x - c) and its gradient A (x - c); A symmetric positive definite.

    Taught in: 02 §8.
    """
    a = np.asarray(a, dtype=np.float64)
    c = np.zeros(a.shape[0]) if center is None else np.asarray(center, dtype=np.float64)
    return (lambda x: float(0.5 * (x - c) @ a @ (x - c))), (lambda x: a @ (x - c))


def ill_conditioned_quadratic(condition: float = 25.0, angle: float = np.pi / 6) -> Array:
    """A 2x2 SPD matrix with eigenvalues 1 and ``condition``, axes rotated by ``angle``.

    Taught in: 02 §8.
    """
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rot @ np.diag([1.0, condition]) @ rot.T


# -- 8. softmax cross-entropy -----------------------------------------------------------------
def cross_entropy(logits: Array, labels: Array) -> float:
    """Mean of -log softmax(z)_y over the batch; ``labels`` are integer class ids.

    Taught in: 02 §9.
    """
    return float(-np.mean(log_softmax(logits)[np.arange(len(labels)), labels]))


def cross_entropy_onehot(logits: Array, targets: Array) -> float:
    """Mean of -sum_k t_k log softmax(z)_k; ``targets`` are one-hot (or any distributions).

    Taught in: 02 §9.
    """
    return float(-np.mean(np.sum(targets * log_softmax(logits), axis=1)))


def cross_entropy_grad(logits: Array, targets: Array) -> Array:
    """d/dz of :func:`cross_entropy_onehot`: (softmax(z) - t) / batch size.

    Taught in: 02 §9.
    """
    return (softmax(logits) - targets) / logits.shape[0]


def one_hot(labels: Array, classes: int) -> Array:
    return np.eye(classes)[np.asarray(labels)]
