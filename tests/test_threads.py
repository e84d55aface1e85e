"""si_ref.threads: si_ref's long work runs with its chosen BLAS threads unless the user chose."""

import numpy as np  # noqa: F401  (loads the BLAS that threadpoolctl finds)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from si_ref import threads


def _blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.fixture
def no_user_setting(monkeypatch):
    for name in threads.USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_blas_threads_limits_inside_and_restores_after(no_user_setting):
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with threads.blas_threads(1):
            assert _blas_threads() == {1}
        assert _blas_threads() == before


def test_an_environment_variable_set_by_the_user_wins(no_user_setting, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.user_thread_setting() == "OPENBLAS_NUM_THREADS=2"
    with threadpool_limits(limits=2, user_api="blas"):
        with threads.blas_threads(1):
            assert _blas_threads() == {2}


def test_the_outermost_block_wins(no_user_setting):
    with threadpool_limits(limits=2, user_api="blas"):
        with threads.blas_threads(2):
            with threads.blas_threads(1):   # what si_ref's own functions do inside a user's block
                assert _blas_threads() == {2}
        with threads.blas_threads(None):    # "leave BLAS alone" holds inside too
            with threads.blas_threads(1):
                assert _blas_threads() == {2}


def test_the_decorator_applies_the_default(no_user_setting):
    @threads.with_blas_threads
    def work():
        return _blas_threads()

    with threadpool_limits(limits=2, user_api="blas"):
        assert work() == {threads.DEFAULT_BLAS_THREADS}


@pytest.mark.parametrize("limit, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError),
                                          ("1", TypeError)], ids=["zero", "negative", "float", "bool", "string"])
def test_bad_limits_are_refused(limit, error):
    with pytest.raises(error, match="limit must be a positive int or None"):
        with threads.blas_threads(limit):
            pass
