"""Issue 22's lever "warp strength over training", measured with the product's own engine.

    python benchmarks/frontier/warp_strength.py --prepared data/prepared --max-iter 3600 --start 1 --final 0
    python benchmarks/frontier/warp_strength.py --prepared data/prepared --max-iter 3600 \\
        --set augment_rotate_degrees=15 --set augment_elastic_alpha=2.5

Trains ``DigitNetClassifier`` with params.yaml's defaults (``--set train_key=value`` changes one) on the
split stage's ``train.npz``, as the train stage does, except that every warp range (translation,
rotation, zoom, shear, elastic size) is multiplied by a strength that goes linearly from ``--start`` at
the first update to ``--final`` at the last (1 and 1: the train stage itself, same draws, same bytes).
The product has no such parameter: this script wraps ``warps.random_warps`` for the one run. Prints
one JSON line: the schedule, the training seconds, and validation and test accuracy with one view and
with the predict stage's 9 shifted views (test only where ``test.npz`` has answers); ``--save`` keeps
the model for ``views_and_ensembles.py``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.core.arrays_file import load_arrays  # noqa: E402
from pipeline.core.config import TrainParams  # noqa: E402
from pipeline.core.param_rules import check_fields  # noqa: E402
from pipeline.model import warps  # noqa: E402
from pipeline.model.model_file import save_model  # noqa: E402
from pipeline.model.tta import predict_shifted  # noqa: E402
from pipeline.stages.train import build_model  # noqa: E402


def strength_schedule(start: float, final: float, updates: int):
    """A wrapper of ``warps.random_warps`` whose k-th call (the k-th update's draw) scales every range
    by ``start + (final - start) * k / (updates - 1)``; the random numbers drawn stay the same."""
    original = warps.random_warps
    calls = [0]

    def random_warps(rng, n, shape, r, dtype=np.float64):
        s = start + (final - start) * min(calls[0], updates - 1) / max(updates - 1, 1)
        calls[0] += 1
        scaled = dataclasses.replace(r, translate=r.translate * s, rotate_degrees=r.rotate_degrees * s,
                                     scale=r.scale * s, shear_degrees=r.shear_degrees * s,
                                     elastic_alpha=r.elastic_alpha * s)
        return original(rng, n, shape, scaled, dtype)

    return random_warps, calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared", default="data/prepared", help="the split stage's folder")
    parser.add_argument("--max-iter", type=int, required=True)
    parser.add_argument("--start", type=float, default=1.0, help="warp strength at the first update")
    parser.add_argument("--final", type=float, default=1.0, help="warp strength at the last update")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a train param")
    parser.add_argument("--save", help="write the trained model here")
    args = parser.parse_args(argv)
    changes = {"max_iter": args.max_iter}
    for item in args.set:
        key, _, value = item.partition("=")
        changes[key] = yaml.safe_load(value)
    try:
        values = check_fields(TrainParams, {**dataclasses.asdict(TrainParams()), **changes}, "--set")
        if args.start < 0 or args.final < 0:
            raise ValueError("--start and --final must be >= 0")
        data = {name: load_arrays(Path(args.prepared) / f"{name}.npz", required=("X",))
                for name in ("train", "validation", "test")}
    except Exception as exc:  # one line, as the stages
        print(f"error: {exc}", file=sys.stderr)
        return 2
    params = TrainParams(**values)
    wrapper, calls = strength_schedule(args.start, args.final, params.max_iter)
    warps.random_warps = wrapper
    model = build_model(params)
    begin = time.perf_counter()
    model.fit(data["train"]["X"], data["train"]["y"])
    seconds = time.perf_counter() - begin
    out = {"start": args.start, "final": args.final, "changes": changes, "training_seconds": round(seconds, 1),
           "warp_draws": calls[0]}
    for name in ("validation", "test"):
        if "y" in data[name]:
            X, y = data[name]["X"], data[name]["y"]
            out[f"{name}_accuracy_single"] = round(float(np.mean(model.predict(X) == y)), 6)
            out[f"{name}_accuracy"] = round(float(np.mean(predict_shifted(model, X, 1) == y)), 6)
    if args.save:
        save_model(args.save, model)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
