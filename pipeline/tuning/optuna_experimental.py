"""Optuna's features this sweep needs that Optuna marks experimental (heartbeats since 2.9, the stale-trial
retry callback and ``fail_stale_trials``): used without the ``ExperimentalWarning`` each would print."""

from __future__ import annotations

import warnings
from contextlib import contextmanager


@contextmanager
def experimental():
    """``optuna``, inside a block where its ``ExperimentalWarning`` is silenced (and nothing else is)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield optuna
