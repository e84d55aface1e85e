"""Smoke tests of the BLAS-threads benchmark (quick mode): it runs, writes its table and cleans up after itself.

No timing is asserted: this is a benchmark, and the test machine's speed is not under test.
"""

import json
import math
import os
import time
from pathlib import Path

import pytest

from si_ref import threads as si_ref_threads
from si_ref.validation.benchmarks import threads

HEADER = "| workload | state | 1 thread (median) | 2 threads (median) | ratio 2/1 | which is faster |"


def running(pid: int) -> bool:
    """Whether ``pid`` is still a busy loop of the benchmark (a reused pid running something else is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process took the pid
        return False
    try:
        return "time.monotonic" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return not Path("/proc").is_dir()   # no /proc: the pid exists, assume it is ours


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("threads")
    text = threads.run(out, quick=True)
    table = json.loads((out / "threads.json").read_text(encoding="utf-8"))
    return table, (out / "threads.md").read_text(encoding="utf-8"), text


def test_table_has_every_workload_in_both_states_with_finite_positive_medians(quick_run):
    table, markdown, text = quick_run
    labels = [table["workloads"][key] for key in threads.WORKLOADS]
    assert [(row["state"], row["workload"]) for row in table["rows"]] == [
        (state, label) for state in threads.STATES for label in labels]
    for row in table["rows"]:
        assert list(row) == list(threads.COLUMNS)
        for column in ("1 thread (median)", "2 threads (median)", "ratio 2/1"):
            assert math.isfinite(row[column]) and row[column] > 0, row
        assert row["which is faster"] == threads.verdict(row["ratio 2/1"])
    for state in threads.STATES:
        for key in threads.WORKLOADS:
            times = table["times"][state][key]
            assert len(times["1 thread seconds"]) == len(times["2 threads seconds"]) == threads.QUICK["repeats"][key]
    assert markdown == text and HEADER in markdown
    assert markdown.count("| idle |") == len(threads.WORKLOADS)
    assert markdown.count(f"| {threads.STATES[1]} |") == len(threads.WORKLOADS)
    assert {"cpu", "logical_cores", "numpy", "blas"} <= set(table["machine"])


def test_the_competing_process_ran_and_is_gone(quick_run):
    table, _, _ = quick_run
    competitor = table["competing_process"]
    assert competitor["alive_at_end"] is True and competitor["exit_code"] is not None
    assert not running(competitor["pid"])


def test_notes_record_the_user_thread_setting_and_the_limits_reach_si_ref(quick_run):
    table, markdown, _ = quick_run
    user = si_ref_threads.user_thread_setting()
    assert table["user_thread_setting"] == user
    assert (f"User thread variable: {user} is set" if user else "User thread variable: none set.") in markdown
    if table["blas_libraries"]:          # threadpoolctl found the BLAS: the limits are the ones asked for
        assert table["threads_seen_inside_si_ref"] == {"1": [1], "2": [2]}


def test_an_explicit_limit_holds_inside_si_ref_even_with_a_user_variable(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    controller = threads._controller()
    if not any(lib["user_api"] == "blas" for lib in controller.info()):
        pytest.skip("threadpoolctl finds no BLAS")
    assert threads.limited(threads._threads_seen_by_si_ref, 2, controller)() == [2]
    assert threads.limited(threads._threads_seen_by_si_ref, 1, controller)() == [1]


def test_the_competing_process_is_terminated_when_the_block_fails():
    with pytest.raises(RuntimeError, match="boom"):
        with threads.competing_process(30.0) as record:
            pid = record["pid"]
            assert running(pid)
            raise RuntimeError("boom")
    assert record["exit_code"] is not None and not running(pid)


def test_alternate_warms_up_alternates_and_reports_medians_and_the_ratio():
    calls = []

    def one():
        calls.append(1)
        time.sleep(0.001)

    def two():
        calls.append(2)
        time.sleep(0.001)

    result = threads.alternate(one, two, repeats=3, warmup=1, settle=0.0)
    assert calls == [1, 2, 1, 2, 2, 1, 1, 2]
    assert len(result["one_times"]) == len(result["two_times"]) == 3
    assert result["one_seconds"] > 0 and result["two_seconds"] > 0 and result["ratio"] > 0


def test_verdict():
    assert threads.verdict(1.5) == "1 thread"
    assert threads.verdict(0.5) == "2 threads"
    assert threads.verdict(1.01).startswith("neither")
