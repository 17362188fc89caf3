"""Progress of a long job as one line: position, ETA and the key metric always visible.

On a terminal the line is redrawn in place and fitted to the terminal's width: the
parts that matter -- where the job is (``step 120/400``), how long it still takes
(``eta 3m12s``) and the key metric (the first value given) -- are placed first and
abbreviated before they are ever cut; the other values and the bar are added only while
they fit. (A rich progress bar cut the line with ``…`` exactly where its ETA column was
in an 80-column terminal.) When the output is not a terminal (CI logs, ``> run.log``)
nothing is redrawn: one plain line is printed every ``interval`` seconds, plus the
first and the last update, so a log file grows by a line per interval, not per step.

Inside a Jupyter notebook (an IPython kernel whose output is not a terminal) the line
is one cell output updated in place through IPython's display handles, at most every
``JUPYTER_INTERVAL`` seconds plus the last update; messages are printed as lines above
it. ``make_progress`` picks the display.

The same class serves ``emkit run`` (steps), ``data synth``/``pack`` (samples/files),
``plugins validate`` (plugins) and ``predict`` (files and tiles).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Any, Mapping, Optional, TextIO

#: Seconds between plain lines when the output is not a terminal (EMKIT_PROGRESS_INTERVAL).
DEFAULT_INTERVAL = 30.0
#: Seconds between redraws of a notebook's progress cell.
JUPYTER_INTERVAL = 0.5


def format_duration(seconds: float) -> str:
    """``42s``, ``3m12s``, ``1h05m``: short enough for an 80-column line."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_value(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{key} {value:.4g}"
    return f"{key} {value}"


def _bar(fraction: float, width: int) -> str:
    inner = max(0, width - 2)
    full = int(round(min(max(fraction, 0.0), 1.0) * inner))
    return "[" + "#" * full + "-" * (inner - full) + "]"


def fit_line(required: list[list[str]], optional: list[str], fraction: Optional[float], width: int) -> str:
    """Join parts with two spaces into at most ``width`` characters.

    ``required`` holds each essential part as spellings from long to short (the shortest
    is used when nothing else fits); ``optional`` parts are appended in order while they
    fit, and a bar of the remaining width closes the line when at least 12 columns are
    left. Only when even the shortest required parts exceed ``width`` is the line cut --
    from the end, where the least important of them stands.
    """
    sep = "  "
    choice = [forms[0] for forms in required]
    for i in reversed(range(len(required))):  # shorten the least important first
        if len(sep.join(choice)) <= width:
            break
        choice[i] = required[i][-1]
    line = sep.join(p for p in choice if p)
    if len(line) > width:
        return line[:width]
    for part in optional:
        if len(line) + len(sep) + len(part) <= width:
            line += sep + part
    room = width - len(line) - len(sep)
    if fraction is not None and room >= 12:
        line += sep + _bar(fraction, min(room, 40))
    return line


class Progress:
    """Progress over ``total`` units of work (steps, files, samples, plugins).

    ``update(done, epoch, values)``: ``values`` are shown in order, the first one as the
    key metric; ``message(text)`` prints a line above the live line. ``initial`` is where
    a resumed job starts. ``stream`` defaults to stdout; ``is_tty``/``width``/``interval``
    can be forced (tests, files).
    """

    def __init__(self, total_steps: int, *, enabled: bool = True, unit: str = "step", label: str = "", initial: int = 0,
                 epochs: Optional[int] = None, stream: Optional[TextIO] = None, is_tty: Optional[bool] = None,
                 width: Optional[int] = None, interval: Optional[float] = None,
                 clock: Any = time.perf_counter) -> None:
        self.total = total_steps
        self.enabled = enabled
        self.unit = unit
        self.label = label
        self.epochs = epochs
        self.stream = stream if stream is not None else sys.stdout
        self.is_tty = self.stream.isatty() if is_tty is None else is_tty
        self._width = width
        env = os.environ.get("EMKIT_PROGRESS_INTERVAL")
        self.interval = interval if interval is not None else (float(env) if env else DEFAULT_INTERVAL)
        self._clock = clock
        self.start = clock()
        self._first: Optional[tuple[int, float]] = None  # (done, time) of the first update
        self._last_print: Optional[float] = None
        self._live = ""  # the line currently drawn on the terminal
        self.done = initial  # a resumed job starts part-way; its rate counts from here
        self._epoch: Optional[int] = None
        self._values: Mapping[str, Any] = {}

    # ------------------------------------------------------------------ rendering ----
    @property
    def width(self) -> int:
        if self._width is not None:
            return self._width
        return shutil.get_terminal_size((80, 24)).columns - 1  # the last column wraps on some terminals

    def eta_seconds(self) -> Optional[float]:
        """Remaining seconds at the rate since the first update (None before any progress)."""
        if self._first is None:
            return None
        done0, t0 = self._first
        rate_units = self.done - done0
        if rate_units <= 0:
            return None
        return (self._clock() - t0) / rate_units * max(self.total - self.done, 0)

    def render(self, width: Optional[int] = None, *, bar: bool = True) -> str:
        """The current progress as one line of at most ``width`` characters."""
        width = width or self.width
        count = f"{int(self.done)}/{self.total}"  # fractional progress (tiles of a file) shows whole units
        position = f"{self.unit} {count}" if self.unit else count
        short_position = count
        if self._epoch is not None:
            of = f"/{self.epochs}" if self.epochs else ""
            position = f"epoch {self._epoch}{of} {position}"
            short_position = f"ep{self._epoch} {short_position}"
        if self.label:
            position = f"{self.label} {position}"
        eta = self.eta_seconds()
        if self.done >= self.total:
            eta_text = [f"done in {format_duration(self._clock() - self.start)}"]
        else:
            eta_text = [f"eta {format_duration(eta)}" if eta is not None else "eta ?"]
        values = [format_value(k, v) for k, v in self._values.items()]
        required = [[position, short_position], eta_text]
        if values:
            key, value = next(iter(self._values.items()))
            required.append([values[0], format_value(key[:8], value)])
        fraction = self.done / self.total if self.total and bar else None
        return fit_line(required, values[1:], fraction, width)

    # ------------------------------------------------------------------ updates ------
    def update(self, done: float, epoch: Optional[int] = None, values: Optional[Mapping[str, Any]] = None) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if self._first is None:
            self._first = (self.done, self.start) if done > self.done else (done, now)
        self.done = done
        self._epoch = epoch if epoch is not None else self._epoch
        self._values = dict(values or {})
        if self.is_tty:
            self._draw(self.render())
            return
        due = self._last_print is None or now - self._last_print >= self.interval or done >= self.total
        if due:
            self._last_print = now
            self._write(self.render(max(self.width, 120), bar=False) + "\n")

    def advance(self, count: int = 1, values: Optional[Mapping[str, Any]] = None) -> None:
        """``update(done + count)`` for jobs that count items as they finish."""
        self.update(self.done + count, values=values if values is not None else self._values)

    def message(self, text: str) -> None:
        """A line printed above the live line (which is redrawn under it)."""
        if not self.enabled:
            return
        if self.is_tty and self._live:
            self._write("\r" + " " * len(self._live) + "\r" + text + "\n" + self._live)
        else:
            self._write(text + "\n")

    def close(self) -> None:
        """End the live line (the last drawn state stays on screen)."""
        if self.enabled and self.is_tty and self._live:
            self._write("\n")
            self._live = ""

    def _draw(self, line: str) -> None:
        pad = max(0, len(self._live) - len(line))
        self._write("\r" + line + " " * pad)
        self._live = line

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where stdout is not a terminal."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class NotebookProgress(Progress):
    """``Progress`` drawn into one notebook output updated in place (no terminal control codes)."""

    def __init__(self, total_steps: int, **kwargs: Any) -> None:
        kwargs.setdefault("width", 100)
        super().__init__(total_steps, is_tty=True, **kwargs)
        self._handle: Any = None
        self._drawn_at: Optional[float] = None

    def _draw(self, line: str) -> None:
        from IPython.display import display  # imported only inside a notebook

        self._live = line
        now = self._clock()
        if self._handle is not None and self.done < self.total and self._drawn_at is not None \
                and now - self._drawn_at < JUPYTER_INTERVAL:
            return
        self._drawn_at = now
        if self._handle is None:
            self._handle = display({"text/plain": line}, raw=True, display_id=True)
        else:
            self._handle.update({"text/plain": line}, raw=True)

    def message(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self._handle is not None:
            self._handle.update({"text/plain": self._live}, raw=True)


def make_progress(total: int, **kwargs: Any) -> Progress:
    """A ``NotebookProgress`` inside Jupyter, else a terminal/log ``Progress``."""
    if kwargs.get("enabled", True) and kwargs.get("stream") is None and in_notebook():
        return NotebookProgress(total, **kwargs)
    return Progress(total, **kwargs)


class SequenceEta:
    """Remaining time of a sequence of long jobs (the runs of ``emkit sweep``).

    ``start(i)`` marks the start of job ``i`` (1-based) and returns ``"  (eta 12m30s)"``
    for the jobs ``i..total``, from the mean duration of the jobs started before (``""``
    for the first). Each job draws its own progress line; this adds the whole sequence's.
    """

    def __init__(self, total: int, clock: Any = time.perf_counter) -> None:
        self.total = total
        self._clock = clock
        self._first: Optional[tuple[int, float]] = None  # (index, time) of the first job started

    def start(self, index: int) -> str:
        now = self._clock()
        if self._first is None:
            self._first = (index, now)
            return ""
        first, t0 = self._first
        mean = (now - t0) / max(index - first, 1)
        return f"  (eta {format_duration(mean * (self.total - index + 1))} for the sweep)"
