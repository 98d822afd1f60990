"""Stage ``report``: render reports/index.html and its PNGs from the model, metrics, ledger and, when
``python -m pipeline tune`` left one, the hyperparameter study."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core import paths
from pipeline.core.arrays_file import load_arrays
from pipeline.core.atomic import write_bytes
from pipeline.core.config import load_params
from pipeline.core.errors import PipelineError
from pipeline.model.model_file import load_model
from pipeline.report.build import ReportInputs, build_report
from pipeline.report.study_figures import read_study_export
from pipeline.submissions.ledger import read_history
from pipeline.core.metrics_io import read_json_object
from pipeline.report.tables import read_numeric_csv


def _params_rows(params) -> list[tuple[str, object]]:
    rows = [("fetch.source", params.fetch.source)]
    for section in ("split", "train", "predict"):
        values = dataclasses.asdict(getattr(params, section))
        rows += [(f"{section}.{name}", value) for name, value in values.items()]
    return rows


def gather_inputs() -> ReportInputs:
    params = load_params(paths.PARAMS)
    model = load_model(paths.MODEL)
    validation = load_arrays(paths.VALIDATION_ARRAYS, required=("X", "y"))
    confusion = read_numeric_csv(paths.CONFUSION, ("actual", "predicted"), integer=True)
    if not np.array_equal(confusion["actual"], validation["y"]):
        raise PipelineError(f"{paths.CONFUSION} has {len(confusion['actual'])} rows whose labels do not match "
                            f"the {len(validation['y'])} digits of {paths.VALIDATION_ARRAYS}: the metrics are "
                            f"from another split; rerun dvc repro")
    first_layer = model.layers_[0][0]
    if first_layer.shape[0] != 28 * 28:
        raise PipelineError(f"{paths.MODEL}: the first layer takes {first_layer.shape[0]} inputs, expected "
                            f"784 (28x28 pixels); the report draws its weights as images")
    return ReportInputs(
        train_curve=read_numeric_csv(paths.TRAIN_CURVE, ("iteration", "loss", "accuracy")),
        validation_curve=read_numeric_csv(paths.VALIDATION_CURVE,
                                          ("iteration", "validation_loss", "validation_accuracy")),
        actual=confusion["actual"], predicted=confusion["predicted"], classes=np.asarray(model.classes_),
        validation_images=validation["X"], validation_proba=model.predict_proba(validation["X"]),
        augmented=model.augmented_examples(np.repeat(validation["X"][:8], 4, axis=0)),
        augmentation=_augmentation_words(model),
        first_layer=first_layer, train_metrics=read_json_object(paths.TRAIN_METRICS),
        predict_metrics=read_json_object(paths.PREDICT_METRICS) if paths.PREDICT_METRICS.exists() else {},
        source=_optional_json(paths.RAW_SOURCE), params=_params_rows(params),
        history=read_history(paths.SUBMISSION_HISTORY), study=read_study_export(paths.STUDY_EXPORT))


def _optional_json(path) -> dict:
    try:
        return read_json_object(path) if path.exists() else {}
    except PipelineError:
        return {}  # only used for a line of context; a damaged file is fetch's concern


def run(args) -> int:
    files = build_report(gather_inputs())  # everything rendered before anything is written
    paths.REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in paths.REPORTS_DIR.glob("*.png"):
        if stale.name not in files:
            stale.unlink()
    for name, data in files.items():
        write_bytes(paths.REPORTS_DIR / name, data)
    size = sum(map(len, files.values()))
    print(f"report: wrote {paths.REPORT_PAGE} and {len(files) - 1} images ({size / 2**20:.1f} MiB); "
          f"open it in a browser: file://{paths.REPORT_PAGE.resolve()}")
    return 0


def _augmentation_words(model) -> str:
    p = model.get_params()
    parts = [f"translation up to {p['augment_translate']} px"] if p["augment_translate"] else []
    for key, unit in (("augment_rotate_degrees", "° rotation"), ("augment_scale", " scale"),
                      ("augment_shear_degrees", "° shear"), ("augment_elastic_alpha", " px elastic")):
        if p[key]:
            parts.append(f"±{p[key]:g}{unit}")
    return ", ".join(parts) or "none"
