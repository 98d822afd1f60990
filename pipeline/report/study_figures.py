"""The hyperparameter study's pictures: Optuna's own matplotlib plots of ``tune/study.json``.

``python -m pipeline tune`` exports its study (``pipeline.tuning.study_file.export``); this module reads
that file, checks it, and draws from an in-memory copy of the study (``pipeline.tuning.study_file.rebuild``)
the optimisation history and, when they mean something, the parameter importances.

Optuna's plots are made with pyplot and restyle matplotlib globally (``plt.style.use("ggplot")``):
here they run on the Agg backend inside an ``rc_context``, so nothing leaks into the report's other
figures, and every pyplot figure is closed once rendered. Optuna and pyplot are imported only when
a study is drawn, so a report without one pays nothing for them.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib

from pipeline.core.errors import PipelineError
from pipeline.core.metrics_io import read_json_object
from pipeline.report import figures
from pipeline.tuning.study_file import best, rebuild

HISTORY_PNG = "study_history.png"
IMPORTANCES_PNG = "study_importances.png"
SIZE = (9.0, 4.5)  # inches, at figures.DPI: 900 x 450 pixels, both plots
TARGET = "validation accuracy"
STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")  # Optuna's TrialState names
REMEDY = "run `python -m pipeline tune` again to rewrite it, or delete it to leave the study out of the report"


@dataclass(frozen=True)
class StudyPictures:
    pngs: dict[str, bytes]  # file name -> PNG bytes: the history, and the importances when computable
    caption: str            # one line: study, trial counts, best accuracy and its DVC experiment
    note: str = ""          # why a picture is missing; "" when both are shown


def read_study_export(path: str | Path) -> dict | None:
    """The study ``tune`` exported to ``path``, checked to rebuild as a study; None when there is none.

    A file that is not such an export is one PipelineError naming it.
    """
    path = Path(path)
    if not path.exists():
        return None
    exported = read_json_object(path, REMEDY)
    trials = exported.get("trials")
    if not isinstance(trials, list) or not all(isinstance(t, dict) for t in trials):
        raise PipelineError(f"{path}: not a study export of `python -m pipeline tune` (no list of trials); {REMEDY}")
    for t in trials:
        if t.get("state") not in STATES:
            raise PipelineError(f"{path}: trial {t.get('number', '?')} has state {t.get('state')!r}, not one of "
                                f"{', '.join(STATES)}; {REMEDY}")
        if t.get("state") == "COMPLETE" and not _finite_number(t.get("value")):
            raise PipelineError(f"{path}: trial {t.get('number', '?')} is complete but its value is "
                                f"{t.get('value')!r}, not a finite number; {REMEDY}")
    try:
        with _quiet():
            rebuild(exported)
    except KeyError as exc:
        raise PipelineError(f"{path}: not a study export of `python -m pipeline tune` (a trial lacks "
                            f"{exc}); {REMEDY}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise PipelineError(f"{path}: not a study export of `python -m pipeline tune` ({exc}); {REMEDY}") from None
    return exported


def study_pictures(exported: dict) -> StudyPictures:
    """The optimisation history (when a trial completed) and the parameter importances (when they
    can be computed: two complete trials and two params that took more than one value), as PNGs."""
    with _quiet():
        study = rebuild(exported)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    caption = _caption(exported, study)
    if not complete:
        return StudyPictures({}, caption, "No trial has completed yet, so there is no history or importance to plot.")

    import optuna.visualization.matplotlib as ovm

    pngs = {HISTORY_PNG: _render(lambda: history_axes(study))}
    varied, constant = _varied_params(complete)
    why = _why_no_importances(complete, varied, constant)
    if why:
        return StudyPictures(pngs, caption, why)
    # PED-ANOVA named, not left to Optuna's default (fANOVA's random forest in older Optuna): it is
    # deterministic, so the same study gives the same PNG bytes and dvc.lock does not churn.
    from optuna.importance import PedAnovaImportanceEvaluator

    pngs[IMPORTANCES_PNG] = _render(lambda: ovm.plot_param_importances(
        study, evaluator=PedAnovaImportanceEvaluator(), params=varied, target_name=TARGET))
    note = (f"Left out of the importances, as they never varied: {', '.join(constant)}." if constant else "")
    return StudyPictures(pngs, caption, note)


def history_axes(study):
    """Optuna's optimisation history of ``study`` (pyplot Axes), its x axis on whole trial numbers only
    (matplotlib's own ticks put 0.25, 0.5 ... between two trials)."""
    import optuna.visualization.matplotlib as ovm
    from matplotlib.ticker import MaxNLocator

    ax = ovm.plot_optimization_history(study, target_name=TARGET)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def _finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _caption(exported: dict, study) -> str:
    counts = {state: 0 for state in ("COMPLETE", "PRUNED", "FAIL")}
    others = 0
    for t in exported.get("trials", []):
        if t.get("state") in counts:
            counts[t["state"]] += 1
        else:
            others += 1  # running or waiting when tune exported the study
    said = (f"Study {exported.get('study') or '?'!r}: {counts['COMPLETE']} complete, {counts['PRUNED']} pruned, "
            f"{counts['FAIL']} failed trials{f' ({others} unfinished)' if others else ''}")
    top = best(study)
    if top is None:
        return said + "."
    experiment = top.user_attrs.get("experiment")
    where = f"DVC experiment {experiment}" if experiment else "no DVC experiment recorded"
    return said + f"; best validation accuracy {top.value:.2%}, trial {top.number} ({where})."


def _varied_params(complete) -> tuple[list[str], list[str]]:
    """The params of the complete trials that took more than one value, and those that never did."""
    seen: dict[str, set] = {}
    for t in complete:
        for name, value in t.params.items():
            seen.setdefault(name, set()).add(repr(value))
    varied = sorted(name for name, values in seen.items() if len(values) > 1)
    return varied, sorted(set(seen) - set(varied))


def _why_no_importances(complete, varied: list[str], constant: list[str]) -> str:
    head = "Parameter importances are not shown: "
    if len(complete) < 2:
        return head + f"only {len(complete)} trial completed, and importances compare at least 2."
    if len(varied) + len(constant) < 2:
        return head + f"the study has a single parameter ({', '.join(varied + constant) or 'none'}), which " \
                      f"would trivially have all the importance."
    if not varied:
        return head + "no parameter took more than one value in the complete trials."
    if len(varied) < 2:
        return head + f"only {varied[0]} took more than one value in the complete trials, so it would " \
                      f"trivially have all the importance."
    return ""


@contextlib.contextmanager
def _quiet():
    """Optuna without its log lines (a study created in memory) or its ExperimentalWarning."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


def _render(plot) -> bytes:
    """PNG bytes of the pyplot figure that ``plot()`` draws (returning its Axes), at SIZE and DPI."""
    matplotlib.use("Agg")  # before pyplot picks a GUI backend; the report never shows a window
    import matplotlib.pyplot as plt

    # rc_context undoes Optuna's plt.style.use("ggplot") on the way out; the figure keeps its style.
    with matplotlib.rc_context({**figures.STYLE, "figure.figsize": SIZE}), _quiet():
        ax = plot()
        fig = ax.figure
        try:
            fig.set_size_inches(*SIZE)
            fig.set_dpi(figures.DPI)
            fig.set_layout_engine("tight")
            return figures.png_bytes(fig)
        finally:
            plt.close(fig)
