"""Issue 22's lever "warm restarts with an average of the snapshots' predictions", with the product's engine.

    python benchmarks/frontier/snapshots.py --prepared data/prepared --max-iter 3600 --cycles 2

Trains ``DigitNetClassifier`` with params.yaml's defaults on the split stage's ``train.npz`` as the train
stage does, except that the cosine schedule restarts ``--cycles`` times (each cycle falls from the full
learning rate to zero over ``max_iter / cycles`` updates; Adam's moments carry on), and keeps the weights
at the end of every cycle (Huang et al. 2017, "Snapshot ensembles"). Prints one JSON line: each snapshot's
validation and test accuracy with the predict stage's 9 shifted views, and the same for the softmax
average of all snapshots and of the last two. ``--cycles 1`` is the train stage's own run.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.core.arrays_file import load_arrays  # noqa: E402
from pipeline.core.config import TrainParams  # noqa: E402
from pipeline.core.errors import PipelineError  # noqa: E402
from pipeline.model import estimator  # noqa: E402
from pipeline.model.tta import predict_proba_shifted  # noqa: E402
from pipeline.stages.train import build_model  # noqa: E402


def restarting_cosine(cycle: int):
    """``learning_rate_at`` with the cosine restarting every ``cycle`` updates."""
    def learning_rate_at(step: int, base: float, total: int, schedule: str, warmup: int = 0) -> float:
        return base * 0.5 * (1.0 + math.cos(math.pi * (step % cycle) / cycle))
    return learning_rate_at


def train_with_snapshots(params: TrainParams, X, y, cycles: int) -> list:
    """The fitted models at the end of each of ``cycles`` restarts of the cosine schedule."""
    if params.max_iter % cycles:
        raise ValueError(f"max_iter {params.max_iter} is not a multiple of --cycles {cycles}")
    cycle = params.max_iter // cycles
    kept = []
    model = build_model(params)

    def keep(record):
        if record["iteration"] % cycle == 0:
            kept.append([(w.copy(), b.copy()) for w, b in model.layers_])

    original = estimator.learning_rate_at
    estimator.learning_rate_at = restarting_cosine(cycle)
    try:
        model.fit(X, y, callback=keep)
    finally:
        estimator.learning_rate_at = original
    snapshots = []
    for layers in kept:
        snapshot = copy.copy(model)
        snapshot.layers_ = layers
        snapshots.append(snapshot)
    return snapshots


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared", default="data/prepared", help="the split stage's folder")
    parser.add_argument("--max-iter", type=int, required=True)
    parser.add_argument("--cycles", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        if args.cycles < 1 or args.max_iter < 1 or args.max_iter % args.cycles:
            raise ValueError(f"--max-iter {args.max_iter} must be a positive multiple of --cycles {args.cycles}")
        data = {name: load_arrays(Path(args.prepared) / f"{name}.npz", required=("X",))
                for name in ("train", "validation", "test")}
    except (ValueError, PipelineError) as exc:  # one line, as the stages
        print(f"error: {exc}", file=sys.stderr)
        return 2
    params = TrainParams(max_iter=args.max_iter)
    begin = time.perf_counter()
    snapshots = train_with_snapshots(params, data["train"]["X"], data["train"]["y"], args.cycles)
    out = {"max_iter": args.max_iter, "cycles": args.cycles, "training_seconds": round(time.perf_counter() - begin, 1)}
    for name in ("validation", "test"):
        if "y" not in data[name]:
            continue
        X, y = data[name]["X"], data[name]["y"]
        probabilities = [predict_proba_shifted(s, X, 1) for s in snapshots]
        classes = snapshots[0].classes_

        def accuracy(ps):
            return round(float(np.mean(classes[np.argmax(sum(ps), axis=1)] == y)), 6)

        out[f"{name}_accuracy_each"] = [accuracy([p]) for p in probabilities]
        out[f"{name}_accuracy_average_all"] = accuracy(probabilities)
        out[f"{name}_accuracy_average_last_two"] = accuracy(probabilities[-2:])
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
