"""Progress for long work: a tqdm bar on a terminal, a few plain lines in logs (CI, dvc exp queue)."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    """``update(n, **fields)``: a live bar when stderr is a terminal, else a line every ~10 %."""

    def __init__(self, total: int, desc: str, unit: str = "it", stream=None):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.done = 0
        self.start = time.perf_counter()
        self.next_report = 0
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, dynamic_ncols=True,
                        leave=True) if self.interactive else None

    def update(self, n: int = 1, **fields) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.set_postfix({k: _fmt(v) for k, v in fields.items()}, refresh=False)
            self.bar.update(n)
        elif self.done >= self.next_report or self.done == self.total:
            elapsed = time.perf_counter() - self.start
            left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
            extra = " ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
            print(f"{self.desc}: {self.done}/{self.total} {self.unit} {extra} "
                  f"elapsed {elapsed:.0f}s, about {left:.0f}s left", file=self.stream, flush=True)
            self.next_report = self.done + max(1, self.total // 10)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
