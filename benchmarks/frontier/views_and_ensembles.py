"""Two levers measured on trained models, at no training cost: other test-time views, and averaging
several networks' softmax.

    python benchmarks/frontier/views_and_ensembles.py --prepared data/prepared MODEL.npz [MODEL.npz ...]

MODEL.npz: ``models/model.npz`` files (``python -m pipeline train``'s output, or an experiment's, e.g.
``dvc get . models/model.npz --rev <experiment> -o longer.npz``). ``--prepared``: the split stage's
folder, whose ``validation.npz`` and ``test.npz`` (with ``y`` when the fetch had an answer key) are scored.

For each model: accuracy with one view, the predict stage's shifted views (9 and 25), and those views
plus small rotations and zooms about the centre (bilinear, zero outside, as the training warps). With
more than one model: the softmax of all of them averaged, with one view and with 9. Validation rows
were never trained on; choose by them, and read test figures as the check.

``--fit ROWS``: also each model's accuracy on the first ROWS rows of ``train.npz``, as they are and as
training shows them (each row with one fresh random warp from the model's own params, seed 0): how far
a network is from fitting its training data, clean and warped.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.core.arrays_file import load_arrays  # noqa: E402
from pipeline.model import nn, warps  # noqa: E402
from pipeline.model.model_file import load_model  # noqa: E402

SHAPE = (28, 28)


def view_matrix(degrees: float = 0.0, zoom: float = 1.0, dy: float = 0.0, dx: float = 0.0):
    """The sparse warp of one test-time view: rotated by ``degrees`` (as ``scipy.ndimage.rotate``) and zoomed about the centre, then
    moved ``dy`` rows down and ``dx`` columns right (as ``scipy.ndimage.shift`` and the predict stage)."""
    angle = np.deg2rad(-degrees)  # the map reads source pixels: its inverse turns the image by +degrees
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / zoom
    centre = (np.asarray(SHAPE, np.float64) - 1) / 2
    return warps.warp_matrix(SHAPE, matrix, centre - matrix @ centre - np.array([dy, dx]))


def shifts(k: int) -> list[tuple]:
    return [(0.0, 1.0, dy, dx) for dy, dx in itertools.product(range(-k, k + 1), repeat=2)]


VIEW_SETS = {
    "1 view": [(0.0, 1.0, 0, 0)],
    "9 shifts (the default)": shifts(1),
    "25 shifts": shifts(2),
    "9 shifts + rotations ±5°": shifts(1) + [(-5.0, 1.0, 0, 0), (5.0, 1.0, 0, 0)],
    "9 shifts + rotations ±5°, ±10°": shifts(1) + [(a, 1.0, 0, 0) for a in (-10.0, -5.0, 5.0, 10.0)],
    "9 shifts + zooms 0.9, 1.1": shifts(1) + [(0.0, 0.9, 0, 0), (0.0, 1.1, 0, 0)],
    "9 shifts x rotations {-5°, 0, 5°}": [(a, 1.0, dy, dx) for a in (-5.0, 0.0, 5.0) for _, _, dy, dx in shifts(1)],
}


def view_probabilities(model, X: np.ndarray) -> dict:
    """Each distinct view's softmax for every row of X, as the predict stage makes its views: of the rows as
    the network takes them (scaled, deskewed and projected when the model does), in float64."""
    inputs = model.transform_inputs(X)
    views = sorted({v for vs in VIEW_SETS.values() for v in vs})
    return {v: nn.softmax(model.logits_of_inputs(np.asarray((view_matrix(*v) @ inputs.T).T))) for v in views}


def accuracy(probabilities: list[dict], views: list[tuple], classes: np.ndarray, y: np.ndarray) -> float:
    total = sum(p[v] for p in probabilities for v in views)
    return float(np.mean(classes[np.argmax(total, axis=1)] == y) * 100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared", default="data/prepared", help="the split stage's folder")
    parser.add_argument("--fit", type=int, default=0, metavar="ROWS",
                        help="also score the first ROWS training rows, clean and warped")
    parser.add_argument("models", nargs="+", help="model files (models/model.npz of a run)")
    args = parser.parse_args(argv)
    splits = {}
    for name in ("validation", "test"):
        arrays = load_arrays(Path(args.prepared) / f"{name}.npz", required=("X",))
        if "y" in arrays:
            splits[name] = arrays
    if not splits:
        print("error: neither validation.npz nor test.npz has answers (y) to score", file=sys.stderr)
        return 2
    models = [load_model(path) for path in args.models]
    classes = models[0].classes_
    probabilities = {name: [view_probabilities(m, d["X"]) for m in models] for name, d in splits.items()}
    header = "| model | views | " + " | ".join(f"{name} %" for name in splits) + " |"
    print(header)
    print("|" + "---|" * (2 + len(splits)))
    for i, path in enumerate(args.models):
        for label, views in VIEW_SETS.items():
            cells = [f"{accuracy([probabilities[n][i]], views, classes, d['y']):.2f}" for n, d in splits.items()]
            print(f"| {Path(path).name} | {label} ({len(views)}) | " + " | ".join(cells) + " |")
    if len(models) > 1:
        for label in ("1 view", "9 shifts (the default)"):
            views = VIEW_SETS[label]
            cells = [f"{accuracy(probabilities[n], views, classes, d['y']):.2f}" for n, d in splits.items()]
            print(f"| softmax average of all {len(models)} | {label} ({len(views)}) | " + " | ".join(cells) + " |")
    if args.fit:
        train = load_arrays(Path(args.prepared) / "train.npz", required=("X", "y"))
        X, y = train["X"][:args.fit], train["y"][:args.fit]
        print(f"\n| model | first {len(X)} training rows, clean % | the same rows warped as in training % |")
        print("|---|---|---|")
        for path, model in zip(args.models, models):
            warped = model.augmented_examples(X, seed=0)
            print(f"| {Path(path).name} | {np.mean(model.predict(X) == y) * 100:.2f} "
                  f"| {np.mean(model.predict(warped) == y) * 100:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
