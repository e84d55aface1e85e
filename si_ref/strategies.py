r"""Public hypothesis strategies for property-based tests of stochastic-interpolant code.

For other projects' test suites as much as for ours::

    from hypothesis import given
    from si_ref import strategies as sis

    @given(sis.interpolants(), sis.times(exclude_min=True, exclude_max=True))
    def test_my_gamma_gamma_dot(interpolant, t):
        ...

Conventions follow hypothesis's own API: plural names, keyword-only
``min_*`` / ``max_*`` bounds, arguments validated when the strategy is built
(a bad call raises ``hypothesis.errors.InvalidArgument`` at once, with the
offending values in the message), and never a silently empty strategy.
Dimension arguments ``d`` accept an int or a strategy of ints.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from .diffusion.case import DiffusionCase
from .diffusion.paths import (
    DIFFUSION_PATHS,
    CosinePath,
    EDMPath,
    RectifiedFlowPath,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
)
from .couplings import COUPLINGS, coupled_case
from .distributions import Gaussian, GaussianMixture
from .gaussian import GaussianCase, sym_sqrt
from .guidance import GuidanceCase, LabelledGaussianMixture, guidance_strength
from .interpolants import (
    INTERPOLANT_FAMILIES,
    VP_MAX_GAMMA,
    CustomInterpolant,
    EncoderDecoderInterpolant,
    LinearInterpolant,
    MirrorInterpolant,
    OneSidedLinearInterpolant,
    OneSidedTrigInterpolant,
    TrigInterpolant,
    VPTrigInterpolant,
)
from .schedules import (
    BrownianGamma,
    BSquaredGamma,
    ScaledBrownianGamma,
    SigmoidGamma,
    SineSquaredGamma,
    ZeroGamma,
)

__all__ = [
    "times",
    "time_arrays",
    "generators",
    "gamma_schedules",
    "interpolants",
    "spd_matrices",
    "points",
    "gaussians",
    "gaussian_mixtures",
    "gaussian_cases",
    "diffusion_paths",
    "noise_levels",
    "diffusion_cases",
    "coupled_cases",
    "labelled_gaussian_mixtures",
    "guidance_cases",
    "guidance_strengths",
    "guided_fields",
    "GAMMA_FAMILIES",
    "INTERPOLANT_FAMILY_NAMES",
    "DIFFUSION_PATH_FAMILIES",
]

#: Names accepted by ``gamma_schedules(families=...)``.
GAMMA_FAMILIES = ("zero", "brownian", "scaled-brownian", "bsquared", "sine-squared", "sigmoid")
#: Names accepted by ``interpolants(families=...)``.
INTERPOLANT_FAMILY_NAMES = tuple(INTERPOLANT_FAMILIES)
#: Names accepted by ``diffusion_paths(families=...)`` (the keys of ``si_ref.diffusion.DIFFUSION_PATHS``).
DIFFUSION_PATH_FAMILIES = tuple(DIFFUSION_PATHS)


# --- argument checks (eager, exact messages) ----------------------------------------------

def _real(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgument(f"{name}={value!r} must be a real number")
    if not math.isfinite(value):
        raise InvalidArgument(f"{name}={value!r} must be finite")
    return float(value)


def _ordered(low, high, low_name, high_name):
    if low > high:
        raise InvalidArgument(f"{low_name}={low!r} is larger than {high_name}={high!r}")


def _count(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be at least {minimum}")
    return int(value)


def _dimension(d):
    """An int d >= 1 becomes ``st.just(d)``; a strategy is passed through."""
    if isinstance(d, st.SearchStrategy):
        return d
    return st.just(_count(d, "d", 1))


def _families(families, known, name):
    if families is None:
        return tuple(known)
    if isinstance(families, str):
        families = (families,)
    families = tuple(families)
    if not families:
        raise InvalidArgument(f"{name}=() is empty: name at least one of {list(known)}")
    unknown = [f for f in families if f not in known]
    if unknown:
        raise InvalidArgument(f"{name} contains unknown names {unknown}; known: {list(known)}")
    return families


# --- times and randomness -------------------------------------------------------------------

def _flag(value, name):
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def _time_bounds(min_t, max_t, exclude_min, exclude_max):
    min_t = _real(min_t, "min_t")
    max_t = _real(max_t, "max_t")
    exclude_min, exclude_max = _flag(exclude_min, "exclude_min"), _flag(exclude_max, "exclude_max")
    if not 0.0 <= min_t <= 1.0:
        raise InvalidArgument(f"min_t={min_t!r} must lie in [0, 1]")
    if not 0.0 <= max_t <= 1.0:
        raise InvalidArgument(f"max_t={max_t!r} must lie in [0, 1]")
    _ordered(min_t, max_t, "min_t", "max_t")
    lowest = math.nextafter(min_t, math.inf) if exclude_min else min_t
    highest = math.nextafter(max_t, -math.inf) if exclude_max else max_t
    if lowest > highest:
        raise InvalidArgument(
            f"min_t={min_t!r} and max_t={max_t!r} with exclude_min={exclude_min} and "
            f"exclude_max={exclude_max} leave no float time"
        )
    return st.floats(min_t, max_t, exclude_min=exclude_min, exclude_max=exclude_max)


def times(*, min_t=0.0, max_t=1.0, exclude_min=False, exclude_max=False):
    """Times t in [min_t, max_t] ⊆ [0, 1] (floats; the ends are drawn often).

    ``exclude_min`` / ``exclude_max`` open the interval, e.g. to stay off
    t = 0 and 1 where Brownian ``gamma_dot`` is infinite.
    """
    return _time_bounds(min_t, max_t, exclude_min, exclude_max)


def time_arrays(n, *, min_t=0.0, max_t=1.0, exclude_min=False, exclude_max=False):
    """Float64 arrays of shape (n,) of times in [min_t, max_t]; ``n`` an int or strategy."""
    elements = _time_bounds(min_t, max_t, exclude_min, exclude_max)
    shape = n if isinstance(n, st.SearchStrategy) else _count(n, "n", 0)
    return hnp.arrays(np.float64, shape, elements=elements)


def generators():
    """``numpy.random.Generator`` objects seeded from a drawn integer (reproducible in reports)."""
    return st.integers(0, 2**32 - 1).map(np.random.default_rng)


# --- schedules and interpolants ---------------------------------------------------------------

def gamma_schedules(*, families=None, max_gamma=None, min_scale=0.1, max_scale=4.0,
                    min_sharpness=1.0, max_sharpness=40.0):
    """Gamma schedules from the named ``families`` (default: all of ``GAMMA_FAMILIES``).

    Parameters
    ----------
    families : str or sequence of str, optional
        Subset of ``GAMMA_FAMILIES``.
    max_gamma : float, optional
        Keep only schedules whose maximum over [0, 1] is strictly below this
        (``max_gamma=si_ref.interpolants.VP_MAX_GAMMA`` gives schedules valid for
        ``VPTrigInterpolant``).
    min_scale, max_scale : float
        Range of ``a`` for ``ScaledBrownianGamma(a)``.
    min_sharpness, max_sharpness : float
        Range of ``f`` for ``SigmoidGamma(f)`` (within (0, 200]).
    """
    families = _families(families, GAMMA_FAMILIES, "families")
    min_scale, max_scale = _real(min_scale, "min_scale"), _real(max_scale, "max_scale")
    if min_scale <= 0:
        raise InvalidArgument(f"min_scale={min_scale!r} must be positive")
    _ordered(min_scale, max_scale, "min_scale", "max_scale")
    min_sharp, max_sharp = _real(min_sharpness, "min_sharpness"), _real(max_sharpness, "max_sharpness")
    if not 0 < min_sharp <= 200 or not 0 < max_sharp <= 200:
        raise InvalidArgument(
            f"min_sharpness={min_sharp!r} and max_sharpness={max_sharp!r} must lie in (0, 200]"
        )
    _ordered(min_sharp, max_sharp, "min_sharpness", "max_sharpness")
    if max_gamma is not None:
        max_gamma = _real(max_gamma, "max_gamma")
        # Cap the scale so that sqrt(a)/2 < max_gamma.
        max_scale = min(max_scale, math.nextafter((2 * max_gamma) ** 2, 0.0)) if max_gamma > 0 else 0.0

    def below(peak):
        return max_gamma is None or peak < max_gamma

    options = []
    if "zero" in families and below(0.0):
        options.append(st.just(ZeroGamma()))
    if "brownian" in families and below(0.5):
        options.append(st.just(BrownianGamma()))
    if "scaled-brownian" in families and min_scale <= max_scale:
        scaled = st.floats(min_scale, max_scale).map(ScaledBrownianGamma)
        options.append(scaled.filter(lambda g: below(g.max_gamma)))  # guards rounding at the cap
    if "bsquared" in families and below(0.25):
        options.append(st.just(BSquaredGamma()))
    if "sine-squared" in families and below(1.0):
        options.append(st.just(SineSquaredGamma()))
    # The peak γ(1/2) of SigmoidGamma(f) increases with f towards σ(1) − σ(−1) ≈ 0.462:
    # cap the sharpness by bisection so that the filter below rejects almost nothing.
    if "sigmoid" in families and below(SigmoidGamma(min_sharp).max_gamma):
        low, high = min_sharp, max_sharp
        if not below(SigmoidGamma(high).max_gamma):
            for _ in range(80):
                middle = 0.5 * (low + high)
                low, high = (middle, high) if below(SigmoidGamma(middle).max_gamma) else (low, middle)
        sigmoids = st.floats(min_sharp, low).map(SigmoidGamma)
        options.append(sigmoids.filter(lambda g: below(g.max_gamma)))
    if not options:
        raise InvalidArgument(
            f"no schedule in families={list(families)} has maximum below max_gamma={max_gamma!r}"
        )
    return st.one_of(options)


def _custom_interpolants():
    """Custom closed forms α = (1 − t)^p, β = t^q with p, q in [1, 3], plus any gamma schedule."""
    def build(p, q, gamma, one_sided):
        return CustomInterpolant(
            alpha_fn=lambda t: (1.0 - t) ** p,
            alpha_dot_fn=lambda t: -p * (1.0 - t) ** (p - 1.0),
            beta_fn=lambda t: t**q,
            beta_dot_fn=lambda t: q * t ** (q - 1.0),
            gamma_schedule=ZeroGamma() if one_sided else gamma,
            one_sided=one_sided,
        )

    exponents = st.floats(1.0, 3.0)
    return st.builds(build, exponents, exponents, gamma_schedules(), st.booleans())


def interpolants(*, families=None):
    """Interpolants of the named ``families`` (default: every family in ``INTERPOLANT_FAMILY_NAMES``).

    Each family is built with a gamma schedule it accepts: any schedule for
    linear and trig; maximum below ``VP_MAX_GAMMA`` for ``vp-trig``; positive at t = 1/2 for
    ``encoder-decoder`` and ``mirror``; none for the one-sided families;
    ``custom`` draws :math:`\\alpha = (1 - t)^p`, :math:`\\beta = t^q`.
    """
    families = _families(families, INTERPOLANT_FAMILY_NAMES, "families")
    positive = gamma_schedules(families=GAMMA_FAMILIES[1:])
    builders = {
        "linear": st.builds(LinearInterpolant, gamma_schedules()),
        "trig": st.builds(TrigInterpolant, gamma_schedules()),
        "vp-trig": st.builds(VPTrigInterpolant, gamma_schedules(max_gamma=VP_MAX_GAMMA)),
        "encoder-decoder": st.builds(EncoderDecoderInterpolant, positive),
        "one-sided-linear": st.just(OneSidedLinearInterpolant()),
        "one-sided-trig": st.just(OneSidedTrigInterpolant()),
        "mirror": st.builds(MirrorInterpolant, positive),
        "custom": _custom_interpolants(),
    }
    return st.one_of([builders[name] for name in families])


# --- matrices, points and distributions -------------------------------------------------------

def _eigen_bounds(min_eigenvalue, max_eigenvalue):
    low = _real(min_eigenvalue, "min_eigenvalue")
    high = _real(max_eigenvalue, "max_eigenvalue")
    if low <= 0:
        raise InvalidArgument(f"min_eigenvalue={low!r} must be positive")
    _ordered(low, high, "min_eigenvalue", "max_eigenvalue")
    return low, high


def _spd_of_dim(d, low, high):
    """Q diag(λ) Qᵀ with λ in [low, high] and Q orthogonal (QR of a drawn matrix)."""
    def build(eigenvalues, raw):
        q, r = np.linalg.qr(raw + 2.0 * np.eye(d))   # the shift keeps r well away from singular
        q = q * np.sign(np.diag(r))
        s = (q * eigenvalues) @ q.T
        return 0.5 * (s + s.T)

    return st.builds(
        build,
        hnp.arrays(np.float64, d, elements=st.floats(low, high)),
        hnp.arrays(np.float64, (d, d), elements=st.floats(-1.0, 1.0)),
    )


def spd_matrices(d, *, min_eigenvalue=0.1, max_eigenvalue=10.0):
    """Symmetric positive-definite (d, d) float64 matrices with eigenvalues in [min, max].

    The eigenvalues hold to rounding (within about d · 1e-16 · max_eigenvalue): the matrix is
    :math:`Q \\operatorname{diag}(\\lambda) Q^\\top` with :math:`Q` orthogonal.
    """
    low, high = _eigen_bounds(min_eigenvalue, max_eigenvalue)
    return _dimension(d).flatmap(lambda dim: _spd_of_dim(dim, low, high))


def points(d, *, min_n=1, max_n=8, max_abs=10.0):
    """Float64 arrays of shape (n, d), n in [min_n, max_n], entries in [−max_abs, max_abs]."""
    min_n, max_n = _count(min_n, "min_n", 0), _count(max_n, "max_n", 0)
    _ordered(min_n, max_n, "min_n", "max_n")
    max_abs = _real(max_abs, "max_abs")
    if max_abs < 0:
        raise InvalidArgument(f"max_abs={max_abs!r} must be non-negative")
    elements = st.floats(-max_abs, max_abs)
    return st.tuples(st.integers(min_n, max_n), _dimension(d)).flatmap(
        lambda shape: hnp.arrays(np.float64, shape, elements=elements)
    )


def _mean_bound(max_abs_mean):
    bound = _real(max_abs_mean, "max_abs_mean")
    if bound < 0:
        raise InvalidArgument(f"max_abs_mean={bound!r} must be non-negative")
    return bound


def gaussians(d, *, max_abs_mean=3.0, min_eigenvalue=0.1, max_eigenvalue=10.0):
    """``Gaussian(mean, cov)`` in dimension d with mean entries in [−max_abs_mean, max_abs_mean]."""
    bound = _mean_bound(max_abs_mean)
    low, high = _eigen_bounds(min_eigenvalue, max_eigenvalue)
    return _dimension(d).flatmap(
        lambda dim: st.builds(
            Gaussian,
            hnp.arrays(np.float64, dim, elements=st.floats(-bound, bound)),
            _spd_of_dim(dim, low, high),
        )
    )


def gaussian_mixtures(d, *, min_components=1, max_components=4, max_abs_mean=3.0,
                      min_eigenvalue=0.1, max_eigenvalue=10.0, min_weight_ratio=0.1):
    """``GaussianMixture`` in dimension d with k components, min_components <= k <= max_components.

    Unnormalised weights are drawn in [min_weight_ratio, 1] and normalised, so
    no component is negligible.
    """
    kmin = _count(min_components, "min_components", 1)
    kmax = _count(max_components, "max_components", 1)
    _ordered(kmin, kmax, "min_components", "max_components")
    bound = _mean_bound(max_abs_mean)
    low, high = _eigen_bounds(min_eigenvalue, max_eigenvalue)
    ratio = _real(min_weight_ratio, "min_weight_ratio")
    if not 0 < ratio <= 1:
        raise InvalidArgument(f"min_weight_ratio={ratio!r} must lie in (0, 1]")

    def of_shape(dim, k):
        def build(raw_weights, means, covs):
            return GaussianMixture(raw_weights / raw_weights.sum(), means, np.stack(covs))

        return st.builds(
            build,
            hnp.arrays(np.float64, k, elements=st.floats(ratio, 1.0)),
            hnp.arrays(np.float64, (k, dim), elements=st.floats(-bound, bound)),
            st.lists(_spd_of_dim(dim, low, high), min_size=k, max_size=k),
        )

    return st.tuples(_dimension(d), st.integers(kmin, kmax)).flatmap(lambda dk: of_shape(*dk))


# --- exact Gaussian cases -------------------------------------------------------------------

def _cross_covariances(s0, s1, max_correlation):
    """Valid C = S0^{1/2} (ρ Q) S1^{1/2}, Q orthogonal, |ρ| <= max_correlation < 1."""
    d = s0.shape[0]

    def build(rho, raw):
        q, r = np.linalg.qr(raw + 2.0 * np.eye(d))
        q = q * np.sign(np.diag(r))
        return sym_sqrt(s0) @ (rho * q) @ sym_sqrt(s1)

    return st.builds(
        build,
        st.floats(-max_correlation, max_correlation),
        hnp.arrays(np.float64, (d, d), elements=st.floats(-1.0, 1.0)),
    )


def gaussian_cases(d, *, families=None, max_components=3, mixtures=True, cross_cov=True,
                   max_correlation=0.9, max_abs_mean=3.0, min_eigenvalue=0.1, max_eigenvalue=10.0):
    """``GaussianCase`` objects: an interpolant of the named ``families`` with valid endpoints.

    Two-sided families get Gaussian or (if ``mixtures``) mixture endpoints, and
    for two single Gaussians (if ``cross_cov``) sometimes a jointly Gaussian
    coupling with correlation at most ``max_correlation``; one-sided families
    get the base N(0, I); mirror families get only a target.
    """
    families = _families(families, INTERPOLANT_FAMILY_NAMES, "families")
    kmax = _count(max_components, "max_components", 1)
    rho = _real(max_correlation, "max_correlation")
    if not 0 <= rho < 1:
        raise InvalidArgument(f"max_correlation={rho!r} must lie in [0, 1)")
    for flag, name in ((mixtures, "mixtures"), (cross_cov, "cross_cov")):
        if not isinstance(flag, bool):
            raise InvalidArgument(f"{name}={flag!r} must be True or False")
    bounds = dict(max_abs_mean=max_abs_mean, min_eigenvalue=min_eigenvalue, max_eigenvalue=max_eigenvalue)

    def endpoints(dim):
        single = gaussians(dim, **bounds)
        if not mixtures:
            return single
        return st.one_of(single, gaussian_mixtures(dim, max_components=kmax, **bounds))

    def of_dim(dim):
        def build(interpolant, data):
            if interpolant.kind == "mirror":
                return GaussianCase(interpolant, None, data.draw(endpoints(dim), label="target"))
            target = data.draw(endpoints(dim), label="target")
            if interpolant.kind == "one-sided":
                return GaussianCase(interpolant, None, target)
            base = data.draw(endpoints(dim), label="base")
            coupled = (cross_cov and isinstance(base, Gaussian) and isinstance(target, Gaussian)
                       and data.draw(st.booleans(), label="coupled"))
            c = data.draw(_cross_covariances(base.cov, target.cov, rho), label="cross_cov") if coupled else None
            return GaussianCase(interpolant, base, target, cross_cov=c)

        return st.builds(build, interpolants(families=families), st.data())

    return _dimension(d).flatmap(of_dim)


# --- diffusion conventions ------------------------------------------------------------------------

def _vp_linear_paths():
    """VP with linear β: β_min in [0.01, 1], β_max in [5, 25] (DDPM's continuous limit is 0.1, 20)."""
    return st.builds(VPLinearPath, st.floats(0.01, 1.0), st.floats(5.0, 25.0))


def diffusion_paths(*, families=None):
    """Diffusion paths x_τ = a(τ) x_data + σ(τ) ε of the named ``families`` (default: all of
    ``DIFFUSION_PATH_FAMILIES``), each with drawn valid parameters:

    ====================  ==========================================================
    ``vp-linear``         ``VPLinearPath(beta_min, beta_max)``, β_min ∈ [0.01, 1], β_max ∈ [5, 25]
    ``cosine``            ``CosinePath(s)``, s ∈ [0, 0.02]
    ``ve``                ``VEPath(sigma_min, sigma_max)``, σ_min ∈ [0.002, 0.1], σ_max ∈ [10, 100]
    ``edm``               ``EDMPath(sigma_max)``, σ_max ∈ [1, 100]
    ``rectified-flow``    ``RectifiedFlowPath(shift)``, shift ∈ [0.5, 5] (1: the plain path σ = τ)
    ``zero-terminal-snr`` ``ZeroTerminalSNRPath(path)`` of a drawn ``vp-linear`` path
    ====================  ==========================================================
    """
    families = _families(families, DIFFUSION_PATH_FAMILIES, "families")
    builders = {
        "vp-linear": _vp_linear_paths(),
        "cosine": st.builds(CosinePath, st.floats(0.0, 0.02)),
        "ve": st.builds(VEPath, st.floats(0.002, 0.1), st.floats(10.0, 100.0)),
        "edm": st.builds(EDMPath, st.floats(1.0, 100.0)),
        "rectified-flow": st.one_of(st.just(RectifiedFlowPath(1.0)), st.builds(RectifiedFlowPath, st.floats(0.5, 5.0))),
        "zero-terminal-snr": st.builds(ZeroTerminalSNRPath, _vp_linear_paths()),
    }
    return st.one_of([builders[name] for name in families])


#: Values next to the ends of a range that ``noise_levels`` draws often (kept where they lie inside the range).
_LEVEL_EDGES = (0.0, 1e-12, 1.0)


def _level_values(low, high):
    edges = sorted({v for v in (low, high) + _LEVEL_EDGES if low <= v <= high})
    floats = st.floats(low, high)
    if low < 1e-12 <= high:   # no levels between 0 and 1e-12 (subnormal coefficients) but the ends themselves
        floats = floats.filter(lambda v: v >= 1e-12 or v == low)
    return st.one_of(st.sampled_from(edges), floats)


def noise_levels(*, min_a=0.0, max_a=1.0, min_sigma=0.0, max_sigma=100.0, variance_preserving=False):
    """Noise levels (a, σ): the coefficients of x = a x_data + σ ε, as a pair of floats.

    a is drawn in [min_a, max_a] and σ in [min_sigma, max_sigma], with the ends, 0, 1e-12 and 1
    (where they lie in range) drawn often, and no value strictly between the lower end and 1e-12
    (coefficients that underflow when squared); (0, 0), where x carries nothing, is never drawn.
    With ``variance_preserving=True`` the pairs lie on a² + σ² = 1 (a = cos θ, σ = sin θ,
    θ ∈ [0, π/2], the edges (1, 0), (1, 1e-12), (1e-12, 1), (0, 1) drawn often); the bounds
    must then keep their defaults.
    """
    bounds = {"min_a": _real(min_a, "min_a"), "max_a": _real(max_a, "max_a"),
              "min_sigma": _real(min_sigma, "min_sigma"), "max_sigma": _real(max_sigma, "max_sigma")}
    if not isinstance(variance_preserving, bool):
        raise InvalidArgument(f"variance_preserving={variance_preserving!r} must be True or False")
    for name, value in bounds.items():
        if value < 0:
            raise InvalidArgument(f"{name}={value!r} must be non-negative")
    _ordered(bounds["min_a"], bounds["max_a"], "min_a", "max_a")
    _ordered(bounds["min_sigma"], bounds["max_sigma"], "min_sigma", "max_sigma")
    if variance_preserving:
        changed = [name for name, value in bounds.items()
                   if value != {"min_a": 0.0, "max_a": 1.0, "min_sigma": 0.0, "max_sigma": 100.0}[name]]
        if changed:
            raise InvalidArgument(f"variance_preserving=True draws a = cos θ, σ = sin θ; {changed} must keep "
                                  f"their defaults")
        edges = st.sampled_from(((1.0, 0.0), (1.0, 1e-12), (1e-12, 1.0), (0.0, 1.0)))
        angles = st.floats(0.0, math.pi / 2).map(
            lambda theta: (math.cos(theta) if theta < math.pi / 2 else 0.0, math.sin(theta)))
        return st.one_of(edges, angles)
    if bounds["max_a"] == 0.0 and bounds["max_sigma"] == 0.0:
        raise InvalidArgument("max_a=0.0 and max_sigma=0.0 leave only a = sigma = 0, where x carries nothing")
    pairs = st.tuples(_level_values(bounds["min_a"], bounds["max_a"]),
                      _level_values(bounds["min_sigma"], bounds["max_sigma"]))
    return pairs.filter(lambda pair: pair != (0.0, 0.0))


def diffusion_cases(d, *, families=None, max_components=3, mixtures=True, max_abs_mean=3.0,
                    min_eigenvalue=0.1, max_eigenvalue=10.0):
    """``DiffusionCase(data, path)`` objects: Gaussian or (if ``mixtures``) mixture data of dimension d
    with at most ``max_components`` components, on a path of ``diffusion_paths(families=...)``."""
    kmax = _count(max_components, "max_components", 1)
    if not isinstance(mixtures, bool):
        raise InvalidArgument(f"mixtures={mixtures!r} must be True or False")
    paths = diffusion_paths(families=families)
    _mean_bound(max_abs_mean)
    _eigen_bounds(min_eigenvalue, max_eigenvalue)
    bounds = dict(max_abs_mean=max_abs_mean, min_eigenvalue=min_eigenvalue, max_eigenvalue=max_eigenvalue)

    def of_dim(dim):
        single = gaussians(dim, **bounds)
        data = st.one_of(single, gaussian_mixtures(dim, max_components=kmax, **bounds)) if mixtures else single
        return st.builds(DiffusionCase, data, paths)

    return _dimension(d).flatmap(of_dim)


# --- couplings --------------------------------------------------------------------------------------

def coupled_cases(d, *, couplings=COUPLINGS, families=None, min_epsilon=0.1, max_epsilon=10.0,
                  max_abs_mean=3.0, min_eigenvalue=0.1, max_eigenvalue=10.0):
    """``GaussianCase`` objects of a two-sided interpolant between two Gaussians, coupled by one of
    ``couplings`` (:data:`si_ref.couplings.COUPLINGS`: ``"independent"``, ``"ot"``, ``"entropic"``,
    the last with ε drawn in [min_epsilon, max_epsilon]); see :func:`si_ref.coupled_case`.

    ``families`` are interpolant family names (default: every two-sided family). Many draws are in d = 1 or
    have commuting covariances (equal eigenvalues, shared axes), where every increasing linear map between
    the endpoints, or the whitening–colouring map, is the OT map: a test of an OT map that must tell such
    maps apart needs d >= 2 and non-commuting covariances (the checker's ``ot_map`` draws those).
    """
    if isinstance(couplings, str) or not couplings:
        raise InvalidArgument(f"couplings={couplings!r} must be a non-empty sequence of names from {COUPLINGS}")
    unknown = [c for c in couplings if c not in COUPLINGS]
    if unknown:
        raise InvalidArgument(f"couplings={couplings!r} holds unknown names {unknown}; valid: {COUPLINGS}")
    low, high = _real(min_epsilon, "min_epsilon"), _real(max_epsilon, "max_epsilon")
    if not 0 < low <= high:
        raise InvalidArgument(f"need 0 < min_epsilon <= max_epsilon; received {low!r} and {high!r}")
    two_sided = tuple(name for name, cls in INTERPOLANT_FAMILIES.items() if _kind_of(cls) == "two-sided")
    families = _families(families, two_sided, "families")
    bounds = dict(max_abs_mean=max_abs_mean, min_eigenvalue=min_eigenvalue, max_eigenvalue=max_eigenvalue)

    def of_dim(dim):
        def build(interpolant, base, target, coupling, data):
            epsilon = data.draw(st.floats(low, high), label="epsilon") if coupling == "entropic" else None
            return coupled_case(interpolant, base, target, coupling=coupling, epsilon=epsilon)

        two_sided_interpolants = interpolants(families=families).filter(lambda i: i.kind == "two-sided")
        return st.builds(build, two_sided_interpolants, gaussians(dim, **bounds), gaussians(dim, **bounds),
                         st.sampled_from(tuple(couplings)), st.data())

    return _dimension(d).flatmap(of_dim)


def _kind_of(cls) -> str:
    """"two-sided", "one-sided" or "mirror" for an interpolant family class."""
    if issubclass(cls, MirrorInterpolant):
        return "mirror"
    if issubclass(cls, (OneSidedLinearInterpolant, OneSidedTrigInterpolant)):
        return "one-sided"
    return "two-sided"


# --- guidance ---------------------------------------------------------------------------------------

#: Least gap between the moments of each label's conditional law and the unconditional law drawn by
#: :func:`labelled_gaussian_mixtures`, relative to ``max_abs_mean`` (means) and ``max_eigenvalue`` (covariances).
LABEL_GAP = 0.05


def _mixture_moments(weights, means, covs):
    """Mean (d,) and covariance (d, d) of a Gaussian mixture: Σ π_k m_k and Σ π_k (S_k + (m_k − m)(m_k − m)ᵀ)."""
    mean = weights @ means
    centred = means - mean
    return mean, np.einsum("k,kij->ij", weights, covs) + np.einsum("k,ki,kj->ij", weights, centred, centred)


def _labels_apart(target, mean_scale, cov_scale) -> bool:
    """Whether every label's conditional law differs from the unconditional one by LABEL_GAP in its moments.

    Where ρ(· | c) = ρ every guided field equals the unguided one at every g, and every guidance mistake
    coincides with the right value (so does a dropped label)."""
    mean, cov = _mixture_moments(target.weights, target.means, target.covs)
    for c in target.label_values:
        index = target.components_of(c)
        weights = target.weights[index] / target.weights[index].sum()
        mean_c, cov_c = _mixture_moments(weights, target.means[index], target.covs[index])
        gaps = [np.abs(mean_c - mean).max() / mean_scale if mean_scale > 0 else 0.0,
                np.abs(cov_c - cov).max() / cov_scale]
        if max(gaps) < LABEL_GAP:
            return False
    return True


def labelled_gaussian_mixtures(d, *, min_labels=2, max_labels=3, max_components_per_label=2, max_abs_mean=3.0,
                               min_eigenvalue=0.1, max_eigenvalue=10.0):
    """``LabelledGaussianMixture`` in dimension d with L labels (ints 0 … L − 1), 2 <= min_labels <= L <= max_labels,
    each carried by 1 to ``max_components_per_label`` components.

    Every label's conditional law differs from the unconditional one: the mean of ρ(· | c) differs from
    that of ρ by at least ``LABEL_GAP · max_abs_mean`` in some coordinate, or its covariance by at least
    ``LABEL_GAP · max_eigenvalue`` in some entry. (Equal draws, such as every component mean at 0, make
    the conditional and unconditional fields equal, and classifier-free guidance a no-op.)
    """
    lmin, lmax = _count(min_labels, "min_labels", 2), _count(max_labels, "max_labels", 1)   # one label: no guidance
    _ordered(lmin, lmax, "min_labels", "max_labels")
    per = _count(max_components_per_label, "max_components_per_label", 1)
    bounds = dict(max_abs_mean=max_abs_mean, min_eigenvalue=min_eigenvalue, max_eigenvalue=max_eigenvalue)
    mean_scale = _mean_bound(max_abs_mean)
    low, high = _eigen_bounds(min_eigenvalue, max_eigenvalue)
    if mean_scale == 0 and low == high:
        raise InvalidArgument(f"max_abs_mean=0.0 with min_eigenvalue = max_eigenvalue = {low!r} makes every "
                              f"component equal, so no label changes the law; allow means or eigenvalues to vary")

    def of_counts(dim, counts):
        labels = [c for c, k in enumerate(counts) for _ in range(k)]
        mixtures = gaussian_mixtures(dim, min_components=len(labels), max_components=len(labels), **bounds)
        labelled = mixtures.map(lambda m: LabelledGaussianMixture(m.weights, m.means, m.covs, labels))
        return labelled.filter(lambda target: _labels_apart(target, mean_scale, high))

    counts = st.integers(lmin, lmax).flatmap(lambda n: st.lists(st.integers(1, per), min_size=n, max_size=n))
    return st.tuples(_dimension(d), counts).flatmap(lambda dc: of_counts(*dc))


def guidance_cases(d, *, families=None, gaussian_base=True, **target_options):
    """``GuidanceCase`` objects: an interpolant of ``families`` (default: every family but mirror) from a
    Gaussian base (N(0, I) for one-sided families; a drawn Gaussian, or a mixture when ``gaussian_base``
    is False) to a drawn :func:`labelled_gaussian_mixtures` target (``target_options`` go to it)."""
    allowed = tuple(name for name, cls in INTERPOLANT_FAMILIES.items() if _kind_of(cls) != "mirror")
    families = _families(families, allowed, "families")
    if not isinstance(gaussian_base, bool):
        raise InvalidArgument(f"gaussian_base={gaussian_base!r} must be True or False")
    known = ("min_labels", "max_labels", "max_components_per_label", "max_abs_mean", "min_eigenvalue", "max_eigenvalue")
    unknown = sorted(set(target_options) - set(known))
    if unknown:
        raise InvalidArgument(f"guidance_cases got unknown options {unknown}; the target options are {list(known)}")
    labelled_gaussian_mixtures(1, **target_options)        # validates the target options now, not at the first draw
    bounds = {k: target_options[k] for k in ("max_abs_mean", "min_eigenvalue", "max_eigenvalue") if k in target_options}

    def of_dim(dim):
        def build(interpolant, target, data):
            if interpolant.kind == "one-sided":
                return GuidanceCase(interpolant, None, target)
            bases = gaussians(dim, **bounds) if gaussian_base else gaussian_mixtures(dim, max_components=2, **bounds)
            return GuidanceCase(interpolant, data.draw(bases, label="base"), target)

        not_mirror = interpolants(families=families).filter(lambda i: i.kind != "mirror")
        return st.builds(build, not_mirror, labelled_gaussian_mixtures(dim, **target_options), st.data())

    return _dimension(d).flatmap(of_dim)


def guidance_strengths(*, min_scale=2.5, max_scale=8.0, conventions=("scale", "weight")):
    """``GuidanceStrength`` objects with g in [min_scale, max_scale], given in one of ``conventions``
    (``"scale"``: g; ``"weight"``: w = g − 1 of Ho & Salimans).

    The default range keeps the usual mistakes apart: below g = 2.5, g − 1, 1 − g and 1 (no guidance)
    come close to each other or to g (at g = 2, g − 1 = 1; at g = ½, 1 − g = g).
    """
    low, high = _real(min_scale, "min_scale"), _real(max_scale, "max_scale")
    _ordered(low, high, "min_scale", "max_scale")
    if isinstance(conventions, str) or not conventions or not set(conventions) <= {"scale", "weight"}:
        raise InvalidArgument(f"conventions={conventions!r} must be a non-empty sequence of 'scale' and 'weight'")

    def build(g, convention):
        return guidance_strength(scale=g) if convention == "scale" else guidance_strength(weight=g - 1.0)

    return st.builds(build, st.floats(low, high), st.sampled_from(tuple(conventions)))


def guided_fields(d, *, strengths=None, **case_options):
    """``GuidedFields`` (``case.guided(...)``) of drawn :func:`guidance_cases` and :func:`guidance_strengths`:
    the references of the checker's guided-field quantities."""
    strengths = guidance_strengths() if strengths is None else strengths
    if not isinstance(strengths, st.SearchStrategy):
        raise InvalidArgument(f"strengths={strengths!r} must be a strategy of GuidanceStrength, e.g. "
                              f"guidance_strengths(min_scale=3.0)")
    return st.builds(lambda case, strength: case.guided(**{strength.convention: strength.value}),
                     guidance_cases(d, **case_options), strengths)
