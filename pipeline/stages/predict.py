"""Stage ``predict``: label test.csv with the trained model and write submissions/submission.csv.

Each test digit is predicted from its averaged shifted copies (``predict.tta_shift``); the same
procedure is scored on the validation split, which the model never trained on, so
metrics/predict.json says what the submission itself is worth, beside the single-view figures.
"""

from __future__ import annotations

import time

import numpy as np

from pipeline.core import paths
from pipeline.core.arrays_file import load_arrays
from pipeline.core.config import load_params
from pipeline.core.metrics_io import write_json
from pipeline.model.model_file import load_model
from pipeline.model.tta import predict_shifted, shift_offsets
from pipeline.submissions.format import write_submission


def run(args) -> int:
    shift = load_params(paths.PARAMS).predict.tta_shift
    model = load_model(paths.MODEL)
    test = load_arrays(paths.TEST_ARRAYS, required=("X",))
    validation = load_arrays(paths.VALIDATION_ARRAYS, required=("X", "y"))
    start = time.perf_counter()
    predicted = predict_shifted(model, test["X"], shift).astype(np.int64)
    seconds = time.perf_counter() - start
    write_submission(paths.SUBMISSION, predicted)
    metrics = {"test_rows": int(len(predicted)), "tta_copies": len(shift_offsets(shift)),
               "predict_seconds": round(seconds, 2), "device": model.prediction_device().description,
               "validation_accuracy": float(np.mean(predict_shifted(model, validation["X"], shift) == validation["y"])),
               "validation_accuracy_single": float(np.mean(model.predict(validation["X"]) == validation["y"]))}
    if "y" in test:
        metrics["test_accuracy"] = float(np.mean(predicted == test["y"]))
        metrics["test_accuracy_single"] = float(np.mean(model.predict(test["X"]) == test["y"]))
    write_json(paths.PREDICT_METRICS, metrics)
    scored = f", test accuracy {metrics['test_accuracy']:.4f}" if "test_accuracy" in metrics else ""
    views = f"each averaged over {metrics['tta_copies']} shifted copies" if shift else "one view each"
    print(f"predict: wrote {paths.SUBMISSION} ({len(predicted)} rows, {views}); "
          f"validation accuracy {metrics['validation_accuracy']:.4f}{scored}")
    return 0
