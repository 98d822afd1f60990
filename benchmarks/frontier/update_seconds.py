"""Seconds per full-batch update of params.yaml's training for other settings, measured side by side.

    python benchmarks/frontier/update_seconds.py data/prepared/train.npz "" "optimizer=muon" \\
        "input_components=128" "hidden_layer_sizes=[512,128]"

The first argument is the split stage's train.npz (its X, y: the 37,800 training rows of the competition
zip). Each further argument is one setting: space-separated ``key=value`` changes to params.yaml's
``train`` (values as YAML; "" is params.yaml itself). Every setting trains ``--updates`` updates through
``DigitNetClassifier.fit`` (device cpu), the settings taking turns for ``--rounds`` rounds, so a busy
spell of a shared machine falls on all of them; the median of the updates after the first of each fit
is printed beside its ratio to the first setting's, with the BLAS kernels that ran and the CPU.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks import machine  # noqa: E402
from pipeline.core.config import parse_params  # noqa: E402
from pipeline.stages.train import build_model  # noqa: E402


def setting(text: str) -> dict:
    changes = {}
    for item in text.split():
        key, _, value = item.partition("=")
        changes[key] = yaml.safe_load(value)
    return changes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_npz")
    parser.add_argument("settings", nargs="+", help='space-separated key=value changes to train; "" for none')
    parser.add_argument("--updates", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.updates < 3:
        parser.error("--updates must be at least 3: the first update of each fit is not counted")
    data = np.load(args.train_npz)
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = [parse_params({**base, "train": {**base["train"], **setting(text), "max_iter": args.updates,
                                              "device": "cpu"}}).train for text in args.settings]
    print(f"machine: {machine.one_line(machine.describe(ROOT))}")
    seconds = {text: [] for text in args.settings}
    for _ in range(args.rounds):
        for text, p in zip(args.settings, params):
            model = build_model(p)
            model.fit(data["X"], data["y"])
            seconds[text] += list(np.diff([r["seconds"] for r in model.history_])[1:])
    first = np.median(seconds[args.settings[0]])
    for text, values in seconds.items():
        print(f"{text or 'params.yaml':>40}: {np.median(values):.3f} s per update ({np.median(values) / first:.2f}x the "
              f"first; median of {len(values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
