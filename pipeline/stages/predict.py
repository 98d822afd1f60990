"""Stage ``predict``: label test.csv with the trained model and write submissions/submission.csv."""

from __future__ import annotations

import numpy as np

from pipeline.core import paths
from pipeline.core.arrays_file import load_arrays
from pipeline.core.metrics_io import write_json
from pipeline.model.model_file import load_model
from pipeline.submissions.format import write_submission


def run(args) -> int:
    model = load_model(paths.MODEL)
    test = load_arrays(paths.TEST_ARRAYS, required=("X",))
    predicted = model.predict(test["X"]).astype(np.int64)
    write_submission(paths.SUBMISSION, predicted)
    metrics = {"test_rows": int(len(predicted))}
    if "y" in test:
        metrics["test_accuracy"] = float(np.mean(predicted == test["y"]))
    write_json(paths.PREDICT_METRICS, metrics)
    scored = f", test accuracy {metrics['test_accuracy']:.4f}" if "test_accuracy" in metrics else ""
    print(f"predict: wrote {paths.SUBMISSION} ({len(predicted)} rows){scored}")
    return 0
