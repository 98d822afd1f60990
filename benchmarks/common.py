"""What every worker process shares: the prepared arrays, a training clock that stops while
validating (with the time budget), and the process's own peak memory."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmark this checkout's `pipeline`, installed or not
    sys.path.insert(0, str(ROOT))

from pipeline.core.arrays_file import load_arrays  # noqa: E402


class Data:
    """The arrays bench.py prepared: uint8 pixels and labels for train, validation and test."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        train = load_arrays(folder / "train.npz", required=("X", "y"))
        validation = load_arrays(folder / "validation.npz", required=("X", "y"))
        test = load_arrays(folder / "test.npz", required=("X",))
        self.X_train, self.y_train = train["X"], train["y"]
        self.X_val, self.y_val = validation["X"], validation["y"]
        self.X_test, self.y_test = test["X"], test.get("y")


def scaled(pixels: np.ndarray) -> np.ndarray:
    """Pixels as float32 in [0, 1], what the other contenders are given (ours scales inside fit)."""
    return np.multiply(pixels, np.float32(1 / 255), dtype=np.float32)


def peak_rss_bytes() -> int:
    """This process's peak resident memory.

    On Linux, VmHWM: ``getrusage`` would report the parent's peak instead when that is larger,
    because the kernel carries it over the fork/exec that started this process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


class OverBudget(Exception):
    """Raised from a training callback to stop a contender that has used up its time budget."""


class Tracker:
    """Training seconds with the clock stopped while validating; the validation curve; the budget.

    A contender calls ``start()`` just before training, ``end_step()`` after each iteration or
    epoch, and ``validate(step, score)`` whenever it checks validation accuracy.
    """

    def __init__(self, name: str, budget_s: float | None, unit: str, report_every_s: float = 10.0):
        self.name, self.budget_s, self.unit = name, budget_s, unit
        self.report_every_s = report_every_s
        self.train_seconds = 0.0
        self.step_seconds: list[float] = []
        self.points: list[dict] = []  # {"step", "seconds", "validation_accuracy"}
        self._mark = self._reported = 0.0

    def start(self) -> None:
        self._mark = self._reported = time.perf_counter()

    def end_step(self) -> None:
        now = time.perf_counter()
        self.step_seconds.append(now - self._mark)
        self.train_seconds += now - self._mark
        self._mark = now

    def over_budget(self) -> bool:
        return self.budget_s is not None and self.train_seconds >= self.budget_s

    def validate(self, step: int, score) -> float:
        """Record ``score()`` (validation accuracy) at ``step``; its own time is not counted."""
        accuracy = float(score())
        self.points.append({"step": step, "seconds": self.train_seconds, "validation_accuracy": accuracy})
        now = time.perf_counter()
        if now - self._reported >= self.report_every_s:
            print(f"  {self.name}: {self.unit} {step}, validation {accuracy:.4f}, {self.train_seconds:.1f} s "
                  f"training", file=sys.stderr, flush=True)
            self._reported = now
        self._mark = now
        return accuracy

    def summary(self) -> dict:
        return {
            "unit": self.unit,
            "steps": len(self.step_seconds),
            "train_seconds": self.train_seconds,
            "median_step_seconds": statistics.median(self.step_seconds) if self.step_seconds else None,
            "validation_accuracy": self.points[-1]["validation_accuracy"] if self.points else None,
            "curve": self.points,
        }


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(truth)))
