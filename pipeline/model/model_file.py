"""Save a trained ``DigitNetClassifier`` as one ``.npz`` (weights, architecture, input scaling,
params) with byte-reproducible output, and load it back with its shapes checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.core.arrays_file import load_arrays, save_arrays
from pipeline.core.errors import PipelineError
from pipeline.model.estimator import DigitNetClassifier

FORMAT = "digit-pipeline-model/1"
# Estimator parameters saved under other names by earlier versions of this format.
FORMER_NAMES = {"n_shift_groups": "augment_groups", "augment_shift": "augment_translate",
                "beta1": "beta_1", "beta2": "beta_2"}


def save_model(path: str | Path, model: DigitNetClassifier) -> None:
    meta = {
        "format": FORMAT,
        "sizes": [int(model.layers_[0][0].shape[0])] + [int(w.shape[1]) for w, _ in model.layers_],
        "input_scale": float(model.input_scale_),
        "params": _jsonable(model.get_params()),
        "trained_on": getattr(model, "device_", "cpu"),  # cpu, or the GPU with CuPy's and CUDA's versions
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
              "classes": np.asarray(model.classes_)}
    for i, (w, b) in enumerate(model.layers_):
        arrays[f"W{i}"], arrays[f"b{i}"] = w, b
    if getattr(model, "input_basis_", None) is not None:  # input_components: the projection is part of the model
        arrays["input_basis"] = model.input_basis_
    save_arrays(path, arrays)


def load_model(path: str | Path) -> DigitNetClassifier:
    arrays = load_arrays(path, required=("meta", "classes"))
    try:
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PipelineError(f"{path}: the model's metadata is unreadable; retrain with dvc repro -f train") from None
    if meta.get("format") != FORMAT:
        raise PipelineError(f"{path}: model format {meta.get('format')!r} is not {FORMAT!r}; retrain with dvc repro -f train")
    sizes = meta["sizes"]
    params = {FORMER_NAMES.get(k, k): tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()}
    model = DigitNetClassifier(**params)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w, b = arrays.get(f"W{i}"), arrays.get(f"b{i}")
        if w is None or b is None or w.shape != (fan_in, fan_out) or b.shape != (fan_out,):
            found = "missing" if w is None or b is None else f"W{i} {w.shape}, b{i} {b.shape}"
            raise PipelineError(f"{path}: layer {i} should be {fan_in}x{fan_out}, found {found}; "
                                f"the model file does not match its architecture")
        layers.append((w, b))
    if len(arrays["classes"]) != sizes[-1]:
        raise PipelineError(f"{path}: {len(arrays['classes'])} classes for {sizes[-1]} outputs")
    basis = arrays.get("input_basis")
    if 0 < model.input_components < sizes[0] and (basis is None or basis.shape != (sizes[0], model.input_components)):
        found = "missing" if basis is None else f"{basis.shape}"
        raise PipelineError(f"{path}: input_components is {model.input_components} but the projection is {found}; "
                            f"retrain with dvc repro -f train")
    model.input_basis_ = basis
    model.layers_ = layers
    model.classes_ = arrays["classes"]
    model.input_scale_ = meta["input_scale"]
    model.n_features_in_ = sizes[0]
    model.device_ = meta.get("trained_on", "cpu")
    return model


def _jsonable(params: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v.item() if isinstance(v, np.generic) else v)
            for k, v in params.items()}
