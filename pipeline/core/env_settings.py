"""Numbers read from environment variables (limits and timeouts), each checked with one clear line.

A variable that is unset or blank gives the default. Anything else must parse as ``kind`` (int: a
whole number; float: a finite number) and be > 0 (or >= 0 with ``zero_ok``); otherwise the error
names the variable, what it must be and what it holds, e.g. ``environment variable
DIGIT_PIPELINE_LOCK_TIMEOUT must be a number of seconds > 0, got 'soon'``.
"""

from __future__ import annotations

import math
import os
from typing import Mapping

from pipeline.core.errors import PipelineError


def positive_number(name: str, default: float, kind: type = float, unit: str = "", zero_ok: bool = False,
                    environ: Mapping[str, str] | None = None) -> float:
    """The value of the environment variable ``name`` (in ``environ``, else ``os.environ``), or ``default``.

    ``unit`` (e.g. "seconds") only words the error.
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        what = "a whole number" if kind is int else "a number"
        of_unit = f" of {unit}" if unit else ""
        bound = ">= 0" if zero_ok else "> 0"
        raise PipelineError(f"environment variable {name} must be {what}{of_unit} {bound}, got {raw!r}")
    return value
