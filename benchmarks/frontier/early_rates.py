"""Which learning rates train a network shape stably, before spending device time on it.

    python benchmarks/frontier/early_rates.py --prepared data/prepared --hidden 2500,2000,1500,1000,500 \\
        --rows 3000 --updates 60 0.005 0.002 0.001

Trains the shape with the default params (warps, groups, Adam) at each learning rate, held constant as in
the early part of a long cosine run, on the first ``--rows`` rows of the split stage's ``train.npz``, and
prints the loss along the way, the accuracy on the first 1,000 validation rows every 20 updates, and the
seconds per update, one line per rate. A rate that diverges says so on its line.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.core.arrays_file import load_arrays  # noqa: E402
from pipeline.core.config import TrainParams  # noqa: E402
from pipeline.model.estimator import TrainingDiverged  # noqa: E402
from pipeline.stages.train import build_model  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepared", default="data/prepared", help="the split stage's folder")
    parser.add_argument("--hidden", required=True, help="hidden layer widths, comma-separated")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("rates", nargs="+", type=float)
    args = parser.parse_args(argv)
    train = load_arrays(Path(args.prepared) / "train.npz", required=("X", "y"))
    validation = load_arrays(Path(args.prepared) / "validation.npz", required=("X", "y"))
    hidden = tuple(int(w) for w in args.hidden.split(","))
    for rate in args.rates:
        params = dataclasses.replace(TrainParams(), hidden_layer_sizes=hidden, learning_rate=rate,
                                     lr_schedule="constant", max_iter=args.updates, eval_every=20)
        model = build_model(params)
        try:
            model.fit(train["X"][:args.rows], train["y"][:args.rows],
                      eval_set=(validation["X"][:1000], validation["y"][:1000]))
        except TrainingDiverged as exc:
            print(f"learning_rate {rate}: {exc}", flush=True)
            continue
        history = model.history_
        marks = sorted({0, 4, 9, 19, 39, len(history) - 1} & set(range(len(history))))
        losses = ", ".join(f"{history[i]['loss']:.3f} at {i + 1}" for i in marks)
        accuracies = ", ".join(f"{r['validation_accuracy']:.3f}" for r in history if "validation_accuracy" in r)
        print(f"learning_rate {rate}: loss {losses}; validation {accuracies}; "
              f"{history[-1]['seconds'] / len(history):.2f} s per update", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
