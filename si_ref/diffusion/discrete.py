r"""Discrete diffusion schedules: β tables, inference timesteps and noise-level grids.

A discrete variance-preserving (VP) schedule is a table :math:`\beta_0, \dots, \beta_{T-1}`
(Ho, Jain & Abbeel 2020, arXiv:2006.11239, eq. (2)). Index n = 0 is the least noisy
level (diffusers' ``timestep`` n; Ho et al. count t = n + 1 = 1, ..., T). With

.. math::

    \bar\alpha_n = \prod_{i=0}^{n} (1 - \beta_i), \qquad
    x_n = \sqrt{\bar\alpha_n}\, x_{\mathrm{data}} + \sqrt{1 - \bar\alpha_n}\, \varepsilon,
    \quad \varepsilon \sim N(0, I)

(Ho et al. 2020, eq. (4)), the level n of the diffusion path
:math:`x = a\, x_{\mathrm{data}} + \sigma \varepsilon` has :math:`a_n = \sqrt{\bar\alpha_n}` and
:math:`\sigma_n = \sqrt{1 - \bar\alpha_n}`.

Contents

* :class:`DiscreteSchedule`: the β table and everything derived from it, built with
  :meth:`~DiscreteSchedule.linear`, :meth:`~DiscreteSchedule.scaled_linear`,
  :meth:`~DiscreteSchedule.squaredcos_cap_v2` (diffusers' ``beta_schedule`` names) or from
  any table;
* :func:`rescale_zero_terminal_snr`: Lin et al. 2024, Algorithm 1;
* :func:`timesteps`: the inference timesteps ("leading", "trailing", "linspace");
* :func:`edm_sigmas`: the noise levels of Karras et al. 2022, eq. (5);
* :func:`shift_sigma`, :func:`unshift_sigma`: the timestep shift of rectified flows
  (Esser et al. 2024, eq. (23)).

Accuracy: :math:`\log\bar\alpha_n = \sum_{i \le n} \log(1 - \beta_i)` is accumulated with
``log1p``; :math:`\bar\alpha_n = \exp(\cdot)` and :math:`1 - \bar\alpha_n = -\mathrm{expm1}(\cdot)`,
so that a small :math:`1 - \bar\alpha_n` (here :math:`1 - \bar\alpha_0 = \beta_0 = 10^{-4}`)
keeps its digits instead of being the difference of two numbers close to 1.

Float32: diffusers builds the "linear" and "scaled_linear" tables in float32; si_ref builds
every table in float64, so its values differ from diffusers' by about 1e-7 relative.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .._checks import as_bool, as_count, as_levels, as_positive_real, as_real_scalar

__all__ = [
    "DiscreteSchedule",
    "BETA_SCHEDULES",
    "TIMESTEP_SPACINGS",
    "rescale_zero_terminal_snr",
    "timesteps",
    "edm_sigmas",
    "shift_sigma",
    "unshift_sigma",
]

#: The ``beta_schedule`` names :meth:`DiscreteSchedule.from_name` accepts (diffusers' names).
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")

#: The ``spacing`` names :func:`timesteps` accepts (Lin et al. 2024, Table 2).
TIMESTEP_SPACINGS = ("leading", "trailing", "linspace")

#: The offset s of the cosine schedule (Nichol & Dhariwal 2021, eq. (17)).
COSINE_OFFSET = 0.008


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _as_betas(betas) -> np.ndarray:
    """A new float64 copy of a β table, checked: 1-d, finite, 0 < β < 1 (β = 1 only last)."""
    arr = np.asarray(betas)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"betas must be real numbers in (0, 1); received dtype {arr.dtype}. "
            f"Pass a float array such as np.linspace(1e-4, 0.02, 1000)."
        )
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"betas must be a non-empty 1-d array (one β per training timestep); received shape {arr.shape}. "
            f"Pass a flat array, e.g. betas.ravel()."
        )
    out = arr.astype(np.float64, copy=True)
    finite = np.isfinite(out)
    if not finite.all():
        index = int(np.argmin(finite))
        raise ValueError(
            f"betas must be finite; received betas[{index}] = {float(out[index])!r}. Remove NaN/inf entries."
        )
    inside = (out > 0.0) & (out < 1.0)
    inside[-1] |= out[-1] == 1.0      # β = 1 at the last index only: zero terminal SNR, ᾱ_{T-1} = 0
    if not inside.all():
        index = int(np.argmin(inside))
        allowed = "(0, 1]" if index == out.size - 1 else "(0, 1)"
        raise ValueError(
            f"betas must lie in (0, 1) (β = 1 is allowed at the last index only, for zero terminal SNR); "
            f"received betas[{index}] = {float(out[index])!r}, outside {allowed}. Each β is the variance "
            f"added by one forward step, 1 - ᾱ_n / ᾱ_(n-1)."
        )
    return out


@dataclass(frozen=True, eq=False)
class DiscreteSchedule:
    r"""A discrete VP schedule: the β table and the noise levels derived from it.

    .. math::

        \bar\alpha_n = \prod_{i \le n} (1 - \beta_i) = \exp\Big(\sum_{i \le n}
        \operatorname{log1p}(-\beta_i)\Big), \qquad
        a_n = \sqrt{\bar\alpha_n}, \quad \sigma_n = \sqrt{1 - \bar\alpha_n}, \quad
        \sigma^{\mathrm{VE}}_n = \frac{\sigma_n}{a_n} = \sqrt{\frac{1 - \bar\alpha_n}{\bar\alpha_n}},
        \quad \lambda_n = \log\frac{a_n^2}{\sigma_n^2}.

    Source: Ho et al. 2020 (arXiv:2006.11239), eqs. (2) and (4). :math:`\sigma^{\mathrm{VE}}`
    is the noise level of the scaled variable :math:`x/a = x_{\mathrm{data}} + \sigma^{\mathrm{VE}}
    \varepsilon` (Karras et al. 2022, arXiv:2206.00364, Sec. 3 and Table 1; diffusers'
    ``sigmas``); :math:`\lambda` is the log signal-to-noise ratio of Kingma et al. 2021.

    Parameters
    ----------
    betas : array_like, shape (T,)
        :math:`\beta_n`, finite, in (0, 1); the last may be exactly 1 (zero terminal SNR:
        :math:`\bar\alpha_{T-1} = 0`, as made by :func:`rescale_zero_terminal_snr`).
        Copied; the input is never modified.

    Attributes
    ----------
    betas, log_alphas_cumprod, alphas_cumprod, one_minus_alphas_cumprod, a, sigma, sigma_ve, log_snr :
        read-only float64 arrays of shape (T,). At a zero-SNR last level ``log_alphas_cumprod``,
        ``log_snr`` are exactly ``-inf`` and ``sigma_ve`` is exactly ``+inf``.

    Raises
    ------
    TypeError
        For non-real β.
    ValueError
        For a β table that is not 1-d, is empty, or has a value outside (0, 1) (1 allowed last).

    Examples
    --------
    >>> s = DiscreteSchedule.linear(1000, beta_start=1e-4, beta_end=0.02)
    >>> s.num_train_timesteps, float(s.one_minus_alphas_cumprod[0])
    (1000, 0.0001)
    """

    betas: np.ndarray
    log_alphas_cumprod: np.ndarray = field(init=False, repr=False)
    alphas_cumprod: np.ndarray = field(init=False, repr=False)
    one_minus_alphas_cumprod: np.ndarray = field(init=False, repr=False)
    a: np.ndarray = field(init=False, repr=False)
    sigma: np.ndarray = field(init=False, repr=False)
    sigma_ve: np.ndarray = field(init=False, repr=False)
    log_snr: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        betas = _read_only(_as_betas(self.betas))
        with np.errstate(divide="ignore"):                       # log1p(-1) = -inf at a zero-SNR end
            log_ab = np.cumsum(np.log1p(-betas))                  # log ᾱ_n = Σ log(1 − β_i)
        one_minus = -np.expm1(log_ab)                             # 1 − ᾱ_n, small values keep their digits
        derived = {
            "betas": betas,
            "log_alphas_cumprod": log_ab,
            "alphas_cumprod": np.exp(log_ab),                     # ᾱ_n
            "one_minus_alphas_cumprod": one_minus,
            "a": np.exp(0.5 * log_ab),                            # a_n = √ᾱ_n
            "sigma": np.sqrt(one_minus),                          # σ_n = √(1 − ᾱ_n)
            "sigma_ve": np.sqrt(np.expm1(-log_ab)),               # σ/a = √(1/ᾱ − 1) = √expm1(−log ᾱ)
        }
        with np.errstate(divide="ignore"):                       # log(+inf) is not a warning; log(0) is
            derived["log_snr"] = -np.log(np.expm1(-log_ab))       # λ = log(ᾱ/(1 − ᾱ)) = −log expm1(−log ᾱ)
        for name, value in derived.items():
            object.__setattr__(self, name, _read_only(value))

    @property
    def num_train_timesteps(self) -> int:
        """T, the number of training timesteps (the length of the β table)."""
        return int(self.betas.size)

    def __repr__(self) -> str:
        return (f"DiscreteSchedule(T={self.num_train_timesteps}, betas[0]={float(self.betas[0])!r}, "
                f"betas[-1]={float(self.betas[-1])!r})")

    # --- the diffusers beta_schedule names ---------------------------------------------------
    @classmethod
    def linear(cls, num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02) -> "DiscreteSchedule":
        r"""diffusers' ``"linear"``: β equally spaced from ``beta_start`` to ``beta_end``.

        .. math::

            \beta_n = \beta_{\mathrm{start}} + \tfrac{n}{T-1}(\beta_{\mathrm{end}} - \beta_{\mathrm{start}}) .

        The schedule of Ho et al. 2020 (arXiv:2006.11239, Sec. 4: T = 1000, β from 1e-4 to
        0.02, the defaults). Equally spaced from ``beta_start`` to ``beta_end``, both exact;
        T = 1 gives ``[beta_start]``.
        """
        count = as_count(num_train_timesteps, "num_train_timesteps")
        start, end = _beta_endpoint(beta_start, "beta_start"), _beta_endpoint(beta_end, "beta_end")
        return cls(np.linspace(start, end, count))

    @classmethod
    def scaled_linear(cls, num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012) -> "DiscreteSchedule":
        r"""diffusers' ``"scaled_linear"``: √β equally spaced from √``beta_start`` to √``beta_end``.

        .. math::

            \beta_n = \Big(\sqrt{\beta_{\mathrm{start}}} + \tfrac{n}{T-1}
            \big(\sqrt{\beta_{\mathrm{end}}} - \sqrt{\beta_{\mathrm{start}}}\big)\Big)^2 .

        The latent-diffusion / Stable Diffusion schedule (Rombach et al. 2022,
        arXiv:2112.10752; defaults 0.00085 and 0.012 from its released configurations).
        """
        count = as_count(num_train_timesteps, "num_train_timesteps")
        start, end = _beta_endpoint(beta_start, "beta_start"), _beta_endpoint(beta_end, "beta_end")
        return cls(np.linspace(math.sqrt(start), math.sqrt(end), count) ** 2)

    @classmethod
    def squaredcos_cap_v2(cls, num_train_timesteps=1000, max_beta=0.999) -> "DiscreteSchedule":
        r"""diffusers' ``"squaredcos_cap_v2"``: the cosine schedule of Nichol & Dhariwal 2021, eq. (17).

        .. math::

            f(t) = \cos^2\Big(\frac{t + s}{1 + s}\,\frac{\pi}{2}\Big), \quad s = 0.008, \qquad
            \beta_n = \min\Big(1 - \frac{f((n+1)/T)}{f(n/T)},\ \beta_{\max}\Big),

        so that :math:`\bar\alpha_n = f((n+1)/T)/f(0)` wherever no β is capped (Nichol &
        Dhariwal 2021, arXiv:2102.09672, eq. (17) and Sec. 3.2, cap 0.999).
        Computed as :math:`\beta_n = \sin(u_n - u_{n+1}) \sin(u_n + u_{n+1}) / \sin^2 u_n` with
        :math:`u_k = \frac{\pi}{2} \frac{1 - k/T}{1 + s}` (since :math:`\cos\theta = \sin(\pi/2 - \theta)`),
        which has no cancellation. ``max_beta = 1`` keeps the exact last β = 1 (zero terminal SNR).
        """
        count = as_count(num_train_timesteps, "num_train_timesteps")
        cap = as_positive_real(max_beta, "max_beta")
        if cap > 1.0:
            raise ValueError(f"max_beta must lie in (0, 1]; received max_beta={cap!r}. The default is 0.999.")
        k = np.arange(count + 1, dtype=np.float64)
        u = (0.5 * np.pi / (1.0 + COSINE_OFFSET)) * ((count - k) / count)       # u_k = π/2 (1 − k/T)/(1 + s)
        step = 0.5 * np.pi / ((1.0 + COSINE_OFFSET) * count)                    # u_k − u_(k+1), exactly
        betas = np.sin(step) * np.sin(u[:-1] + u[1:]) / np.sin(u[:-1]) ** 2      # 1 − sin²u_(n+1)/sin²u_n
        betas[-1] = 1.0                     # u_T = 0: f(1) = 0 exactly (the rounded u_(T−1) ≠ step can miss it)
        return cls(np.minimum(betas, cap))

    @classmethod
    def from_name(cls, beta_schedule, num_train_timesteps=1000, **parameters) -> "DiscreteSchedule":
        """The schedule called ``beta_schedule`` in diffusers (one of :data:`BETA_SCHEDULES`).

        ``parameters`` are the keywords of the matching class method (``beta_start``,
        ``beta_end`` or ``max_beta``).
        """
        if beta_schedule not in BETA_SCHEDULES:
            raise ValueError(
                f"beta_schedule must be one of {BETA_SCHEDULES}; received {beta_schedule!r}. "
                f"For another table, pass the betas: DiscreteSchedule(betas)."
            )
        return getattr(cls, beta_schedule)(num_train_timesteps, **parameters)


def _beta_endpoint(value, name: str) -> float:
    value = as_real_scalar(value, name)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must lie in (0, 1]; received {name}={value!r}. Ho et al. use 1e-4 and 0.02.")
    return value


def _as_schedule(schedule) -> DiscreteSchedule:
    if not isinstance(schedule, DiscreteSchedule):
        raise TypeError(
            f"schedule must be a DiscreteSchedule; received {type(schedule).__name__}. "
            f"Build one with DiscreteSchedule.linear(1000) or DiscreteSchedule(betas)."
        )
    return schedule


def rescale_zero_terminal_snr(schedule) -> DiscreteSchedule:
    r"""The schedule with :math:`\sqrt{\bar\alpha}` shifted to end at 0 and scaled to keep its start.

    Lin, Liu, Li & Yang 2024, "Common diffusion noise schedules and sample steps are
    flawed" (arXiv:2305.08891), Algorithm 1:

    .. math::

        \sqrt{\bar\alpha'_n} = \frac{\sqrt{\bar\alpha_0}}{\sqrt{\bar\alpha_0} - \sqrt{\bar\alpha_{T-1}}}
        \Big(\sqrt{\bar\alpha_n} - \sqrt{\bar\alpha_{T-1}}\Big), \qquad
        \beta'_n = 1 - \frac{\bar\alpha'_n}{\bar\alpha'_{n-1}}, \quad \beta'_0 = \beta_0 .

    The last :math:`\bar\alpha'` is exactly 0 (so :math:`\beta'_{T-1} = 1` exactly) and the
    first level is unchanged. The β' are computed without cancellation: with
    :math:`r_n = \sqrt{\bar\alpha'_n}` and :math:`c` the scale,
    :math:`r_{n-1} - r_n = c\,(a_{n-1} - a_n) = c\, a_{n-1} \beta_n / (1 + \sqrt{1 - \beta_n})`, and
    :math:`\beta'_n = (r_{n-1} - r_n)(r_{n-1} + r_n)/r_{n-1}^2`.

    Parameters
    ----------
    schedule : DiscreteSchedule
        With at least 2 levels and :math:`\bar\alpha_{T-1} < \bar\alpha_0`.

    Returns
    -------
    DiscreteSchedule
        A new schedule (the input is unchanged).

    Raises
    ------
    TypeError
        If ``schedule`` is not a :class:`DiscreteSchedule`.
    ValueError
        For a schedule of one level (nothing to rescale).
    """
    schedule = _as_schedule(schedule)
    if schedule.num_train_timesteps < 2:
        raise ValueError(
            "schedule must have at least 2 levels to be rescaled to zero terminal SNR; received T = 1. "
            "Algorithm 1 keeps the first level and moves the last one to ᾱ = 0."
        )
    a, betas = schedule.a, schedule.betas
    first, last = a[0], a[-1]
    if not first > last:
        raise ValueError(
            f"schedule must lose signal to be rescaled: √ᾱ_0 = {first!r} and √ᾱ_(T−1) = {last!r} are equal "
            f"(the betas are too small to change ᾱ in float64). Use larger betas."
        )
    scale = first / (first - last)
    r = scale * (a - last)                                                 # √ᾱ' = c (√ᾱ − √ᾱ_last)
    r[-1] = 0.0                                                            # exactly: a − a_last = 0 there
    drop = scale * a[:-1] * betas[1:] / (1.0 + np.sqrt(1.0 - betas[1:]))   # r_(n−1) − r_n, no cancellation
    new = np.empty_like(betas)
    new[0] = betas[0]                                                      # r_0 = a_0: the first level is kept
    new[1:] = drop * (r[:-1] + r[1:]) / r[:-1] ** 2                        # 1 − r_n²/r_(n−1)²
    new[-1] = 1.0                                                          # r_last = 0 exactly
    return DiscreteSchedule(new)


def timesteps(schedule, num_inference_steps, spacing="leading", steps_offset=0) -> np.ndarray:
    r"""The decreasing integer timesteps of an N-step sampler on a T-level schedule.

    The three spacings of Lin et al. 2024 (arXiv:2305.08891), Table 2, in diffusers'
    0-based indices (Lin et al. count from 1), with T = ``num_train_timesteps`` and
    N = ``num_inference_steps``:

    * ``"leading"``: :math:`t_k = k \lfloor T/N \rfloor + \text{steps\_offset}`,
      k = N−1, ..., 0 (DDIM's original spacing; never reaches T − 1);
    * ``"trailing"``: :math:`t_k = \mathrm{round}(T - k\,T/N) - 1`, k = 0, ..., N−1 (starts at
      T − 1, the level the noise is drawn at);
    * ``"linspace"``: :math:`\mathrm{round}` of N equally spaced values from T − 1 down to 0.

    ``round`` is ``numpy.round`` (halves to even), as in diffusers; ``T/N`` is the float64
    quotient. For T = 1000, N = 10: leading 900, 800, ..., 0; trailing 999, 899, ..., 99;
    linspace 999, 888, ..., 111, 0. With N = 1, "leading" and "linspace" give ``[0]`` (plus the
    offset; ``numpy.linspace`` of one point is its start), as diffusers does: a one-step
    sampler that starts at the least noisy level. Use "trailing" (``[T - 1]``) for one step.

    Parameters
    ----------
    schedule : DiscreteSchedule
        Gives T.
    num_inference_steps : int
        N, with 1 <= N <= T.
    spacing : {"leading", "trailing", "linspace"}
    steps_offset : int
        Added to the "leading" timesteps (Stable Diffusion uses 1); it must be 0 for the
        other spacings (diffusers ignores it there).

    Returns
    -------
    ndarray of int64, shape (N,)
        Strictly decreasing, in [0, T − 1].

    Raises
    ------
    TypeError
        For a non-integer N or offset, or a schedule that is not a :class:`DiscreteSchedule`.
    ValueError
        For N outside [1, T], an unknown spacing, a negative offset, an offset with
        "trailing"/"linspace", or one that moves the first timestep past T − 1.
    """
    total = _as_schedule(schedule).num_train_timesteps
    steps = as_count(num_inference_steps, "num_inference_steps")
    if steps > total:
        raise ValueError(
            f"num_inference_steps must be at most num_train_timesteps = {total}; received "
            f"num_inference_steps={steps}. A sampler cannot visit more levels than the schedule has."
        )
    if spacing not in TIMESTEP_SPACINGS:
        raise ValueError(f"spacing must be one of {TIMESTEP_SPACINGS}; received spacing={spacing!r}.")
    offset = as_count(steps_offset, "steps_offset", minimum=0)
    if spacing != "leading" and offset != 0:
        raise ValueError(
            f"steps_offset applies to spacing='leading' only; received steps_offset={offset} with "
            f"spacing={spacing!r} (diffusers ignores it there). Pass steps_offset=0."
        )
    k = np.arange(steps)
    if spacing == "leading":
        out = (k * (total // steps))[::-1] + offset
        if out[0] > total - 1:
            raise ValueError(
                f"steps_offset={offset} moves the first timestep to {int(out[0])}, past the last level "
                f"T - 1 = {total - 1}; pass steps_offset <= {total - 1 - int(out[0]) + offset}."
            )
    elif spacing == "trailing":
        out = np.round(total - k * (total / steps)) - 1
    else:
        out = np.round(np.linspace(0.0, total - 1, steps))[::-1]
    return np.ascontiguousarray(out, dtype=np.int64)


def edm_sigmas(n, sigma_min=0.002, sigma_max=80.0, rho=7.0, *, append_zero=True) -> np.ndarray:
    r"""The noise levels of Karras et al. 2022 (arXiv:2206.00364), eq. (5), then :math:`\sigma_n = 0`.

    .. math::

        \sigma_i = \Big(\sigma_{\max}^{1/\rho} + \frac{i}{n - 1}
        \big(\sigma_{\min}^{1/\rho} - \sigma_{\max}^{1/\rho}\big)\Big)^{\rho},
        \quad i = 0, \dots, n - 1, \qquad \sigma_n = 0 .

    Defaults from Karras et al. 2022, Table 1 (σ_min = 0.002, σ_max = 80, ρ = 7; n = 18
    for CIFAR-10). The ends are exactly ``sigma_max`` and ``sigma_min``.

    Parameters
    ----------
    n : int
        Number of nonzero levels, n >= 2.
    sigma_min, sigma_max : float
        0 < sigma_min < sigma_max.
    rho : float
        ρ > 0.
    append_zero : bool
        Append the final :math:`\sigma_n = 0` (the data), as Karras et al. do.

    Returns
    -------
    ndarray, shape (n + 1,) or (n,)
        Strictly decreasing float64.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or n < 2, non-positive or misordered σ bounds, ρ <= 0.
    """
    count = as_count(n, "n", minimum=2)
    low = as_positive_real(sigma_min, "sigma_min")
    high = as_positive_real(sigma_max, "sigma_max")
    if not low < high:
        raise ValueError(
            f"sigma_min must be smaller than sigma_max; received sigma_min={low!r}, sigma_max={high!r}. "
            f"Swap them."
        )
    power = as_positive_real(rho, "rho")
    append_zero = as_bool(append_zero, "append_zero")
    root_max, root_min = high ** (1.0 / power), low ** (1.0 / power)
    fraction = np.arange(count) / (count - 1)
    sigmas = (root_max + fraction * (root_min - root_max)) ** power       # eq. (5)
    sigmas[0], sigmas[-1] = high, low                                     # the ends exactly
    return np.append(sigmas, 0.0) if append_zero else sigmas


#: σ of the rectified-flow path, in [0, 1].
_UNIT_LEVEL = dict(low=0.0, high=1.0, fix="A noise level sigma of the path (1 - sigma) x_data + sigma eps lies in "
                                          "[0, 1] (0 is the data, 1 the noise).")


def _as_shift(shift) -> float:
    if isinstance(shift, numbers.Real) or (isinstance(shift, np.ndarray) and shift.ndim == 0):
        return as_positive_real(shift, "shift")
    raise TypeError(f"shift must be a positive real number; received {shift!r}. SD3 uses shift=3.0.")


def shift_sigma(sigma, shift):
    r"""The timestep shift of rectified flows: :math:`\sigma' = s\sigma / (1 + (s - 1)\sigma)`.

    Esser et al. 2024 (Stable Diffusion 3, arXiv:2403.03206), Sec. 5.3.2, eq. (23) (written
    there for t with :math:`s = \sqrt{m/n}`), for the path
    :math:`x = (1 - \sigma) x_{\mathrm{data}} + \sigma\varepsilon`. It divides the
    signal-to-noise ratio by :math:`s^2`:
    :math:`(1 - \sigma')/\sigma' = (1 - \sigma)/(s\sigma)`; it fixes 0 and 1 and is the
    identity for s = 1.

    Parameters
    ----------
    sigma : float or array_like
        Values in [0, 1].
    shift : float
        s > 0 (s > 1 moves the levels toward the noise; SD3 uses 3).

    Returns
    -------
    float64 of the shape of ``sigma`` (a NumPy scalar for scalar input).

    Raises
    ------
    TypeError, ValueError
        For non-real or out-of-range ``sigma``, or ``shift`` <= 0.
    """
    s, levels = _as_shift(shift), as_levels(sigma, "sigma", **_UNIT_LEVEL)
    out = s * levels / (1.0 + (s - 1.0) * levels)
    return out[()] if out.ndim == 0 else out


def unshift_sigma(sigma_shifted, shift):
    r"""The inverse of :func:`shift_sigma`: :math:`\sigma = \sigma' / (s - (s - 1)\sigma')`.

    Esser et al. 2024 (Stable Diffusion 3, arXiv:2403.03206), Sec. 5.3.2, eq. (23) solved for σ:
    :math:`\sigma'(1 + (s - 1)\sigma) = s\sigma` gives the formula above, which is
    :func:`shift_sigma` with the shift 1/s (it multiplies the signal-to-noise ratio back by
    :math:`s^2`). It fixes 0 and 1.

    Parameters
    ----------
    sigma_shifted : float or array_like
        Values in [0, 1].
    shift : float
        s > 0, the shift that produced ``sigma_shifted``.

    Returns
    -------
    float64 of the shape of ``sigma_shifted`` (a NumPy scalar for scalar input).

    Raises
    ------
    TypeError
        For non-real ``sigma_shifted`` (bool, complex, a string) or a ``shift`` that is not a
        real number.
    ValueError
        For ``sigma_shifted`` outside [0, 1], NaN or inf, or ``shift`` <= 0.
    """
    s, levels = _as_shift(shift), as_levels(sigma_shifted, "sigma_shifted", **_UNIT_LEVEL)
    out = levels / (s - (s - 1.0) * levels)
    return out[()] if out.ndim == 0 else out
