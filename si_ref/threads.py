"""BLAS threads for si_ref's own long work (fitting, the MLP, the studies, the command line).

si_ref's matrix products are small (a few hundred columns at most). A threaded BLAS
splits each of them across the cores and spins while it waits; on a machine whose
cores are busy with another process, the spinning threads are descheduled and
every product waits for the slowest one. Measured on a 2-core machine (README,
"BLAS threads"; ``si-ref benchmarks --only threads``): idle, two threads were 0.77x
(MLP epochs) to 1.17x (ridge fit) the time of one; with one competing CPU-bound
process, 2.3x (ridge fit) and 3.1x (MLP epochs) slower. :func:`blas_threads`
therefore runs si_ref's long work with :data:`DEFAULT_BLAS_THREADS` = 1 BLAS thread.

A user's own choice wins: when any of :data:`USER_THREAD_VARIABLES` is set in the
environment (e.g. ``OPENBLAS_NUM_THREADS=2 si-ref validate``), or inside the user's
own ``blas_threads(n)`` block, si_ref leaves the thread count alone. The limit is
applied through ``threadpoolctl``, which finds the BLAS libraries loaded by NumPy and
SciPy and restores their settings on exit. The limit is process-wide (BLAS has one
thread pool per process): run si_ref's long work from one thread at a time, or set the
threads yourself around concurrent calls.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator

__all__ = ["DEFAULT_BLAS_THREADS", "USER_THREAD_VARIABLES", "blas_threads", "user_thread_setting", "with_blas_threads"]

#: BLAS threads used by si_ref's long work unless the user chose (see the README's measured table).
DEFAULT_BLAS_THREADS = 1

#: Environment variables by which a user sets BLAS/OpenMP threads; when one is set, si_ref does not override it.
USER_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
)

# True inside an outer blas_threads block: the outermost choice stands.
_inside = contextvars.ContextVar("si_ref_blas_threads_inside", default=False)


def user_thread_setting() -> str | None:
    """The first of :data:`USER_THREAD_VARIABLES` set in the environment, as ``NAME=value``, else None."""
    for name in USER_THREAD_VARIABLES:
        value = os.environ.get(name)
        if value not in (None, ""):
            return f"{name}={value}"
    return None


@contextlib.contextmanager
def blas_threads(limit: int | None = DEFAULT_BLAS_THREADS) -> Iterator[None]:
    """Run the block with at most ``limit`` BLAS threads (None: leave them as they are, here and inside).

    Nothing is changed when the user set a thread variable in the environment
    (:func:`user_thread_setting`) or inside an enclosing ``blas_threads`` block, so a
    user's ``with si_ref.blas_threads(2): si_ref.fit_drift(...)`` holds inside si_ref.

    Raises
    ------
    TypeError, ValueError
        ``limit`` is not None or a positive integer.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise TypeError(f"limit must be a positive int or None; received {type(limit).__name__} {limit!r}.")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive int or None; received {limit}.")
    if _inside.get() or user_thread_setting() is not None:
        yield
        return
    from threadpoolctl import threadpool_limits

    token = _inside.set(True)
    try:
        if limit is None:   # the user's "leave BLAS alone", which also holds for si_ref's calls inside
            yield
        else:
            with threadpool_limits(limits=limit, user_api="blas"):
                yield
    finally:
        _inside.reset(token)


def with_blas_threads(function):
    """Decorator: run ``function`` inside ``blas_threads()`` (si_ref's default, unless the user chose)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with blas_threads():
            return function(*args, **kwargs)

    return wrapper
