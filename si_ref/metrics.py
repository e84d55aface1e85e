r"""Two-sample metrics: energy distance and maximum mean discrepancy (MMD).

Both compare samples :math:`x_1, \dots, x_n \sim P` and :math:`y_1, \dots, y_m \sim Q`
in :math:`\mathbb R^d` through averages of a kernel over all pairs, so they cost
O(n m d) time. Memory stays bounded: the pair sums are accumulated over row
blocks of at most :data:`CHUNK_ELEMENTS` pairs (distances by
``scipy.spatial.distance.cdist``, which forms :math:`x_i - y_j` directly, so
there is no cancellation in :math:`|x|^2 + |y|^2 - 2x\cdot y`).

Both functions return the *squared* discrepancy, as the estimators are
defined: the V-statistic by default (the plug-in value for the two empirical
distributions, always >= 0 and exactly 0 for identical samples), or the
unbiased U-statistic with ``unbiased=True`` (within-sample averages over
:math:`i \ne j`; it can be slightly negative). Inputs are validated
(shapes (n, d) and (m, d) with the same d, finite floats) and never modified;
the computation and the result are float64.

Scale: samples whose largest magnitude lies outside :math:`[2^{-200}, 2^{200}]` are
multiplied by a power of two (exact in floating point) into that range before the
distances are formed, so that no squared distance overflows or underflows; the
energy distance is then scaled back (it is homogeneous of degree 1) and the MMD
uses the bandwidth rescaled by the same power (it depends on distances over σ).
A result beyond the float64 range (an energy distance above about 1.8e308) is
refused with a ``ValueError``.

References
----------
G. J. Székely and M. L. Rizzo, "Energy statistics: A class of statistics based on
distances", J. Stat. Plann. Inference 143 (2013) 1249-1272, eq. (2.1) and Sec. 3.
A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf and A. Smola, "A kernel
two-sample test", JMLR 13 (2012) 723-773, eqs. (3), (5) (Lemma 6) and Sec. 8.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist, pdist

from ._checks import as_bool, as_points, as_real_scalar

__all__ = ["energy_distance", "mmd", "median_bandwidth", "CHUNK_ELEMENTS", "MEDIAN_MAX_POINTS"]

#: At most this many pairwise values are held in memory at once (32 MiB of float64).
CHUNK_ELEMENTS = 1 << 22
#: The median heuristic uses at most this many points (an evenly strided subset of the pooled sample).
MEDIAN_MAX_POINTS = 4096


def _samples(x, y):
    """Validated float64 copies of x (n, d) and y (m, d), with n, m >= 1 and the same d."""
    x = as_points(x, "x")
    y = as_points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same dimension d; received x of shape {x.shape} and y of shape "
            f"{y.shape}. Pass samples of the same space."
        )
    for name, a in (("x", x), ("y", y)):
        if a.shape[0] == 0:
            raise ValueError(f"{name} must contain at least one point; received shape {a.shape}.")
    return x, y


#: Samples are rescaled by a power of two when their largest magnitude is outside [2**-SAFE, 2**SAFE].
_SAFE_EXPONENT = 200


def _scale_exponent(x, y) -> int:
    """k such that x / 2**k and y / 2**k have their largest magnitude in [1/2, 1), or 0 when no rescaling is needed."""
    largest = max(float(np.max(np.abs(x))), float(np.max(np.abs(y))))
    if largest == 0.0:
        return 0
    exponent = int(np.frexp(largest)[1])           # largest = m 2**exponent with 1/2 <= m < 1
    return 0 if -_SAFE_EXPONENT <= exponent <= _SAFE_EXPONENT else exponent


def _check_unbiased(unbiased, x, y):
    unbiased = as_bool(unbiased, "unbiased")
    if unbiased:
        for name, a in (("x", x), ("y", y)):
            if a.shape[0] < 2:
                raise ValueError(
                    f"the unbiased estimator needs at least 2 points in each sample; received {name} "
                    f"with {a.shape[0]}. Pass more points or unbiased=False."
                )
    return bool(unbiased)


def _pair_sum(a, b, kernel) -> float:
    r""":math:`\sum_{i, j} k(a_i, b_j)` with ``kernel`` mapping a block of Euclidean distances to k."""
    rows = max(1, CHUNK_ELEMENTS // b.shape[0])
    total = 0.0
    for start in range(0, a.shape[0], rows):
        total += float(np.sum(kernel(cdist(a[start:start + rows], b))))
    return total


def _mean_within(a, kernel, k_zero, unbiased) -> float:
    r"""Mean of k over all n² pairs (V) or over the n(n-1) pairs i ≠ j (U), with k(a, a) = k_zero."""
    n = a.shape[0]
    total = _pair_sum(a, a, kernel)
    if unbiased:
        return (total - n * k_zero) / (n * (n - 1))
    return total / (n * n)


def energy_distance(x, y, *, unbiased=False) -> float:
    r"""Squared energy distance between the samples x and y (V-statistic by default).

    .. math::

        D^2(P, Q) = 2\,E|X - Y| - E|X - X'| - E|Y - Y'|,

    with X, X' ~ P and Y, Y' ~ Q independent (Székely & Rizzo 2013, eq. (2.1)).
    :math:`D^2 \ge 0`, with equality iff P = Q (finite first moments), and
    :math:`D` is a metric. The V-statistic plugs in the empirical distributions,

    .. math::

        \hat D^2_V = \frac{2}{nm}\sum_{i,j}|x_i - y_j| - \frac{1}{n^2}\sum_{i,j}|x_i - x_j|
                     - \frac{1}{m^2}\sum_{i,j}|y_i - y_j| \;\ge 0,

    and is 0 for identical samples. With ``unbiased=True`` the within-sample
    means run over :math:`i \ne j` (divided by n(n-1) and m(m-1)): an unbiased
    estimate of :math:`D^2`, which may be negative.

    In one dimension :math:`D^2 = 2\int (F - G)^2\,du` (F, G the CDFs), and
    ``scipy.stats.energy_distance(u, v)`` returns :math:`\sqrt{\hat D^2_V}`.
    The E-statistic of the energy test is :math:`\frac{nm}{n+m}\hat D^2_V`.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    y : ndarray, shape (m, d)
        Floating-point samples with the same d.
    unbiased : bool, default False

    Returns
    -------
    float
        The squared energy distance (float64).

    Raises
    ------
    TypeError
        For non-floating samples or a non-bool ``unbiased``.
    ValueError
        For shapes other than (n, d) and (m, d) with the same d, empty samples,
        NaN/inf, or fewer than 2 points per sample with ``unbiased=True``.
    """
    x, y = _samples(x, y)
    unbiased = _check_unbiased(unbiased, x, y)
    k = _scale_exponent(x, y)
    x, y = np.ldexp(x, -k), np.ldexp(y, -k)          # D²(2^-k x, 2^-k y) = 2^-k D²(x, y), exactly
    n, m = x.shape[0], y.shape[0]
    identity = lambda distances: distances   # noqa: E731  the kernel is the distance itself
    cross = _pair_sum(x, y, identity) / (n * m)
    scaled = 2.0 * cross - _mean_within(x, identity, 0.0, unbiased) - _mean_within(y, identity, 0.0, unbiased)
    with np.errstate(over="ignore"):
        result = float(np.ldexp(scaled, k))
    if not np.isfinite(result):
        raise ValueError(
            f"the energy distance of x and y exceeds the float64 range (it is {scaled:.6g} * 2**{k}); "
            f"rescale both samples by a common factor c (the energy distance scales by c)."
        )
    return result


def median_bandwidth(x, y) -> float:
    r"""The median heuristic :math:`\sigma = \operatorname{median}\{|z_i - z_j| : i < j\}` of the pooled sample z = (x, y).

    Gretton et al. (2012), Sec. 8. When the pooled sample has more than
    :data:`MEDIAN_MAX_POINTS` points, the median is taken over the evenly
    strided subset ``z[::k]`` of at most that many points (deterministic; the
    full median would need O((n + m)²) memory).

    Raises
    ------
    ValueError
        If the median distance is 0 (e.g. all points equal): pass a bandwidth.
    """
    x, y = _samples(x, y)
    k = _scale_exponent(x, y)
    sigma = _median_distance(np.ldexp(x, -k), np.ldexp(y, -k))
    with np.errstate(over="ignore"):
        sigma = float(np.ldexp(sigma, k))
    if not np.isfinite(sigma):
        raise ValueError(
            "the median pairwise distance of the pooled sample exceeds the float64 range; rescale x and y "
            "by a common factor (the MMD with the median bandwidth does not change)."
        )
    return sigma


def _median_distance(x, y) -> float:
    """The median heuristic on samples already in a safe range (see ``_scale_exponent``)."""
    pooled = np.vstack([x, y])
    stride = -(-pooled.shape[0] // MEDIAN_MAX_POINTS)          # ceil: at most MEDIAN_MAX_POINTS points
    pooled = pooled[::stride]
    if pooled.shape[0] < 2:
        raise ValueError("the median heuristic needs at least 2 points in total; pass bandwidth explicitly.")
    sigma = float(np.median(pdist(pooled)))                    # the (N choose 2) distances, O(N²) memory, not O(N² d)
    if sigma <= 0.0:
        raise ValueError(
            "the median pairwise distance of the pooled sample is 0 (more than half of the pairs "
            "coincide), so the median heuristic gives no bandwidth; pass bandwidth=... explicitly."
        )
    return sigma


def mmd(x, y, *, bandwidth=None, unbiased=False) -> float:
    r"""Squared maximum mean discrepancy with the Gaussian kernel (V-statistic by default).

    .. math::

        k(u, w) = \exp\!\left(-\frac{|u - w|^2}{2\sigma^2}\right), \qquad
        \mathrm{MMD}^2(P, Q) = E\,k(X, X') + E\,k(Y, Y') - 2\,E\,k(X, Y)

    (Gretton et al. 2012, Lemma 6). The V-statistic (eq. (5), "MMD_b²") uses
    all pairs,

    .. math::

        \widehat{\mathrm{MMD}}^2_V = \frac{1}{n^2}\sum_{i,j} k(x_i, x_j)
            + \frac{1}{m^2}\sum_{i,j} k(y_i, y_j) - \frac{2}{nm}\sum_{i,j} k(x_i, y_j) \;\ge 0,

    which is 0 for identical samples; ``unbiased=True`` gives the U-statistic
    (eq. (3), "MMD_u²": within-sample sums over :math:`i \ne j`), which may be negative.
    The Gaussian kernel is characteristic, so MMD = 0 iff P = Q.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    y : ndarray, shape (m, d)
    bandwidth : float, optional
        :math:`\sigma > 0`. Default: the median heuristic :func:`median_bandwidth`
        (median pairwise distance of the pooled sample). When comparing several
        pairs of samples, pass one fixed bandwidth so that the values are comparable.
    unbiased : bool, default False

    Returns
    -------
    float
        The squared MMD (float64).

    Raises
    ------
    TypeError
        For non-floating samples, a non-real ``bandwidth`` or a non-bool ``unbiased``.
    ValueError
        For bad shapes, empty samples, NaN/inf, a bandwidth that is not positive and
        finite, or fewer than 2 points per sample with ``unbiased=True``.
    """
    x, y = _samples(x, y)
    unbiased = _check_unbiased(unbiased, x, y)
    if bandwidth is not None:
        sigma = as_real_scalar(bandwidth, "bandwidth")
        if sigma <= 0.0:
            raise ValueError(f"bandwidth must be positive; received bandwidth={bandwidth!r}. Pass e.g. bandwidth=1.0.")
    k = _scale_exponent(x, y)
    x, y = np.ldexp(x, -k), np.ldexp(y, -k)          # the kernel depends on |u - w| / σ only
    if bandwidth is None:
        sigma = _median_distance(x, y)
    else:
        sigma = float(np.ldexp(sigma, -k))
        if sigma == 0.0:
            raise ValueError(
                f"bandwidth={bandwidth!r} is too small for samples of magnitude up to about 2**{k}: their "
                f"ratio is below the float64 range. Pass a larger bandwidth (or rescale the samples)."
            )

    def gaussian(distances):
        with np.errstate(over="ignore"):
            ratio = distances / sigma                 # an overflow to inf gives the exact limit exp(-inf) = 0
            return np.exp(-0.5 * ratio * ratio)

    n, m = x.shape[0], y.shape[0]
    cross = _pair_sum(x, y, gaussian) / (n * m)
    return _mean_within(x, gaussian, 1.0, unbiased) + _mean_within(y, gaussian, 1.0, unbiased) - 2.0 * cross
