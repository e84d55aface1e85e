"""si_ref.checking.adapters: peer code under the checkers' calling convention (NumPy in, NumPy out).

A strict fake backend stands in for PyTorch: ``FakeTensor`` has tensor methods (``shape``,
``unsqueeze``, ``numpy``) that a Python float lacks, is built only from NumPy arrays, and
refuses arithmetic with NumPy arrays, so no NumPy value can reach peer code unnoticed and
``from_backend`` fails on anything that is not a FakeTensor. The batch adapters are compared
with si_ref's vectorised exact fields.
"""

import doctest
import numbers

import numpy as np
import pytest

from si_ref import conformance, references
from si_ref.checking import adapters
from si_ref.checking.adapters import as_numpy_field, per_sample, scalar_time

GAUSSIAN = references.case("gaussian-2d-linear-brownian")
MIXTURE = references.case("mixture-2d-linear-brownian")
MIXTURE_3D = references.case("mixture-3d-linear-sigmoid")
LINEAR = references.interpolant("linear-brownian")


class FakeTensor:
    """A stand-in for torch.Tensor: built from an ndarray, arithmetic with FakeTensors and numbers only."""

    __array_ufunc__ = None                  # ndarray (op) FakeTensor raises instead of making an object array

    def __init__(self, a):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"FakeTensor wraps an ndarray; received {type(a).__name__}")
        self.a = a

    @property
    def shape(self):
        return self.a.shape

    def unsqueeze(self, dim):
        return FakeTensor(np.expand_dims(self.a, dim))

    def numpy(self):
        return self.a

    def _raw(self, other):
        if isinstance(other, FakeTensor):
            return other.a
        if isinstance(other, numbers.Real) and not isinstance(other, np.ndarray):
            return other
        raise TypeError(f"FakeTensor arithmetic with {type(other).__name__}")

    def __add__(self, other):
        return FakeTensor(np.asarray(self.a + self._raw(other)))

    __radd__ = __add__

    def __sub__(self, other):
        return FakeTensor(np.asarray(self.a - self._raw(other)))

    def __mul__(self, other):
        return FakeTensor(np.asarray(self.a * self._raw(other)))

    __rmul__ = __mul__

    def __pow__(self, power):
        return FakeTensor(np.asarray(self.a ** self._raw(power)))


BACKEND = dict(to_backend=FakeTensor, from_backend=FakeTensor.numpy)   # FakeTensor.numpy(3.0) raises


def time_scaled(x, t):
    """x t, written like a torch model: t.shape and t.unsqueeze exist on tensors, not on floats."""
    assert isinstance(x, FakeTensor)
    return x * (t.unsqueeze(-1) if len(t.shape) == 1 else t)


def time_feature(x, t):
    """x t through a time feature column, like a model that concatenates t to x: needs one t per row."""
    if t.shape != (x.shape[0],):
        raise ValueError(f"time_feature needs t of shape ({x.shape[0]},); received {t.shape}")
    features = np.concatenate([x.numpy(), t.unsqueeze(-1).numpy()], axis=1)
    return FakeTensor(features[:, :-1] * features[:, -1:])


def tensor_drift(x, t):
    """The exact drift of MIXTURE behind tensor inputs (t.shape raises on a float)."""
    assert isinstance(x, FakeTensor) and len(t.shape) in (0, 1)
    return FakeTensor(MIXTURE.drift(x.numpy(), t.numpy()))


def points(n, d=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def column(t):
    return np.reshape(t, (-1, 1))


# --- (a) as_numpy_field: scalar times -----------------------------------------------------------

def test_tensor_time_model_fails_on_a_kept_float_and_passes_as_a_backend_scalar():
    x = points(3)
    kept = as_numpy_field(time_scaled, **BACKEND)               # today's behaviour: the float passes through
    with pytest.raises(AttributeError, match="float"):
        kept(x, 0.5)
    for mode in ("backend", "rows"):
        field = as_numpy_field(time_scaled, **BACKEND, scalar_time=mode)
        np.testing.assert_array_equal(field(x, 0.5), x * 0.5)
        np.testing.assert_array_equal(field(x, np.float64(0.5)), x * 0.5)
        np.testing.assert_array_equal(field(x, np.array(0.5)), x * 0.5)
    t = np.array([0.1, 0.5, 0.9])
    for mode in adapters.SCALAR_TIME_MODES:                     # one time per row works in every mode
        np.testing.assert_array_equal(as_numpy_field(time_scaled, **BACKEND, scalar_time=mode)(x, t), x * column(t))


def test_per_row_model_needs_rows():
    x = points(4)
    with pytest.raises(ValueError, match="needs t of shape"):
        as_numpy_field(time_feature, **BACKEND, scalar_time="backend")(x, 0.25)
    field = as_numpy_field(time_feature, **BACKEND, scalar_time="rows")
    np.testing.assert_array_equal(field(x, 0.25), x * 0.25)
    np.testing.assert_array_equal(field(x, np.arange(4) / 4), x * column(np.arange(4) / 4))


def test_the_checker_passes_a_correct_tensor_model_only_once_scalar_times_are_converted():
    kept = as_numpy_field(tensor_drift, **BACKEND)
    assert not conformance.check(kept, "drift", MIXTURE, max_examples=10, shrink=False).passed   # the false alarm
    for mode in ("backend", "rows"):
        field = as_numpy_field(tensor_drift, **BACKEND, scalar_time=mode)
        assert conformance.check(field, "drift", MIXTURE, max_examples=10, shrink=False).passed


def test_each_mode_converts_numbers_as_documented():
    received = []

    def record(*args, **kwargs):
        received.append((args, kwargs))
        return FakeTensor(np.zeros(1))

    x = points(3)
    as_numpy_field(record, **BACKEND)(x, np.float64(0.5), np.int64(2), 0.25, np.array(0.75), None, True, "name")
    args, _ = received.pop()
    assert isinstance(args[0], FakeTensor) and np.array_equal(args[0].a, x)
    assert type(args[1]) is float and args[1] == 0.5          # NumPy scalars as the equal Python number
    assert type(args[2]) is int and args[2] == 2
    assert type(args[3]) is float
    assert isinstance(args[4], FakeTensor) and args[4].shape == ()   # a 0-d array is an array under "keep"
    assert args[5:] == (None, True, "name")

    as_numpy_field(record, **BACKEND, scalar_time="backend")(x, 0.5, t=np.array(0.75), flag=False)
    args, kwargs = received.pop()
    assert args[1].shape == () and args[1].a.dtype == np.float64 and float(args[1].a) == 0.5
    assert kwargs["t"].shape == () and float(kwargs["t"].a) == 0.75 and kwargs["flag"] is False

    as_numpy_field(record, **BACKEND, scalar_time="rows")(x, 0.5, 2)   # every number gets one value per row
    args, _ = received.pop()
    np.testing.assert_array_equal(args[1].a, np.full(3, 0.5))
    np.testing.assert_array_equal(args[2].a, np.full(3, 2.0))

    as_numpy_field(record, **BACKEND)([[1.0, 2.0]], (0.5,))          # lists and tuples of numbers are arrays
    args, _ = received.pop()
    np.testing.assert_array_equal(args[0].a, [[1.0, 2.0]])
    np.testing.assert_array_equal(args[1].a, [0.5])


def test_results_are_numpy_arrays_and_tuples_of_them():
    x = points(2)
    pair = as_numpy_field(lambda x, t: (x, [x * 2.0]), **BACKEND, scalar_time="backend")(x, 0.5)
    assert isinstance(pair, tuple) and isinstance(pair[1], tuple)
    np.testing.assert_array_equal(pair[0], x)
    np.testing.assert_array_equal(pair[1][0], 2 * x)
    numbers_out = as_numpy_field(lambda t: 0.5, **BACKEND)(0.5)          # a number skips from_backend
    assert isinstance(numbers_out, np.ndarray) and numbers_out == 0.5
    np.testing.assert_array_equal(as_numpy_field(lambda x: np.ones(2), **BACKEND)(x), np.ones(2))


def test_wrapped_functions_keep_their_names():
    assert as_numpy_field(time_scaled, **BACKEND).__name__ == "time_scaled"
    assert per_sample(time_scaled).__name__ == "time_scaled"
    assert scalar_time(time_scaled).__name__ == "time_scaled"

    class Module:                     # a model object without __name__ lends its class name
        def __call__(self, x, t):
            return x

    assert as_numpy_field(Module(), **BACKEND).__name__ == "Module"


# --- (b) callables passed as arguments are wrapped both ways ------------------------------------

def peer_euler_maruyama_step(field, x, t, dt, eps, xi):
    """A peer's Euler–Maruyama step in the fake backend: calls field with its own tensors."""
    assert isinstance(x, FakeTensor) and isinstance(xi, FakeTensor)
    drift = field(x, t)
    assert isinstance(drift, FakeTensor), f"the field returned {type(drift).__name__} to the peer"
    return x + drift * dt + xi * (2.0 * eps * dt) ** 0.5


@pytest.mark.parametrize("mode", ["keep", "backend"])   # "rows" would broadcast dt and eps too: for fields
def test_a_field_given_to_a_peer_step_receives_numpy_and_returns_tensors(mode):
    x, xi = points(3), points(3, seed=1)
    seen = []

    def numpy_drift(y, t):
        seen.append((type(y), type(t)))
        return MIXTURE.drift(y, t)

    step = as_numpy_field(peer_euler_maruyama_step, **BACKEND, scalar_time=mode)
    out = step(numpy_drift, x, 0.5, 0.01, 0.2, xi)
    assert isinstance(out, np.ndarray)
    expected_t = float if mode == "keep" else np.ndarray
    assert seen == [(np.ndarray, expected_t)]
    dt = 0.01
    np.testing.assert_allclose(out, x + MIXTURE.drift(x, 0.5) * dt + xi * np.sqrt(2 * 0.2 * dt), rtol=1e-15, atol=0)


def test_the_checker_passes_a_correct_peer_step():
    step = as_numpy_field(peer_euler_maruyama_step, **BACKEND)
    assert conformance.check(step, "euler_maruyama_step", MIXTURE, eps=0.5, max_examples=10, shrink=False).passed


def test_backend_side_conversion_of_arguments_and_results():
    received = []

    def numpy_side(*args, **kwargs):
        received.append((args, kwargs))
        return np.ones(2), 0.5, None, np.float64(2.0)

    def peer(fn, x):
        return FakeTensor(np.array([fn(x, 0.5, None, np.zeros(1), [x], key=x)]))

    as_numpy_field(peer, **BACKEND)(numpy_side, points(1))
    (args, kwargs), = received
    assert isinstance(args[0], np.ndarray) and args[1] == 0.5 and args[2] is None
    assert isinstance(args[3], np.ndarray) and isinstance(args[4], list) and isinstance(args[4][0], np.ndarray)
    assert isinstance(kwargs["key"], np.ndarray)

    def peer_reads_results(fn, x):
        ones, half, nothing, two = fn(x)
        assert isinstance(ones, FakeTensor) and half == 0.5 and nothing is None
        assert isinstance(two, FakeTensor) and two.shape == ()     # NumPy scalars become 0-d tensors
        return ones

    np.testing.assert_array_equal(as_numpy_field(peer_reads_results, **BACKEND)(numpy_side, points(1)), np.ones(2))


def test_classes_pass_as_they_are():
    assert as_numpy_field(lambda cls: FakeTensor(np.array(cls is dict, dtype=float)), **BACKEND)(dict) == 1.0


# --- (c) per_sample and scalar_time give the batch result ---------------------------------------

TIMES = {
    "scalar": lambda n: 0.4,
    "distinct": lambda n: np.linspace(0.05, 0.95, n),
    "repeated": lambda n: np.resize([0.7, 0.2, 0.7, 0.45], n),
}


def wave(x, t):
    """A vectorised reference field of elementwise arithmetic only: each row is computed alone, so a
    batch of rows and the rows one by one agree to the bit."""
    s = np.reshape(t, (-1, 1)) if np.ndim(t) else t
    return np.sin(3.0 * s) * x - s * x**2


def wave_one(x_i, t_i):
    assert x_i.ndim == 1 and type(t_i) is float
    return wave(x_i, t_i)


def wave_at_one_time(y, s):
    assert y.ndim == 2 and type(s) is float
    return wave(y, s)


@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("times", TIMES)
def test_per_sample_and_scalar_time_give_the_batch_result_exactly(times, n):
    x, t = points(n, 3), TIMES[times](n)
    expected = wave(x, t)
    for adapted in (per_sample(wave_one), scalar_time(wave_at_one_time)):
        out = adapted(x, t)
        assert out.shape == (n, 3) and out.dtype == np.float64
        np.testing.assert_array_equal(out, expected)
        if np.ndim(t) == 0:
            np.testing.assert_array_equal(adapted(x, np.full(n, t)), expected)


# GaussianCase evaluates one time for the batch and one time per row by different formulas,
# which round differently (by ~1e-16): the adapters match its batch result to rounding.
CLOSE = dict(rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("times", TIMES)
@pytest.mark.parametrize("case", [GAUSSIAN, MIXTURE, MIXTURE_3D], ids=["gaussian", "mixture", "mixture-3d"])
def test_per_sample_equals_the_vectorised_drift(case, times, n):
    x, t = points(n, case.dim), TIMES[times](n)

    def drift_one(x_i, t_i):
        assert x_i.shape == (case.dim,) and type(t_i) is float
        return case.drift(x_i[None], t_i)[0]

    out = per_sample(drift_one)(x, t)
    assert out.shape == (n, case.dim) and out.dtype == np.float64
    np.testing.assert_allclose(out, case.drift(x, t), **CLOSE)


@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("times", TIMES)
@pytest.mark.parametrize("case", [GAUSSIAN, MIXTURE, MIXTURE_3D], ids=["gaussian", "mixture", "mixture-3d"])
def test_scalar_time_equals_the_vectorised_drift(case, times, n):
    x, t = points(n, case.dim), TIMES[times](n)

    def drift_at_one_time(y, s):
        assert type(s) is float and y.ndim == 2
        return case.drift(y, s)

    out = scalar_time(drift_at_one_time)(x, t)
    assert out.shape == (n, case.dim) and out.dtype == np.float64
    np.testing.assert_allclose(out, case.drift(x, t), **CLOSE)


def test_per_sample_scalar_and_tuple_results():
    x, t = points(5), TIMES["repeated"](5)
    divergence = per_sample(lambda x_i, t_i: MIXTURE.divergence(x_i[None], t_i)[0])(x, t)
    assert divergence.shape == (5,)
    np.testing.assert_allclose(divergence, MIXTURE.divergence(x, t), **CLOSE)
    drift, score = per_sample(lambda x_i, t_i: tuple(a[0] for a in GAUSSIAN.drift_and_score(x_i[None], t_i)))(x, t)
    np.testing.assert_allclose(drift, GAUSSIAN.drift(x, t), **CLOSE)
    np.testing.assert_allclose(score, GAUSSIAN.score(x, t), **CLOSE)


def test_per_sample_other_signatures():
    t = np.array([0.2, 0.5, 0.5, 0.9])
    alpha = per_sample(lambda t_i: float(LINEAR.alpha(t_i)))
    np.testing.assert_array_equal(alpha(t), LINEAR.alpha(t))
    assert alpha(0.25) == LINEAR.alpha(0.25)                      # no rows: one call
    x0, x1, z = points(4, seed=1), points(4, seed=2), points(4, seed=3)

    def interpolate_one(t_i, a, b, c):
        return LINEAR.alpha(t_i) * a + LINEAR.beta(t_i) * b + LINEAR.gamma(t_i) * c

    expected = column(LINEAR.alpha(t)) * x0 + column(LINEAR.beta(t)) * x1 + column(LINEAR.gamma(t)) * z
    np.testing.assert_allclose(per_sample(interpolate_one)(t, x0, x1, z), expected, rtol=1e-15, atol=1e-15)


def test_per_sample_arguments_names_the_per_row_positions():
    x, t = points(3), np.array([0.1, 0.2, 0.3])
    weights = np.array([1.0, 2.0, 3.0])                           # length n by chance: not per-row

    def weighted(x_i, t_i, w, *, scale):
        assert w.shape == (3,) and type(t_i) is float
        return scale * t_i * w.sum() * x_i

    out = per_sample(weighted, arguments=(0, 1))(x, t, weights, scale=2.0)
    np.testing.assert_allclose(out, 2.0 * column(t) * 6.0 * x, rtol=1e-15)
    out = per_sample(weighted, arguments=[0, 1])(x, 0.5, weights, scale=1.0)   # a named number: every call
    np.testing.assert_allclose(out, 0.5 * 6.0 * x, rtol=1e-15)


def test_scalar_time_calls_once_per_distinct_time_and_reassembles_row_order():
    x = points(6)
    t = np.array([0.9, 0.1, 0.5, 0.1, 0.9, 0.9])
    calls = []

    def model(y, s):
        calls.append((s, y.copy()))
        return y * s

    np.testing.assert_array_equal(scalar_time(model)(x, t), x * column(t))
    assert [s for s, _ in calls] == [0.1, 0.5, 0.9]
    for s, rows in calls:
        np.testing.assert_array_equal(rows, x[t == s])
    calls.clear()
    np.testing.assert_array_equal(scalar_time(model)(x, 0.3), x * 0.3)
    assert len(calls) == 1


def test_scalar_time_scalar_results_tuples_and_extra_arguments():
    x, t = points(5), TIMES["repeated"](5)
    np.testing.assert_allclose(scalar_time(MIXTURE.divergence)(x, t), MIXTURE.divergence(x, t), **CLOSE)
    drift, score = scalar_time(GAUSSIAN.drift_and_score)(x, t)
    np.testing.assert_allclose(drift, GAUSSIAN.drift(x, t), **CLOSE)
    np.testing.assert_allclose(score, GAUSSIAN.score(x, t), **CLOSE)
    np.testing.assert_allclose(scalar_time(GAUSSIAN.forward_drift)(x, t, 0.3), GAUSSIAN.forward_drift(x, t, 0.3), **CLOSE)
    np.testing.assert_array_equal(scalar_time(GAUSSIAN.drift)(points(0), 0.5), np.empty((0, 2)))


def test_scalar_time_composes_with_a_model_of_one_tensor_time():
    def one_time_model(x, t):
        if t.shape != ():
            raise ValueError("one time per call")
        return x * t

    x, t = points(4), TIMES["repeated"](4)
    field = scalar_time(as_numpy_field(one_time_model, **BACKEND, scalar_time="backend"))
    np.testing.assert_array_equal(field(x, t), x * column(t))
    np.testing.assert_array_equal(field(x, 0.5), x * 0.5)


# --- (d) bad inputs -----------------------------------------------------------------------------

def returns_none(*args):
    return None


X3 = points(3)
BAD_CALLS = {
    "fn-not-callable": (lambda: as_numpy_field(3, **BACKEND), TypeError, "fn must be callable"),
    "to-backend-none": (lambda: as_numpy_field(time_scaled, to_backend=None, from_backend=FakeTensor.numpy),
                        TypeError, "to_backend must be callable.*torch.from_numpy"),
    "from-backend-str": (lambda: as_numpy_field(time_scaled, to_backend=FakeTensor, from_backend="numpy"),
                         TypeError, "from_backend must be callable"),
    "scalar-time-typo": (lambda: as_numpy_field(time_scaled, **BACKEND, scalar_time="row"),
                         ValueError, "scalar_time must be one of 'keep', 'backend', 'rows'; received 'row'"),
    "scalar-time-bool": (lambda: as_numpy_field(time_scaled, **BACKEND, scalar_time=True),
                         ValueError, "scalar_time must be one of"),
    "strings-argument": (lambda: as_numpy_field(time_scaled, **BACKEND)(["a", "b"], 0.5),
                         TypeError, r"argument 0 of the call to time_scaled must be array-like numbers"),
    "ragged-argument": (lambda: as_numpy_field(time_scaled, **BACKEND)(X3, [[0.5], [0.1, 0.2]]),
                        TypeError, "argument 1 of the call"),
    "rows-without-rows": (lambda: as_numpy_field(time_scaled, **BACKEND, scalar_time="rows")(0.5),
                          ValueError, "no argument of this call to time_scaled has rows"),
    "fn-returns-none": (lambda: as_numpy_field(returns_none, **BACKEND)(X3), TypeError, "returns_none returned None"),
    "per-sample-not-callable": (lambda: per_sample(None), TypeError, "fn must be callable"),
    "arguments-string": (lambda: per_sample(time_scaled, arguments="01"), TypeError, "arguments must be positions"),
    "arguments-negative": (lambda: per_sample(time_scaled, arguments=(-1,)), ValueError, "non-negative positions"),
    "arguments-bool": (lambda: per_sample(time_scaled, arguments=(True,)), ValueError, "non-negative positions"),
    "arguments-empty": (lambda: per_sample(time_scaled, arguments=()), ValueError, "at least one"),
    "arguments-twice": (lambda: per_sample(time_scaled, arguments=(0, 0)), ValueError, "names a position twice"),
    "arguments-beyond-call": (lambda: per_sample(time_scaled, arguments=(0, 2))(X3, 0.5),
                              ValueError, r"names position 2, but this call to time_scaled has 2"),
    "arguments-not-numbers": (lambda: per_sample(time_scaled, arguments=(0, 1))(X3, None),
                              TypeError, "argument 1 of the call to per_sample"),
    "per-sample-rows-differ": (lambda: per_sample(time_scaled)(X3, np.array([0.1, 0.2])),
                               ValueError, r"argument 0 has 3 row\(s\) and argument 1 has shape \(2,\).*arguments="),
    "per-sample-no-rows": (lambda: per_sample(time_scaled)(points(0), 0.5), ValueError, "argument 0 has 0 rows"),
    "per-sample-shapes-differ": (lambda: per_sample(lambda x_i, t_i: x_i[:1] if t_i > 0.5 else x_i)(X3, [0.1, 0.2, 0.9]),
                                 ValueError, r"shape \(2,\) for row 0 but \(1,\) for row 2"),
    "per-sample-returns-none": (lambda: per_sample(returns_none)(X3, 0.5), TypeError, "returned None for row 0"),
    "scalar-time-not-callable": (lambda: scalar_time("drift"), TypeError, "fn must be callable"),
    "scalar-time-t-string": (lambda: scalar_time(GAUSSIAN.drift)(X3, "0.5"), TypeError, r"t must be a real number"),
    "scalar-time-t-bool": (lambda: scalar_time(GAUSSIAN.drift)(X3, True), TypeError, r"t must be a real number"),
    "scalar-time-t-shape": (lambda: scalar_time(GAUSSIAN.drift)(X3, np.array([0.1, 0.2])),
                            ValueError, r"t must be a number or an array of shape \(3,\).*received shape \(2,\)"),
    "scalar-time-t-column": (lambda: scalar_time(GAUSSIAN.drift)(X3, np.full((3, 1), 0.5)),
                             ValueError, r"received shape \(3, 1\)"),
    "scalar-time-x-scalar": (lambda: scalar_time(GAUSSIAN.drift)(5.0, 0.5), ValueError, "x must have one row per point"),
    "scalar-time-x-strings": (lambda: scalar_time(GAUSSIAN.drift)(["a"], 0.5), TypeError, "x must be array-like"),
    "scalar-time-no-rows": (lambda: scalar_time(GAUSSIAN.drift)(points(0), np.empty(0)), ValueError, "x has 0 rows"),
    "scalar-time-wrong-rows": (lambda: scalar_time(lambda y, s: y[:1])(X3, np.array([0.1, 0.1, 0.2])),
                               ValueError, r"shape \(1, 2\) for 2 row\(s\)"),
    "scalar-time-returns-none": (lambda: scalar_time(returns_none)(X3, 0.5), TypeError, "returned None at t=0.5"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_inputs_raise_errors_that_name_the_argument(name):
    call, error, match = BAD_CALLS[name]
    with pytest.raises(error, match=match):
        call()


# --- (e) inputs are never modified --------------------------------------------------------------

def test_in_place_peer_code_never_modifies_the_callers_arrays():
    x, t, xi = points(3), np.array([0.1, 0.5, 0.9]), points(3, seed=1)
    saved = [a.copy() for a in (x, t, xi)]

    def in_place_model(x, t):
        x.a += 1.0
        t.a *= 0.0
        return x

    as_numpy_field(in_place_model, **BACKEND)(x, t)

    def in_place_numpy_field(y, s):
        y += 1.0
        return y

    def peer_step(field, y, s):
        before = y.a.copy()
        out = field(y, s)
        assert np.array_equal(y.a, before)                        # the NumPy side worked on a copy
        return out

    as_numpy_field(peer_step, **BACKEND)(in_place_numpy_field, x, t)

    def in_place_one(x_i, t_i):
        x_i *= 2.0
        return x_i

    per_sample(in_place_one)(x, t)
    per_sample(lambda x_i, t_i, w: w.__imul__(0.0), arguments=(0, 1))(x, t, xi)

    def in_place_batch(y, s):
        y -= s
        return y

    scalar_time(in_place_batch)(x, t)
    scalar_time(in_place_batch)(x, 0.5)
    for a, b in zip((x, t, xi), saved):
        np.testing.assert_array_equal(a, b)


def test_per_sample_rows_do_not_leak_into_later_rows():
    x = np.ones((3, 2))

    def in_place_one(x_i, t_i):
        x_i += 1.0
        return x_i.copy()

    np.testing.assert_array_equal(per_sample(in_place_one)(x, 0.5), np.full((3, 2), 2.0))


# --- the docstring examples -----------------------------------------------------------------------

def test_docstring_examples_run():
    result = doctest.testmod(adapters, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0
