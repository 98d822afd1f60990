"""Stage ``train``: fit the network on the train split, score it on validation, save model and metrics."""

from __future__ import annotations

import time

import numpy as np

from pipeline.model import devices, nn
from pipeline.core import paths
from pipeline.core.arrays_file import load_arrays
from pipeline.core.config import TrainParams, load_params
from pipeline.core.errors import PipelineError
from pipeline.model.estimator import DigitNetClassifier, TrainingDiverged
from pipeline.core.metrics_io import write_csv, write_json
from pipeline.model.model_file import save_model
from pipeline.core.progress import Progress
from pipeline.tuning.trial_hook import TrialHook


def build_model(params: TrainParams) -> DigitNetClassifier:
    """The estimator for params.yaml's ``train`` section."""
    return DigitNetClassifier.from_params(params)


def run(args) -> int:
    params = load_params(paths.PARAMS).train
    train = load_arrays(paths.TRAIN_ARRAYS, required=("X", "y"))
    validation = load_arrays(paths.VALIDATION_ARRAYS, required=("X", "y"))
    model = build_model(params)
    trial = TrialHook.from_env()  # a trial of `python -m pipeline tune`: report to it, stop if pruned
    progress = None
    last = {}

    def report(record: dict) -> None:
        nonlocal progress
        if progress is None:  # the first update: say where fit runs, as it resolved train.device
            print(f"train: {params.max_iter} full-batch updates on {model.device_} (train.device: {params.device})",
                  flush=True)
            progress = Progress(params.max_iter, "train", unit="it")
        if "validation_accuracy" in record:
            last["val_acc"] = record["validation_accuracy"]
            if trial is not None:
                trial(record["iteration"], params.max_iter, record["validation_accuracy"])
        progress.update(1, loss=record["loss"], acc=record["accuracy"], **last)

    start = time.perf_counter()
    try:
        model.fit(train["X"], train["y"], eval_set=(validation["X"], validation["y"]), callback=report)
    except TrainingDiverged as exc:
        raise PipelineError(f"{exc}; lower train.learning_rate in params.yaml") from None
    except devices.GpuUnavailable as exc:
        raise PipelineError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - start

    val_pred = model.predict(validation["X"])
    train_logits = model.decision_function_logits(train["X"])
    val_logits = model.decision_function_logits(validation["X"])
    targets = np.searchsorted(model.classes_, train["y"])
    val_targets = np.searchsorted(model.classes_, validation["y"])
    metrics = {
        "train_accuracy": float(np.mean(train_logits.argmax(1) == targets)),
        "train_loss": nn.cross_entropy(train_logits, targets),
        "validation_accuracy": float(np.mean(val_pred == validation["y"])),
        "validation_loss": nn.cross_entropy(val_logits, val_targets),
        "iterations": params.max_iter,
        "device": model.device_,
        "device_reason": model.device_reason_,
        "train_seconds": round(seconds, 2),
        "seconds_per_iteration": round(seconds / params.max_iter, 4),
    }
    save_model(paths.MODEL, model)
    paths.METRICS_DIR.mkdir(parents=True, exist_ok=True)
    write_json(paths.TRAIN_METRICS, metrics)
    write_csv(paths.TRAIN_CURVE, ["iteration", "loss", "accuracy", "learning_rate"], model.history_)
    write_csv(paths.VALIDATION_CURVE, ["iteration", "validation_loss", "validation_accuracy"],
              [r for r in model.history_ if "validation_accuracy" in r])
    write_csv(paths.CONFUSION, ["actual", "predicted"],
              [{"actual": int(a), "predicted": int(p)} for a, p in zip(validation["y"], val_pred)])
    print(f"train: validation accuracy {metrics['validation_accuracy']:.4f}, train accuracy "
          f"{metrics['train_accuracy']:.4f}, {params.max_iter} iterations in {seconds:.1f}s")
    return 0
