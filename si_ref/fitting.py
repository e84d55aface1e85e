r"""Fit a field from samples of the interpolant: one entry point for ridge regression and the MLP.

:func:`fit_field` draws (or takes) a batch (t, x0, x1, z), forms the inputs
:math:`x_t` and the regression targets of :mod:`si_ref.losses` (e.g.
:math:`\partial_t I + \dot\gamma z` for the drift), and fits a model by least
squares, whose minimiser is the conditional expectation, i.e. the field.
With ``antithetic=True`` both :math:`x_\pm = I \pm \gamma z` enter the data with
their targets :math:`y(\pm z)`; for ridge regression this keeps the normal
equations' variance finite for the Brownian γ (the :math:`\dot\gamma z` and
:math:`z/\gamma` parts enter only through differences
:math:`\phi(x_+) - \phi(x_-) = O(\gamma)`).

:func:`fit_drift` fits b directly or assembles it from fitted fields through
the wrappers: :math:`b = v - \gamma\dot\gamma s` (``"velocity-score"``) or
:math:`b = v + \dot\gamma\eta` (``"velocity-noise"``, singular where γ̇ is infinite).
"""

from __future__ import annotations

import numpy as np

from .interpolants import Interpolant
from .losses import FIELD_TARGETS, Batch, _check_batch, regression_target, sample_batch
from .mlp import MLPField
from .targets import conditional_variance_scale, reference_target
from .ridge import RandomFourierFeatures, RidgeField
from .wrappers import DriftFromVelocityNoise, DriftFromVelocityScore

__all__ = ["training_data", "fit_field", "fit_drift"]


def training_data(name, interpolant: Interpolant, batch: Batch, *, antithetic=True, reference_size=None, base=None):
    r"""Inputs and targets for field ``name``: (x (N, d), t (N,), y (N, d)), N = n or 2n.

    ``reference_size=None`` gives the plain targets y of :mod:`si_ref.losses`; an integer B
    gives the variance-reduced targets of :mod:`si_ref.targets` for a Gaussian ``base``
    (None: N(0, I)): B = 1 is :math:`E[y \mid x_t, x_1]`, B > 1 the stable target field over
    blocks of B samples of the batch. All have the same conditional mean given :math:`x_t`.
    """
    if name not in FIELD_TARGETS:
        raise ValueError(f"name must be one of {list(FIELD_TARGETS)}; received {name!r}.")
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be an Interpolant; received {type(interpolant).__name__}.")
    batch = _check_batch(batch)
    t, x0, x1, z = batch
    signs = (1.0, -1.0) if antithetic else (1.0,)
    xs = [interpolant.interpolant(t, x0, x1, sign * z) for sign in signs]
    if reference_size is None:
        ys = [regression_target(name, interpolant, batch, sign) for sign in signs]
    else:
        ys = [reference_target(name, interpolant, base, t, x, x1, block_size=reference_size) for x in xs]
    return np.vstack(xs), np.concatenate([t] * len(signs)), np.vstack(ys)


def _default_model(method, dim, rng):
    if method == "ridge":
        return RidgeField(RandomFourierFeatures(dim, 800, length_scale=0.7, time_length_scale=0.25, rng=rng), alpha=1e-6)
    if method == "mlp":
        return MLPField(dim, rng=rng)
    raise ValueError(f"method must be 'ridge' or 'mlp'; received {method!r}.")


def fit_field(name, interpolant, base=None, target=None, *, rng, method="ridge", n_samples=20_000, data=None,
              antithetic=True, reference_size=None, weighted=False, t_min=0.0, t_max=1.0, model=None, **fit_options):
    r"""Fit the field ``name`` (one of ``FIELD_TARGETS``) and return the fitted model, itself a field.

    Parameters
    ----------
    name : str
        "drift", "velocity", "noise", "score", "denoise_x0" or "denoise_x1".
    interpolant : Interpolant
    base, target : distributions with ``sample(n, rng)``
        Used to draw ``n_samples`` when ``data`` is not given (``base=None``: N(0, I)
        for one-sided interpolants; ignored for mirror ones).
    rng : numpy.random.Generator
    method : "ridge" or "mlp"
        Picks the default model: ridge on 800 random Fourier features (relative
        regularisation 1e-6), or ``MLPField(d)``. Ignored when ``model`` is given.
        These generic defaults suit smooth fields; multimodal targets need a model
        chosen for them: the default reaches only about 60% error on the 8-mode ring of
        ``si_ref/validation/fit_drift.py``, where a :class:`si_ref.ridge.TimeSlicedRidge` on
        :class:`si_ref.ridge.PosteriorFeatures` with ``reference_size=1024, weighted=True``
        reaches about 1%.
    data : Batch, optional
        Training samples instead of drawing them.
    antithetic : bool
        Use both :math:`x_\pm` per sample.
    reference_size : int, optional
        Variance-reduced targets of :mod:`si_ref.targets` for a Gaussian ``base``: 1 for
        :math:`E[y \mid x_t, x_1]`, B > 1 for the stable target field over blocks of B
        samples (e.g. 1024; bias O(1/B)). None: the plain targets.
    weighted : bool
        Weight the squares by :func:`si_ref.targets.conditional_variance_scale` (advised
        with ``reference_size`` when the times reach an endpoint where :math:`x_t = \beta x_1`).
    t_min, t_max : float
        Time range of the drawn samples (stay inside (0, 1) for the score target).
    model : object with ``fit(x, t, y, ...)``, optional
    **fit_options
        Passed to ``model.fit`` (e.g. ``epochs``, ``batch_size``, ``lr`` for the MLP;
        its ``rng`` defaults to ``rng``).
    """
    if data is None:
        if target is None:
            raise ValueError("target is required to draw training samples (or pass data=Batch(...)).")
        data = sample_batch(interpolant, base, target, n_samples, rng, t_min=t_min, t_max=t_max)
    x, t, y = training_data(name, interpolant, data, antithetic=antithetic, reference_size=reference_size, base=base)
    if model is None:
        model = _default_model(method, x.shape[1], rng)
    weights = conditional_variance_scale(interpolant, base, t) if weighted else None
    if isinstance(model, MLPField):
        fit_options.setdefault("rng", rng)
        if weights is not None:
            fit_options["weights"] = weights
    elif weights is not None:
        fit_options["sample_weight"] = weights
    model.fit(x, t, y, **fit_options)
    return model


def fit_drift(interpolant, base=None, target=None, *, rng, via="direct", method="ridge", **options):
    r"""Fit the drift b directly (``via="direct"``) or assemble it from fitted fields.

    ``via="velocity-score"``: fit v and s, return ``DriftFromVelocityScore(v, s, γ)``;
    ``via="velocity-noise"``: fit v and η, return ``DriftFromVelocityNoise(v, η, γ)``.
    Other arguments as in :func:`fit_field`; with assembled fits the same ``data`` (if
    given) serves both fields.
    """
    if via == "direct":
        return fit_field("drift", interpolant, base, target, rng=rng, method=method, **options)
    if via not in ("velocity-score", "velocity-noise"):
        raise ValueError(f"via must be 'direct', 'velocity-score' or 'velocity-noise'; received {via!r}.")
    velocity = fit_field("velocity", interpolant, base, target, rng=rng, method=method, **options)
    second = "score" if via == "velocity-score" else "noise"
    other = fit_field(second, interpolant, base, target, rng=rng, method=method, **options)
    wrapper = DriftFromVelocityScore if via == "velocity-score" else DriftFromVelocityNoise
    return wrapper(velocity, other, interpolant.gamma_schedule)
