"""A tiny trained model and the files the report stage reads, built from synthetic digits in a second."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from pipeline.core.arrays_file import save_arrays
from pipeline.model.estimator import DigitNetClassifier
from pipeline.core.metrics_io import write_csv, write_json
from pipeline.model.model_file import save_model

LEDGER_HEADER = ("submitted_at,ref,message,status,public_score,private_score,file_sha256,git_commit,"
                 "params_digest,validation_accuracy")


def synthetic_digits(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """28x28 uint8 images: class k is a bright 7x7 block at its own place, plus noise."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(10):
        row, col = 3 + 7 * (k // 4), 7 * (k % 4)
        for _ in range(n_per_class):
            image = rng.integers(0, 60, size=(28, 28))
            image[row:row + 7, col:col + 7] = rng.integers(150, 256, size=(7, 7))
            images.append(image.reshape(-1))
            labels.append(k)
    return np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.uint8)


def tiny_model(hidden: int = 12, iterations: int = 15) -> tuple[DigitNetClassifier, dict, dict]:
    """(fitted model, train arrays, validation arrays); 6 validation labels are flipped so the
    model is certainly, and confidently, wrong on those rows."""
    x, y = synthetic_digits(12, seed=1)
    xv, yv = synthetic_digits(4, seed=2)
    yv = yv.copy()
    yv[[0, 5, 9, 17, 22, 39]] = (yv[[0, 5, 9, 17, 22, 39]] + 3) % 10
    # unshifted, and not deskewed (its classes differ only by where the block is, which deskewing centres):
    # 15 updates learn it
    model = DigitNetClassifier(hidden_layer_sizes=(hidden,), max_iter=iterations, learning_rate=0.01, optimizer="adam",
                               augment_translate=0, deskew=False, input_components=0, eval_every=5, random_state=0)
    model.fit(x, y, eval_set=(xv, yv))
    return model, {"X": x, "y": y}, {"X": xv, "y": yv}


def write_project(root: Path, history: str | None = None) -> DigitNetClassifier:
    """Lay out everything the report stage reads under ``root`` (a project root)."""
    model, train, validation = tiny_model()
    (root / "params.yaml").write_text(yaml.safe_dump({"train": {"hidden_layer_sizes": [12], "max_iter": 15}}))
    save_model(root / "models/model.npz", model)
    save_arrays(root / "data/prepared/validation.npz", validation)
    write_json(root / "data/raw/source.json", {"kind": "sample", "origin": "synthetic"})
    write_json(root / "metrics/train.json", {"validation_accuracy": 0.85, "validation_loss": 0.5,
                                             "train_accuracy": 0.9, "train_loss": 0.3, "max_iter": 15,
                                             "train_seconds": 0.2, "seconds_per_iteration": 0.0133})
    write_json(root / "metrics/predict.json", {"test_rows": 40, "test_accuracy": 0.8})
    write_csv(root / "metrics/train_curve.csv", ["iteration", "loss", "accuracy", "learning_rate"], model.history_)
    write_csv(root / "metrics/validation_curve.csv", ["iteration", "validation_loss", "validation_accuracy"],
              [r for r in model.history_ if "validation_accuracy" in r])
    predicted = model.predict(validation["X"])
    write_csv(root / "metrics/confusion.csv", ["actual", "predicted"],
              [{"actual": int(a), "predicted": int(p)} for a, p in zip(validation["y"], predicted)])
    if history is not None:
        (root / "submissions").mkdir(exist_ok=True)
        (root / "submissions/history.csv").write_text(history)
    return model


def ledger(*rows: str) -> str:
    return "\n".join((LEDGER_HEADER, *rows)) + "\n"


SAMPLE_LEDGER = ledger(
    "2024-06-01T10:00:00Z,41000001,baseline,complete,0.95100,,aa,1111111111aa,d1,0.9500",
    "2024-06-03T11:00:00Z,41000002,\"adam, cosine\",complete,0.96500,,bb,2222222222bb,d2,0.9600",
    "2024-06-05T12:00:00Z,41000003,<script>alert(1)</script> https://example.com/x,complete,0.97300,,cc,33,d3,0.9700",
    "2024-06-07T12:00:00Z,41000004,still scoring,pending,,,dd,44,d4,0.9710",
)
