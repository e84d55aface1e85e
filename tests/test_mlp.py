"""The hand-written MLP: backprop against finite differences, Adam against closed forms,
a fit against an exact Gaussian drift, determinism, float32 mode, and bad inputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import si_ref
from si_ref.mlp import MLP, Adam, MLPField, flatten, time_features, unflatten
from si_ref.mlp import Linear

from reference import assert_raises_naming

seeds = st.integers(0, 2**32 - 1)


# --- time features ------------------------------------------------------------------------------

def test_time_features_match_their_definition_at_quarter_times():
    t = np.array([0.0, 0.25, 0.5])
    features = time_features(t, 2)
    # columns: t, sin(2πt), sin(4πt), cos(2πt), cos(4πt)
    expected = np.array([
        [0.0, 0.0, 0.0, 1.0, 1.0],
        [0.25, 1.0, 0.0, 0.0, -1.0],
        [0.5, 0.0, 0.0, -1.0, 1.0],
    ])
    assert features.shape == (3, 5) and features.dtype == np.float64
    np.testing.assert_allclose(features, expected, atol=1e-15)
    np.testing.assert_array_equal(time_features(t, 0), t[:, None])


# --- backprop -----------------------------------------------------------------------------------

def norm_relative_error(a, b):
    """‖a − b‖ / max(‖a‖, ‖b‖), 0 when both vanish."""
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else np.linalg.norm(a - b) / scale


@given(
    seed=seeds,
    in_dim=st.integers(1, 4),
    out_dim=st.integers(1, 3),
    widths=st.lists(st.integers(1, 8), min_size=1, max_size=3),
    activation=st.sampled_from(["silu", "tanh"]),
    n=st.integers(1, 5),
)
def test_backprop_equals_central_differences(seed, in_dim, out_dim, widths, activation, n):
    rng = np.random.default_rng(seed)
    net = MLP(in_dim, out_dim, widths=widths, activation=activation, rng=rng)
    net.set_flat_parameters(rng.standard_normal(net.n_parameters))   # random biases too, not just 0
    inputs = rng.standard_normal((n, in_dim))
    target = rng.standard_normal((n, out_dim))
    A = rng.standard_normal((out_dim, out_dim))
    Q = A @ A.T + np.eye(out_dim)                                   # loss ½ Σ_i (f_i − y_i)ᵀ Q (f_i − y_i)

    def loss(theta):
        net.set_flat_parameters(theta)
        r = net.forward(inputs) - target
        return 0.5 * np.sum((r @ Q) * r)

    theta = net.get_flat_parameters()
    residual = net.forward(inputs) - target
    backprop = flatten(net.backward(residual @ Q))                  # ∂loss/∂f = (f − y) Q

    h = 1e-5
    finite_difference = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        finite_difference[i] = (loss(theta + e) - loss(theta - e)) / (2 * h)

    assert np.linalg.norm(finite_difference) > 0
    assert norm_relative_error(backprop, finite_difference) <= 1e-6


def test_gradients_are_views_of_the_flat_gradient_in_parameter_order():
    net = MLP(3, 2, widths=(4, 5), rng=np.random.default_rng(0))
    net.forward(np.ones((2, 3)))
    grads = net.backward(np.ones((2, 2)))
    assert [g.shape for g in grads] == [p.shape for p in net.parameters()]
    np.testing.assert_array_equal(flatten(grads), net.flat_gradients)
    np.testing.assert_array_equal(flatten(net.parameters()), net.flat_parameters)
    for a, b in zip(unflatten(net.flat_parameters, net.parameters()), net.parameters()):
        np.testing.assert_array_equal(a, b)


def test_activations_do_not_overflow_for_huge_preactivations():
    # warnings are errors (pyproject): a naive exp(-z) in the sigmoid would fail here
    for activation in ("silu", "tanh"):
        net = MLP(1, 1, widths=(2,), activation=activation, rng=np.random.default_rng(0))
        out = net.forward(np.array([[-1e6], [1e6]]))
        grads = net.backward(np.ones_like(out))
        assert np.isfinite(out).all() and np.isfinite(flatten(grads)).all()


def test_bias_gradient_is_the_column_sum_of_the_output_gradient_for_growing_and_shrinking_batches():
    # ∂L/∂b = Σ_rows G, computed as the product 1ᵀ G with a reused vector of ones
    rng = np.random.default_rng(4)
    layer = Linear(rng.standard_normal((3, 5)), np.zeros(5))
    for n in (4, 9, 2, 9):                                           # grows, shrinks, grows back
        h, G = rng.standard_normal((n, 3)), rng.standard_normal((n, 5))
        layer.forward(h)
        layer.backward(G)
        np.testing.assert_allclose(layer.db, G.sum(axis=0), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(layer.dW, h.T @ G, rtol=1e-13, atol=1e-14)
    assert layer._buffers["ones"].shape == (9,) and (layer._buffers["ones"] == 1.0).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_changing_the_batch_size_between_steps_gives_what_a_fresh_network_gives(dtype):
    # the buffers are sized by the largest batch so far and smaller batches use their leading rows:
    # a network that has seen other batch sizes must give bit-identical outputs and gradients
    rng = np.random.default_rng(7)
    batches = [(rng.standard_normal((n, 3)), rng.standard_normal((n, 2))) for n in (5, 12, 3, 12, 1)]
    used = MLP(3, 2, widths=(6, 4), dtype=dtype, rng=np.random.default_rng(8))
    for inputs, grad_outputs in batches:
        fresh = MLP(3, 2, widths=(6, 4), dtype=dtype, rng=np.random.default_rng(8))
        saved = inputs.copy(), grad_outputs.copy()
        np.testing.assert_array_equal(used.forward(inputs), fresh.forward(inputs))
        np.testing.assert_array_equal(flatten(used.backward(grad_outputs)), flatten(fresh.backward(grad_outputs)))
        np.testing.assert_array_equal(inputs, saved[0])              # inputs are never modified
        np.testing.assert_array_equal(grad_outputs, saved[1])


# --- float32 mode -------------------------------------------------------------------------------

def test_float32_mode_stays_float32_through_forward_backward_and_adam():
    rng = np.random.default_rng(0)
    net = MLP(3, 2, widths=(8, 8), dtype=np.float32, rng=rng)
    optimizer = Adam([net.flat_parameters], lr=1e-3)
    out = net.forward(rng.standard_normal((5, 3)).astype(np.float32))
    grads = net.backward(out.copy())
    optimizer.step([net.flat_gradients])
    arrays = [out, *grads, *net.parameters(), net.flat_parameters, net.flat_gradients, *optimizer.m, *optimizer.v]
    arrays += [buf for layer in net.layers for buf in layer._buffers.values()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_float32_field_trains_in_float32_and_returns_float64():
    rng = np.random.default_rng(0)
    field = MLPField(2, widths=(8,), dtype=np.float32, rng=rng)
    x = rng.standard_normal((64, 2))
    field.fit(x, rng.uniform(size=64), -x, epochs=2, batch_size=16, rng=rng)
    assert field.network.flat_parameters.dtype == np.float32
    assert {b.dtype for b in field._buffers.values()} == {np.dtype(np.float32)}
    assert field(x, 0.5).dtype == np.float64


# --- Adam ---------------------------------------------------------------------------------------

def test_adam_first_step_is_lr_times_normalised_gradient():
    # after one step the bias-corrected moments are m̂ = g, v̂ = g², so Δp = −lr g / (|g| + ε)
    p = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, -4.0, 1e-3])
    optimizer = Adam([p], lr=0.1, eps=1e-8)
    optimizer.step([g])
    np.testing.assert_allclose(p, np.array([1.0, -2.0, 3.0]) - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


def test_adam_converges_to_the_minimiser_of_a_convex_quadratic():
    # f(p) = ½ (p − p*)ᵀ H (p − p*), minimiser p* in closed form
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    H = A @ A.T + 0.5 * np.eye(4)
    p_star = rng.standard_normal(4)
    p = np.zeros(4)
    optimizer = Adam([p], lr=1e-2)
    for _ in range(3000):
        optimizer.step([H @ (p - p_star)])
    np.testing.assert_allclose(p, p_star, atol=1e-3)


def test_adam_on_the_flat_vector_equals_adam_on_the_parameter_list():
    nets = [MLP(2, 2, widths=(3,), rng=np.random.default_rng(5)) for _ in range(2)]
    flat_opt = Adam([nets[0].flat_parameters], lr=1e-2)
    list_opt = Adam(nets[1].parameters(), lr=1e-2)
    inputs = np.random.default_rng(6).standard_normal((7, 2))
    for _ in range(3):
        for net in nets:
            net.backward(net.forward(inputs).copy())
        flat_opt.step([nets[0].flat_gradients])
        list_opt.step(nets[1].gradients())
    np.testing.assert_array_equal(nets[0].flat_parameters, nets[1].flat_parameters)


def textbook_adam(p, gradients, lr, beta1, beta2, eps):
    """Kingma & Ba, Algorithm 1, written out directly (bias-corrected moments), in float64."""
    p, m, v = p.astype(np.float64), np.zeros(p.shape), np.zeros(p.shape)
    for k, g in enumerate(gradients, start=1):
        g = g.astype(np.float64)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**k), v / (1 - beta2**k)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_adam_in_place_equals_the_textbook_update_over_several_steps(dtype, rtol):
    rng = np.random.default_rng(11)
    start = rng.standard_normal(50).astype(dtype)
    # gradients of very different sizes, signs changing, some tiny next to eps
    gradients = [(rng.standard_normal(50) * 10.0 ** rng.integers(-6, 3, size=50)).astype(dtype) for _ in range(7)]
    p = start.copy()
    optimizer = Adam([p], lr=3e-2, beta1=0.8, beta2=0.99, eps=1e-6)
    for g in gradients:
        saved = g.copy()
        optimizer.step([g])
        np.testing.assert_array_equal(g, saved)                       # the gradient is not modified
    assert optimizer.parameters[0] is p and p.dtype == dtype          # updated in place
    expected = textbook_adam(start, gradients, lr=3e-2, beta1=0.8, beta2=0.99, eps=1e-6)
    np.testing.assert_allclose(p, expected, rtol=rtol, atol=rtol * 1e-2)
    assert optimizer.step_count == 7 and not np.allclose(p, start)


# --- fitting ------------------------------------------------------------------------------------

CASE = si_ref.GaussianCase(
    si_ref.LinearInterpolant(si_ref.BrownianGamma()),
    si_ref.Gaussian(np.zeros(1), np.eye(1)),
    si_ref.Gaussian(np.array([2.0]), np.array([[0.25]])),
)


def drift_data(n, rng):
    """Points x_t of the interpolant at uniform times, and the exact drift b(x_t, t) there."""
    t = rng.uniform(size=n)
    x0, x1 = CASE.base.sample(n, rng), CASE.target.sample(n, rng)
    x = CASE.interpolant.interpolant(t, x0, x1, rng.standard_normal((n, 1)))
    return x, t, CASE.drift(x, t)


def test_fit_learns_the_exact_gaussian_drift_to_two_percent():
    x, t, b = drift_data(2048, np.random.default_rng(1))
    field = MLPField(1, widths=(32, 32), n_frequencies=2, rng=np.random.default_rng(0))
    history = field.fit(x, t, b, epochs=100, batch_size=128, lr=3e-3, rng=np.random.default_rng(2))

    x_test, t_test, b_test = drift_data(4096, np.random.default_rng(3))    # held out
    relative_l2 = np.linalg.norm(field(x_test, t_test) - b_test) / np.linalg.norm(b_test)
    assert relative_l2 <= 0.02                                            # measured 0.6%

    assert history.shape == (100,)
    block_means = history.reshape(10, 10).mean(axis=1)
    assert np.all(np.diff(block_means) < 0)
    assert history[-1] < 1e-3 * history[0]


def test_lr_final_decays_the_step_size_geometrically_over_the_epochs(monkeypatch):
    seen = []
    original = si_ref.mlp.Adam.step

    def recording_step(self, gradients):
        seen.append(self.lr)
        return original(self, gradients)

    monkeypatch.setattr(si_ref.mlp.Adam, "step", recording_step)
    x, t, b = drift_data(40, np.random.default_rng(1))
    MLPField(1, widths=(4,), rng=np.random.default_rng(0)).fit(x, t, b, epochs=5, batch_size=20, lr=1e-2,
                                                                lr_final=1e-4, rng=np.random.default_rng(2))
    per_epoch = np.array(seen).reshape(5, 2)        # two minibatches per epoch
    assert (per_epoch[:, 0] == per_epoch[:, 1]).all()
    np.testing.assert_allclose(per_epoch[:, 0], 1e-2 * (1e-2) ** (np.arange(5) / 4), rtol=1e-14)


def test_same_seed_gives_bit_identical_history_and_weights():
    x, t, b = drift_data(300, np.random.default_rng(1))

    def train(seed):
        field = MLPField(1, widths=(8, 8), rng=np.random.default_rng(seed))
        return field.fit(x, t, b, epochs=5, batch_size=64, rng=np.random.default_rng(seed + 1)), field

    (h1, f1), (h2, f2), (h3, _) = train(0), train(0), train(1)
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(f1.network.flat_parameters, f2.network.flat_parameters)
    assert not np.array_equal(h1, h3)


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_equals_a_hand_written_loop_of_adam_steps_on_shuffled_minibatches(weighted):
    # the oracle: fit's documented algorithm written out with fancy indexing and fresh arrays;
    # 50 points in minibatches of 16 leave a last minibatch of 2 (the reused buffers shrink)
    x, t, b = drift_data(50, np.random.default_rng(1))
    weights = np.random.default_rng(2).uniform(0.0, 3.0, size=50) if weighted else None
    field = MLPField(1, widths=(8, 8), rng=np.random.default_rng(0))
    history = field.fit(x, t, b, epochs=3, batch_size=16, lr=1e-2, rng=np.random.default_rng(3), sample_weight=weights)

    oracle = MLPField(1, widths=(8, 8), rng=np.random.default_rng(0))
    oracle.x_mean, oracle.x_scale = x.mean(axis=0), x.std(axis=0)
    inputs = oracle._network_inputs(x, t)
    w_all = None if weights is None else weights / weights.mean()
    net = oracle.network
    optimizer = Adam([net.flat_parameters], lr=1e-2)
    rng = np.random.default_rng(3)
    expected = []
    for _ in range(3):
        order, total = rng.permutation(50), 0.0
        for start in range(0, 50, 16):
            idx = order[start:start + 16]
            r = net.forward(inputs[idx]) - b[idx]                          # f − y
            w = np.ones(idx.size) if w_all is None else w_all[idx]
            total += 0.5 * np.sum(w * np.sum(r * r, axis=1))               # m × the minibatch loss
            net.backward(w[:, None] * r / idx.size)
            optimizer.step([net.flat_gradients])
        expected.append(total / 50)
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    np.testing.assert_allclose(field.network.flat_parameters, net.flat_parameters, rtol=1e-12, atol=1e-14)
    assert field._buffers["inputs"].shape == (16, field.network.in_dim) and field._buffers["targets"].shape == (16, 1)


def test_fit_and_predict_never_modify_their_inputs():
    x, t, b = drift_data(40, np.random.default_rng(1))
    weights = np.linspace(0.5, 2.0, 40)
    saved = [a.copy() for a in (x, t, b, weights)]
    field = MLPField(1, widths=(4,), rng=np.random.default_rng(0))
    field.fit(x, t, b, epochs=2, batch_size=16, rng=np.random.default_rng(2), sample_weight=weights)
    field(x, t)
    for array, copy in zip((x, t, b, weights), saved):
        np.testing.assert_array_equal(array, copy)


def test_zero_weight_points_do_not_influence_training():
    x, t, b = drift_data(200, np.random.default_rng(1))
    weights = np.where(np.arange(200) % 3 == 0, 0.0, 2.0)
    corrupted = np.where(weights[:, None] == 0, 1e3, b)

    def train(targets):
        field = MLPField(1, widths=(8,), rng=np.random.default_rng(0))
        history = field.fit(x, t, targets, epochs=3, batch_size=32, rng=np.random.default_rng(1), sample_weight=weights)
        return history, field.network.flat_parameters

    (h1, p1), (h2, p2) = train(b), train(corrupted)
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_array_equal(p1, p2)


def test_constant_weights_give_the_unweighted_fit():
    x, t, b = drift_data(100, np.random.default_rng(1))
    runs = []
    for weights in (None, np.full(100, 7.0)):
        field = MLPField(1, widths=(8,), rng=np.random.default_rng(0))
        history = field.fit(x, t, b, epochs=3, batch_size=32, rng=np.random.default_rng(1), sample_weight=weights)
        runs.append((history, field.network.flat_parameters))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    np.testing.assert_array_equal(runs[0][1], runs[1][1])   # weights rescale to exactly 1


def test_standardisation_is_set_by_the_first_fit_and_then_frozen():
    rng = np.random.default_rng(0)
    x = 5.0 + 3.0 * rng.standard_normal((500, 2))
    field = MLPField(2, widths=(4,), rng=rng)
    field.fit(x, 0.5, x, epochs=1, rng=rng)
    np.testing.assert_allclose(field.x_mean, x.mean(axis=0))
    np.testing.assert_allclose(field.x_scale, x.std(axis=0))
    field.fit(x + 100.0, 0.5, x, epochs=1, rng=rng)
    np.testing.assert_allclose(field.x_mean, x.mean(axis=0))

    plain = MLPField(2, widths=(4,), standardize=False, rng=rng)
    plain.fit(x, 0.5, x, epochs=1, rng=rng)
    np.testing.assert_array_equal(plain.x_mean, np.zeros(2))
    np.testing.assert_array_equal(plain.x_scale, np.ones(2))


def test_verbose_prints_one_line_per_epoch(capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 1))
    MLPField(1, widths=(2,), rng=rng).fit(x, 0.5, x, epochs=3, rng=rng, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" loss ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]


def test_field_protocol_scalar_time_and_ignored_conditioning():
    rng = np.random.default_rng(0)
    field = MLPField(2, widths=(4,), rng=rng)
    x = rng.standard_normal((5, 2))
    out = field(x, 0.3)
    assert out.shape == (5, 2) and out.dtype == np.float64
    np.testing.assert_array_equal(out, field.predict(x, np.full(5, 0.3)))
    np.testing.assert_array_equal(out, field(x, 0.3, c=np.ones(5)))
    out[:] = 0.0                                      # a fresh array: the next call is unaffected
    assert not np.array_equal(field(x, 0.3), out)


def test_fit_raises_naming_lr_when_the_loss_diverges():
    rng = np.random.default_rng(0)
    field = MLPField(1, widths=(16, 16), dtype=np.float32, rng=rng)
    x = rng.standard_normal((256, 1))
    # Adam's steps have size ~lr: the float32 weights reach 1e10 and the squared residuals overflow
    with pytest.raises(ValueError, match=r"training diverged.*lr=10000000000\.0.*smaller lr"):
        field.fit(x, 0.5, x, epochs=3, batch_size=32, lr=1e10, rng=rng)


def test_fit_reports_one_step_per_epoch_with_the_loss():
    import io
    from si_ref.progress import shown
    rng = np.random.default_rng(0)
    field = MLPField(1, widths=(4,), rng=rng)
    x = rng.standard_normal((32, 1))
    stream = io.StringIO()
    with shown(stream):
        history = field.fit(x, 0.5, x, epochs=3, batch_size=8, rng=rng)
    assert "MLP training: epoch 3/3" in stream.getvalue()
    assert f"loss {history[-1]:.4g}" in stream.getvalue()


def test_zero_dimensional_arrays_are_accepted_as_scalars():
    rng = np.random.default_rng(0)
    field = MLPField(1, widths=(4,), rng=rng)
    x = rng.standard_normal((32, 1))
    history = field.fit(x, np.array(0.5), x, epochs=2, batch_size=8, lr=np.array(1e-3), lr_final=np.array(1e-4), rng=rng)
    assert history.shape == (2,) and np.isfinite(history).all()
    assert field(x, np.array(0.5)).dtype == np.float64


def test_float32_network_forward_stays_float32_but_the_field_is_float64():
    rng = np.random.default_rng(0)
    field = MLPField(2, widths=(8,), dtype="float32", rng=rng)
    x = rng.standard_normal((10, 2))
    assert field.network.forward(field._network_inputs(x, np.full(10, 0.5))).dtype == np.float32
    out = field(x, 0.5)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, field.network.forward(field._network_inputs(x, np.full(10, 0.5))), rtol=0, atol=0)


# --- bad inputs ---------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
FIELD = MLPField(2, widths=(4,), rng=np.random.default_rng(0))
X = np.ones((6, 2))
T = np.full(6, 0.5)


def fit(**overrides):
    kwargs = dict(x=X, t=T, y=X, epochs=1, batch_size=2, lr=1e-3, rng=RNG)
    kwargs.update(overrides)
    return lambda: FIELD.fit(kwargs.pop("x"), kwargs.pop("t"), kwargs.pop("y"), **kwargs)


# (id, call, exception, fragments that must all appear in the message)
CASES = [
    ("y-rows-differ", fit(y=np.ones((5, 2))), ValueError, ["y must have the shape of x", "(5, 2)"]),
    ("x-wrong-dim", fit(x=np.ones((6, 3))), ValueError, ["x must have d = 2 columns", "(6, 3)"]),
    ("x-one-dimensional", fit(x=np.ones(6)), ValueError, ["x must have shape (n, d)", "(6,)"]),
    ("t-wrong-length", fit(t=np.full(5, 0.5)), ValueError, ["t must be a scalar or have shape (n,) = (6,)", "(5,)"]),
    ("t-outside-unit-interval", fit(t=1.5), ValueError, ["t must lie in", "1.5"]),
    ("x-empty", fit(x=np.ones((0, 2)), y=np.ones((0, 2))), ValueError, ["x must contain at least one point"]),
    ("x-nan", fit(x=np.full((6, 2), np.nan)), ValueError, ["x must contain only finite values"]),
    ("y-nan", fit(y=np.where(X > 0, np.nan, X)), ValueError, ["y must contain only finite values"]),
    ("weights-negative", fit(sample_weight=-np.ones(6)), ValueError, ["sample_weight must be finite, non-negative"]),
    ("weights-wrong-shape", fit(sample_weight=np.ones(5)), ValueError, ["sample_weight must have shape (n,) = (6,)"]),
    ("weights-both-names", fit(sample_weight=np.ones(6), weights=np.ones(6)), TypeError,
     ["both sample_weight= and its deprecated name weights="]),
    ("lr-zero", fit(lr=0.0), ValueError, ["lr must be > 0", "lr=0.0"]),
    ("lr-negative", fit(lr=-1e-3), ValueError, ["lr must be > 0", "-0.001"]),
    ("lr-final-zero", fit(lr_final=0.0), ValueError, ["lr_final must be > 0", "lr_final=0.0"]),
    ("epochs-zero", fit(epochs=0), ValueError, ["epochs must be an integer >= 1", "epochs=0"]),
    ("epochs-float", fit(epochs=2.5), TypeError, ["epochs must be an integer", "2.5"]),
    ("batch-size-zero", fit(batch_size=0), ValueError, ["batch_size must be an integer >= 1", "batch_size=0"]),
    ("fit-rng-seed-int", fit(rng=0), TypeError, ["rng must be a numpy.random.Generator", "int"]),
    ("activation-unknown", lambda: MLPField(2, activation="relu", rng=RNG), ValueError,
     ["activation must be one of", "'relu'"]),
    ("rng-legacy-randomstate", lambda: MLP(2, 2, rng=np.random.RandomState(0)), TypeError,
     ["rng must be a numpy.random.Generator", "RandomState"]),
    ("dtype-float16", lambda: MLP(2, 2, dtype=np.float16, rng=RNG), ValueError, ["dtype must be np.float32 or np.float64"]),
    ("widths-int", lambda: MLP(2, 2, widths=64, rng=RNG), TypeError, ["widths must be a sequence", "64"]),
    ("widths-zero", lambda: MLP(2, 2, widths=(4, 0), rng=RNG), ValueError, ["widths[1] must be an integer >= 1", "widths[1]=0"]),
    ("dim-zero", lambda: MLPField(0, rng=RNG), ValueError, ["dim must be an integer >= 1", "dim=0"]),
    ("n-frequencies-negative", lambda: time_features(T, -1), ValueError, ["n_frequencies must be >= 0"]),
    ("time-features-column", lambda: time_features(T[:, None], 2), ValueError, ["t must have shape (n,)", "(6, 1)"]),
    ("forward-wrong-width", lambda: MLP(2, 2, rng=RNG).forward(np.ones((3, 5))), ValueError,
     ["inputs must have shape (n, in_dim) = (n, 2)", "(3, 5)"]),
    ("backward-before-forward", lambda: MLP(2, 2, rng=RNG).backward(np.ones((3, 2))), RuntimeError,
     ["call forward(inputs) first"]),
    ("adam-lr-zero", lambda: Adam([np.zeros(2)], lr=0.0), ValueError, ["lr must be > 0"]),
    ("adam-beta1-one", lambda: Adam([np.zeros(2)], beta1=1.0), ValueError, ["beta1 must lie in [0, 1)", "1.0"]),
    ("adam-eps-negative", lambda: Adam([np.zeros(2)], eps=-1.0), ValueError, ["eps must be > 0"]),
    ("adam-int-parameter", lambda: Adam([np.zeros(2, dtype=int)]), TypeError,
     ["parameters[0] must be a writable floating-point ndarray", "int64"]),
    ("adam-gradient-shape", lambda: Adam([np.zeros(2)]).step([np.zeros(3)]), ValueError,
     ["gradients[0] must have shape (2,)", "(3,)"]),
    ("set-parameters-nan", lambda: MLP(2, 2, widths=(3,), rng=RNG).set_flat_parameters(np.full(2 * 3 + 3 + 3 * 2 + 2, np.nan)),
     ValueError, ["vector must contain only finite values", "nan", "index 0"]),
    ("set-parameters-overflow-float32",
     lambda: MLP(2, 2, widths=(3,), dtype=np.float32, rng=RNG).set_flat_parameters(np.full(17, 1e300)), ValueError,
     ["vector must contain only finite values (in float32)"]),
    ("standardize-string", lambda: MLPField(2, standardize="yes", rng=RNG), TypeError, ["standardize must be True or False", "'yes'"]),
    ("verbose-two", fit(verbose=2), TypeError, ["verbose must be True or False", "2"]),
    ("lr-zero-d-array-negative", fit(lr=np.array(-1.0)), ValueError, ["lr must be > 0"]),
    ("adam-gradient-dtype", lambda: Adam([np.zeros(2, np.float32)]).step([np.zeros(2)]), ValueError,
     ["gradients[0] must have shape (2,) and dtype float32", "float64"]),
]


@pytest.mark.parametrize("call, exception, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_inputs_raise_errors_naming_the_argument(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_fit_runs_with_one_blas_thread_unless_the_user_chose(monkeypatch):
    from threadpoolctl import threadpool_info

    from si_ref.threads import USER_THREAD_VARIABLES
    for name in USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen = []

    class Recording(MLPField):
        def _train_step(self, *args):
            seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
            return super()._train_step(*args)
    rng = np.random.default_rng(0)
    field = Recording(1, widths=(4,), rng=rng)
    x = rng.standard_normal((16, 1))
    field.fit(x, 0.5, x, epochs=1, batch_size=8, rng=rng)
    assert seen and set(seen) == {1}


def test_the_deprecated_weights_keyword_warns_once_and_fits_like_sample_weight():
    import warnings

    from si_ref import _checks
    _checks._WARNED_ALIASES.discard(("MLPField.fit", "weights"))
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((24, 1)), rng.uniform(0.5, 2.0, 24)
    results = []
    for keyword in ("sample_weight", "weights", "weights"):
        field = MLPField(1, widths=(4,), rng=np.random.default_rng(1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            field.fit(x, 0.5, x, epochs=2, batch_size=8, rng=np.random.default_rng(2), **{keyword: w})
        results.append((field(x, 0.5), [str(c.message) for c in caught if c.category is DeprecationWarning]))
    assert results[0][1] == [] and len(results[1][1]) == 1 and results[2][1] == []   # warned once
    assert "use sample_weight=" in results[1][1][0]
    np.testing.assert_array_equal(results[0][0], results[1][0])


def test_public_passes_return_fresh_arrays_that_the_next_call_leaves_alone():
    rng = np.random.default_rng(0)
    net = MLP(3, 2, widths=(5,), rng=rng)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    out_a = net.forward(a)
    kept = out_a.copy()
    grads_a = net.backward(np.ones_like(out_a))
    kept_grads = [g.copy() for g in grads_a]
    net.forward(b)
    net.backward(2.0 * np.ones_like(out_a))
    np.testing.assert_array_equal(out_a, kept)                       # not overwritten by the next forward
    for g, k in zip(grads_a, kept_grads):
        np.testing.assert_array_equal(g, k)                          # nor by the next backward
    assert not any(np.shares_memory(g, net.flat_gradients) for g in net.gradients())
    assert not np.shares_memory(net.forward(a), net.forward(a))
