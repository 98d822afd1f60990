"""The study's export, ``tune/study.json``: ``tune`` writes it, the report reads it.

The report imports this module alone of the sweep (and Optuna): it rebuilds an in-memory study from
the file and plots it, so that a change to the study, storage or worker code leaves the report stage
as it was. Imports nothing of ``pipeline``.
"""

from __future__ import annotations

import math


def best(study):
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(done, key=lambda t: (t.value, -t.number)) if done else None


def export(study, where: str) -> dict:
    """The study as JSON-ready data (params, distributions, values, curves), for the report."""
    from optuna.distributions import distribution_to_json

    trials = []
    for t in study.get_trials(deepcopy=False):
        trials.append({
            "number": t.number, "state": t.state.name,
            "value": t.value if t.value is not None and math.isfinite(t.value) else None,
            "params": t.params,
            "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()},
            "intermediate": {str(k): v for k, v in sorted(t.intermediate_values.items())},
            "start": t.datetime_start.isoformat() if t.datetime_start else None,
            "complete": t.datetime_complete.isoformat() if t.datetime_complete else None,
            "user_attrs": {k: v for k, v in t.user_attrs.items()},
        })
    return {"study": study.study_name, "storage": where, "direction": "maximize", "trials": trials}


def rebuild(exported: dict):
    """An in-memory Optuna study holding ``export``'s trials (the report plots from it)."""
    import datetime as dt

    import optuna
    from optuna.distributions import json_to_distribution
    from optuna.trial import TrialState, create_trial

    study = optuna.create_study(direction="maximize", study_name=exported.get("study"))
    for t in exported.get("trials", []):
        state = TrialState[t["state"]]
        if state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
            continue
        frozen = create_trial(
            state=state, value=t["value"] if state == TrialState.COMPLETE else None,
            params=t["params"],
            distributions={k: json_to_distribution(d) for k, d in t["distributions"].items()},
            intermediate_values={int(k): v for k, v in t["intermediate"].items()},
            user_attrs=t.get("user_attrs") or {})
        if t.get("start"):
            frozen.datetime_start = dt.datetime.fromisoformat(t["start"])
        if t.get("complete"):
            frozen.datetime_complete = dt.datetime.fromisoformat(t["complete"])
        study.add_trial(frozen)
    return study
