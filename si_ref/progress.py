"""Progress of si_ref's long work (fits, epochs, time slices, studies) on the console.

Long work reports through :func:`task`::

    with task("fit drift (ridge)", total=10, unit="slice") as progress:
        for k in range(10):
            ...
            progress.advance()

which shows one line on standard error, redrawn in place at most four times a
second: ``fit drift (ridge): slice 3/10, 4.1 s elapsed, about 9.6 s left``. Tasks
nest; an inner task's line names the outer ones (``validate fit_drift > fit drift
(ridge)``). Output appears only when standard error is a terminal; :func:`quiet`
silences it (``si-ref ... --quiet``), :func:`shown` forces it onto a stream (tests,
logs). Progress never changes a result: it only prints.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
import time
from collections.abc import Iterator

__all__ = ["Task", "task", "quiet", "shown"]

# None: shown when stderr is a terminal; False: quiet; otherwise the stream to write to.
_target: contextvars.ContextVar = contextvars.ContextVar("si_ref_progress_target", default=None)
_labels: contextvars.ContextVar = contextvars.ContextVar("si_ref_progress_labels", default=())

#: Seconds between two redraws of the same line.
REDRAW_SECONDS = 0.25
#: Seconds between two redraws of the innermost terminal line when no step is reported (elapsed time ticks on).
HEARTBEAT_SECONDS = 1.0

# Tasks drawn on a terminal, innermost last; one daemon thread redraws the last one (elapsed time) while any
# is open. _lock guards the list, the flag and every write, so a closed task is never redrawn.
_open_on_terminal: list = []
_heartbeat_running = False
_lock = threading.RLock()


def _heartbeat() -> None:
    global _heartbeat_running
    while True:
        time.sleep(HEARTBEAT_SECONDS)
        with _lock:
            if not _open_on_terminal:
                _heartbeat_running = False
                return
            _open_on_terminal[-1].draw()


def _start_heartbeat() -> None:
    """Start the redrawing thread unless one runs (call with _lock held)."""
    global _heartbeat_running
    if not _heartbeat_running:
        _heartbeat_running = True
        threading.Thread(target=_heartbeat, name="si_ref-progress", daemon=True).start()


def _stream():
    """The stream to draw on, or None when progress is not shown."""
    target = _target.get()
    if target is False:
        return None
    if target is None:
        stream = sys.stderr
        isatty = getattr(stream, "isatty", None)
        return stream if stream is not None and isatty is not None and isatty() else None
    return target


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(round(value)), 60)
    return f"{minutes} min {seconds:02d} s"


class Task:
    """One piece of long work: ``advance()`` after each step; drawn by :func:`task`."""

    def __init__(self, label: str, total: int | None, unit: str, stream) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.done, self.detail = 0, ""
        self.start = time.perf_counter()
        self._last_draw = -float("inf")
        self._last_text = ""
        self.closed = False
        self._terminal = bool(getattr(stream, "isatty", lambda: False)())

    def advance(self, steps: int = 1, detail: str = "") -> None:
        """Count ``steps`` more steps done; ``detail`` (e.g. ``"loss 0.12"``) is shown after the times."""
        self.done += steps
        self.detail = detail
        self.draw()

    def line(self) -> str:
        """The progress line: label, steps done, elapsed time and the estimate of what is left."""
        elapsed = time.perf_counter() - self.start
        parts = [f"{self.label}:"]
        unit = f"{self.unit} " if self.unit else ""
        if self.total:
            parts.append(f"{unit}{self.done}/{self.total},")
        elif self.done:
            parts.append(f"{unit}{self.done},")
        parts.append(f"{_seconds(elapsed)} elapsed")
        if self.total and 0 < self.done < self.total:
            parts[-1] += ","
            parts.append(f"about {_seconds(elapsed / self.done * (self.total - self.done))} left")
        if self.detail:
            parts[-1] += ";"
            parts.append(self.detail)
        return " ".join(parts)

    def draw(self, *, force: bool = False) -> None:
        """Write the line (rate-limited to one redraw per :data:`REDRAW_SECONDS` unless ``force``)."""
        if self.stream is None:
            return
        with _lock:   # the heartbeat thread draws too
            now = time.perf_counter()
            if self.closed or (not force and now - self._last_draw < REDRAW_SECONDS):
                return
            self._last_draw = now
            text = self.line()
            if self._terminal:
                self.stream.write("\r" + text + "\x1b[K")
            elif text != self._last_text:   # a log gets each state once
                self.stream.write(text + "\n")
            self._last_text = text
            self.stream.flush()

    def close(self, *, outermost: bool = True) -> None:
        """Draw the final state; on a terminal, end the line only for the outermost task.

        An inner task's last state is overwritten by its parent's next redraw, so a
        terminal keeps one line per outermost task (e.g. per study).
        """
        if self.stream is None:
            return
        with _lock:
            self.draw(force=True)
            self.closed = True
            if self._terminal and outermost:
                self.stream.write("\n")
                self.stream.flush()


@contextlib.contextmanager
def task(label: str, total: int | None = None, unit: str = "") -> Iterator[Task]:
    """A :class:`Task` for the block; its line is shown (and ended) only where progress is shown."""
    outer = _labels.get()
    progress = Task(" > ".join(outer + (label,)), total, unit, _stream())
    token = _labels.set(outer + (label,))
    try:
        progress.draw(force=True)
        if progress._terminal:
            with _lock:
                _open_on_terminal.append(progress)
                _start_heartbeat()
        yield progress
    finally:
        _labels.reset(token)
        with _lock:
            if progress in _open_on_terminal:
                _open_on_terminal.remove(progress)
            progress.close(outermost=not outer)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Show no progress inside the block (``--quiet``)."""
    token = _target.set(False)
    try:
        yield
    finally:
        _target.reset(token)


@contextlib.contextmanager
def shown(stream=None) -> Iterator[None]:
    """Show progress inside the block on ``stream`` (default standard error), terminal or not."""
    token = _target.set(sys.stderr if stream is None else stream)
    try:
        yield
    finally:
        _target.reset(token)
