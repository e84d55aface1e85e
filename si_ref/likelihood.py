r"""Log-likelihoods of the generative models: the probability-flow ODE and the backward SDE.

ODE (instantaneous change of variables). Along :math:`\dot X_t = b(X_t, t)`,
:math:`\frac{d}{dt}\log\rho_t(X_t) = -\nabla\cdot b(X_t, t)`, so for
:math:`X_{t_1} = x`

.. math::

    \log\rho_{t_1}(x) = \log\rho_{t_0}(X_{t_0}) - \int_{t_0}^{t_1} \nabla\cdot b(X_t, t)\,dt,

integrated backwards from :math:`t_1` to :math:`t_0` with ``solve_ivp``. The
divergence is the field's exact one when given, else a Hutchinson estimate
:math:`\xi^\top J\xi` (Gaussian or Rademacher probes ξ, fixed along the path,
:math:`J\xi` by a central difference of b), else the trace of a
central-difference Jacobian (2d evaluations; for small d). Their difference
step is relative beyond unit scale, :math:`h_i = \text{step}\cdot\max(1, \max_j |x_{ij}|)`
for row i: a fixed step below the spacing of float64 numbers near x (about
:math:`2\times10^{-6}` at :math:`|x| = 10^{10}`) would make the quotient rounding noise,
on which the adaptive solver shrinks its step without end. These two
estimators are the one place where the library differentiates numerically
(the README's closed-forms rule, Input policy): they exist for learned fields that have no
closed-form divergence, and the divergence source is always chosen
explicitly by the caller.

SDE (arXiv:2303.08797v3, Sec. 2 likelihood estimator). Let :math:`Y` solve the
backward SDE :math:`dY = b_B\,dt + \sqrt{2\varepsilon}\,dW` from :math:`Y_1 = x` down to
t = 0, with :math:`b_B = b - \varepsilon s`. In the reversed time
:math:`\tau = 1 - t`, Itô's formula for :math:`\log\rho(Y)` and the backward
Fokker-Planck equation :math:`\partial_t\rho + \nabla\cdot(b_B\rho) = -\varepsilon\Delta\rho`
(with :math:`\Delta\rho/\rho = \nabla\cdot s + |s|^2`) give

.. math::

    d\log\rho(Y) = [\nabla\cdot b_F + \varepsilon |s|^2]\,d\tau + \sqrt{2\varepsilon}\, s\cdot dW,
    \qquad b_F = b + \varepsilon s,

hence :math:`\log\rho_1(x) = E[\log\rho_0(Y_0) - \int_0^1 (\nabla\cdot b_F + \varepsilon|s|^2)(Y_t, t)\,dt]`;
the term :math:`\varepsilon|s|^2` is the Itô correction. The estimator averages
over paths (Euler-Maruyama on a decreasing grid, integrand at the start of each
step) and reports its standard error. With ``control_variate=True`` the
martingale :math:`\int\sqrt{2\varepsilon}\,s\cdot dW` (mean zero) is subtracted
path by path, which removes the variance of the exact-field estimator up to
discretisation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp

from ._checks import (
    as_bool,
    as_count,
    call_field,
    as_points,
    as_real_scalar,
    as_time_scalar,
    check_rng,
    enough_memory,
    nonnegative_of_time,
    solver_tolerances,
)
from .samplers import MAX_SOLVER_EVALUATIONS, _as_grid, budgeted, check_solver_method

__all__ = ["ode_log_likelihood", "sde_log_likelihood", "LikelihoodEstimate", "hutchinson_divergence",
           "finite_difference_divergence"]


class LikelihoodEstimate(NamedTuple):
    """A Monte Carlo log-likelihood: ``mean`` (n,), ``standard_error`` (n,), per-path ``samples`` (m, n)."""

    mean: np.ndarray
    standard_error: np.ndarray
    samples: np.ndarray


def _scalar_field(f, name, args, n, where):
    """Call a scalar function (a divergence or a log density) on args; check it returns finite (n,)."""
    raw = np.asarray(f(*args))
    if raw.dtype.kind not in "iuf" or raw.shape != (n,):
        raise ValueError(
            f"{name} must return real values of shape (n,) = ({n},); {where} it returned "
            f"dtype {raw.dtype} and shape {raw.shape}."
        )
    out = raw.astype(np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} returned NaN or inf {where}.")
    return out


def _check_step(step):
    step = as_real_scalar(step, "step")      # refuses None, bools, strings, NaN and inf
    if step <= 0:
        raise ValueError(f"step must be a positive difference step; received step={step!r}.")
    return step


def _row_steps(x, step):
    """Difference steps per row, shape (n, 1): step · max(1, max_j |x_ij|), resolvable in float64 at x."""
    return step * np.maximum(1.0, np.max(np.abs(x), axis=1, keepdims=True))


def _check_callable(f, name, what):
    if not callable(f):
        raise TypeError(f"{name} must be {what}; received {f!r} of type {type(f).__name__}.")
    return f


def finite_difference_divergence(field, x, t, *, step=1e-5, c=None):
    r""":math:`\nabla\cdot f(x) \approx \sum_i [f_i(x + h e_i) - f_i(x - h e_i)] / 2h` (2d field evaluations).

    x: (n, d); t: one time; returns (n,). Truncation error O(h²). The step is
    relative beyond unit scale: row k uses :math:`h = \text{step}\cdot\max(1, \max_j |x_{kj}|)`.
    """
    _check_callable(field, "field", "a field f(x, t)")
    x, step = as_points(x, "x"), _check_step(step)
    t = as_time_scalar(t, "t")
    h = _row_steps(x, step)
    total = np.zeros(x.shape[0])
    for i in range(x.shape[1]):
        shift = np.zeros(x.shape)
        shift[:, i] = h[:, 0]
        plus = call_field(field, "field", x + shift, t, c, "divergence")
        minus = call_field(field, "field", x - shift, t, c, "divergence")
        total += (plus[:, i] - minus[:, i]) / (2 * h[:, 0])
    return total


def hutchinson_divergence(field, x, t, probes, *, step=1e-5, c=None):
    r"""Hutchinson's estimate :math:`\frac1K\sum_k \xi_k^\top J\xi_k` with :math:`J\xi` by a central difference.

    ``probes`` has shape (K, n, d) with :math:`E[\xi\xi^\top] = I` (Gaussian or Rademacher).
    Unbiased for :math:`\operatorname{tr} J` up to the O(step²) difference error. The step is
    relative beyond unit scale: row k uses :math:`h = \text{step}\cdot\max(1, \max_j |x_{kj}|)`.
    """
    _check_callable(field, "field", "a field f(x, t)")
    x, step = as_points(x, "x"), _check_step(step)
    t = as_time_scalar(t, "t")
    probes = np.asarray(probes)
    if probes.dtype.kind not in "iuf":
        raise TypeError(f"probes must be real numbers of shape (K, n, d); received dtype {probes.dtype}.")
    if probes.ndim != 3 or probes.shape[1:] != x.shape:
        raise ValueError(f"probes must have shape (K, n, d) with (n, d) = {x.shape}; received shape {probes.shape}.")
    probes = probes.astype(np.float64)
    if not np.isfinite(probes).all():
        raise ValueError("probes must contain only finite values; received NaN or inf. Draw them from N(0, I) "
                         "or as random signs.")
    h = _row_steps(x, step)
    estimates = []
    for xi in probes:
        jvp = (call_field(field, "field", x + h * xi, t, c, "divergence")
               - call_field(field, "field", x - h * xi, t, c, "divergence")) / (2 * h)
        estimates.append(np.sum(xi * jvp, axis=1))
    return np.mean(estimates, axis=0)


def _probes(kind, n_probes, shape, rng):
    if kind == "gaussian":
        return rng.standard_normal((n_probes,) + shape)
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_probes,) + shape)
    raise ValueError(f"probe must be 'gaussian' or 'rademacher'; received {kind!r}.")


def ode_log_likelihood(drift, x, base_log_prob, *, divergence, t_start=1.0, t_end=0.0,
                       n_probes=1, probe="rademacher", rng=None, method="DOP853", rtol=1e-10, atol=1e-10,
                       step=1e-5, c=None, max_evaluations=MAX_SOLVER_EVALUATIONS) -> np.ndarray:
    r""":math:`\log\rho_{t_{start}}(x)` by integrating the probability flow backwards with :math:`\int\nabla\cdot b`.

    Parameters
    ----------
    drift : field
        :math:`b(x, t)`.
    x : ndarray, shape (n, d)
        Points at ``t_start``.
    base_log_prob : callable
        :math:`\log\rho_{t_{end}}`, mapping (n, d) to (n,).
    divergence : callable, "hutchinson" or "finite-difference"
        Required: the exact :math:`\nabla\cdot b(x, t)` (returns (n,)) when available,
        else one of the two estimators.
    t_start, t_end : float
        :math:`x` is at ``t_start``; ``base_log_prob`` is :math:`\log\rho_{t_{end}}`.
    n_probes, probe, rng
        For ``"hutchinson"``: probes per point (fixed along the path), their law, the generator.
    method, rtol, atol
        ``solve_ivp`` settings of the augmented system: ``method`` one of 'DOP853',
        'Radau', 'RK45', 'LSODA'; ``rtol`` and ``atol`` finite and positive, ``rtol`` at
        least 100 machine epsilons.
    step : float
        Difference step for the estimated divergences, relative beyond unit scale
        (row i uses ``step * max(1, max_j |x_ij|)``).
    c : optional
        Conditioning passed to ``drift`` (and a callable ``divergence``) when given.
    max_evaluations : int
        Budget of evaluations of the augmented right-hand side (default
        :data:`~si_ref.samplers.MAX_SOLVER_EVALUATIONS`); each costs one drift
        evaluation plus those of the divergence (2 per probe, or 2d).

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    ValueError
        For an unknown divergence source or probe law, a non-positive step, bad
        tolerances or method, callables that return the wrong shape or non-finite
        values, or a result beyond the float64 range.
    TypeError
        For a drift or ``base_log_prob`` that is not callable, a missing ``rng`` with
        ``"hutchinson"``, or non-numeric tolerances, step or counts.
    RuntimeError
        When the solver fails or needs more than ``max_evaluations`` evaluations.
    """
    _check_callable(drift, "drift", "a field b(x, t)")
    _check_callable(base_log_prob, "base_log_prob", "a callable log_rho(x) returning shape (n,)")
    x = as_points(x, "x")
    step = _check_step(step)
    t_start, t_end = as_time_scalar(t_start, "t_start"), as_time_scalar(t_end, "t_end")
    method = check_solver_method(method)
    rtol, atol = solver_tolerances(rtol, atol)
    max_evaluations = as_count(max_evaluations, "max_evaluations")
    n, d = x.shape
    if callable(divergence):
        def div(y, t):
            return _scalar_field(divergence, "divergence", (y, t) if c is None else (y, t, c), n, f"at t = {t!r}")
    elif divergence == "hutchinson":
        check_rng(rng)
        n_probes = as_count(n_probes, "n_probes")
        with enough_memory(8 * n_probes * n * d, f"n_probes={n_probes} probes for {n} points of dimension {d}",
                           "use fewer probes or points per call."):
            probes = _probes(probe, n_probes, (n, d), rng)
        div = lambda y, t: hutchinson_divergence(drift, y, t, probes, step=step, c=c)  # noqa: E731
    elif divergence == "finite-difference":
        div = lambda y, t: finite_difference_divergence(drift, y, t, step=step, c=c)  # noqa: E731
    else:
        raise ValueError(
            f"divergence must be a callable (the exact divergence), 'hutchinson' or "
            f"'finite-difference'; received {divergence!r}."
        )

    def rhs(t, state, call):
        y = state[:n * d].reshape(n, d)
        b = call_field(drift, "drift", y, t, c, f"(solver call {call})")
        return np.concatenate([b.ravel(), div(y, t)])   # d/dt ∫ ∇·b = ∇·b

    start = np.concatenate([x.ravel(), np.zeros(n)])
    solution = solve_ivp(budgeted(rhs, max_evaluations, "ode_log_likelihood"), (t_start, t_end), start,
                         method=method, rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"solve_ivp failed: {solution.message}")
    end = solution.y[:, -1]
    x_end, integral = end[:n * d].reshape(n, d), end[n * d:]
    if not np.isfinite(end).all():
        raise ValueError(f"the probability flow from t = {t_start!r} left the float64 range before t = {t_end!r}; "
                         f"rescale x or the field.")
    # integral = ∫_{t_start}^{t_end} ∇·b dt = −∫_{t_end}^{t_start} ∇·b dt, and
    # log ρ_{t_start}(x) = log ρ_{t_end}(X_{t_end}) − ∫_{t_end}^{t_start} ∇·b dt
    with np.errstate(over="ignore"):
        result = _scalar_field(base_log_prob, "base_log_prob", (x_end,), n, f"at t = {t_end!r}") + integral
    _check_finite_result(result, "the log-likelihood")
    return result


def _check_finite_result(values, what):
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{what} overflows float64 at row {int(np.argmax(bad.ravel()))} (|value| > 1.8e308); "
                         f"rescale the problem.")


def sde_log_likelihood(drift, score, eps, x, base_log_prob, *, divergence_drift, divergence_score, grid,
                       n_paths, rng, control_variate=False, c=None) -> LikelihoodEstimate:
    r"""The backward-SDE estimate :math:`\log\rho_1(x) = E[\log\rho_0(Y_0) - \int_0^1(\nabla\cdot b_F + \varepsilon|s|^2)\,dt]`.

    Parameters
    ----------
    drift, score : field
        :math:`b` and :math:`s`.
    eps : float or callable
        :math:`\varepsilon(t) \ge 0`.
    x : ndarray, shape (n, d)
        Points at ``grid[0]`` (usually t = 1).
    base_log_prob : callable
        :math:`\log\rho` at ``grid[-1]`` (usually t = 0), (n, d) -> (n,).
    divergence_drift, divergence_score : callable
        :math:`\nabla\cdot b(y, t)` and :math:`\nabla\cdot s(y, t)`, each returning one value
        per row of y (they are called on all n_paths · n path states at once).
    grid : array_like
        A strictly decreasing time grid (e.g. ``uniform_grid(1, 0, 200)``).
    n_paths : int
        Independent backward paths per point.
    rng : numpy.random.Generator
    control_variate : bool
        Subtract the mean-zero martingale :math:`\int\sqrt{2\varepsilon}\,s\cdot dW` path by path.
    c : optional
        Conditioning passed to every field when given.

    Raises
    ------
    ValueError
        For an increasing grid, fewer than 2 paths, negative ε, or callables that
        return the wrong shape or non-finite values (the step and time are named).

    Returns
    -------
    LikelihoodEstimate
        Mean over paths, its standard error, and the per-path values.
    """
    _check_callable(drift, "drift", "a field b(x, t)")
    _check_callable(score, "score", "a field s(x, t)")
    control_variate = as_bool(control_variate, "control_variate")
    x = as_points(x, "x")
    grid = _as_grid(grid)
    if not grid[-1] < grid[0]:
        raise ValueError("grid must be decreasing: the backward SDE runs from t = 1 down to t = 0; "
                         "use e.g. uniform_grid(1, 0, 200).")
    for name, f in (("divergence_drift", divergence_drift), ("divergence_score", divergence_score),
                    ("base_log_prob", base_log_prob)):
        if not callable(f):
            raise TypeError(f"{name} must be a callable; received {f!r}.")
    check_rng(rng)
    n_paths = as_count(n_paths, "n_paths", minimum=2)   # two paths at least, for a standard error
    nonnegative_of_time(eps, np.asarray(float(grid[0])), "eps")        # refuse a bad eps before any work
    n, d = x.shape
    # the path states and their field values: about 6 arrays of n_paths · n · d numbers
    with enough_memory(48 * n_paths * n * d, f"n_paths={n_paths} paths for {n} points of dimension {d}",
                       "use fewer paths per call and average the estimates."):
        y = np.repeat(x[None], n_paths, axis=0).reshape(n_paths * n, d)
        integral = np.zeros(n_paths * n)
        martingale = np.zeros(n_paths * n)
    for step in range(grid.size - 1):
        t, t_next = float(grid[step]), float(grid[step + 1])
        h = t - t_next                                             # > 0: the step in reversed time
        e = float(nonnegative_of_time(eps, np.asarray(t), "eps"))
        b = call_field(drift, "drift", y, t, c, step)
        s = call_field(score, "score", y, t, c, step)
        where = f"at step {step} (t = {t!r})"
        args = (y, t) if c is None else (y, t, c)
        div_b = _scalar_field(divergence_drift, "divergence_drift", args, y.shape[0], where)
        div_s = _scalar_field(divergence_score, "divergence_score", args, y.shape[0], where)
        integral += h * (div_b + e * div_s + e * np.sum(s * s, axis=1))   # ∇·b_F + ε|s|²
        dw = np.sqrt(h) * rng.standard_normal(y.shape)
        martingale += np.sqrt(2 * e) * np.sum(s * dw, axis=1)
        y = y - h * (b - e * s) + np.sqrt(2 * e) * dw              # backward SDE, t decreasing
    with np.errstate(over="ignore", invalid="ignore"):
        samples = _scalar_field(base_log_prob, "base_log_prob", (y,), y.shape[0], f"at t = {float(grid[-1])!r}") - integral
        if control_variate:
            samples = samples - martingale
    _check_finite_result(samples, "a path's log-likelihood")
    samples = samples.reshape(n_paths, n)
    return LikelihoodEstimate(samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(n_paths), samples)
