r"""Adapters: peer code (PyTorch or JAX modules, per-sample functions) under si_ref's calling convention.

The checkers call every implementation NumPy in, NumPy out: fields ``f(x, t)`` with
``x`` of shape (n, d) float64 and ``t`` a Python float or a float64 array of shape
(n,) (row i at time ``t[i]``); coefficients ``f(t)``; interpolant quantities
``f(t, x0, x1, z)``; steps ``step(field, x, t, dt, eps, xi)``. Code written for
another convention is adapted, not rewritten:

- :func:`as_numpy_field` -- a function of framework tensors (a PyTorch module, a JAX
  function): arrays, numbers and callables converted on the way in, the result on the
  way out;
- :func:`per_sample` -- a function of one sample, ``fn(x_i, t_i)``, called row by row;
- :func:`scalar_time` -- a function of one time for the whole batch, ``fn(x, t: float)``,
  called once per distinct time.

They compose: ``scalar_time(as_numpy_field(model, ..., scalar_time="backend"))`` is a
model that takes one 0-d tensor time per call, under the checkers' convention.

No framework is imported here; the conversions are passed in (``torch.from_numpy``,
``jnp.asarray``, ...). Every adapter copies the arrays it receives, so the caller's
arrays are never modified, even by code that works in place.
"""

from __future__ import annotations

import functools
import numbers
from typing import Callable

import numpy as np

__all__ = ["as_numpy_field", "per_sample", "scalar_time", "SCALAR_TIME_MODES"]

#: The values of ``as_numpy_field(..., scalar_time=...)``.
SCALAR_TIME_MODES = ("keep", "backend", "rows")


# --- what an argument is -------------------------------------------------------------------------

def _is_number(a) -> bool:
    """A Python or NumPy real number (booleans are flags, not numbers)."""
    return isinstance(a, numbers.Real) and not isinstance(a, (bool, np.bool_))


def _is_array_like(a) -> bool:
    """An argument converted as an array: an ndarray, a list or tuple, or an object with ``__array__``
    (not a NumPy scalar: numbers are scalars, and NumPy booleans and strings are flags and names)."""
    return isinstance(a, (np.ndarray, list, tuple)) or (
        hasattr(a, "__array__") and not callable(a) and not isinstance(a, np.generic))


def _is_scalar(a) -> bool:
    """A number, or a 0-d array of a real dtype: one time (or one step size) for the whole call."""
    return _is_number(a) or (isinstance(a, np.ndarray) and a.ndim == 0 and a.dtype.kind in "iuf")


def _is_function(a) -> bool:
    """A callable passed as an argument (a field given to a step); classes are passed as they are."""
    return callable(a) and not isinstance(a, type)


def _python_number(a):
    """A scalar as the equal Python number (``float`` or ``int``)."""
    return a.item() if isinstance(a, (np.ndarray, np.generic)) else a


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape} and dtype {a.dtype}"
    return f"{a!r} of type {type(a).__name__}"


def _numeric_copy(a, label: str, fix: str) -> np.ndarray:
    """A new NumPy array of the numbers in ``a``; TypeError naming ``label`` when ``a`` holds no numbers."""
    try:
        arr = np.array(a)
    except (TypeError, ValueError) as err:     # ragged lists, objects that refuse conversion
        raise TypeError(f"{label} must be array-like numbers; received {_describe(a)}, which NumPy cannot "
                        f"convert ({err}). {fix}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{label} must be array-like numbers; received {_describe(a)}, converted to dtype "
                        f"{arr.dtype}. {fix}")
    return arr


def _labels(args: tuple, kwargs: dict) -> list:
    return [f"argument {i}" for i in range(len(args))] + [f"argument {k}=" for k in kwargs]


def _name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _named_after(fn, wrapper):
    """``wrapper`` with the name and docstring of ``fn`` (not its ``__dict__``: ``fn`` may be a module);
    an object without a name (a PyTorch module) lends the name of its class, for the checkers' reports."""
    functools.update_wrapper(wrapper, fn, updated=())
    if not hasattr(fn, "__name__"):
        wrapper.__name__ = wrapper.__qualname__ = type(fn).__name__
    return wrapper


def _check_callable(value, name: str, example: str) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be callable; received {_describe(value)}. Pass a function, e.g. {example}.")


def _no_result(fn, where: str) -> TypeError:
    return TypeError(f"{_name(fn)} returned None {where}; expected an array (or a tuple of arrays). "
                     f"Check that the function ends with `return`.")


# --- as_numpy_field ------------------------------------------------------------------------------

def as_numpy_field(fn: Callable, *, to_backend: Callable, from_backend: Callable,
                   scalar_time: str = "keep") -> Callable:
    r"""Wrap a framework function (PyTorch, JAX, ...) so that it takes and returns NumPy arrays.

    The wrapped function is called as the checkers call any implementation (``f(x, t)``,
    ``f(t)``, ``f(t, x0, x1, z)``, ``step(field, x, t, dt, eps, xi)``, ...) and converts
    each argument for ``fn``:

    - arrays (NumPy arrays, lists and tuples of numbers, 0-d arrays under ``"keep"``):
      ``to_backend`` of a NumPy copy, so ``fn`` cannot modify the caller's arrays;
    - numbers (Python and NumPy real numbers, and 0-d arrays under ``"backend"`` and
      ``"rows"``): as ``scalar_time`` says;
    - callables (e.g. the field given to a step): wrapped the other way, into a function
      of backend objects -- each backend argument is converted with ``from_backend`` to a
      NumPy copy (NumPy arrays, numbers, None and callables pass as they are), the NumPy
      callable is called, and each array of its result (or of its tuple of results) is
      returned as ``to_backend`` of a copy (Python numbers are returned as they are);
    - None, booleans, strings, classes and other objects: passed as they are.

    The result of ``fn`` is returned as ``np.asarray(from_backend(out))``; a tuple or list
    of results as a tuple of arrays. Results that are already NumPy arrays or numbers
    skip ``from_backend``.

    Parameters
    ----------
    fn : callable
        E.g. a PyTorch module or a JAX function of (x, t).
    to_backend : callable
        NumPy array -> backend array, e.g. ``torch.from_numpy`` or ``jnp.asarray``.
    from_backend : callable
        Backend array -> array-like, e.g. ``lambda y: y.detach().cpu().numpy()``.
    scalar_time : {"keep", "backend", "rows"}, default "keep"
        What a number argument (a scalar time ``t``, but also ``dt`` or ``eps``) becomes:

        - ``"keep"``: a Python number (NumPy scalars converted to the equal Python number),
          as :func:`si_ref.conformance.as_numpy_field` always did; for code that does
          ``t * x`` or ``math.cos(t)``. A model that calls tensor methods on ``t`` raises
          (e.g. ``AttributeError: 'float' object has no attribute 'unsqueeze'``): a false
          alarm on correct code, which ``"backend"`` or ``"rows"`` removes;
        - ``"backend"``: ``to_backend(np.asarray(float(a)))``, a 0-d float64 array, for
          code that calls tensor methods on ``t`` (``t.shape``, ``torch.cos(t)``);
        - ``"rows"``: ``to_backend(np.full(n, float(a)))`` with n the leading dimension of
          the first array argument of the call, for models that need one time per row.
          Every number of the call is broadcast (a step's ``dt`` and ``eps`` too), so use
          it for fields ``f(x, t)``.

    Returns
    -------
    callable
        ``wrapped(*args, **kwargs)`` returning a NumPy array, or a tuple of them.

    Raises
    ------
    TypeError
        If ``fn``, ``to_backend`` or ``from_backend`` is not callable; at call time, if an
        argument is a list that holds no numbers or ``fn`` returns None.
    ValueError
        If ``scalar_time`` is not one of ``"keep"``, ``"backend"``, ``"rows"``; at call time,
        under ``"rows"``, if no argument has rows.

    Examples
    --------
    A stand-in for a tensor class, and a model that calls a tensor method on ``t``
    (``t.a`` here, ``t.unsqueeze(-1)`` in PyTorch), so it fails on a Python float:

    >>> import numpy as np
    >>> class Tensor:
    ...     def __init__(self, a):
    ...         self.a = a
    >>> def model(x, t):
    ...     return Tensor(x.a * np.reshape(t.a, (-1, 1)))
    >>> field = as_numpy_field(model, to_backend=Tensor, from_backend=lambda y: y.a,
    ...                        scalar_time="backend")
    >>> field(np.ones((2, 1)), 0.5)
    array([[0.5],
           [0.5]])
    >>> field(np.ones((2, 1)), np.array([0.25, 0.75]))
    array([[0.25],
           [0.75]])

    With PyTorch (not run here)::

        field = as_numpy_field(model, to_backend=torch.from_numpy,
                               from_backend=lambda y: y.detach().cpu().numpy(), scalar_time="rows")
    """
    _check_callable(fn, "fn", "a torch.nn.Module or a JAX function of (x, t)")
    _check_callable(to_backend, "to_backend", "to_backend=torch.from_numpy")
    _check_callable(from_backend, "from_backend", "from_backend=lambda y: y.detach().cpu().numpy()")
    if not isinstance(scalar_time, str) or scalar_time not in SCALAR_TIME_MODES:
        raise ValueError(f"scalar_time must be one of {', '.join(map(repr, SCALAR_TIME_MODES))}; received "
                         f"{scalar_time!r}. Pass scalar_time=\"backend\" for a model that needs a tensor t, "
                         f"\"rows\" for one that needs one t per row.")
    to_numpy_side = _numpy_side_converter(from_backend)
    to_backend_side = _backend_side_converter(to_backend)
    fix = "Pass a NumPy array of floats."

    def prepare(a, label):
        """(kind, value): arrays as NumPy copies, scalars as they are, callables wrapped for the backend."""
        if _is_number(a) or (scalar_time != "keep" and _is_scalar(a)):
            return "scalar", a
        if _is_array_like(a):
            return "array", _numeric_copy(a, f"{label} of the call to {_name(fn)}", fix)
        if _is_function(a):
            return "other", _backend_side(a, to_numpy_side, to_backend_side)
        return "other", a

    def rows(prepared, labels) -> int:
        for kind, value in prepared:
            if kind == "array" and value.ndim >= 1:
                return value.shape[0]
        received = ", ".join(f"{label} {_describe(value)}" for label, (_, value) in zip(labels, prepared))
        raise ValueError(f"scalar_time=\"rows\" gives one time per row, but no argument of this call to "
                         f"{_name(fn)} has rows: received {received or 'no arguments'}. Pass the points as an "
                         f"array of shape (n, d), or wrap {_name(fn)} with scalar_time=\"backend\" for calls "
                         f"such as f(t).")

    def finish(kind, value, n):
        if kind == "array":
            return to_backend(value)
        if kind == "other":
            return value
        if scalar_time == "keep":
            return _python_number(value)
        if scalar_time == "backend":
            return to_backend(np.asarray(float(value)))
        return to_backend(np.full(n, float(value)))

    def result(out):
        if out is None:
            raise _no_result(fn, "to as_numpy_field")
        if isinstance(out, (tuple, list)):
            return tuple(result(o) for o in out)
        if isinstance(out, (np.ndarray, np.generic)) or _is_number(out):
            return np.asarray(out)
        return np.asarray(from_backend(out))

    def wrapped(*args, **kwargs):
        labels = _labels(args, kwargs)
        values = list(args) + list(kwargs.values())
        prepared = [prepare(a, label) for a, label in zip(values, labels)]
        n = None
        if scalar_time == "rows" and any(kind == "scalar" for kind, _ in prepared):
            n = rows(prepared, labels)
        converted = [finish(kind, value, n) for kind, value in prepared]
        return result(fn(*converted[:len(args)], **dict(zip(kwargs, converted[len(args):]))))

    return _named_after(fn, wrapped)


def _numpy_side_converter(from_backend: Callable) -> Callable:
    """Convert one argument that backend code passes to a NumPy callable."""
    def convert(b):
        if b is None or isinstance(b, (bool, np.bool_, str, np.generic)) or _is_number(b) or _is_function(b):
            return b
        if isinstance(b, np.ndarray):
            return np.array(b)
        if type(b) in (list, tuple):
            return type(b)(convert(e) for e in b)
        return np.array(from_backend(b))
    return convert


def _backend_side_converter(to_backend: Callable) -> Callable:
    """Convert the result of a NumPy callable for the backend code that called it."""
    def convert(r):
        if isinstance(r, (np.ndarray, np.generic)):
            return to_backend(np.array(r))
        if type(r) in (list, tuple):
            return tuple(convert(e) for e in r)
        return r
    return convert


def _backend_side(numpy_fn: Callable, to_numpy: Callable, to_backend: Callable) -> Callable:
    """``numpy_fn`` as a function of backend objects (a field handed to a peer's step)."""
    def backend_fn(*args, **kwargs):
        out = numpy_fn(*(to_numpy(a) for a in args), **{k: to_numpy(v) for k, v in kwargs.items()})
        return to_backend(out)
    return _named_after(numpy_fn, backend_fn)


# --- per_sample ----------------------------------------------------------------------------------

def _positions(arguments) -> tuple | None:
    """Validate ``per_sample(..., arguments=...)``: None or distinct non-negative positions."""
    if arguments is None:
        return None
    if isinstance(arguments, (str, bytes)) or not hasattr(arguments, "__iter__"):
        raise TypeError(f"arguments must be positions of the per-row arguments, e.g. arguments=(0, 1); "
                        f"received {_describe(arguments)}.")
    out = tuple(arguments)
    bad = [p for p in out if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Integral) or p < 0]
    if bad or not out:
        raise ValueError(f"arguments must be non-negative positions (ints) of the per-row arguments, at least "
                         f"one, e.g. arguments=(0, 1) for x and t; received {out!r}.")
    if len(set(out)) != len(out):
        raise ValueError(f"arguments names a position twice: {out!r}. Name each per-row argument once.")
    return tuple(int(p) for p in out)


def _stack(results: list, fn) -> np.ndarray | tuple:
    """Stack per-row results along a new first axis (a tuple of results elementwise)."""
    first = results[0]
    if isinstance(first, (tuple, list)):
        if any(not isinstance(r, (tuple, list)) or len(r) != len(first) for r in results):
            raise ValueError(f"{_name(fn)} returned a tuple of {len(first)} results for row 0 but not for every "
                             f"row; a per-sample function must return the same kind of result for every row.")
        return tuple(_stack([r[k] for r in results], fn) for k in range(len(first)))
    arrays = [np.asarray(r) for r in results]
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise ValueError(f"{_name(fn)} returned shape {arrays[0].shape} for row 0 but {a.shape} for row {i}; "
                             f"a per-sample function must return the same shape for every row.")
    return np.stack(arrays)


def per_sample(fn: Callable, *, arguments=None) -> Callable:
    r"""Adapt a function of one sample into a function of a batch, called row by row.

    ``fn(x_i, t_i)`` takes one point ``x_i`` of shape (d,) and its time ``t_i`` (a Python
    float) and returns shape (d,), or a number for scalar quantities. The returned
    ``f(x, t)`` takes ``x`` of shape (n, d) and ``t`` a number or an array of shape (n,),
    calls ``fn`` once per row and stacks the results to shape (n, d), or (n,). Any other
    signature works the same way (``f(t)``, ``f(t, x0, x1, z)``, ...):

    - per-row arguments are split by row: row i of each is passed to call i (a row of a
      1-d array as a Python number); by default every array argument (NumPy array, list or
      tuple of numbers) with at least one dimension is per-row, and all must have the same
      leading dimension n;
    - numbers (and 0-d arrays) are passed to every call as Python numbers;
    - everything else (None, callables, and with ``arguments=`` the arrays not named) is
      passed to every call as it is (arrays as one NumPy copy).

    Parameters
    ----------
    fn : callable
        A function of one sample.
    arguments : sequence of int, optional
        The positions of the per-row arguments, e.g. ``(0, 1)`` for ``x`` and ``t`` when
        ``fn`` also takes a whole array (a parameter vector). A named argument that is a
        number is passed to every call.

    Returns
    -------
    callable
        ``batch(*args, **kwargs)``: keyword arguments are passed to every call as they are.
        With no per-row argument in a call (``f(0.5)``), ``fn`` is called once and its result
        returned as an array. A tuple of results per row is stacked elementwise.

    Raises
    ------
    TypeError
        If ``fn`` is not callable or ``arguments`` is not a sequence of positions; at call
        time, if a per-row argument is not an array of numbers or ``fn`` returns None.
    ValueError
        If ``arguments`` names a position twice or a negative one; at call time, if the
        per-row arguments' leading dimensions differ, a batch has no rows, ``arguments``
        names a position the call does not have, or ``fn`` returns different shapes.

    Examples
    --------
    >>> import numpy as np
    >>> def drift_one(x_i, t_i):            # x_i of shape (d,), t_i a float
    ...     return -t_i * x_i
    >>> drift = per_sample(drift_one)
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> drift(x, np.array([0.5, 1.0]))
    array([[-0.5, -1. ],
           [-3. , -4. ]])
    >>> drift(x, 0.5)
    array([[-0.5, -1. ],
           [-1.5, -2. ]])
    >>> per_sample(lambda x_i, t_i: float(x_i @ x_i))(x, 0.5)   # a scalar quantity: shape (n,)
    array([ 5., 25.])
    """
    _check_callable(fn, "fn", "a function of one sample, fn(x_i, t_i)")
    positions = _positions(arguments)

    def batch(*args, **kwargs):
        labels = [f"argument {i}" for i in range(len(args))]
        if positions is not None and max(positions) >= len(args):
            raise ValueError(f"arguments={positions!r} names position {max(positions)}, but this call to "
                             f"{_name(fn)} has {len(args)} positional argument(s). Name only positions the "
                             f"call has (0 is the first).")
        per_row = {}                                    # position -> NumPy copy with a leading dimension
        values = list(args)
        for i, a in enumerate(args):
            named = positions is None or i in positions
            if _is_scalar(a):
                values[i] = _python_number(a)
            elif named and (positions is not None or _is_array_like(a)):
                fix = ("Pass a NumPy array with one row per sample." if positions is not None else
                       f"Pass arguments=... to name the per-row arguments, so that {labels[i]} is passed whole.")
                arr = _numeric_copy(a, f"{labels[i]} of the call to per_sample({_name(fn)})", fix)
                if arr.ndim == 0:
                    values[i] = arr.item()
                else:
                    per_row[i] = arr
            elif _is_array_like(a):
                values[i] = np.array(a)
        if not per_row:
            out = fn(*values, **kwargs)
            if out is None:
                raise _no_result(fn, "to per_sample")
            return tuple(np.asarray(o) for o in out) if isinstance(out, (tuple, list)) else np.asarray(out)
        first = next(iter(per_row))
        n = per_row[first].shape[0]
        for i, arr in per_row.items():
            if arr.shape[0] != n:
                raise ValueError(
                    f"per_sample({_name(fn)}) splits its array arguments by row, but {labels[first]} has {n} "
                    f"row(s) and {labels[i]} has shape {arr.shape}. Pass one row per sample in each (t of shape "
                    f"({n},) or a float), or arguments=... to name the per-row arguments.")
        if n == 0:
            raise ValueError(f"{labels[first]} has 0 rows; per_sample({_name(fn)}) needs at least one row to learn "
                             f"the shape of the result. Pass at least one point.")
        results = []
        for row in range(n):
            for i, arr in per_row.items():
                values[i] = arr[row].item() if arr.ndim == 1 else arr[row]
            out = fn(*values, **kwargs)
            if out is None:
                raise _no_result(fn, f"for row {row}")
            results.append(out)
        return _stack(results, fn)

    return _named_after(fn, batch)


# --- scalar_time ---------------------------------------------------------------------------------

def _assemble(results: list, groups: list, n: int, fn):
    """Reassemble per-time results (rows ``groups[k]`` from ``results[k]``) in row order."""
    first = results[0]
    if isinstance(first, (tuple, list)):
        if any(not isinstance(r, (tuple, list)) or len(r) != len(first) for r in results):
            raise ValueError(f"{_name(fn)} returned a tuple of {len(first)} results for one time but not for "
                             f"every time; it must return the same kind of result at every time.")
        return tuple(_assemble([r[k] for r in results], groups, n, fn) for k in range(len(first)))
    arrays = [np.asarray(r) for r in results]
    for a, rows in zip(arrays, groups):
        if a.ndim == 0 or a.shape[0] != len(rows) or a.shape[1:] != arrays[0].shape[1:]:
            raise ValueError(f"{_name(fn)} returned shape {a.shape} for {len(rows)} row(s) at one time, where "
                             f"({len(rows)},) + {arrays[0].shape[1:]} was expected: one result per row, the same "
                             f"trailing shape at every time.")
    out = np.empty((n,) + arrays[0].shape[1:], dtype=np.result_type(*arrays))
    for a, rows in zip(arrays, groups):
        out[rows] = a
    return out


def scalar_time(fn: Callable) -> Callable:
    r"""Adapt a function of one time for the whole batch into one that takes one time per row.

    ``fn(x, t, *args)`` takes ``x`` of shape (m, d) and a single Python float ``t``. The
    returned ``f(x, t, *args)`` takes ``x`` of shape (n, d) and ``t`` a number or an array
    of shape (n,): the rows are grouped by equal time, ``fn`` is called once per distinct
    time with those rows (in increasing order of time), and the results, of shape (m, d)
    or (m,), are reassembled in row order. A scalar ``t`` is one call with every row.
    Further arguments are passed to every call as they are; ``fn`` receives copies of
    the rows, never the caller's ``x``.

    Parameters
    ----------
    fn : callable
        A function ``fn(x, t: float, *args)``.

    Returns
    -------
    callable
        ``f(x, t, *args, **kwargs)`` returning an array with one row per row of ``x`` (a
        tuple of them if ``fn`` returns a tuple).

    Raises
    ------
    TypeError
        If ``fn`` is not callable; at call time, if ``x`` or ``t`` is not real numbers or
        ``fn`` returns None.
    ValueError
        At call time, if ``x`` has no leading dimension, ``t`` is an array whose shape is
        not (n,), or ``fn`` returns a result without one row per row.

    Examples
    --------
    >>> import numpy as np
    >>> calls = []
    >>> def model(x, t):                   # t must be a single float
    ...     calls.append(t)
    ...     return t * x
    >>> field = scalar_time(model)
    >>> field(np.ones((3, 1)), np.array([0.25, 0.5, 0.25]))
    array([[0.25],
           [0.5 ],
           [0.25]])
    >>> calls                              # one call per distinct time
    [0.25, 0.5]
    """
    _check_callable(fn, "fn", "a function fn(x, t) of one float time")

    def batch(x, t, *args, **kwargs):
        x = _numeric_copy(x, "x", "Pass the points as a NumPy array of shape (n, d).")
        if x.ndim == 0:
            raise ValueError(f"x must have one row per point, shape (n, d) or (n,); received a 0-d array. "
                             f"Pass the points as an array of shape (n, d).")
        n = x.shape[0]
        if _is_scalar(t):
            out = fn(x, float(t), *args, **kwargs)
            if out is None:
                raise _no_result(fn, f"at t={float(t)!r}")
            return _assemble([out], [np.arange(n)], n, fn)
        times = np.array(t) if _is_array_like(t) else None
        if times is None or times.dtype.kind not in "iuf":
            raise TypeError(f"t must be a real number or an array of shape ({n},) of real numbers; received "
                            f"{_describe(t)}. Pass a float or a float64 array with one time per row of x.")
        if times.shape != (n,):
            raise ValueError(f"t must be a number or an array of shape ({n},), one time per row of x of shape "
                             f"{x.shape}; received shape {times.shape}. Pass t.reshape(-1) or a float.")
        if n == 0:
            raise ValueError(f"x has 0 rows and t shape (0,): there is no time to call {_name(fn)} at. "
                             f"Pass at least one point, or a float t.")
        distinct, inverse, counts = np.unique(times, return_inverse=True, return_counts=True)
        order = np.argsort(inverse.reshape(-1), kind="stable")       # rows grouped by time, in row order
        groups = np.split(order, np.cumsum(counts)[:-1])
        results = []
        for value, rows in zip(distinct, groups):
            out = fn(x[rows], float(value), *args, **kwargs)
            if out is None:
                raise _no_result(fn, f"at t={float(value)!r}")
            results.append(out)
        return _assemble(results, groups, n, fn)

    return _named_after(fn, batch)
