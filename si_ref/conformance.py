r"""Check another implementation against si_ref's exact values, and explain any disagreement.

Every check first evaluates fixed inputs -- the endpoints t = 0, 1 where the
quantity is defined there, times 1e-12 from them, the largest float below 1 and
t = ½, at every mode of :math:`\rho_t` and at points far from them (|x| up to 1e3)
-- so that a NaN or inf at an endpoint or in a tail is always found. Then it
draws inputs with hypothesis -- times, points in the bulk of :math:`\rho_t`, and,
unless a reference is fixed, schedules, interpolants and Gaussian /
Gaussian-mixture cases -- compares the implementation with si_ref's exact value,
shrinks a failure to a minimal counterexample, and names the convention mistake
that explains it when the received value matches one (the catalogue, with a
real-world pattern for each, is :data:`si_ref.checking.mistakes.CATALOGUE`: sign
flip, γγ̇ with the wrong sign, ±E[z | x], v given for b, noise term counted twice,
time reversed, α/β swapped, σ²/2 score scaling, t broadcast along the wrong axis,
a constant factor (estimated), a floor on γ, a guard δ in a denominator
(estimated), NaN from γ · γ̇, float32 rounding, a stage of a step at the wrong
time, ...). The package :mod:`si_ref.checking` holds the model: one object per
quantity (how it is called, its inputs, its exact value, its mistakes) and one
comparison shared with :func:`si_ref.golden.verify`.

Usage from pytest::

    from si_ref import conformance, GaussianCase, LinearInterpolant, BrownianGamma, Gaussian

    def test_my_drift():
        case = GaussianCase(LinearInterpolant(BrownianGamma()), Gaussian([0., 0.], np.eye(2)), my_target)
        conformance.assert_conforms(my_drift, "drift", case)       # AssertionError with the report

    report = conformance.check(my_drift, "drift", case)            # a Report, for other uses
    print(report)

Two modes:

* **fixed reference** -- pass ``reference`` (a ``GammaSchedule`` for γ quantities,
  an ``Interpolant`` for α, β and the interpolant, a ``GaussianCase`` for fields,
  wrappers and steps); the implementation is the callable itself. ``times=[...]``
  or ``min_t=``/``max_t=`` restrict the times.
* **drawn references** -- pass no reference; the implementation is then a
  *factory* ``make(reference) -> callable`` called with each drawn si_ref object
  (read its parameters, e.g. ``case.interpolant.alpha``, ``case.target.mean``).
  Wrappers and steps are never wrapped in a factory.

Calling conventions (NumPy in, NumPy out): schedules and coefficients ``f(t)``;
interpolant quantities and regression targets (``target_drift``, ``target_velocity``,
``target_noise``, ``target_score``, ``target_denoise_x0``, ``target_denoise_x1``)
``f(t, x0, x1, z)`` (``interpolant_partial_t``: ``f(t, x0, x1)``); fields ``f(x, t)``;
wrappers ``Constructor(*fields, parameter)`` with si_ref's signature (e.g.
``DriftFromVelocityScore(velocity, score, gamma_schedule)``; the schedule passed is
si_ref's, with ``gamma``, ``gamma_dot`` and ``gamma_gamma_dot``; each wrapper class
states its ``inputs``, ``parameter`` and ``output``); ODE steps (``euler_step``,
``midpoint_step``, ``heun_step``, ``rk4_step``) ``step(field, x, t, dt)`` with
``field`` the exact drift; SDE steps (``euler_maruyama_step``,
``stochastic_heun_step``) ``step(field, x, t, dt, eps, xi)`` with ``field`` the
forward drift; losses (``loss_drift``, ..., ``loss_denoise_x1``) ``loss(field, t, x0,
x1, z) -> float``, the batch mean of ½|f̂(x_t, t) − y|² for the given field f̂; the
likelihood ``ode_log_likelihood`` ``loglik(drift, divergence, x, base_log_density) ->
(n,)`` (pass rtol/atol that match your solver). ``t`` is a float or an array of shape
(n,); ``x`` has shape (n, d).

Adapting a PyTorch or JAX model (no framework is imported by si_ref)::

    field = conformance.as_numpy_field(model, to_backend=torch.from_numpy,
                                       from_backend=lambda y: y.detach().cpu().numpy())
    field = conformance.as_numpy_field(jax_fn, to_backend=jnp.asarray, from_backend=np.asarray)

Every array-like argument is converted with ``to_backend`` and the result with
``from_backend``; ``scalar_time="backend"`` (or ``"rows"``, one time per row) also
converts a Python float t, for models that call tensor methods on t; a callable
argument (the field given to a step) is wrapped the other way. Code written for
one sample, ``f(x_i, t_i)``, is adapted with :func:`per_sample`; code that takes
one scalar t for the whole batch with :func:`scalar_time`. An implementation that
returns float32 arrays is compared with rtol = 1e-5, atol = 1e-6 unless tolerances
are given (the report says so).

Reproducible and side-effect free: the same ``seed``, implementation and options
draw the same inputs and give the same report whatever else the process has
imported or run (see :mod:`si_ref.checking.draw`), the
implementation is called a second time on every input where it fails (one that
answers differently, or raises only once, is reported as not deterministic), and nothing is written to disk (no hypothesis
database, no ``.hypothesis`` folder). ``str(report)`` is plain text for a terminal:
Unicode formulas, exact numbers (shortest round-trip decimals), no markup.
"""

from __future__ import annotations

from .checking.adapters import as_numpy_field, per_sample, scalar_time
from .checking.check import assert_conforms, check, diagnose, reference_implementation
from .checking.compare import Diagnosis
from .checking.report import Counterexample, Report
from .checking.table import QUANTITIES

__all__ = [
    "check",
    "assert_conforms",
    "reference_implementation",
    "diagnose",
    "as_numpy_field",
    "per_sample",
    "scalar_time",
    "Report",
    "Counterexample",
    "Diagnosis",
    "QUANTITIES",
]
