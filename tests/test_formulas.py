"""The NumPy formulas of chapter 02 against PyTorch (float64, autograd) and Keras (float32 and float64).

Tolerances: float64 against float64 within 1e-9 of the reference's scale; float32 Keras within
1e-5. Each framework-mapping test would fail on a swapped gate, a missing bias, a dropped Adam
bias correction or a misplaced epsilon: the errors those make are 1e-3 or more.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ptft_utils.reference import formulas as F

torch = pytest.importorskip("torch")
functional = torch.nn.functional

TOL64 = 1e-9
TOL32 = 1e-5
SEEDS = [0, 1, 2]


def assert_close(ours, reference, tol=TOL64):
    errors = F.max_errors(ours, reference)
    assert errors["max_rel_error"] <= tol, errors


def t64(array, grad=False):
    return torch.tensor(np.asarray(array), dtype=torch.float64, requires_grad=grad)


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)
    return keras


@pytest.fixture(scope="module")
def keras_rnn_layers(keras):
    """One LSTM and two GRUs (both reset_after variants), built once: (batch 2, time 5, input 3, hidden 4)."""
    layers = {
        "lstm": keras.layers.LSTM(4, return_sequences=True),
        "gru_after": keras.layers.GRU(4, return_sequences=True, reset_after=True),
        "gru_before": keras.layers.GRU(4, return_sequences=True, reset_after=False),
    }
    for layer in layers.values():
        layer(np.zeros((2, 5, 3), dtype="float32"))
    return layers


# -- 1. skip-gram ---------------------------------------------------------------------------
def random_embedding_problem(seed, vocab=11, dim=5, length=30, window=2, scale=0.7):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, length)
    pairs = F.skipgram_pairs(tokens, window)
    w_in, w_out = rng.normal(0, scale, (vocab, dim)), rng.normal(0, scale, (vocab, dim))
    return rng, tokens, pairs[:, 0], pairs[:, 1], w_in, w_out


def test_skipgram_pairs_cover_every_offset_in_the_window():
    pairs = F.skipgram_pairs([10, 11, 12, 13], window=2)
    expected = {(10, 11), (10, 12), (11, 10), (11, 12), (11, 13), (12, 10), (12, 11), (12, 13), (13, 11), (13, 12)}
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert len(pairs) == len(expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("vocab", "dim"), [(7, 3), (20, 8)])
def test_skipgram_loss_and_gradient_match_torch_autograd(seed, vocab, dim):
    _, _, centers, contexts, w_in, w_out = random_embedding_problem(seed, vocab, dim)
    ti, to = t64(w_in, True), t64(w_out, True)
    loss = functional.cross_entropy(ti[torch.from_numpy(centers)] @ to.T, torch.from_numpy(contexts))
    loss.backward()
    assert abs(F.skipgram_loss(w_in, w_out, centers, contexts) - loss.item()) <= TOL64 * abs(loss.item())
    grad_in, grad_out = F.skipgram_grad(w_in, w_out, centers, contexts)
    assert_close(grad_in, ti.grad.numpy())
    assert_close(grad_out, to.grad.numpy())


def test_seed_skipgram_uses_one_matrix_and_only_the_next_word():
    rng = np.random.default_rng(0)
    vectors, tokens = rng.normal(size=(6, 4)), rng.integers(0, 6, 20)
    expected = F.skipgram_loss(vectors, vectors, tokens[:-1], tokens[1:])
    assert F.seed_skipgram_loss(vectors, tokens) == pytest.approx(expected, rel=1e-12)


# -- 2. negative sampling -------------------------------------------------------------------
def test_unigram_noise_is_counts_to_three_quarters_normalised():
    counts = np.array([1.0, 16.0, 81.0])
    noise = F.unigram_noise(counts)
    assert noise.sum() == pytest.approx(1.0)
    assert_close(noise, np.array([1.0, 8.0, 27.0]) / 36.0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 5])
def test_sgns_loss_and_gradient_match_torch_autograd(seed, k):
    rng, tokens, centers, contexts, w_in, w_out = random_embedding_problem(seed)
    noise = F.unigram_noise(np.bincount(tokens, minlength=len(w_in)) + 1)
    negatives = rng.choice(len(w_in), size=(len(centers), k), p=noise)
    ti, to = t64(w_in, True), t64(w_out, True)
    v_c = ti[torch.from_numpy(centers)]
    positive = (to[torch.from_numpy(contexts)] * v_c).sum(1)
    negative = torch.einsum("nkd,nd->nk", to[torch.from_numpy(negatives)], v_c)
    loss = (-functional.logsigmoid(positive) - functional.logsigmoid(-negative).sum(1)).mean()
    loss.backward()
    ours = F.sgns_loss(w_in, w_out, centers, contexts, negatives)
    assert abs(ours - loss.item()) <= TOL64 * abs(loss.item())
    grad_in, grad_out = F.sgns_grad(w_in, w_out, centers, contexts, negatives)
    assert_close(grad_in, ti.grad.numpy())
    assert_close(grad_out, to.grad.numpy())


# -- 3. GloVe -------------------------------------------------------------------------------
def test_glove_weight_follows_the_paper():
    assert F.glove_weight(np.array([100.0, 250.0]), 100, 0.75).tolist() == [1.0, 1.0]
    assert F.glove_weight(np.array([10.0]))[0] == pytest.approx(0.1**0.75, rel=1e-14)


def test_cooccurrence_weights_pairs_by_inverse_distance():
    counts = F.cooccurrence_matrix([0, 1, 2], vocab_size=3, window=2)
    assert counts[0, 1] == counts[1, 0] == 1.0
    assert counts[0, 2] == counts[2, 0] == 0.5
    assert counts.trace() == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_glove_loss_and_gradient_match_torch_autograd(seed):
    rng, tokens, _, _, w, w_tilde = random_embedding_problem(seed, length=200)
    counts = F.cooccurrence_matrix(tokens, len(w), 3) * rng.uniform(1, 60)  # push some pairs past x_max
    b, b_tilde = rng.normal(size=len(w)), rng.normal(size=len(w))
    tensors = [t64(a, True) for a in (w, w_tilde, b, b_tilde)]
    i, j = np.nonzero(counts)
    x = t64(counts[i, j])
    residual = (tensors[0][i] * tensors[1][j]).sum(1) + tensors[2][i] + tensors[3][j] - torch.log(x)
    loss = (torch.clamp((x / 100.0) ** 0.75, max=1.0) * residual**2).sum()
    loss.backward()
    assert abs(F.glove_loss(w, w_tilde, b, b_tilde, counts) - loss.item()) <= TOL64 * loss.item()
    for ours, tensor in zip(F.glove_grad(w, w_tilde, b, b_tilde, counts), tensors, strict=True):
        assert_close(ours, tensor.grad.numpy())


def test_glove_loss_is_zero_at_an_exact_log_count_fit():
    rng = np.random.default_rng(0)
    w, w_tilde, b, b_tilde = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=6)
    counts = np.exp(w @ w_tilde.T + b[:, None] + b_tilde[None, :])
    assert F.glove_loss(w, w_tilde, b, b_tilde, counts) < 1e-20
    assert max(np.abs(g).max() for g in F.glove_grad(w, w_tilde, b, b_tilde, counts)) < 1e-10


# -- 4. convolution -------------------------------------------------------------------------
conv_cases = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 2),
        "c_in": st.integers(1, 3),
        "c_out": st.integers(1, 3),
        "height": st.integers(1, 9),
        "width": st.integers(1, 9),
        "kh": st.integers(1, 3),
        "kw": st.integers(1, 3),
        "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "padding": st.tuples(st.integers(0, 2), st.integers(0, 2)),
        "dilation": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "seed": st.integers(0, 2**16),
    }
)


def conv_inputs(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["batch"], case["c_in"], case["height"], case["width"]))
    weight = rng.normal(size=(case["c_out"], case["c_in"], case["kh"], case["kw"]))
    return x, weight, rng.normal(size=case["c_out"])


def output_fits(case):
    return all(
        F.conv_output_size(case[size], case[k], case["stride"][a], case["padding"][a], case["dilation"][a]) >= 1
        for a, (size, k) in enumerate([("height", "kh"), ("width", "kw")])
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=conv_cases)
def test_cross_correlation_matches_torch_conv2d(case):
    assume(output_fits(case))
    x, weight, bias = conv_inputs(case)
    kwargs = {"stride": case["stride"], "padding": case["padding"], "dilation": case["dilation"]}
    reference = functional.conv2d(t64(x), t64(weight), t64(bias), **kwargs).numpy()
    assert_close(F.cross_correlate2d(x, weight, bias, **kwargs), reference)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=conv_cases)
def test_cross_correlation_matches_keras_ops_conv_in_nhwc(keras, case):
    assume(output_fits(case))
    assume(max(case["stride"]) == 1 or max(case["dilation"]) == 1)  # TensorFlow refuses both > 1
    # TensorFlow's default oneDNN CPU kernel returns wrong values when a stride exceeds the padded
    # input along an axis (TF 2.21: width 2, kernel 2, stride 3 is off by 2.1; with
    # TF_ENABLE_ONEDNN_OPTS=0 it is exact). That is a framework bug, not a formula to check here.
    assume(all(case["stride"][a] <= case[size] + 2 * case["padding"][a] for a, size in enumerate(("height", "width"))))
    x, weight, _ = conv_inputs(case)
    (ph, pw) = case["padding"]
    padded = np.pad(F.nchw_to_nhwc(x), ((0, 0), (ph, ph), (pw, pw), (0, 0))).astype("float32")
    out = keras.ops.conv(
        padded, F.oihw_to_hwio(weight).astype("float32"), case["stride"], "valid", "channels_last", case["dilation"]
    )
    ours = F.cross_correlate2d(x, weight, None, case["stride"], case["padding"], case["dilation"])
    assert_close(ours, F.nhwc_to_nchw(keras.ops.convert_to_numpy(out)), TOL32)


@pytest.mark.parametrize(
    ("strides", "dilation", "padding"), [((1, 1), (1, 1), "valid"), ((2, 1), (1, 1), "valid"), ((1, 1), (2, 2), "same")]
)
def test_cross_correlation_matches_keras_conv2d_layer(keras, strides, dilation, padding):
    rng = np.random.default_rng(0)
    x, weight, bias = rng.normal(size=(2, 3, 8, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    layer = keras.layers.Conv2D(4, (3, 3), strides=strides, dilation_rate=dilation, padding=padding)
    layer.build((None, 8, 7, 3))
    layer.set_weights([F.oihw_to_hwio(weight).astype("float32"), bias.astype("float32")])
    out = F.nhwc_to_nchw(layer(F.nchw_to_nhwc(x).astype("float32")).numpy())
    pad = dilation[0] if padding == "same" else 0  # 'same' with stride 1 pads d (k - 1) / 2 each side
    assert_close(F.cross_correlate2d(x, weight, bias, strides, pad, dilation), out, TOL32)


def test_true_convolution_is_cross_correlation_with_a_flipped_kernel_and_differs():
    rng = np.random.default_rng(1)
    x, weight = rng.normal(size=(1, 2, 6, 6)), rng.normal(size=(3, 2, 3, 3))
    flipped = torch.flip(t64(weight), dims=(2, 3))
    assert_close(F.convolve2d(x, weight), functional.conv2d(t64(x), flipped).numpy())
    assert F.max_errors(F.convolve2d(x, weight), functional.conv2d(t64(x), t64(weight)).numpy())["max_rel_error"] > 0.1


def test_seed_convolution_formula_is_single_channel_cross_correlation():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(7, 6)), rng.normal(size=(3, 2))
    ours = F.cross_correlate2d(x[None, None], w[None, None], np.array([0.5]))[0, 0]
    assert_close(F.seed_conv2d(x, w, 0.5), ours)


# -- 5. LSTM --------------------------------------------------------------------------------
def torch_rnn_and_params(layer_class, from_torch, seed, input_size, hidden):
    """A float64 torch recurrent layer and the same weights in our formulas' layout."""
    torch.manual_seed(seed)
    layer = layer_class(input_size, hidden, batch_first=True).double()
    with torch.no_grad():  # biases away from zero, so a bias mix-up cannot hide
        layer.bias_ih_l0.uniform_(-1, 1)
        layer.bias_hh_l0.uniform_(-1, 1)
    tensors = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    return layer, from_torch(*(t.detach().numpy() for t in tensors))


def torch_lstm_and_params(seed, input_size=3, hidden=4):
    return torch_rnn_and_params(torch.nn.LSTM, F.lstm_from_torch, seed, input_size, hidden)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("batch", "steps", "input_size", "hidden"), [(2, 5, 3, 4), (3, 9, 6, 2)])
def test_lstm_sequence_matches_torch_lstm(seed, batch, steps, input_size, hidden):
    lstm, params = torch_lstm_and_params(seed, input_size, hidden)
    rng = np.random.default_rng(seed)
    xs, h0, c0 = (
        rng.normal(size=(batch, steps, input_size)),
        rng.normal(size=(batch, hidden)),
        rng.normal(size=(batch, hidden)),
    )
    out, (h_t, c_t) = lstm(t64(xs), (t64(h0[None]), t64(c0[None])))
    hs, h_last, c_last = F.lstm_sequence(xs, params, h0, c0)
    assert_close(hs, out.detach().numpy())
    assert_close(h_last, h_t[0].detach().numpy())
    assert_close(c_last, c_t[0].detach().numpy())


@pytest.mark.parametrize("seed", SEEDS)
def test_lstm_sequence_matches_keras_lstm(keras_rnn_layers, seed):
    _, params = torch_lstm_and_params(seed)
    xs = np.random.default_rng(seed).normal(size=(2, 5, 3))
    layer = keras_rnn_layers["lstm"]
    layer.set_weights([a.astype("float32") for a in F.lstm_to_keras(params)])
    assert_close(F.lstm_sequence(xs, params)[0], layer(xs.astype("float32")).numpy(), TOL32)


def test_seed_recurrent_equations_do_not_reproduce_torch_lstm():
    lstm, params = torch_lstm_and_params(0)
    xs = np.random.default_rng(0).normal(size=(2, 8, 3))
    out = lstm(t64(xs))[0].detach().numpy()
    assert F.max_errors(F.seed_recurrent_sequence(xs, params), out)["max_rel_error"] > 0.05


# -- 6. GRU ---------------------------------------------------------------------------------
def torch_gru_and_params(seed, input_size=3, hidden=4):
    return torch_rnn_and_params(torch.nn.GRU, F.gru_from_torch, seed, input_size, hidden)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("batch", "steps", "input_size", "hidden"), [(2, 5, 3, 4), (3, 9, 6, 2)])
def test_gru_sequence_matches_torch_gru(seed, batch, steps, input_size, hidden):
    gru, params = torch_gru_and_params(seed, input_size, hidden)
    rng = np.random.default_rng(seed)
    xs, h0 = rng.normal(size=(batch, steps, input_size)), rng.normal(size=(batch, hidden))
    out = gru(t64(xs), t64(h0[None]))[0].detach().numpy()
    assert_close(F.gru_sequence(xs, params, h0, reset_after=True), out)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_sequence_matches_keras_gru_in_both_variants(keras_rnn_layers, seed, reset_after):
    _, params = torch_gru_and_params(seed)
    xs = np.random.default_rng(seed).normal(size=(2, 5, 3))
    layer = keras_rnn_layers["gru_after" if reset_after else "gru_before"]
    layer.set_weights([a.astype("float32") for a in F.gru_to_keras(params, reset_after)])
    assert_close(F.gru_sequence(xs, params, reset_after=reset_after), layer(xs.astype("float32")).numpy(), TOL32)


def test_gru_reset_before_variant_differs_from_torch():
    gru, params = torch_gru_and_params(0)
    xs = np.random.default_rng(0).normal(size=(2, 8, 3))
    out = gru(t64(xs))[0].detach().numpy()
    assert F.max_errors(F.gru_sequence(xs, params, reset_after=False), out)["max_rel_error"] > 1e-3


# -- 7. optimizers --------------------------------------------------------------------------
A = F.ill_conditioned_quadratic(25.0, np.pi / 6)
X0 = np.array([-2.0, 1.5])
STEPS = 40
_, QUAD_GRAD = F.quadratic(A)


def torch_trajectory(make_optimizer, steps=STEPS):
    x = t64(X0, True)
    optimizer = make_optimizer([x])
    a = t64(A)
    path = [x.detach().clone().numpy()]
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * x @ a @ x).backward()
        optimizer.step()
        path.append(x.detach().clone().numpy())
    return np.stack(path)


def keras_trajectory(keras, optimizer, dtype, steps=STEPS):
    import tensorflow as tf

    x = keras.Variable(X0.astype(dtype), dtype=dtype)
    a = tf.constant(A, dtype=dtype)
    path = [x.numpy().astype(np.float64)]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = 0.5 * tf.tensordot(tf.linalg.matvec(a, x), x, 1)
        optimizer.apply_gradients([(tape.gradient(loss, x), x)])
        path.append(x.numpy().astype(np.float64))
    return np.stack(path)


@pytest.mark.parametrize("lr", [0.01, 0.07])
def test_gradient_descent_matches_torch_sgd(lr):
    assert_close(F.gradient_descent(QUAD_GRAD, X0, lr, STEPS), torch_trajectory(lambda p: torch.optim.SGD(p, lr=lr)))


@pytest.mark.parametrize(("lr", "momentum"), [(0.01, 0.9), (0.03, 0.5)])
def test_momentum_matches_torch_and_both_forms_agree(lr, momentum):
    ours = F.sgd_momentum(QUAD_GRAD, X0, lr, momentum, STEPS, form="torch")
    assert_close(ours, torch_trajectory(lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum)))
    assert_close(F.sgd_momentum(QUAD_GRAD, X0, lr, momentum, STEPS, form="keras"), ours)


@pytest.mark.parametrize(("lr", "betas", "eps"), [(0.1, (0.9, 0.999), 1e-8), (0.05, (0.8, 0.99), 1e-3)])
def test_adam_matches_torch_adam_whole_trajectory(lr, betas, eps):
    reference = torch_trajectory(lambda p: torch.optim.Adam(p, lr=lr, betas=betas, eps=eps))
    assert_close(F.adam(QUAD_GRAD, X0, lr, STEPS, *betas, eps=eps, epsilon_on="v_hat"), reference)


def test_adam_without_bias_correction_or_with_keras_epsilon_does_not_match_torch():
    reference = torch_trajectory(lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-3))
    no_correction = F.adam(QUAD_GRAD, X0, 0.05, STEPS, 0.8, 0.99, eps=1e-3, bias_correction=False)
    keras_epsilon = F.adam(QUAD_GRAD, X0, 0.05, STEPS, 0.8, 0.99, eps=1e-3, epsilon_on="v")
    assert F.max_errors(no_correction, reference)["max_rel_error"] > 1e-2
    assert F.max_errors(keras_epsilon, reference)["max_rel_error"] > 1e-5


# Keras keeps the learning rate in a float32 variable and turns beta_1, beta_2 into float32
# tensors for the bias correction. With values float32 holds exactly, float64 Keras is exact.
EXACT_LR, EXACT_MOMENTUM, EXACT_BETAS = 0.125, 0.875, (0.875, 1.0 - 2.0**-10)


def test_keras_sgd_and_momentum_match_in_float64(keras):
    plain = keras_trajectory(keras, keras.optimizers.SGD(EXACT_LR / 4), "float64")
    assert_close(F.gradient_descent(QUAD_GRAD, X0, EXACT_LR / 4, STEPS), plain)
    heavy = keras_trajectory(keras, keras.optimizers.SGD(EXACT_LR / 4, momentum=EXACT_MOMENTUM), "float64")
    assert_close(F.sgd_momentum(QUAD_GRAD, X0, EXACT_LR / 4, EXACT_MOMENTUM, STEPS, form="keras"), heavy)


@pytest.mark.parametrize("eps", [1e-7, 1e-2])
def test_keras_adam_matches_epsilon_on_v_in_float64(keras, eps):
    reference = keras_trajectory(keras, keras.optimizers.Adam(EXACT_LR, *EXACT_BETAS, epsilon=eps), "float64")
    assert_close(F.adam(QUAD_GRAD, X0, EXACT_LR, STEPS, *EXACT_BETAS, eps=eps, epsilon_on="v"), reference)
    if eps >= 1e-2:  # where epsilon is large enough to matter, torch's placement is visibly different
        torch_form = F.adam(QUAD_GRAD, X0, EXACT_LR, STEPS, *EXACT_BETAS, eps=eps, epsilon_on="v_hat")
        assert F.max_errors(torch_form, reference)["max_rel_error"] > 1e-4


def test_keras_float32_optimizers_with_defaults_match_within_float32_tolerance(keras):
    reference = keras_trajectory(keras, keras.optimizers.Adam(0.1), "float32")
    assert_close(F.adam(QUAD_GRAD, X0, 0.1, STEPS, eps=1e-7, epsilon_on="v"), reference, TOL32)
    reference = keras_trajectory(keras, keras.optimizers.SGD(0.01, momentum=0.9), "float32")
    assert_close(F.sgd_momentum(QUAD_GRAD, X0, 0.01, 0.9, STEPS, form="keras"), reference, TOL32)


# -- 8. cross-entropy -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_and_gradient_match_torch(seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(0, 3, size=(6, 5)), rng.integers(0, 5, 6)
    z = t64(logits, True)
    loss = functional.cross_entropy(z, torch.from_numpy(labels))
    loss.backward()
    assert F.cross_entropy(logits, labels) == pytest.approx(loss.item(), rel=TOL64)
    assert F.cross_entropy_onehot(logits, F.one_hot(labels, 5)) == pytest.approx(loss.item(), rel=TOL64)
    soft = functional.cross_entropy(t64(logits), t64(F.one_hot(labels, 5))).item()  # probability targets
    assert F.cross_entropy_onehot(logits, F.one_hot(labels, 5)) == pytest.approx(soft, rel=TOL64)
    assert_close(F.cross_entropy_grad(logits, F.one_hot(labels, 5)), z.grad.numpy())


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_matches_keras_losses(keras, seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(0, 3, size=(6, 5)), rng.integers(0, 5, 6)
    sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits.astype("float32"))
    onehot = keras.losses.CategoricalCrossentropy(from_logits=True)(
        F.one_hot(labels, 5).astype("float32"), logits.astype("float32")
    )
    assert_close(F.cross_entropy(logits, labels), float(sparse), TOL32)
    assert_close(F.cross_entropy_onehot(logits, F.one_hot(labels, 5)), float(onehot), TOL32)


def test_max_errors_refuses_different_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        F.max_errors(np.zeros(3), np.zeros((3, 1)))
