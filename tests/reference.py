"""Independent oracles: the *definitions* of schedules and interpolant
coefficients, evaluated in 400-digit arithmetic with mpmath.

These are written from the mathematical definitions (the README's Conventions and
arXiv:2303.08797), deliberately in the naive form (e.g. the sigmoid bump as a
difference of logistic functions), so they share no code and no algebraic
rearrangement with si_ref. Derivatives come from mpmath's numerical
differentiation at high precision, not from closed forms.
"""

import mpmath as mp
import numpy as np

import si_ref

mp.mp.dps = 50
HALF = mp.mpf(1) / 2


def _sigmoid(a):
    return 1 / (1 + mp.exp(-a))


def gamma_definition(schedule):
    """mpmath function t -> γ(t) from the schedule's definition."""
    if isinstance(schedule, si_ref.ZeroGamma):
        return lambda t: mp.mpf(0)
    if isinstance(schedule, si_ref.ScaledBrownianGamma):  # includes BrownianGamma (a = 1)
        a = mp.mpf(schedule.scale)
        return lambda t: mp.sqrt(a * t * (1 - t))
    if isinstance(schedule, si_ref.BSquaredGamma):
        return lambda t: t * (1 - t)
    if isinstance(schedule, si_ref.SineSquaredGamma):
        return lambda t: mp.sin(mp.pi * t) ** 2
    if isinstance(schedule, si_ref.SigmoidGamma):
        f = mp.mpf(schedule.sharpness)
        return lambda t: (
            _sigmoid(f * (t - HALF) + 1) - _sigmoid(f * (t - HALF) - 1)
            - _sigmoid(1 - f / 2) + _sigmoid(-1 - f / 2)
        )
    raise NotImplementedError(type(schedule))


def coefficient_definitions(interpolant):
    """mpmath functions (α, β) from the family's definition."""
    gamma = gamma_definition(interpolant.gamma_schedule)
    if isinstance(interpolant, si_ref.CustomInterpolant):
        # The user's callables are plain arithmetic, so they accept mpf too.
        return interpolant.alpha_fn, interpolant.beta_fn
    if isinstance(interpolant, si_ref.LinearInterpolant):  # includes one-sided linear
        return (lambda t: 1 - t), (lambda t: t)
    if isinstance(interpolant, si_ref.TrigInterpolant):  # includes one-sided trig
        return (lambda t: mp.cos(mp.pi * t / 2)), (lambda t: mp.sin(mp.pi * t / 2))
    if isinstance(interpolant, si_ref.VPTrigInterpolant):
        return (
            lambda t: mp.sqrt(1 - gamma(t) ** 2) * mp.cos(mp.pi * t / 2),
            lambda t: mp.sqrt(1 - gamma(t) ** 2) * mp.sin(mp.pi * t / 2),
        )
    if isinstance(interpolant, si_ref.EncoderDecoderInterpolant):
        return (
            lambda t: mp.cos(mp.pi * t) ** 2 if t < HALF else mp.mpf(0),
            lambda t: mp.cos(mp.pi * t) ** 2 if t > HALF else mp.mpf(0),
        )
    if isinstance(interpolant, si_ref.MirrorInterpolant):
        return (lambda t: mp.mpf(0)), (lambda t: mp.mpf(1))
    raise NotImplementedError(type(interpolant))


def derivative(f, t):
    """df/dt at the float t: a central difference with relative step 1e-20 of the distance
    to the nearer endpoint, at 400 digits (enough for the cancellations of the naive
    definitions at t as small as 1e-300)."""
    with mp.workdps(400):
        t = mp.mpf(t)
        h = min(t, 1 - t) * mp.mpf("1e-20")
        return +mp.diff(f, t, h=h)


def value(f, t):
    """f(t) at the float t, evaluated at 400 digits."""
    with mp.workdps(400):
        return +f(mp.mpf(t))


# Eighth-order central difference weights for offsets -4..4 (times 1/h).
_FD8 = (1 / 280, -4 / 105, 1 / 5, -4 / 5, 0.0, 4 / 5, -1 / 5, 4 / 105, -1 / 280)


def central_difference(f, t, h):
    """d/dt f(t) by the eighth-order central difference with step h (float64).

    Truncation error O(h^8 f^(9)); rounding error about 3 eps |f| / h.
    """
    return sum(w * f(t + k * h) for k, w in zip(range(-4, 5), _FD8) if w != 0.0) / h


# Eighth-order central second-difference weights for offsets -4..4 (times 1/h²).
_FD8_SECOND = (-1 / 560, 8 / 315, -1 / 5, 8 / 5, -205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560)


def partial(f, x, i, h):
    """∂f/∂x_i at the rows of x (n, d) by the eighth-order central difference; f maps (n, d) to (n, ...)."""
    unit = np.zeros(x.shape[1])
    unit[i] = 1.0
    return central_difference(lambda s: f(x + s * unit), 0.0, h)


def second_partial(f, x, i, h):
    """∂²f/∂x_i² by the eighth-order central second difference."""
    step = np.zeros(x.shape[1])
    step[i] = h
    return sum(w * f(x + k * step) for k, w in zip(range(-4, 5), _FD8_SECOND)) / h**2


def gradient(f, x, h):
    """(n, d) gradient of a scalar field f: (n, d) -> (n,)."""
    return np.stack([partial(f, x, i, h) for i in range(x.shape[1])], axis=1)


def divergence(F, x, h):
    """(n,) divergence of a vector field F: (n, d) -> (n, d)."""
    return sum(partial(lambda y: F(y)[:, i], x, i, h) for i in range(x.shape[1]))


def laplacian(f, x, h):
    """(n,) Laplacian of a scalar field f: (n, d) -> (n,)."""
    return sum(second_partial(f, x, i, h) for i in range(x.shape[1]))


def assert_raises_naming(call, exception, fragments):
    """The bad-input tables: ``call()`` raises ``exception`` whose message holds every fragment,
    and prints numbers as numbers (no ``np.float64(...)``)."""
    import pytest

    with pytest.raises(exception) as info:
        call()
    message = str(info.value)
    assert "np.float64(" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
