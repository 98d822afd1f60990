"""The report's hyperparameter study section: Optuna's history and importance plots of tune/study.json,
what it says when importances mean nothing, and how a bad file is refused."""

from __future__ import annotations

import base64
import io
import json
import warnings

import matplotlib
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial
from PIL import Image

from pipeline.cli import main
from pipeline.core.errors import PipelineError
from pipeline.report import study_figures
from pipeline.report.study_figures import HISTORY_PNG, IMPORTANCES_PNG, read_study_export, study_pictures
from pipeline.tuning.study_file import export, rebuild
from report_support import write_project

DISTRIBUTIONS = {"train.learning_rate": FloatDistribution(0.002, 0.01, log=True),
                 "train.max_iter": IntDistribution(1200, 3600, step=600),
                 "train.augment_groups": CategoricalDistribution([8, 16, 32])}
VARIED = [{"train.learning_rate": 0.002 + 0.001 * i, "train.max_iter": 1200 + 600 * (i % 5),
           "train.augment_groups": (8, 16, 32)[i % 3]} for i in range(8)]


def exported(params: list[dict], values: list[float | None] | None = None, extra_states=True,
             name: str = "digits") -> dict:
    """A study as ``tune`` exports it: one COMPLETE trial per entry of ``params`` (accuracy
    ``values``), then, with ``extra_states``, a PRUNED and a FAIL one; through JSON, as read back."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", study_name=name)
    values = values or [0.95 + 0.004 * i for i in range(len(params))]
    for i, (p, v) in enumerate(zip(params, values)):
        study.add_trial(create_trial(state=TrialState.COMPLETE, value=v, params=p,
                                     distributions={k: DISTRIBUTIONS[k] for k in p},
                                     intermediate_values={50: v - 0.01, 100: v},
                                     user_attrs={"experiment": f"{name}-{i}"}))
    if extra_states:
        first = params[0]
        dists = {k: DISTRIBUTIONS[k] for k in first}
        study.add_trial(create_trial(state=TrialState.PRUNED, params=first, distributions=dists,
                                     intermediate_values={50: 0.5}, user_attrs={"pruned_at_percent": 50}))
        study.add_trial(create_trial(state=TrialState.FAIL, params=first, distributions=dists,
                                     user_attrs={"fail_reason": "dvc exp run failed"}))
    return json.loads(json.dumps(export(study, "tune/journal.log")))


@pytest.fixture
def fresh_matplotlib():
    """matplotlib's defaults, as a new process has them, whatever earlier tests did to its global style
    (a leak of Optuna's ggplot style by an earlier test would otherwise be the baseline)."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        yield


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: a truncated or bad PNG raises here
    return image


def test_history_and_importances_both_drawn_when_computable():
    pictures = study_pictures(exported(VARIED))
    assert sorted(pictures.pngs) == [HISTORY_PNG, IMPORTANCES_PNG]
    for png in pictures.pngs.values():
        image = decoded(png)
        assert image.size == (900, 450)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert len(colours) > 50  # drawn on, not a blank canvas
    assert pictures.pngs[HISTORY_PNG] != pictures.pngs[IMPORTANCES_PNG]
    assert pictures.note == ""
    assert pictures.caption == ("Study 'digits': 8 complete, 1 pruned, 1 failed trials; best validation accuracy "
                                "97.80%, trial 7 (DVC experiment digits-7).")


@pytest.mark.parametrize("complete", [2, 3, 8])
def test_the_history_axis_ticks_whole_trial_numbers_only(complete, fresh_matplotlib):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    study = rebuild(exported(VARIED[:complete], extra_states=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = study_figures.history_axes(study)
    try:
        ax.figure.canvas.draw()
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    finally:
        plt.close(ax.figure)


def test_same_study_same_bytes():
    assert study_pictures(exported(VARIED)).pngs == study_pictures(exported(VARIED)).pngs


@pytest.mark.parametrize("params, values, reason", [
    (VARIED[:1], None, "only 1 trial completed"),
    ([{"train.learning_rate": 0.002 + 0.001 * i} for i in range(5)], None,
     "the study has a single parameter (train.learning_rate)"),
    ([VARIED[0]] * 4, [0.95, 0.96, 0.97, 0.94], "no parameter took more than one value"),
    ([{**VARIED[0], "train.learning_rate": 0.002 + 0.001 * i} for i in range(4)], None,
     "only train.learning_rate took more than one value"),
], ids=["one-complete", "single-param", "never-varied", "one-varied"])
def test_history_only_with_a_note_when_importances_mean_nothing(params, values, reason):
    pictures = study_pictures(exported(params, values))
    assert list(pictures.pngs) == [HISTORY_PNG]
    assert decoded(pictures.pngs[HISTORY_PNG]).size == (900, 450)
    assert pictures.note.startswith("Parameter importances are not shown: ") and reason in pictures.note


def test_a_param_that_never_varied_is_left_out_of_the_importances_and_named():
    params = [{**p, "train.augment_groups": 16} for p in VARIED]
    pictures = study_pictures(exported(params))
    assert sorted(pictures.pngs) == [HISTORY_PNG, IMPORTANCES_PNG]
    assert pictures.note == "Left out of the importances, as they never varied: train.augment_groups."


def test_no_complete_trial_no_pictures():
    data = exported(VARIED[:1])
    data["trials"] = data["trials"][1:]  # the pruned and the failed one
    pictures = study_pictures(data)
    assert pictures.pngs == {}
    assert pictures.caption == "Study 'digits': 0 complete, 1 pruned, 1 failed trials."
    assert "No trial has completed yet" in pictures.note


def test_no_experimental_warning_no_leaked_style_no_open_figure(fresh_matplotlib):
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study_pictures(exported(VARIED))
    assert [w for w in caught if issubclass(w.category, optuna.exceptions.ExperimentalWarning)] == []
    assert dict(matplotlib.rcParams) == before  # Optuna's ggplot style stays in its own figures
    assert plt.get_fignums() == []


def test_no_file_no_study(tmp_path):
    assert read_study_export(tmp_path / "tune/study.json") is None


def test_export_reads_back(tmp_path):
    path = tmp_path / "study.json"
    data = exported(VARIED)
    path.write_text(json.dumps(data))
    assert read_study_export(path) == data


def _trial0(change):
    def corrupt(data):
        change(data["trials"][0])
        return json.dumps(data)
    return corrupt


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: json.dumps(d)[:-40], "not valid JSON"),
    (lambda d: b"\xff\xfe{}", "not UTF-8 text"),
    (lambda d: "[1, 2]", "expected a JSON object"),
    (lambda d: json.dumps({"study": "x"}), "no list of trials"),
    (_trial0(lambda t: t.update(state="DONE")), "trial 0 has state 'DONE'"),
    (_trial0(lambda t: t.update(value=None)), "trial 0 is complete but its value is None"),
    (_trial0(lambda t: t.pop("params")), "a trial lacks 'params'"),
    (_trial0(lambda t: t["distributions"].update({"train.max_iter": "{oops"})), "not a study export"),
    (_trial0(lambda t: t.update(start="yesterday")), "not a study export"),
], ids=["truncated", "binary", "list", "no-trials", "bad-state", "no-value", "no-params", "bad-distribution",
        "bad-date"])
def test_unreadable_export_is_one_error_naming_the_file(tmp_path, corrupt, message):
    path = tmp_path / "tune" / "study.json"
    path.parent.mkdir()
    text = corrupt(exported(VARIED))
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(PipelineError) as info:
        read_study_export(path)
    said = str(info.value)
    assert said.startswith(f"{path}: ") and message in said and "\n" not in said
    assert said.endswith(study_figures.REMEDY)


# -- through the report stage ---------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path)
    (tmp_path / "tune").mkdir()
    return tmp_path


def written(root) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "reports").iterdir())}


@pytest.mark.slow
def test_report_stage_embeds_the_study_section_and_drops_it_with_the_file(project, capsys, fresh_matplotlib):
    assert main(["report"]) == 0
    without = written(project)
    assert b'id="study"' not in without["index.html"]

    (project / "tune/study.json").write_text(json.dumps(exported(VARIED)))
    assert main(["report"]) == 0
    assert "and 8 images" in capsys.readouterr().out
    files = written(project)
    assert sorted(files) == sorted([*without, HISTORY_PNG, IMPORTANCES_PNG])
    page = files["index.html"].decode()
    section = page[page.index('<section id="study"><h2>Hyperparameter study</h2>'):]
    section = section[:section.index("</section>")]
    for name in (HISTORY_PNG, IMPORTANCES_PNG):
        uri = "data:image/png;base64," + base64.b64encode(files[name]).decode("ascii")
        assert f'<img src="{uri}"' in section
    assert "Study &#x27;digits&#x27;: 8 complete, 1 pruned, 1 failed trials" in section
    assert "DVC experiment digits-7" in section
    # Optuna's ggplot style did not reach the other pictures, in this run or the next
    assert {k: v for k, v in files.items() if k in without and k != "index.html"} == \
           {k: v for k, v in without.items() if k != "index.html"}

    (project / "tune/study.json").unlink()
    assert main(["report"]) == 0
    assert written(project) == without


def test_report_stage_refuses_a_corrupt_study_in_one_line_and_writes_nothing(project, capsys):
    (project / "tune/study.json").write_text('{"study": "digits", "trials": [')
    assert main(["report"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: tune/study.json: not valid JSON") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (project / "reports").exists()
