"""Progress for long work: a tqdm bar on a terminal, a few plain lines in logs (CI, dvc exp queue).

``Progress(total, desc, unit)`` counts items (``unit="it"``, ``"rows"``...) or bytes (``unit="B"``,
shown as KiB/MiB). Off a terminal it prints one self-contained line every ~10 % of ``total`` (or
every ``every_s`` seconds when the total is unknown), each with the count, the extra fields
passed to ``update`` (loss, accuracy...), the time spent and the time left, and a last line when
the work ends, so a CI log reads as a short table instead of a smear of carriage returns.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    """``update(n, **fields)``: a live bar when the stream is a terminal, else a line every ~10 %."""

    def __init__(self, total: int | None, desc: str, unit: str = "it", stream=None,
                 interactive: bool | None = None, clock=time.perf_counter, every_s: float = 10.0):
        self.total = total if total and total > 0 else None
        self.desc, self.unit = desc, unit
        self.stream = stream or sys.stderr
        self.interactive = _isatty(self.stream) if interactive is None else interactive
        self.clock, self.every_s = clock, every_s
        self.done = 0
        self.start = self.last_line_at = clock()
        self.next_report = 0
        self.fields: dict = {}
        self.reported_done = -1
        self.bar = None
        if self.interactive:
            scale = {"unit_scale": True, "unit_divisor": 1024} if unit == "B" else {}
            self.bar = tqdm(total=self.total, desc=desc, unit=unit, file=self.stream, dynamic_ncols=True,
                            leave=True, **scale)

    def update(self, n: int = 1, **fields) -> None:
        self.done += n
        self.fields = fields
        if self.bar is not None:
            self.bar.set_postfix({k: _fmt(v) for k, v in fields.items()}, refresh=False)
            self.bar.update(n)
            return
        now = self.clock()
        if self.total is not None:
            due = self.done >= self.next_report or self.done >= self.total
        else:
            due = now - self.last_line_at >= self.every_s
        if due:
            self._line(now)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.done != self.reported_done:
            self._line(self.clock())

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _line(self, now: float) -> None:
        elapsed = now - self.start
        if self.total is None:
            count = _amount(self.done, self.unit)
        elif self.unit == "B":
            count = f"{_amount(self.done, 'B')}/{_amount(self.total, 'B')} ({100 * self.done / self.total:.0f}%)"
        else:
            count = f"{self.done}/{self.total} {self.unit} ({100 * self.done / self.total:.0f}%)"
        extra = "".join(f" {k}={_fmt(v)}" for k, v in self.fields.items())
        timing = f"elapsed {_duration(elapsed)}"
        if self.total is not None and self.done < self.total:
            left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
            timing += f", about {_duration(left)} left"
        print(f"{self.desc}: {count}{extra}, {timing}", file=self.stream, flush=True)
        self.reported_done, self.last_line_at = self.done, now
        if self.total is not None:
            self.next_report = self.done + max(1, self.total // 10)


def _isatty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _amount(n: int, unit: str) -> str:
    if unit != "B":
        return f"{n} {unit}"
    size = float(n)
    for suffix in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or suffix == "GiB":
            return f"{n} B" if suffix == "B" else f"{size:.1f} {suffix}"
        size /= 1024
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing done yet, no rate to extrapolate from
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
