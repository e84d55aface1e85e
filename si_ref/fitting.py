r"""Fit a field from samples of the interpolant: one entry point for ridge regression and the MLP.

:func:`fit_field` draws (or takes) a batch (t, x0, x1, z), forms the inputs
:math:`x_t` and the regression targets (e.g. :math:`\partial_t I + \dot\gamma z` for
the drift, :mod:`si_ref.losses`, or their variance-reduced forms of :mod:`si_ref.targets`),
and fits a model by least squares, whose minimiser is the conditional expectation,
i.e. the field. With ``antithetic=True`` both :math:`x_\pm = I \pm \gamma z` enter the
data with their targets :math:`y(\pm z)`; for ridge regression this keeps the normal
equations' variance finite for the Brownian γ (the :math:`\dot\gamma z` and
:math:`z/\gamma` parts enter only through differences
:math:`\phi(x_+) - \phi(x_-) = O(\gamma)`).

The defaults are chosen from the problem (:func:`default_recipe`): with a Gaussian
base the targets are the stable-target-field targets over blocks of 1024 samples,
weighted by :math:`\kappa(t)`; the ridge model is a :class:`si_ref.ridge.TimeSlicedRidge` on
:class:`si_ref.ridge.MixturePosteriorFeatures` of a Gaussian mixture fitted to target
samples (EM, number of components by BIC); the MLP is three SiLU layers of width 128
trained in float32 with a decaying step size. The measured table is in :func:`fit_field`.

:func:`fit_drift` fits b directly or assembles it from fitted fields through
the wrappers: :math:`b = v - \gamma\dot\gamma s` (``"velocity-score"``) or
:math:`b = v + \dot\gamma\eta` (``"velocity-noise"``, singular where γ̇ is infinite).
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from ._checks import as_bool, as_points, as_real_scalar, check_rng
from .distributions import Gaussian
from .interpolants import Interpolant
from .losses import FIELD_TARGETS, Batch, _check_batch, regression_target, sample_batch
from .mlp import MLPField
from .progress import task
from .ridge import MixturePosteriorFeatures, TimeSlicedRidge, select_gaussian_mixture
from .targets import conditional_variance_scale, reference_target
from .threads import with_blas_threads
from .wrappers import DriftFromVelocityNoise, DriftFromVelocityScore

__all__ = ["training_data", "fit_field", "fit_drift", "default_recipe", "default_model", "FitRecipe",
           "DEFAULT_SLICE_EDGES", "MAX_TRAINING_BYTES"]

#: Time slices of the default ridge model: 0.1 wide, narrower at both ends, where the
#: coefficients of the posterior features change fastest (Σ_p(t) → S1 as t → 1).
DEFAULT_SLICE_EDGES = (0.0, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97, 1.0)

#: Refuse ``n_samples`` whose training arrays would need more than this many bytes (16 GiB).
MAX_TRAINING_BYTES = 16 * 2**30

#: Default number of antithetic pairs per method.
DEFAULT_SAMPLES = {"ridge": 150_000, "mlp": 150_000}

#: Default MLP training options (``MLPField.fit``), used when the model is the default one.
DEFAULT_MLP_TRAINING = dict(epochs=30, batch_size=512, lr=2e-3, lr_final=3e-5)

#: Samples of the target (and of a non-Gaussian base) the default mixture model is fitted to.
MIXTURE_SAMPLES = 20_000


class FitRecipe(NamedTuple):
    """What :func:`fit_field` will do: targets, weights, number of pairs, and why."""

    reference_size: int | None
    weighted: bool
    n_samples: int
    gaussian_base: bool
    reason: str


def _is_distribution(value) -> bool:
    return callable(getattr(value, "sample", None))


def _gaussian_base(interpolant, base, data_given) -> bool:
    """Whether the law of x0 is a known Gaussian (so the conditional targets are exact)."""
    if interpolant.kind == "mirror":
        return False
    if isinstance(base, Gaussian):
        return True
    # base=None: x0 ~ N(0, I) when sample_batch draws it, and by convention for one-sided interpolants
    return base is None and (not data_given or interpolant.kind == "one-sided")


def default_recipe(interpolant, base=None, *, method="ridge", data_given=False) -> FitRecipe:
    r"""The default targets, weights and sample count of :func:`fit_field` for this problem.

    * Gaussian base (a :class:`si_ref.Gaussian`, or ``None`` when :func:`fit_field` draws
      :math:`x_0 \sim N(0, I)` itself or the interpolant is one-sided): stable-target-field
      targets over blocks of 1024 samples (``reference_size=1024``) weighted by
      :math:`\kappa(t) = \alpha^2 \operatorname{tr}(S_0)/d + \gamma^2` (``weighted=True``).
    * Otherwise (a mixture or sample-only base, ``None`` with user ``data`` for a two-sided
      interpolant, a mirror interpolant): the plain targets of :mod:`si_ref.losses`, unweighted.

    ``n_samples``: 150 000 antithetic pairs for either method.
    """
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be a si_ref Interpolant; received {type(interpolant).__name__}.")
    if method not in DEFAULT_SAMPLES:
        raise ValueError(f"method must be 'ridge' or 'mlp'; received method={method!r}.")
    if _gaussian_base(interpolant, base, data_given):
        return FitRecipe(1024, True, DEFAULT_SAMPLES[method], True,
                         "Gaussian base: stable-target-field targets (blocks of 1024), weights kappa(t)")
    return FitRecipe(None, False, DEFAULT_SAMPLES[method], False,
                     "base not a known Gaussian: plain regression targets, unweighted")


def default_model(method, interpolant, target_samples, rng, *, base=None, base_samples=None, times=None):
    r"""The default model of :func:`fit_field` for ``method`` ("ridge" or "mlp").

    Ridge: :class:`si_ref.ridge.TimeSlicedRidge` over :data:`DEFAULT_SLICE_EDGES` (a slice
    without any of ``times`` is merged into its neighbour, so every slice has samples), each slice a
    ridge regression with GCV-chosen regularisation on
    :class:`si_ref.ridge.MixturePosteriorFeatures` with Legendre degree 3 in time. The
    target model is :func:`si_ref.ridge.select_gaussian_mixture` (full covariances, 1-12
    components by BIC) on ``target_samples``; the base model is ``base`` when it is a
    :class:`si_ref.Gaussian` (None: N(0, I)), or a mixture selected on ``base_samples`` when
    they are given (a base that is not a known Gaussian; ignored for a mirror interpolant).

    MLP: ``MLPField(d, widths=(128, 128, 128), dtype=np.float32)`` (SiLU, 4 time
    frequencies); :func:`fit_field` trains it with :data:`DEFAULT_MLP_TRAINING`.
    """
    check_rng(rng)
    target_samples = as_points(target_samples, "target_samples")
    d = target_samples.shape[1]
    if method == "mlp":
        return MLPField(d, widths=(128, 128, 128), dtype=np.float32, rng=rng)
    if method != "ridge":
        raise ValueError(f"method must be 'ridge' or 'mlp'; received method={method!r}.")
    target_model = select_gaussian_mixture(target_samples, rng)
    if base_samples is not None and interpolant.kind != "mirror":
        base_model = select_gaussian_mixture(base_samples, rng)
    elif base is None or isinstance(base, Gaussian) or interpolant.kind == "mirror":
        base_model = base
    else:
        raise TypeError(f"base must be a si_ref.Gaussian or None (N(0, I)) unless base_samples are given; "
                        f"received {type(base).__name__}.")
    edges = list(DEFAULT_SLICE_EDGES)
    if times is not None and np.size(times):
        times = np.asarray(times, dtype=np.float64).ravel()
        while len(edges) > 2:   # merge each empty slice into a neighbour (gappy or gridded times)
            empty = np.flatnonzero(np.histogram(times, bins=edges)[0] == 0)
            if empty.size == 0:
                break
            k = int(empty[0])
            del edges[k + 1 if k + 1 < len(edges) - 1 else k]
    return TimeSlicedRidge(lambda t0, t1: MixturePosteriorFeatures(interpolant, target_model, base=base_model,
                                                                   time_degree=3, t_range=(t0, t1)),
                           edges, alpha="gcv")


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
    antithetic = as_bool(antithetic, "antithetic")
    batch = _check_batch(batch)
    t, x0, x1, z = batch
    signs = (1.0, -1.0) if antithetic else (1.0,)
    xs = [interpolant.interpolant(t, x0, x1, sign * z) for sign in signs]
    if reference_size is None:
        ys = [regression_target(name, interpolant, batch, sign) for sign in signs]
    else:
        ys = [reference_target(name, interpolant, base, t, x, x1, block_size=reference_size) for x in xs]
    return np.vstack(xs), np.concatenate([t] * len(signs)), np.vstack(ys)


def _check_count(n_samples, d):
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be a positive integer (or None for the default); received {n_samples!r} "
                        f"of type {type(n_samples).__name__}. Pass e.g. n_samples=100_000.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; received n_samples={n_samples!r}.")
    # t, x0, x1, z, then x± and y± (twice as many rows), and features/targets made from them: ~16 d floats a pair
    estimate = int(n_samples) * (16 * d + 4) * 8
    if estimate > MAX_TRAINING_BYTES:
        raise ValueError(f"n_samples={n_samples!r} would need about {estimate / 2**30:.0f} GiB for the training arrays "
                         f"(limit MAX_TRAINING_BYTES = {MAX_TRAINING_BYTES / 2**30:.0f} GiB); pass a smaller n_samples, "
                         f"e.g. n_samples=200_000.")
    return int(n_samples)


def _check_distributions(interpolant, base, target, data):
    if not isinstance(interpolant, Interpolant):
        raise TypeError(f"interpolant must be a si_ref Interpolant (e.g. si_ref.LinearInterpolant(si_ref.BrownianGamma())); "
                        f"received {type(interpolant).__name__}.")
    if target is not None and not _is_distribution(target):
        raise TypeError(f"target must be a distribution with a sample(n, rng) method (e.g. si_ref.GaussianMixture); "
                        f"received {type(target).__name__}.")
    if base is not None and not _is_distribution(base):
        raise TypeError(f"base must be a distribution with a sample(n, rng) method (e.g. si_ref.Gaussian), or None "
                        f"for N(0, I); received {type(base).__name__}.")
    if data is None and target is None:
        raise ValueError("target is required to draw training samples (or pass data=Batch(...)).")


@with_blas_threads
def fit_field(name, interpolant, base=None, target=None, *, rng, method="ridge", n_samples=None, data=None,
              antithetic=True, reference_size="auto", weighted="auto", t_min=0.0, t_max=1.0, model=None,
              **fit_options):
    r"""Fit the field ``name`` (one of ``FIELD_TARGETS``) and return the fitted model, itself a field.

    The model minimises the (weighted) mean square :math:`\sum_i w(t_i) |\hat f(x_i, t_i) - y_i|^2`
    over training pairs :math:`(x_i = x_{t_i}, y_i)` whose targets satisfy
    :math:`E[y \mid x_t] = f(x_t)` (e.g. :math:`f = b`, :math:`y = \partial_t I + \dot\gamma z`),
    so its minimiser is the field wherever the model can represent it.

    Defaults (``reference_size="auto"``, ``weighted="auto"``, ``n_samples=None``,
    ``model=None``) are chosen by :func:`default_recipe` and :func:`default_model`:

    * when the base is Gaussian (a :class:`si_ref.Gaussian`, or None: N(0, I) drawn here):
      stable-target-field targets over blocks of 1024 samples, squares weighted by
      :math:`\kappa(t) = \alpha^2\operatorname{tr}(S_0)/d + \gamma^2`;
    * ridge: 150 000 antithetic pairs, a :class:`si_ref.ridge.TimeSlicedRidge` (12 slices,
      GCV) on :class:`si_ref.ridge.MixturePosteriorFeatures` of a Gaussian mixture fitted by
      EM to 20 000 target samples, number of components 1-12 by BIC;
    * MLP: 150 000 antithetic pairs, ``MLPField(d, widths=(128,)*3, dtype=float32)``,
      30 epochs, batch 512, Adam lr 2e-3 decaying geometrically to 3e-5.

    When the base is not a known Gaussian (a mixture or any object with ``sample``,
    None with user ``data`` for a two-sided interpolant, or a mirror interpolant), the
    defaults fall back to the plain targets, unweighted, and the ridge features use a
    mixture fitted to base samples as well (the base plays no part for a mirror
    interpolant). The plain targets carry the conditional variance of
    :math:`(x_0, x_1, z)`, so expect several times larger errors at the same size.

    Measured with the defaults (``si_ref/validation/fit_defaults.py``, seed 0, 2-D, Brownian γ,
    linear interpolant unless stated, mean and worst over t = 0.05, ..., 0.95 of the
    :math:`\rho_t`-weighted relative L2 error of b; 2-core machine, one BLAS thread, fit times
    4-6 s for the ridge and 35-38 s for the MLP):

    ==========================================  =====================  =====================
    case                                        ridge: mean / worst t  MLP: mean / worst t
    ==========================================  =====================  =====================
    N(0, I) to the 8-Gaussian ring              0.010 / 0.024 (0.15)   0.016 / 0.039 (0.95)
    N(0, I) to the 6-Gaussian mixture (*)       0.011 / 0.038 (0.15)   0.024 / 0.059 (0.95)
    same target from N((0.5, -1), skewed S0)    0.005 / 0.010 (0.95)   0.017 / 0.066 (0.95)
    same, trigonometric interpolant             0.006 / 0.014 (0.95)   0.022 / 0.102 (0.95)
    ==========================================  =====================  =====================

    (*) anisotropic, correlated components of unequal weights (standard deviations 0.1 to
    0.7, weights 0.08 to 0.3; ``fit_defaults.anisotropic_mixture``). The former default, 800
    random Fourier features on the plain targets, had a mean error of 0.565 on the ring
    (2.19 at t = 0.05).

    Parameters
    ----------
    name : str
        "drift", "velocity", "noise", "score", "denoise_x0" or "denoise_x1".
    interpolant : Interpolant
    base, target : distributions with ``sample(n, rng)``
        Used to draw ``n_samples`` when ``data`` is not given (``base=None``: N(0, I);
        ignored for mirror interpolants).
    rng : numpy.random.Generator
    method : "ridge" or "mlp"
        Picks the default model; ignored when ``model`` is given.
    n_samples : int, optional
        Pairs to draw (None: 150 000). Sizes whose training
        arrays would exceed :data:`MAX_TRAINING_BYTES` are refused with a ValueError.
    data : Batch, optional
        Training samples instead of drawing them.
    antithetic : bool
        Use both :math:`x_\pm` per sample.
    reference_size : "auto", None or int
        Variance-reduced targets of :mod:`si_ref.targets` (a Gaussian base; passed explicitly,
        ``base=None`` means N(0, I) even with user ``data``): 1 for
        :math:`E[y \mid x_t, x_1]`, B > 1 for the stable target field over blocks of B
        samples (bias O(1/B)). None: the plain targets. "auto": :func:`default_recipe`.
    weighted : "auto" or bool
        Weight the squares by :func:`si_ref.targets.conditional_variance_scale` (Gaussian
        base only). "auto": True with the variance-reduced targets.
    t_min, t_max : float
        Time range of the drawn samples (stay inside (0, 1) for the score target).
    model : object with ``fit(x, t, y, ...)``, optional
        Replaces the default model; the default MLP training options are then not applied.
    **fit_options
        Passed to ``model.fit`` (e.g. ``epochs``, ``batch_size``, ``lr`` for the MLP;
        its ``rng`` defaults to ``rng``), overriding the defaults.

    Returns
    -------
    The fitted model: a field ``f(x, t)`` returning float64 arrays of shape (n, d).

    Raises
    ------
    TypeError
        ``interpolant`` is not an Interpolant, ``base``/``target`` have no ``sample``, a
        boolean option is not a bool.
    ValueError
        Unknown ``name`` or ``method``, missing ``target``, bad ``n_samples`` (including
        sizes beyond the memory limit), ``reference_size`` or weights with a non-Gaussian base.
    """
    _check_distributions(interpolant, base, target, data)
    check_rng(rng)
    if name not in FIELD_TARGETS:
        raise ValueError(f"name must be one of {list(FIELD_TARGETS)}; received {name!r}.")
    if method not in DEFAULT_SAMPLES:
        raise ValueError(f"method must be 'ridge' or 'mlp'; received method={method!r}.")
    antithetic = as_bool(antithetic, "antithetic")
    recipe = default_recipe(interpolant, base, method=method, data_given=data is not None)
    if isinstance(reference_size, str) and reference_size == "auto":
        reference_size = recipe.reference_size
    elif reference_size is not None:
        if isinstance(reference_size, (bool, np.bool_)) or not isinstance(reference_size, (int, np.integer)) \
                or reference_size < 1:
            raise ValueError(f"reference_size must be 'auto', None or a positive integer; received {reference_size!r}.")
    weighted = recipe.weighted if isinstance(weighted, str) and weighted == "auto" else as_bool(weighted, "weighted")
    # asked for explicitly, base=None means N(0, I) (the convention of si_ref.targets), even with user data
    gaussian = interpolant.kind != "mirror" and (base is None or isinstance(base, Gaussian))
    if (reference_size is not None or weighted) and not gaussian:
        raise ValueError("reference_size and weighted=True need a Gaussian base (si_ref.Gaussian, or None for N(0, I)) "
                         f"and a non-mirror interpolant; received base {type(base).__name__} with a {interpolant.kind} "
                         "interpolant. Use reference_size=None, weighted=False.")
    t_min, t_max = as_real_scalar(t_min, "t_min"), as_real_scalar(t_max, "t_max")
    label = f"fit {name} ({method if model is None else type(model).__name__})"
    with task(label, total=3, unit="step") as progress:
        if data is None:
            d = getattr(target, "dim", None) or np.asarray(target.sample(1, np.random.default_rng(0))).shape[1]
            n_samples = _check_count(recipe.n_samples if n_samples is None else n_samples, d)
            data = sample_batch(interpolant, base, target, n_samples, rng, t_min=t_min, t_max=t_max)
        x, t, y = training_data(name, interpolant, data, antithetic=antithetic, reference_size=reference_size,
                                base=base)
        progress.advance(detail=f"{x.shape[0]} training points")
        default = model is None
        if default:
            if method == "ridge" and target is not None:
                target_samples = target.sample(MIXTURE_SAMPLES, rng)
            else:                                   # the MLP needs only d; ridge with data= uses its x1
                target_samples = np.asarray(data.x1)[:MIXTURE_SAMPLES]
            base_samples = None
            if method == "ridge" and not recipe.gaussian_base and interpolant.kind != "mirror":
                base_samples = (base.sample(MIXTURE_SAMPLES, rng) if base is not None
                                else np.asarray(data.x0)[:MIXTURE_SAMPLES])
            model = default_model(method, interpolant, target_samples, rng,
                                  base=base if recipe.gaussian_base else None, base_samples=base_samples, times=t)
        progress.advance(detail=f"model {type(model).__name__}")
        weights = conditional_variance_scale(interpolant, base, t) if weighted else None
        if isinstance(model, MLPField):
            if default:
                for key, value in DEFAULT_MLP_TRAINING.items():
                    fit_options.setdefault(key, value)
            fit_options.setdefault("rng", rng)
        if weights is not None:
            fit_options["sample_weight"] = weights
        model.fit(x, t, y, **fit_options)
        progress.advance(detail="fitted")
    return model


@with_blas_threads
def fit_drift(interpolant, base=None, target=None, *, rng, via="direct", method="ridge", **options):
    r"""Fit the drift b directly (``via="direct"``) or assemble it from fitted fields.

    ``via="direct"``: regress :math:`b = E[\partial_t I + \dot\gamma z \mid x_t]` (:func:`fit_field`
    with ``name="drift"``); ``via="velocity-score"``: fit v and s, return
    ``DriftFromVelocityScore(v, s, γ)``, i.e. :math:`b = v - \gamma\dot\gamma s`;
    ``via="velocity-noise"``: fit v and η, return ``DriftFromVelocityNoise(v, η, γ)``,
    i.e. :math:`b = v + \dot\gamma\eta`. Other arguments, their defaults and the measured
    errors of the defaults as in :func:`fit_field`; with assembled fits the same ``data``
    (if given) serves both fields, and a given ``model`` is copied so that each field gets its own.
    """
    if via not in ("direct", "velocity-score", "velocity-noise"):
        raise ValueError(f"via must be 'direct', 'velocity-score' or 'velocity-noise'; received {via!r}.")
    _check_distributions(interpolant, base, target, options.get("data"))
    if via == "direct":
        return fit_field("drift", interpolant, base, target, rng=rng, method=method, **options)
    second_options = dict(options)
    if options.get("model") is not None:   # two fields need two models: fitting one twice would overwrite the first
        second_options["model"] = copy.deepcopy(options["model"])
    with task(f"fit drift as {via} ({method})"):
        velocity = fit_field("velocity", interpolant, base, target, rng=rng, method=method, **options)
        second = "score" if via == "velocity-score" else "noise"
        other = fit_field(second, interpolant, base, target, rng=rng, method=method, **second_options)
    wrapper = DriftFromVelocityScore if via == "velocity-score" else DriftFromVelocityNoise
    return wrapper(velocity, other, interpolant.gamma_schedule)
