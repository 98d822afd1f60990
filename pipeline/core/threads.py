"""The environment variables that cap BLAS and OpenMP threads, and the cores a process may use: one place.

Training runs one worker thread per core over single-threaded BLAS (``pipeline.model.full_batch``); a
sweep's workers each get their share of the cores through these variables (``pipeline.tuning``).
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores(environ=os.environ) -> int:
    """The cores this process may use, or fewer when a thread-limit variable (OMP_NUM_THREADS...) says so."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    for name in THREAD_VARIABLES:
        value = environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            cores = min(cores, int(value))
    return cores


def with_threads(environ, threads: int) -> dict[str, str]:
    """A copy of ``environ`` whose every thread-limit variable says ``threads``."""
    return {**environ, **{name: str(threads) for name in THREAD_VARIABLES}}
