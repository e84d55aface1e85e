"""Input validation shared by every public function.

Each checker returns a *new* float64 array (inputs are never modified) or
raises ``TypeError`` / ``ValueError`` with a message that names the argument,
states what was expected, what was received, and how to fix it.
"""

from __future__ import annotations

import numbers
import os
import warnings
from contextlib import contextmanager

import numpy as np

__all__ = [
    "as_times",
    "as_points",
    "as_real_scalar",
    "as_positive_real",
    "as_bool",
    "sample_weights",
    "time_column",
    "scalar_or_array",
    "check_rng",
    "as_time_scalar",
    "nonnegative_of_time",
    "finite_log_weights",
    "squared_norm",
    "offending_times",
    "enough_memory",
    "format_bytes",
    "solver_tolerances",
    "SOLVER_RTOL_FLOOR",
    "as_count",
    "as_levels",
    "call_model",
]


def _describe(value) -> str:
    """Short description of a received value for error messages."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{value!r} (dtype {arr.dtype})"
    return f"an array of shape {arr.shape} and dtype {arr.dtype}"


def as_real_scalar(value, name: str) -> float:
    """Return ``value`` as a Python float, rejecting bool, complex and non-numbers.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is NaN or infinite.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]   # a 0-d array of a real dtype is a number, as everywhere else times are
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; received {value!r} of type "
            f"{type(value).__name__}. Pass a float such as {name}=1.0."
        )
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite; received {out!r}. Pass a finite float.")
    return out


def as_positive_real(value, name: str, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 with ``allow_zero``) as a Python float: tolerances, scales, widths.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (None, a string, a bool).
    ValueError
        If ``value`` is NaN, infinite, negative, or zero without ``allow_zero``.
    """
    out = as_real_scalar(value, name)
    if out < 0 or (out == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {expected}; received {out!r}. Pass e.g. {name}=1e-6.")
    return out


def as_bool(value, name: str) -> bool:
    """A boolean option: only ``True``/``False`` (or NumPy's bools) are accepted, never ``"yes"``, 2 or None.

    Raises
    ------
    TypeError
        If ``value`` is not a bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; received {value!r} of type {type(value).__name__}.")
    return bool(value)


def as_times(t, name: str = "t", *, meaning: str = "t = 0 is the base, t = 1 the target") -> np.ndarray:
    """Validate times and return them as a new float64 array of the same shape.

    Accepted: Python or NumPy real numbers (integers included, so ``gamma(1)``
    works) and real arrays of any shape, with every value finite and in [0, 1].

    Raises
    ------
    TypeError
        For complex, boolean, string or object input.
    ValueError
        For NaN, infinite or out-of-range values.
    """
    arr = np.asarray(t)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be real numbers in [0, 1]; received {_describe(t)}. "
            f"Pass floats (for complex input, take the real part explicitly)."
        )
    out = arr.astype(np.float64, copy=True)
    finite = np.isfinite(out)
    if not finite.all():
        bad = float(out[~finite].ravel()[0])
        raise ValueError(
            f"{name} must be finite numbers in [0, 1]; received {bad!r}. "
            f"Remove NaN/inf times before calling."
        )
    outside = (out < 0.0) | (out > 1.0)
    if outside.any():
        bad = float(out[outside].ravel()[0])
        raise ValueError(
            f"{name} must lie in the closed interval [0, 1]; received {bad!r}. "
            f"Rescale or clip your times into [0, 1] ({meaning})."
        )
    return out


def as_points(x, name: str, *, d: int | None = None) -> np.ndarray:
    """Validate a batch of points and return a new float64 array of shape (n, d).

    Parameters
    ----------
    x : array_like, shape (n, d)
        Floating-point values (float16/32/64 are converted to float64).
    name : str
        Argument name used in error messages.
    d : int, optional
        Required dimension.

    Raises
    ------
    TypeError
        For integer, boolean, complex or object arrays.
    ValueError
        For a shape other than (n, d), a wrong ``d``, or NaN/inf entries.
    """
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a floating-point array of shape (n, d); received "
            f"{_describe(x)}. Convert it with np.asarray({name}, dtype=float)."
        )
    if arr.ndim != 2:
        hint = f"{name}[None, :]" if arr.ndim == 1 else f"{name}.reshape(n, d)"
        raise ValueError(
            f"{name} must have shape (n, d); received shape {arr.shape}. "
            f"For a single point use {hint}."
        )
    if d is not None and arr.shape[1] != d:
        raise ValueError(
            f"{name} must have d = {d} columns; received shape {arr.shape}. "
            f"Pass points of the same dimension as the other arguments."
        )
    out = arr.astype(np.float64, copy=True)
    if not np.isfinite(out).all():
        raise ValueError(
            f"{name} must contain only finite values; received NaN or inf "
            f"(first at row {int(np.argwhere(~np.isfinite(out))[0, 0])}). Remove them before calling."
        )
    return out


def time_column(t: np.ndarray, n: int, name: str = "t") -> np.ndarray:
    """Shape validated times for broadcasting against points of shape (n, d).

    A scalar (0-d) time is returned as is; times of shape (n,) are returned
    with shape (n, 1), so that row i of the points uses time t[i] even when
    n equals d.

    Raises
    ------
    ValueError
        If ``t`` is neither a scalar nor of shape (n,).
    """
    if t.ndim == 0:
        return t
    if t.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or have shape (n,) = ({n},) to match the "
            f"points; received shape {t.shape}. Pass one time per row, e.g. "
            f"np.full({n}, t0), or a scalar."
        )
    return t[:, None]


def scalar_or_array(value: np.ndarray):
    """Return a NumPy float64 scalar for 0-d arrays, the array otherwise."""
    return value[()] if value.ndim == 0 else value


def check_rng(rng) -> np.random.Generator:
    """Require a ``numpy.random.Generator`` (the only accepted source of randomness)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator; received {type(rng).__name__}. "
            f"Create one with rng = np.random.default_rng(seed)."
        )
    return rng


def as_time_scalar(t, name: str) -> float:
    """One time in [0, 1] (a real number or a 0-d array) as a Python float."""
    arr = as_times(t, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single time; received shape {arr.shape}. Pass a float.")
    return float(arr)


def nonnegative_of_time(value, t: np.ndarray, name: str) -> np.ndarray:
    """Values >= 0 of a coefficient such as ε(t) or g(t)², given as a number or a callable of t.

    Returns float64 with the shape of ``t`` (validated times; the callable gets a copy).

    Raises
    ------
    TypeError
        For a non-number, or a callable returning non-real values.
    ValueError
        For negative, NaN or infinite values, or a callable result of the wrong shape.
    """
    if callable(value):
        raw = np.asarray(value(t.copy()))
        if raw.dtype.kind not in "iuf":
            raise TypeError(f"{name}(t) must return real numbers; received dtype {raw.dtype}.")
        try:
            out = np.broadcast_to(raw, t.shape).astype(np.float64)
        except ValueError:
            raise ValueError(
                f"{name}(t) must return a scalar or an array of the shape of t, {t.shape}; "
                f"received shape {raw.shape}. Write it elementwise in t."
            ) from None
    else:
        out = np.full(t.shape, as_real_scalar(value, name))
    bad = ~(np.isfinite(out) & (out >= 0))
    if bad.any():
        raise ValueError(
            f"{name} must be finite and non-negative; received {float(out[bad].ravel()[0])!r}. "
            f"Pass a number >= 0 or a callable of t returning such values."
        )
    return out


def finite_log_weights(log_joint: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Refuse points so far away that every log density is -inf in float64.

    The squared Mahalanobis distance overflows for |x| beyond about 1e154;
    responsibilities would be 0/0 there.
    """
    hopeless = ~np.isfinite(log_joint).any(axis=-1)
    if hopeless.any():
        row = int(np.argmax(hopeless))
        raise ValueError(
            f"x is too far from every component for float64: at row {row} "
            f"(max |x| = {float(np.max(np.abs(x[row]))):.3g}) the squared Mahalanobis distance "
            f"overflows. Rescale the problem so that points and means are below about 1e150."
        )
    return log_joint


def squared_norm(y: np.ndarray, axis: int) -> np.ndarray:
    """Σ y² along ``axis``; overflow to inf is allowed here (no warning) because
    :func:`finite_log_weights` turns it into a clear error afterwards."""
    with np.errstate(over="ignore"):
        return np.sum(y * y, axis=axis)


def offending_times(mask: np.ndarray, times: np.ndarray, limit: int = 5) -> list:
    """The distinct times (at most ``limit``) where ``mask`` is true, for error messages.

    ``times`` broadcasts against ``mask`` (a scalar, a column (n, 1) or an array of its shape).
    """
    return np.unique(np.broadcast_to(times, mask.shape)[mask]).tolist()[:limit]


def format_bytes(nbytes) -> str:
    """A byte count in binary units, e.g. ``'14.6 TiB'``."""
    value = float(nbytes)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024.0 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024.0
    return f"{value:.3g} PiB"   # pragma: no cover - the loop returns


def _physical_memory():
    """The machine's physical memory in bytes, or None where the platform does not tell."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


@contextmanager
def enough_memory(nbytes, what: str, fix: str):
    """Refuse work whose arrays would need ``nbytes``: a ``ValueError`` instead of a ``MemoryError``.

    Before the block: more than the machine's physical memory is refused up front
    (on systems that overcommit, such an allocation could succeed and then be
    killed). During the block: a ``MemoryError`` becomes the same ``ValueError``.
    ``what`` names the request (e.g. ``"n=10**12 samples of dimension 2"``), ``fix`` says
    what to do instead.
    """
    total = _physical_memory()
    if total is not None and nbytes > total:
        raise ValueError(
            f"{what} would need about {format_bytes(nbytes)} of memory, more than this machine's "
            f"{format_bytes(total)}; {fix}"
        )
    try:
        yield
    except MemoryError:
        raise ValueError(
            f"{what} would need about {format_bytes(nbytes)} of memory, which could not be allocated; {fix}"
        ) from None


#: ``scipy.integrate.solve_ivp`` silently raises a smaller ``rtol`` to this floor (with a warning).
SOLVER_RTOL_FLOOR = 100 * np.finfo(np.float64).eps


def solver_tolerances(rtol, atol) -> tuple[float, float]:
    """Validated ``rtol`` and ``atol`` of an adaptive ODE solver (``scipy.integrate.solve_ivp``).

    Both must be finite and positive, and ``rtol`` at least :data:`SOLVER_RTOL_FLOOR`
    (100 machine epsilons), below which the solver would replace it without telling.

    Raises
    ------
    TypeError
        For a non-number (None, a string, a bool).
    ValueError
        For NaN, inf, zero, negative values, or an ``rtol`` below the floor.
    """
    rtol, atol = as_positive_real(rtol, "rtol"), as_positive_real(atol, "atol")
    if rtol < SOLVER_RTOL_FLOOR:
        raise ValueError(
            f"rtol must be at least 100 machine epsilons, {SOLVER_RTOL_FLOOR:.3g}; received {rtol!r}. "
            f"solve_ivp cannot resolve a smaller relative tolerance (it would raise it to that floor)."
        )
    return rtol, atol


def as_count(value, name: str, *, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (Python or NumPy integer, not bool) as a Python int.

    Raises
    ------
    TypeError
        For a non-integer (a float such as 10.0, a bool, None).
    ValueError
        For an integer below ``minimum``.
    """
    expected = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(
            f"{name} must be {expected}; received {value!r} of type {type(value).__name__}. "
            f"Pass e.g. {name}={max(minimum, 1) * 10}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be {expected}; received {name}={int(value)}.")
    return int(value)


def sample_weights(value, n: int, name: str = "sample_weight") -> np.ndarray:
    """Weights of n samples: a new float64 array of shape (n,), finite, >= 0 and not all zero.

    Raises
    ------
    TypeError
        If the weights are not real numbers.
    ValueError
        For a wrong shape, NaN/inf, a negative weight, or all weights zero.
    """
    w = np.asarray(value)
    if w.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers of shape ({n},); received dtype {w.dtype}.")
    w = w.astype(np.float64)
    if w.shape != (n,):
        raise ValueError(f"{name} must have shape (n,) = ({n},), one weight per sample; received shape {w.shape}.")
    if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero; received min "
                         f"{float(w.min())!r}, max {float(w.max())!r}, sum {float(w.sum())!r}.")
    return w


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """``'in [0, 1]'``, ``'>= 0'``, ``'> 0'``, ``'<= 1'`` or ``''`` for error messages."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def as_levels(value, name: str, n: int | None = None, *, low=None, high=None, low_open: bool = False,
              high_open: bool = False, fix: str | None = None) -> np.ndarray:
    """Noise levels (a, σ, ᾱ, their derivatives, ...) as a new float64 array, finite and in range.

    Parameters
    ----------
    value : float or array_like
        Real numbers (Python or NumPy integers and floats; never bool, complex or strings).
    name : str
        Argument name used in error messages.
    n : int, optional
        Number of rows of the points the levels go with. Given: a scalar is returned as a
        0-d array, shape (n,) or (n, 1) as an (n, 1) column (row i uses level i, also when
        n equals d), and any other array of one element as a 0-d array (one level for all
        rows). Not given: any shape, returned as is (elementwise functions).
    low, high : float, optional
        Bounds, closed unless ``low_open`` / ``high_open``.
    fix : str, optional
        What the level means and how to get a valid one, appended to a range error.

    Returns
    -------
    ndarray of float64
        0-d or shape (n, 1) when ``n`` is given, the shape of ``value`` otherwise.

    Raises
    ------
    TypeError
        For non-real input: bool, complex, strings, None, objects.
    ValueError
        For a shape other than the above, NaN, inf or a value out of range (the message
        gives the first offending value and its row).
    """
    interval = _interval(low, high, low_open, high_open)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be real numbers{' ' + interval if interval else ''}; received {_describe(value)}. "
            f"Pass floats (0.0/1.0 rather than False/True; for complex values, take the real part explicitly)."
        )
    out = arr.astype(np.float64, copy=True)
    if n is not None and out.ndim:
        if out.shape in ((n,), (n, 1)):
            out = out.reshape(n, 1)
        elif out.size == 1:
            out = out.reshape(())
        else:
            raise ValueError(
                f"{name} must be a scalar or have shape (n,) or (n, 1) with n = {n}, one level per row of the "
                f"points; received shape {arr.shape}. Pass a scalar for every row, or one level per row."
            )
    ok = np.isfinite(out)
    if low is not None:
        ok &= (out > low) if low_open else (out >= low)
    if high is not None:
        ok &= (out < high) if high_open else (out <= high)
    if not ok.all():
        index = tuple(int(i) for i in np.argwhere(~ok)[0])
        where = ""
        if index:
            where = f" at row {index[0]}" if n is not None else f" at index {index[0] if len(index) == 1 else index}"
        advice = fix or ("Remove NaN/inf levels before calling." if not np.isfinite(out[index])
                         else f"Pass {name} {interval}.")
        raise ValueError(
            f"{name} must be finite numbers{' ' + interval if interval else ''}; received {float(out[index])!r}"
            f"{where}. {advice}"
        )
    return out


#: The advice of the samplers and likelihoods when a field returns NaN or inf.
ENDPOINT_HINT = "If it is singular at an endpoint, integrate on a grid from t_min > 0 or to t_max < 1."


def call_model(model, who: str, x: np.ndarray, level, *, level_name: str = "t", c=None, where: str = "",
               hint: str = "") -> np.ndarray:
    """``model(x, level)`` (and ``c`` only when given) on copies, its output checked; a new float64 array.

    The one check of every user-supplied field, model, denoiser or network f(x, level), used by the
    samplers, wrappers, likelihoods, losses and the diffusion conventions: ``x`` is a validated
    float64 array of shape (n, d) and ``level`` a validated time or noise level (0-d, passed as a
    NumPy float64 scalar, or an array, passed as a copy), so the caller's arrays are never
    modified whatever the model does. ``where`` (e.g. ``"step 3"``) and a scalar level are named
    in every message; ``hint`` replaces the default advice for NaN or inf.

    Raises
    ------
    ValueError
        If the output does not have the shape of ``x``, or holds NaN or inf (the message names
        the first such row and its level).
    TypeError
        If the output is not real numbers (bool, complex, object).
    """
    level = np.asarray(level)
    args = (x.copy(), level[()] if level.ndim == 0 else level.copy())   # a scalar level stays a scalar
    out = np.asarray(model(*args) if c is None else model(*args, c))
    context = ([f"{level_name} = {float(level)!r}"] if level.ndim == 0 else []) + ([where] if where else [])
    at = f" (at {', '.join(context)})" if context else ""
    if out.shape != x.shape:
        raise ValueError(
            f"{who} must return shape (n, d) = {x.shape}, the shape of its input x; received shape {out.shape}{at}. "
            f"Return one output row per input row."
        )
    if out.dtype.kind not in "iuf":
        raise TypeError(
            f"{who} must return real numbers; received dtype {out.dtype}{at}. Return a float array "
            f"(for complex values, take the real part explicitly)."
        )
    out = out.astype(np.float64)
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        row = int(np.argmax(~finite))
        value = float(level.reshape(-1)[row if level.size == x.shape[0] else 0])
        advice = hint or (f"Check the model at that {level_name}: a division by a level that is 0 there, or an "
                          f"overflow.")
        raise ValueError(
            f"{who} returned NaN or inf at {level_name} = {value!r} (row {row} of x, {int((~finite).sum())} of "
            f"{finite.size} rows{', ' + where if where else ''}). "
            f"{advice}"
        )
    return out


#: Deprecated keyword names already warned about in this process (each warns once).
_WARNED_ALIASES: set = set()


def renamed_keyword(new_name: str, new_value, old_name: str, old_value, where: str):
    """The value of a keyword renamed from ``old_name`` to ``new_name``: the new one, or the old one with a
    ``DeprecationWarning`` (once per process and name); both given is a ``TypeError``."""
    if old_value is None:
        return new_value
    if new_value is not None:
        raise TypeError(f"{where} received both {new_name}= and its deprecated name {old_name}=; pass only "
                        f"{new_name}=.")
    if (where, old_name) not in _WARNED_ALIASES:
        _WARNED_ALIASES.add((where, old_name))
        warnings.warn(f"{where}: the keyword {old_name}= is deprecated; use {new_name}= (the same values).",
                      DeprecationWarning, stacklevel=3)
    return old_value


def call_field(f, name: str, x: np.ndarray, t, c, step) -> np.ndarray:
    """A field of the samplers and likelihoods at (x, t): :func:`call_model` naming the step (an int: "step k";
    else its text, e.g. "solver call 7") and advising a grid away from a singular endpoint."""
    where = f"step {step}" if isinstance(step, (int, np.integer)) else str(step).strip("()")
    return call_model(f, f"the {name}", x, np.float64(t), c=c, where=where, hint=ENDPOINT_HINT)

