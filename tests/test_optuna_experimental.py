"""experimental(): Optuna's experimental features without their warning, and nothing else silenced."""

from __future__ import annotations

import warnings

import optuna
import pytest

from pipeline.tuning.optuna_experimental import experimental
from pipeline.tuning.study import RetryCallback, retried_trial_number


def test_only_optunas_experimental_warning_is_silenced_and_only_inside():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with experimental() as module:
            assert module is optuna
            warnings.warn("experimental", optuna.exceptions.ExperimentalWarning)
            warnings.warn("kept", UserWarning)
        warnings.warn("after", optuna.exceptions.ExperimentalWarning)
    assert [str(w.message) for w in caught] == ["kept", "after"]


def test_the_sweeps_use_of_optunas_retry_callback_prints_no_experimental_warning():
    study = optuna.create_study()
    study.enqueue_trial({"x": 1.0})
    trial = study.ask()
    with warnings.catch_warnings():
        warnings.simplefilter("error", optuna.exceptions.ExperimentalWarning)
        RetryCallback()
        assert retried_trial_number(study.trials[trial.number]) is None
    with pytest.warns(optuna.exceptions.ExperimentalWarning):  # what the helper keeps out of the user's terminal
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
