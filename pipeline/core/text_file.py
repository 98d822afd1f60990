"""The one way the project reads a text file it did not just write: UTF-8, or one line naming the file.

Metrics, plot tables, the ledger and the YAML files each used to write their own try/except around
``read_text``; they differed only in what they tell the user to do.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import PipelineError


def read_text(path: str | Path, remedy: str, missing: str | None = None) -> str:
    """``path``'s text, or a ``PipelineError`` naming it: not found (``missing``, else ``remedy``), not UTF-8
    text, or unreadable (a folder, no permission), each followed by what to do."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; {missing or remedy}") from None
    except UnicodeDecodeError:
        raise PipelineError(f"{path}: not UTF-8 text; {remedy}") from None
    except OSError as exc:
        raise PipelineError(f"{path}: cannot be read ({exc.strerror or exc}); {remedy}") from None
