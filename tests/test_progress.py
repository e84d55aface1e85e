"""si_ref.progress: one line per state on a log, redrawn in place on a terminal, silent when quiet."""

import io

from si_ref import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_each_state_once_with_elapsed_and_estimate():
    stream = io.StringIO()
    with progress.shown(stream), progress.task("fit", total=2, unit="epoch") as fit:
        fit.advance(detail="loss 0.5")
        fit.draw(force=True)   # the same state again is not repeated
        fit.advance(detail="loss 0.25")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("fit: epoch 0/2, ") and lines[0].endswith(" elapsed")
    assert lines[1].startswith("fit: epoch 1/2, ") and "left; loss 0.5" in lines[1]
    assert lines[2].startswith("fit: epoch 2/2, ") and lines[2].endswith("elapsed; loss 0.25")
    assert len(lines) == 3


def test_nested_tasks_name_the_outer_ones():
    stream = io.StringIO()
    with progress.shown(stream), progress.task("validate"), progress.task("ridge", total=1, unit="slice") as inner:
        inner.advance()
    assert "validate > ridge: slice 1/1," in stream.getvalue()


def test_a_terminal_line_is_redrawn_in_place_and_ended():
    stream = Terminal()
    with progress.shown(stream), progress.task("fit", total=1) as fit:
        fit.advance()
    text = stream.getvalue()
    assert text.startswith("\rfit: 0/1,") and text.endswith("\x1b[K\n") and text.count("\n") == 1


def test_quiet_wins_and_a_non_terminal_stderr_shows_nothing(capsys):
    stream = io.StringIO()
    with progress.shown(stream), progress.quiet(), progress.task("fit", total=1) as fit:
        fit.advance()
    with progress.task("fit", total=1) as fit:   # pytest's captured stderr is not a terminal
        fit.advance()
    assert stream.getvalue() == "" and capsys.readouterr().err == ""


def test_a_terminal_keeps_one_line_per_outermost_task():
    stream = Terminal()
    with progress.shown(stream), progress.task("study"):
        with progress.task("fit", total=2, unit="epoch") as fit:
            fit.advance()
            fit.advance()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\x1b[K\n")
    assert text.rsplit("\r", 1)[-1].startswith("study: ")   # the parent's last redraw ends the line
    assert "study: 0," not in text                          # a task without steps shows only its times


def test_one_heartbeat_thread_however_many_short_tasks_and_no_redraw_after_close(monkeypatch):
    import threading

    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.05)
    stream = Terminal()
    with progress.shown(stream):
        for _ in range(5):
            with progress.task("fit", total=1) as fit:
                fit.advance()
        with progress.task("fit", total=1):
            running = [t for t in threading.enumerate() if t.name == "si_ref-progress" and t.is_alive()]
            assert len(running) == 1
    closed = stream.getvalue()
    for thread in running:   # it wakes once more (a thread started earlier may still sleep 1 s), finds nothing, stops
        thread.join(timeout=5.0)
    assert not [t for t in threading.enumerate() if t.name == "si_ref-progress" and t.is_alive()]
    assert stream.getvalue() == closed
