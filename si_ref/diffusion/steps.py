r"""One step of each discrete diffusion sampler, as pure functions written from the papers.

The path is :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon`, :math:`\varepsilon \sim N(0, I)`
(for VP tables :math:`a = \sqrt{\bar\alpha}`, :math:`\sigma = \sqrt{1 - \bar\alpha}`). Samplers run
from noise toward the data, so the "previous" / "next" level is the less noisy one.

===============================  =======================================  =====================================
function                         model output (at the current level)      source
===============================  =======================================  =====================================
:func:`ddpm_step`                ε̂ = E[ε | x]                             Ho et al. 2020, eqs. (6), (7), (11)
:func:`ddim_step`                ε̂                                         Song, Meng & Ermon 2021, eqs. (12), (16)
:func:`euler_sigma_step`         D = E[x_data | x] (a = 1, VE)             Karras et al. 2022, Algorithm 1
:func:`heun_sigma_step`          a callable D(x, σ)                        Karras et al. 2022, Algorithm 1
:func:`edm_stochastic_step`      a callable D(x, σ)                        Karras et al. 2022, Algorithm 2
:func:`dpm_solver_pp_1s_step`    D = E[x_data | x] (any a, σ)             Lu et al. 2022, eq. (8)
:func:`dpm_solver_pp_2m_step`    D now and at the previous level           Lu et al. 2022, Algorithm 2
:func:`flow_match_euler_step`    u = E[ε − x_data | x], a = 1 − σ          Lipman et al. 2023; Esser et al. 2024
===============================  =======================================  =====================================

Calling conventions, shared by every function:

* ``x`` and every model output are float arrays of shape (n, d) (model outputs must have
  the shape of ``x``); ``noise`` is a given standard-normal array of that shape, never
  drawn here (draw it with a ``numpy.random.Generator``).
* A level (ᾱ, σ, γ, a) is a real scalar or one value per row: shape (n,) or (n, 1)
  (anything that broadcasts to (n, 1)).
* Every input is validated (shapes, finiteness, level ranges); a division by a zero level
  raises a ``ValueError`` that names the argument, never returns NaN or inf.
* Inputs are never modified; results are new float64 arrays of shape (n, d), whatever
  the input dtype.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_levels, as_points, as_positive_real, call_model

__all__ = [
    "ddpm_step",
    "ddim_step",
    "ddim_variance",
    "euler_sigma_step",
    "heun_sigma_step",
    "edm_stochastic_step",
    "dpm_solver_pp_1s_step",
    "dpm_solver_pp_2m_step",
    "flow_match_euler_step",
]


# --- validation -----------------------------------------------------------------------------------

def _like(value, name: str, x: np.ndarray) -> np.ndarray:
    """A model output or noise: a new float64 array of the shape of x, finite."""
    out = as_points(value, name)
    if out.shape != x.shape:
        raise ValueError(
            f"{name} must have the shape of x, {x.shape}; received shape {out.shape}. "
            f"Evaluate the model on x itself (one output row per row of x)."
        )
    return out


def _level(value, name: str, n: int, **bounds) -> np.ndarray:
    """A noise level (validated by as_levels): 0-d for a single value (also an array of one
    element, so that a denoiser gets a scalar), shape (n, 1) for one value per row."""
    out = as_levels(value, name, n, **bounds)
    return out.reshape(()) if out.size == 1 else out


#: What each level is, for the range errors.
_ALPHA_BAR = dict(low=0.0, high=1.0, fix="alpha_bar is the cumulative product of (1 - beta) of a VP table, "
                                         "e.g. DiscreteSchedule.alphas_cumprod[n].")
_SIGMA_VE = dict(low=0.0, fix="sigma is the noise level of x = x_data + sigma eps (EDM's a = 1).")
_SIGMA_RF = dict(low=0.0, high=1.0, fix="sigma is the noise level of the path (1 - sigma) x_data + sigma eps.")


def _first(values: np.ndarray, mask) -> float:
    return float(np.broadcast_to(values, np.shape(mask))[mask].ravel()[0])


def _alpha_bars(alpha_bar, alpha_bar_prev, n: int, *, allow_zero_alpha_bar=False):
    """ᾱ and ᾱ_prev with 0 < ᾱ < 1 (0 <= ᾱ with ``allow_zero_alpha_bar``) and ᾱ <= ᾱ_prev <= 1."""
    ab = _level(alpha_bar, "alpha_bar", n, **_ALPHA_BAR)
    abp = _level(alpha_bar_prev, "alpha_bar_prev", n, **_ALPHA_BAR)
    if not allow_zero_alpha_bar and (ab == 0.0).any():
        raise ValueError(
            "alpha_bar must be > 0: the data prediction x̂0 = (x − √(1 − ᾱ) ε̂)/√ᾱ is undefined at ᾱ = 0 "
            "(zero terminal SNR); received alpha_bar=0.0. A model predicting ε cannot be stepped from "
            "ᾱ = 0; use a v- or x0-prediction there (Lin et al. 2024, Sec. 3.2)."
        )
    if (ab == 1.0).any():
        raise ValueError(
            "alpha_bar must be < 1: the step divides by 1 − ᾱ, and ᾱ = 1 is the data itself; "
            "received alpha_bar=1.0. Stop the sampler at the last level with ᾱ < 1."
        )
    behind = abp < ab
    if behind.any():
        raise ValueError(
            f"alpha_bar_prev must be >= alpha_bar (the previous level is the less noisy one); received "
            f"alpha_bar_prev={_first(abp, behind)!r} < alpha_bar={_first(ab, behind)!r}. Check the order "
            f"of the two levels."
        )
    return ab, abp


def _denoised_from_eps(eps, x, ab, clip_denoised):
    """x̂0 = (x − √(1 − ᾱ) ε̂)/√ᾱ (Song et al. 2021, eq. (12)), optionally clipped to [−c, c]."""
    denoised = (x - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)
    if clip_denoised is not None:
        bound = as_positive_real(clip_denoised, "clip_denoised")
        denoised = np.clip(denoised, -bound, bound)
    return denoised


def _sigma_levels(sigma, sigma_next, n):
    sigma = _level(sigma, "sigma", n, **_SIGMA_VE)
    sigma_next = _level(sigma_next, "sigma_next", n, **_SIGMA_VE)
    if (sigma == 0.0).any():
        raise ValueError(
            "sigma must be > 0: the ODE direction d = (x − D)/σ is undefined at σ = 0; received sigma=0.0. "
            "σ = 0 is the data, where a sampler ends; it cannot start a step."
        )
    return sigma, sigma_next


def _call_denoiser(denoiser, x, sigma, name: str):
    """D(x, σ) on copies, checked by call_model: σ goes in as a float64 scalar or shape (m, 1)."""
    return call_model(denoiser, "denoiser", x, sigma, level_name=name)


def _check_callable(denoiser):
    if not callable(denoiser):
        raise TypeError(
            f"denoiser must be a callable D(x, sigma) returning E[x_data | x] of shape (n, d); "
            f"received {type(denoiser).__name__}. For an array already evaluated, use euler_sigma_step."
        )


def _ab_pair(level, name: str, n: int):
    """A level of DPM-Solver++: the pair (a, σ), both >= 0 and not both 0."""
    if not isinstance(level, (tuple, list)) or len(level) != 2:
        raise TypeError(
            f"{name} must be a pair (a, sigma) of the path x = a x_data + sigma eps; received "
            f"{type(level).__name__}{'' if not isinstance(level, (tuple, list)) else f' of length {len(level)}'}. "
            f"For a VP table pass (sqrt(alpha_bar), sqrt(1 - alpha_bar))."
        )
    fix = "a and sigma are the signal and noise scales of x = a x_data + sigma eps, both >= 0."
    a = _level(level[0], f"{name}[0] (a)", n, low=0.0, fix=fix)
    sigma = _level(level[1], f"{name}[1] (sigma)", n, low=0.0, fix=fix)
    both = (a == 0.0) & (sigma == 0.0)
    if both.any():
        raise ValueError(f"{name} must not have a = sigma = 0 (x would be 0 whatever the data); received (0.0, 0.0).")
    return a, sigma


def _log_ratio(a, sigma):
    """λ = log(a/σ) (Lu et al. 2022's half log-SNR), exactly ±inf at a = 0 or σ = 0."""
    with np.errstate(divide="ignore"):
        return np.log(a / sigma)


# --- DDPM and DDIM (ᾱ levels, ε-prediction) ----------------------------------------------------------

def ddpm_step(eps, x, alpha_bar, alpha_bar_prev, noise, *, clip_denoised=None):
    r"""One ancestral DDPM step from level ᾱ to the less noisy level ᾱ_prev, "fixed_small" variance.

    Ho, Jain & Abbeel 2020 (arXiv:2006.11239), eqs. (6), (7) and (11), for a strided step
    (:math:`\alpha_t = \bar\alpha/\bar\alpha_{\mathrm{prev}}`, :math:`\beta_t = 1 - \alpha_t`):

    .. math::

        \hat x_0 = \frac{x - \sqrt{1 - \bar\alpha}\,\hat\varepsilon}{\sqrt{\bar\alpha}}, \quad
        \tilde\mu = \frac{\sqrt{\bar\alpha_{\mathrm{prev}}}\,\beta_t}{1 - \bar\alpha}\hat x_0
                  + \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{\mathrm{prev}})}{1 - \bar\alpha} x, \quad
        \tilde\beta = \frac{1 - \bar\alpha_{\mathrm{prev}}}{1 - \bar\alpha}\beta_t, \qquad
        x_{\mathrm{prev}} = \tilde\mu + \sqrt{\tilde\beta}\, z .

    :math:`\tilde\mu, \tilde\beta` are the mean and variance of the forward posterior
    :math:`q(x_{\mathrm{prev}} \mid x, x_0)` at :math:`x_0 = \hat x_0`. Without clipping, the same as
    :func:`ddim_step` with η = 1 (Song et al. 2021, Sec. 4.1).

    Parameters
    ----------
    eps : ndarray, shape (n, d)
        :math:`\hat\varepsilon(x)`, the model's noise prediction at level ᾱ.
    x : ndarray, shape (n, d)
        The current state.
    alpha_bar, alpha_bar_prev : float or ndarray, shape (n,) or (n, 1)
        :math:`0 < \bar\alpha < 1` and :math:`\bar\alpha \le \bar\alpha_{\mathrm{prev}} \le 1`.
    noise : ndarray, shape (n, d)
        z, standard normal, given.
    clip_denoised : float, optional
        If given, :math:`\hat x_0` is clipped to [−c, c] before the posterior mean (diffusers'
        ``clip_sample``, with ``clip_sample_range`` c). Default: no clipping.

    Returns
    -------
    ndarray, shape (n, d)
        :math:`x_{\mathrm{prev}}`.

    Raises
    ------
    TypeError, ValueError
        For wrong shapes or dtypes, NaN/inf, levels outside their ranges, ᾱ = 0 (x̂0
        undefined), ᾱ = 1 (division by 1 − ᾱ), or ᾱ_prev < ᾱ.
    """
    x = as_points(x, "x")
    eps, noise = _like(eps, "eps", x), _like(noise, "noise", x)
    ab, abp = _alpha_bars(alpha_bar, alpha_bar_prev, x.shape[0])
    denoised = _denoised_from_eps(eps, x, ab, clip_denoised)
    alpha_t = ab / abp                                                    # α_t = ᾱ/ᾱ_prev
    beta_t = (abp - ab) / abp                                             # β_t = 1 − α_t
    one_minus = 1.0 - ab
    mean = (np.sqrt(abp) * beta_t / one_minus) * denoised + (np.sqrt(alpha_t) * (1.0 - abp) / one_minus) * x
    variance = (1.0 - abp) / one_minus * beta_t                           # β̃ = (1 − ᾱ_prev)/(1 − ᾱ) β_t
    return mean + np.sqrt(variance) * noise


def ddim_variance(alpha_bar, alpha_bar_prev):
    r"""The DDIM variance at η = 1, equal to the DDPM posterior variance :math:`\tilde\beta`.

    .. math::

        \sigma_1^2 = \frac{1 - \bar\alpha_{\mathrm{prev}}}{1 - \bar\alpha}
                     \Big(1 - \frac{\bar\alpha}{\bar\alpha_{\mathrm{prev}}}\Big)

    Song, Meng & Ermon 2021 (arXiv:2010.02502), eq. (16) without η² (diffusers'
    ``DDIMScheduler._get_variance``).

    Parameters
    ----------
    alpha_bar, alpha_bar_prev : float or array_like
        Broadcastable arrays with :math:`0 \le \bar\alpha < 1`, :math:`0 < \bar\alpha_{\mathrm{prev}} \le 1`,
        :math:`\bar\alpha \le \bar\alpha_{\mathrm{prev}}`.

    Returns
    -------
    float64 of the broadcast shape (a NumPy scalar for scalars).

    Raises
    ------
    TypeError, ValueError
        For non-real or non-finite levels, levels outside those ranges, ᾱ_prev < ᾱ.
    """
    ab, abp = (as_levels(v, name, **_ALPHA_BAR) for v, name in ((alpha_bar, "alpha_bar"),
                                                                 (alpha_bar_prev, "alpha_bar_prev")))
    try:
        ab, abp = np.broadcast_arrays(ab, abp)
    except ValueError:
        raise ValueError(
            f"alpha_bar and alpha_bar_prev must broadcast together; received shapes {ab.shape} and {abp.shape}."
        ) from None
    if (ab == 1.0).any():
        raise ValueError("alpha_bar must be < 1 (the variance divides by 1 − ᾱ); received alpha_bar=1.0.")
    if (abp == 0.0).any():
        raise ValueError("alpha_bar_prev must be > 0 (the variance divides by ᾱ_prev); received alpha_bar_prev=0.0.")
    behind = abp < ab
    if behind.any():
        raise ValueError(
            f"alpha_bar_prev must be >= alpha_bar; received alpha_bar_prev={float(abp[behind][0])!r} < "
            f"alpha_bar={float(ab[behind][0])!r}."
        )
    out = (1.0 - abp) / (1.0 - ab) * ((abp - ab) / abp)                  # 1 − ᾱ/ᾱ_prev = (ᾱ_prev − ᾱ)/ᾱ_prev
    return out[()] if out.ndim == 0 else out


def ddim_step(eps, x, alpha_bar, alpha_bar_prev, eta=0.0, noise=None, *, clip_denoised=None):
    r"""One DDIM step from level ᾱ to the less noisy level ᾱ_prev.

    Song, Meng & Ermon 2021 (arXiv:2010.02502), eqs. (12) and (16):

    .. math::

        \hat x_0 = \frac{x - \sqrt{1 - \bar\alpha}\,\hat\varepsilon}{\sqrt{\bar\alpha}}, \quad
        \sigma_\eta^2 = \eta^2 \frac{1 - \bar\alpha_{\mathrm{prev}}}{1 - \bar\alpha}
                        \Big(1 - \frac{\bar\alpha}{\bar\alpha_{\mathrm{prev}}}\Big), \quad
        x_{\mathrm{prev}} = \sqrt{\bar\alpha_{\mathrm{prev}}}\,\hat x_0
            + \sqrt{1 - \bar\alpha_{\mathrm{prev}} - \sigma_\eta^2}\,\hat\varepsilon + \sigma_\eta z .

    η = 0 is the deterministic DDIM (the first-order DPM-Solver++ step, Lu et al. 2022,
    and Euler in :math:`\sigma/a` for :math:`x/a`, Karras et al. 2022, Sec. 3); η = 1 is the DDPM
    step (:func:`ddpm_step`). The coefficient of ε̂ is computed as
    :math:`\sqrt{(1 - \bar\alpha_{\mathrm{prev}})\,[(1 - \eta^2)(\bar\alpha_{\mathrm{prev}} - \bar\alpha)
    + \bar\alpha(1 - \bar\alpha_{\mathrm{prev}})] / (\bar\alpha_{\mathrm{prev}}(1 - \bar\alpha))}`, the same
    number written without cancellation for η <= 1.

    Parameters
    ----------
    eps : ndarray, shape (n, d)
        :math:`\hat\varepsilon(x)` at level ᾱ.
    x : ndarray, shape (n, d)
    alpha_bar, alpha_bar_prev : float or ndarray, shape (n,) or (n, 1)
        :math:`0 < \bar\alpha < 1`, :math:`\bar\alpha \le \bar\alpha_{\mathrm{prev}} \le 1`
        (ᾱ_prev = 1 is diffusers' ``set_alpha_to_one`` final step: the result is x̂0).
    eta : float
        η >= 0; values above 1 are allowed while :math:`1 - \bar\alpha_{\mathrm{prev}} - \sigma_\eta^2 \ge 0`.
    noise : ndarray, shape (n, d), optional
        z, standard normal; required when η > 0 (multiplied by σ_η = 0 when η = 0).
    clip_denoised : float, optional
        If given, :math:`\hat x_0` is clipped to [−c, c] (diffusers' ``clip_sample`` with
        ``clip_sample_range`` c, on by default there); the direction term keeps the model's
        ε̂ (diffusers' default ``use_clipped_model_output=False``). Default: no clipping,
        the step of the paper.

    Returns
    -------
    ndarray, shape (n, d)
        :math:`x_{\mathrm{prev}}`.

    Raises
    ------
    TypeError, ValueError
        For wrong shapes or dtypes, NaN/inf, levels outside their ranges, ᾱ = 0, ᾱ = 1,
        ᾱ_prev < ᾱ, η < 0, η so large that σ_η² > 1 − ᾱ_prev, or η > 0 without ``noise``.
    """
    x = as_points(x, "x")
    eps = _like(eps, "eps", x)
    eta = as_positive_real(eta, "eta", allow_zero=True)
    if noise is None:
        if eta > 0.0:
            raise ValueError(
                f"noise is required when eta > 0 (received eta={eta!r}); pass a standard-normal array "
                f"of the shape of x, e.g. rng.standard_normal(x.shape)."
            )
        noise = np.zeros_like(x)
    else:
        noise = _like(noise, "noise", x)
    ab, abp = _alpha_bars(alpha_bar, alpha_bar_prev, x.shape[0])
    denoised = _denoised_from_eps(eps, x, ab, clip_denoised)
    bracket = (1.0 - eta**2) * (abp - ab) + ab * (1.0 - abp)              # ᾱ_prev(1 − ᾱ) − η²(ᾱ_prev − ᾱ)
    if (bracket < 0.0).any():
        limit = np.sqrt(1.0 + ab * (1.0 - abp) / np.where(abp > ab, abp - ab, np.inf))
        raise ValueError(
            f"eta={eta!r} is too large for these levels: σ_η² would exceed 1 − ᾱ_prev, leaving no real "
            f"coefficient for ε̂. Pass eta <= {float(np.min(limit)):.6g} (η <= 1 is always valid)."
        )
    direction_sq = (1.0 - abp) * bracket / (abp * (1.0 - ab))            # 1 − ᾱ_prev − σ_η²
    variance = eta**2 * (1.0 - abp) / (1.0 - ab) * ((abp - ab) / abp)    # σ_η², eq. (16)
    return np.sqrt(abp) * denoised + np.sqrt(direction_sq) * eps + np.sqrt(variance) * noise


# --- EDM: steps in σ for the scaled variable (a = 1) ----------------------------------------------

def euler_sigma_step(denoised, x, sigma, sigma_next):
    r"""One Euler step of the probability-flow ODE :math:`dx/d\sigma = (x - D(x; \sigma))/\sigma`.

    Karras, Aittala, Aila & Laine 2022 (arXiv:2206.00364), Algorithm 1 (its Euler part) and
    eq. (3) with :math:`\sigma(t) = t`, :math:`s(t) = 1`, for :math:`x = x_{\mathrm{data}} + \sigma\varepsilon`:

    .. math::

        d = \frac{x - D}{\sigma}, \qquad x_{\mathrm{next}} = x + (\sigma_{\mathrm{next}} - \sigma)\, d .

    Parameters
    ----------
    denoised : ndarray, shape (n, d)
        :math:`D(x; \sigma) = E[x_{\mathrm{data}} \mid x]` at level σ.
    x : ndarray, shape (n, d)
    sigma : float or ndarray, shape (n,) or (n, 1)
        σ > 0.
    sigma_next : float or ndarray, shape (n,) or (n, 1)
        :math:`\sigma_{\mathrm{next}} \ge 0` (0 ends at the data).

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError, ValueError
        For wrong shapes or dtypes, NaN/inf, σ <= 0 or σ_next < 0.
    """
    x = as_points(x, "x")
    denoised = _like(denoised, "denoised", x)
    sigma, sigma_next = _sigma_levels(sigma, sigma_next, x.shape[0])
    return x + (sigma_next - sigma) * ((x - denoised) / sigma)


def _heun(denoiser, x, sigma, sigma_next):
    """Karras et al. 2022, Algorithm 1, lines 4-8 on validated arrays."""
    step = sigma_next - sigma                                                     # h = σ_next − σ
    if step.ndim:
        step = np.broadcast_to(step, (x.shape[0], 1))
    slope = (x - _call_denoiser(denoiser, x, sigma, "sigma")) / sigma            # d_i = (x − D(x; σ))/σ
    euler = x + step * slope                                                      # x_(i+1) by Euler
    if sigma_next.ndim == 0:
        if sigma_next == 0.0:
            return euler                                                          # σ_next = 0: Euler only
        slope_next = (euler - _call_denoiser(denoiser, euler, sigma_next, "sigma_next")) / sigma_next
        return x + step * (0.5 * slope + 0.5 * slope_next)
    rows = sigma_next[:, 0] > 0.0                                                 # the 2nd-order rows
    out = euler.copy()
    if rows.any():
        level = sigma_next[rows]
        slope_next = (euler[rows] - _call_denoiser(denoiser, euler[rows], level, "sigma_next")) / level
        out[rows] = x[rows] + step[rows] * (0.5 * slope[rows] + 0.5 * slope_next)
    return out


def heun_sigma_step(denoiser, x, sigma, sigma_next):
    r"""One Heun step of :math:`dx/d\sigma = (x - D(x; \sigma))/\sigma`; Euler when σ_next = 0.

    Karras et al. 2022 (arXiv:2206.00364), Algorithm 1 with :math:`\sigma(t) = t`, :math:`s(t) = 1`:

    .. math::

        d = \frac{x - D(x; \sigma)}{\sigma}, \quad \tilde x = x + (\sigma_{\mathrm{next}} - \sigma) d, \quad
        d' = \frac{\tilde x - D(\tilde x; \sigma_{\mathrm{next}})}{\sigma_{\mathrm{next}}}, \quad
        x_{\mathrm{next}} = x + (\sigma_{\mathrm{next}} - \sigma)\,\tfrac12 (d + d'),

    and :math:`x_{\mathrm{next}} = \tilde x` where :math:`\sigma_{\mathrm{next}} = 0` (the
    correction would divide by zero). Second order: local error :math:`O(h^3)`.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)`` returning :math:`E[x_{\mathrm{data}} \mid x]`, shape (m, d), for x of shape
        (m, d) and sigma a float64 scalar or an array of shape (m, 1). It gets copies. With
        per-row levels, the correction is evaluated on the rows with σ_next > 0 only.
    x : ndarray, shape (n, d)
    sigma : float or ndarray, shape (n,) or (n, 1)
        σ > 0.
    sigma_next : float or ndarray, shape (n,) or (n, 1)
        σ_next >= 0.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError, ValueError
        For a non-callable denoiser, wrong shapes, NaN/inf (in the inputs or returned by the
        denoiser), σ <= 0 or σ_next < 0.
    """
    _check_callable(denoiser)
    x = as_points(x, "x")
    sigma, sigma_next = _sigma_levels(sigma, sigma_next, x.shape[0])
    return _heun(denoiser, x, sigma, sigma_next)


def edm_stochastic_step(denoiser, x, sigma, sigma_next, gamma, noise, s_noise=1.0):
    r"""One step of EDM's stochastic sampler: add noise up to :math:`\hat\sigma = (1 + \gamma)\sigma`, then Heun to σ_next.

    Karras et al. 2022 (arXiv:2206.00364), Algorithm 2, lines 5-10:

    .. math::

        \hat\sigma = (1 + \gamma)\sigma, \qquad
        \hat x = x + \sqrt{\hat\sigma^2 - \sigma^2}\; S_{\mathrm{noise}}\, z, \qquad
        x_{\mathrm{next}} = \mathrm{Heun}(\hat x;\ \hat\sigma \to \sigma_{\mathrm{next}}),

    with :math:`\sqrt{\hat\sigma^2 - \sigma^2} = \sigma\sqrt{\gamma(2 + \gamma)}` (no cancellation for
    small γ). The caller chooses γ (Karras et al.: :math:`\min(S_{\mathrm{churn}}/N, \sqrt2 - 1)`
    inside :math:`[S_{t\min}, S_{t\max}]`, else 0); γ = 0 is :func:`heun_sigma_step`.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)`` as in :func:`heun_sigma_step` (evaluated at :math:`\hat\sigma` and σ_next).
    x : ndarray, shape (n, d)
    sigma : float or ndarray, shape (n,) or (n, 1)
        σ > 0.
    sigma_next : float or ndarray, shape (n,) or (n, 1)
        σ_next >= 0.
    gamma : float or ndarray, shape (n,) or (n, 1)
        γ >= 0.
    noise : ndarray, shape (n, d)
        z, standard normal, given.
    s_noise : float
        :math:`S_{\mathrm{noise}} \ge 0` (Karras et al.: 1 to 1.007).

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError, ValueError
        As :func:`heun_sigma_step`, and for γ < 0, s_noise < 0 or a noise of another shape.
    """
    _check_callable(denoiser)
    x = as_points(x, "x")
    noise = _like(noise, "noise", x)
    sigma, sigma_next = _sigma_levels(sigma, sigma_next, x.shape[0])
    gamma = _level(gamma, "gamma", x.shape[0], low=0.0,
                   fix="gamma is the relative noise increase sigma_hat = (1 + gamma) sigma; 0 adds no noise.")
    scale = as_positive_real(s_noise, "s_noise", allow_zero=True)
    sigma_hat = (1.0 + gamma) * sigma                                             # σ̂ = (1 + γ) σ
    x_hat = x + (sigma * np.sqrt(gamma * (2.0 + gamma)) * scale) * noise          # √(σ̂² − σ²) S_noise z
    return _heun(denoiser, x_hat, sigma_hat, sigma_next)


# --- DPM-Solver++ (data prediction, any (a, σ)) ------------------------------------------------------

def _phi_times_a(a, sigma, a_next, sigma_next):
    r""":math:`a_{\mathrm{next}}(e^{-h} - 1)` with its exact limits where a, σ_next or a_next is 0.

    :math:`e^{-h} = (a\,\sigma_{\mathrm{next}})/(\sigma\, a_{\mathrm{next}})`: it is 0 where a = 0 or
    σ_next = 0 (the product is then :math:`-a_{\mathrm{next}}`), and where a_next = 0 the product
    tends to :math:`a\sigma_{\mathrm{next}}/\sigma`. Elsewhere ``expm1`` keeps small steps accurate.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        minus_h = _log_ratio(a, sigma) - _log_ratio(a_next, sigma_next)          # −h = λ − λ_next
        out = a_next * np.expm1(minus_h)
    out = np.where(a_next == 0.0, a * sigma_next / sigma, out)
    return np.where((a == 0.0) | (sigma_next == 0.0), -a_next, out)


def _dpm_levels(level, level_next, n):
    a, sigma = _ab_pair(level, "level", n)
    a_next, sigma_next = _ab_pair(level_next, "level_next", n)
    if (sigma == 0.0).any():
        raise ValueError(
            "level must have sigma > 0: the step multiplies x by σ_next/σ; received level[1] (sigma) = 0.0. "
            "σ = 0 is the data, where a sampler ends."
        )
    return a, sigma, a_next, sigma_next


def dpm_solver_pp_1s_step(denoised, x, level, level_next):
    r"""One first-order DPM-Solver++ step (data prediction) from level (a, σ) to (a_next, σ_next).

    Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++" (arXiv:2211.01095), eq. (8) with
    k = 1 (the first step of Algorithm 2), for :math:`x = a\, x_{\mathrm{data}} + \sigma\varepsilon`:

    .. math::

        \lambda = \log(a/\sigma), \quad h = \lambda_{\mathrm{next}} - \lambda, \qquad
        x_{\mathrm{next}} = \frac{\sigma_{\mathrm{next}}}{\sigma}\, x - a_{\mathrm{next}}\,(e^{-h} - 1)\, D .

    With :math:`a = \sqrt{\bar\alpha}, \sigma = \sqrt{1 - \bar\alpha}` this is DDIM with η = 0
    (Lu et al. 2022, Sec. 4.1); with a = 1 it is the Euler step in σ. σ_next = 0 gives
    :math:`a_{\mathrm{next}} D` and a = 0 (zero terminal SNR) gives
    :math:`(\sigma_{\mathrm{next}}/\sigma)x + a_{\mathrm{next}} D` (the exact limits, :math:`e^{-h} = 0`).
    :math:`e^{-h} - 1` is evaluated with ``expm1``.

    Parameters
    ----------
    denoised : ndarray, shape (n, d)
        :math:`D = \hat x_0(x) = E[x_{\mathrm{data}} \mid x]` at the current level.
    x : ndarray, shape (n, d)
    level, level_next : pair (a, sigma)
        Each entry a float or an array of shape (n,) or (n, 1); a >= 0, σ >= 0, not both 0;
        σ > 0 at ``level``. Any path, VP or not.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError, ValueError
        For a level that is not a pair, wrong shapes, NaN/inf, negative entries, a = σ = 0,
        or σ = 0 at ``level``.
    """
    x = as_points(x, "x")
    denoised = _like(denoised, "denoised", x)
    a, sigma, a_next, sigma_next = _dpm_levels(level, level_next, x.shape[0])
    return (sigma_next / sigma) * x - _phi_times_a(a, sigma, a_next, sigma_next) * denoised


def dpm_solver_pp_2m_step(denoised, denoised_prev, x, level_prev, level, level_next):
    r"""One second-order multistep DPM-Solver++(2M) step from ``level`` to ``level_next``.

    Lu et al. 2022 (arXiv:2211.01095), Algorithm 2 (and eq. (9)): with
    :math:`\lambda = \log(a/\sigma)`, :math:`h = \lambda_{\mathrm{next}} - \lambda`,
    :math:`h_{\mathrm{prev}} = \lambda - \lambda_{\mathrm{prev}}`, :math:`r = h_{\mathrm{prev}}/h`,

    .. math::

        \tilde D = \Big(1 + \frac{1}{2r}\Big) D - \frac{1}{2r} D_{\mathrm{prev}}, \qquad
        x_{\mathrm{next}} = \frac{\sigma_{\mathrm{next}}}{\sigma}\, x - a_{\mathrm{next}}\,(e^{-h} - 1)\,\tilde D .

    :math:`1/(2r)` is computed as :math:`h/(2h_{\mathrm{prev}})`, so a previous level with a = 0
    (:math:`h_{\mathrm{prev}} = \infty`) gives the first-order step. The final step to σ_next = 0
    has h = ∞ and no 2M form (Lu et al. end at σ > 0; implementations take a first-order
    last step): it raises, use :func:`dpm_solver_pp_1s_step` there.

    Parameters
    ----------
    denoised : ndarray, shape (n, d)
        D at ``level`` (evaluated at x).
    denoised_prev : ndarray, shape (n, d)
        :math:`D_{\mathrm{prev}}`, the one evaluated at the previous step, at ``level_prev``.
    x : ndarray, shape (n, d)
    level_prev, level, level_next : pair (a, sigma)
        As in :func:`dpm_solver_pp_1s_step`; in addition a > 0 at ``level``, a_next > 0 and
        σ_next > 0 (h finite), h ≠ 0 and :math:`h_{\mathrm{prev}} \ne 0`.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError, ValueError
        As :func:`dpm_solver_pp_1s_step`, and where h is 0 or infinite, or h_prev is 0.
    """
    x = as_points(x, "x")
    denoised = _like(denoised, "denoised", x)
    denoised_prev = _like(denoised_prev, "denoised_prev", x)
    a, sigma, a_next, sigma_next = _dpm_levels(level, level_next, x.shape[0])
    a_prev, sigma_prev = _ab_pair(level_prev, "level_prev", x.shape[0])
    if (sigma_next == 0.0).any() or (a_next == 0.0).any():
        raise ValueError(
            "level_next must have a > 0 and sigma > 0 for the 2M step: h = λ_next − λ is infinite at "
            "σ_next = 0 (or a_next = 0) and r = h_prev/h is 0. Take the final step to σ = 0 with "
            "dpm_solver_pp_1s_step."
        )
    if (a == 0.0).any():
        raise ValueError(
            "level must have a > 0 for the 2M step (λ = log(a/σ) = −∞ makes h infinite); received "
            "level[0] (a) = 0.0. Take the first step from a = 0 with dpm_solver_pp_1s_step."
        )
    lam, lam_next = _log_ratio(a, sigma), _log_ratio(a_next, sigma_next)
    lam_prev = _log_ratio(a_prev, sigma_prev)
    h = lam_next - lam
    if (h == 0.0).any():
        raise ValueError("level_next must differ from level in λ = log(a/σ) (h = 0: no step to take).")
    with np.errstate(invalid="ignore"):
        h_prev = lam - lam_prev
    if ((h_prev == 0.0) | np.isnan(h_prev)).any():
        raise ValueError(
            "level_prev must differ from level in λ = log(a/σ) (h_prev = 0 makes r = h_prev/h zero). "
            "Pass the level the previous denoised value was evaluated at."
        )
    if (h_prev < 0.0).any() or (sigma_prev == 0.0).any():
        raise ValueError(
            "level_prev must be noisier than level (λ_prev = log(a_prev/σ_prev) < λ, σ_prev > 0): the 2M step "
            "uses the denoised value of the step before, taken at a noisier level; received a level_prev with "
            "λ_prev >= λ. Pass the level the previous denoised value was evaluated at."
        )
    half_inverse_r = h / (2.0 * h_prev)                                           # 1/(2r) = h/(2 h_prev)
    combined = (1.0 + half_inverse_r) * denoised - half_inverse_r * denoised_prev
    return (sigma_next / sigma) * x - (a_next * np.expm1(lam - lam_next)) * combined


# --- flow matching ----------------------------------------------------------------------------------

def flow_match_euler_step(velocity, x, sigma, sigma_next):
    r"""One Euler step of the flow-matching ODE :math:`dx/d\sigma = u(x, \sigma)`.

    For the rectified-flow path :math:`x_\sigma = (1 - \sigma)\, x_{\mathrm{data}} + \sigma\varepsilon`
    (Lipman et al. 2023, arXiv:2210.02747; Liu et al. 2023, arXiv:2209.03003; Esser et al. 2024,
    arXiv:2403.03206, eq. (3)) the velocity is :math:`u = E[\varepsilon - x_{\mathrm{data}} \mid x]` and

    .. math::

        x_{\mathrm{next}} = x + (\sigma_{\mathrm{next}} - \sigma)\, u .

    Parameters
    ----------
    velocity : ndarray, shape (n, d)
        u at (x, σ).
    x : ndarray, shape (n, d)
    sigma, sigma_next : float or ndarray, shape (n,) or (n, 1)
        In [0, 1].

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    TypeError, ValueError
        For wrong shapes or dtypes, NaN/inf, or levels outside [0, 1].
    """
    x = as_points(x, "x")
    velocity = _like(velocity, "velocity", x)
    sigma = _level(sigma, "sigma", x.shape[0], **_SIGMA_RF)
    sigma_next = _level(sigma_next, "sigma_next", x.shape[0], **_SIGMA_RF)
    return x + (sigma_next - sigma) * velocity
