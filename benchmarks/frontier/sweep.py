"""A sweep of configurations through the product's own estimator, on the GPU (or the CPU): one JSON line each.

    python benchmarks/frontier/sweep.py --zip ../shared/data/digit-recognizer.zip \\
        --solution ../shared/data/solution.csv --configs configs.json --out results.jsonl

``configs.json`` is a list of ``{"train": {...}, "predict": {...}}`` changes to ``params.yaml``, each
checked with params.yaml's own rules (``{"train": {"hidden_layer_sizes": [512, 512], "max_iter": 1500}}``).
Each configuration is trained with ``DigitNetClassifier`` exactly as the train stage builds it
(``--device``, default gpu), on the split the ``split`` stage makes, and scored as the submission
is (``predict.tta_shift`` views): validation accuracy, test accuracy when ``--solution`` is given,
training seconds. A line is appended as each run ends, so an interrupted sweep keeps what it did.
Needs no dvc or kaggle, like ``benchmarks/gpu_check.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.competition_data import load_split  # noqa: E402
from pipeline.core.config import load_params, parse_params  # noqa: E402
from pipeline.core.errors import PipelineError  # noqa: E402
from pipeline.model import device_check, devices  # noqa: E402
from pipeline.model.estimator import DigitNetClassifier, TrainingDiverged  # noqa: E402
from pipeline.model.tta import predict_shifted  # noqa: E402


def configured(base: dict, change: dict, where: str):
    """params.yaml's sections with ``change`` applied, through the loader's rules."""
    merged = {section: {**base.get(section, {}), **change.get(section, {})} for section in ("split", "train", "predict")}
    unknown = sorted(set(change) - {"train", "predict"})
    if unknown:
        raise PipelineError(f"{where}: only train and predict may change, not {', '.join(unknown)}")
    return parse_params(merged, where)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", required=True)
    parser.add_argument("--solution")
    parser.add_argument("--configs", required=True, help="JSON list of params.yaml changes")
    parser.add_argument("--out", required=True, help="JSONL file the results are appended to")
    parser.add_argument("--device", default="gpu", choices=("gpu", "cpu", "auto"))
    args = parser.parse_args(argv)
    import yaml

    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    try:
        changes = json.loads(Path(args.configs).read_text())
        if not isinstance(changes, list):
            raise PipelineError(f"{args.configs}: expected a JSON list of params.yaml changes")
        runs = [configured(base, change, f"{args.configs}[{i}]") for i, change in enumerate(changes)]
        choice = device_check.choose(args.device)
        data = load_split(args.zip, args.solution, load_params(ROOT / "params.yaml").split)
    except (PipelineError, devices.GpuUnavailable, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"sweep: {len(runs)} configurations on {choice.description}", flush=True)
    for i, (change, params) in enumerate(zip(changes, runs)):
        model = DigitNetClassifier.from_params(params.train).set_params(device=args.device)
        start = time.perf_counter()
        try:
            model.fit(data.X, data.y)
        except TrainingDiverged as exc:
            result = {"change": change, "error": str(exc)}
        else:
            seconds = time.perf_counter() - start
            shift = params.predict.tta_shift
            result = {"change": change, "device": model.device_, "train_seconds": round(seconds, 2),
                      "validation_accuracy": float(np.mean(predict_shifted(model, data.X_val, shift) == data.y_val)),
                      "validation_accuracy_single": float(model.score(data.X_val, data.y_val))}
            if data.y_test is not None:
                result["test_accuracy"] = float(np.mean(predict_shifted(model, data.X_test, shift) == data.y_test))
        with open(args.out, "a", encoding="utf-8") as out:
            out.write(json.dumps(result, sort_keys=True) + "\n")
        print(f"  {i + 1}/{len(runs)} {json.dumps(change)}: " + (result.get("error") or
              f"validation {result['validation_accuracy']:.4f}, {result['train_seconds']:.1f} s"), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
