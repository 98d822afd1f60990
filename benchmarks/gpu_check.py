"""The GPU check: the default params trained twice on the GPU, timed, compared byte for byte, scored.

    python benchmarks/gpu_check.py --zip ../shared/data/digit-recognizer.zip --solution ../shared/data/solution.csv

Reads the competition zip and splits it as the ``split`` stage does (``params.yaml``'s ``split``),
trains ``params.yaml``'s ``train`` section on the GPU (``train.device`` is overridden with ``gpu``;
``--device cpu`` runs the same check on the CPU for comparison), twice, and prints:

- the GPU, CuPy and CUDA versions;
- seconds per update (median) and the whole training's seconds, for each run;
- whether the two saved model files are byte-identical;
- test accuracy with the submission's test-time views (``predict.tta_shift``) and with one view;
- one update's matrix products alone (the same shapes, on the same device), and the update's ratio to them.

It needs only NumPy, SciPy, scikit-learn, pandas, PyYAML and CuPy, and runs from the working tree
(``PYTHONPATH=.``): no dvc, no kaggle. ``--max-iter`` shortens the runs for a quick look.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.competition_data import load_split  # noqa: E402
from pipeline.core.config import load_params  # noqa: E402
from pipeline.core.errors import PipelineError  # noqa: E402
from pipeline.model import devices  # noqa: E402
from pipeline.model.estimator import DigitNetClassifier  # noqa: E402
from pipeline.model.model_file import save_model  # noqa: E402
from pipeline.model.tta import predict_shifted  # noqa: E402


def products_seconds(model: DigitNetClassifier, n: int, device: str, repeats: int = 20) -> float:
    """Median time of one update's matrix products alone: every layer's forward product, and the
    weight and input gradients' products, with the fit's shapes, on ``device``."""
    xp = devices.module_for(device)
    rng = np.random.default_rng(0)
    sizes = [model.layers_[0][0].shape[0]] + [w.shape[1] for w, _ in model.layers_]
    x = xp.asarray(rng.random((n, sizes[0]), dtype=np.float32))
    ws = [xp.asarray(rng.random((a, b), dtype=np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    acts = [xp.asarray(rng.random((n, b), dtype=np.float32)) for b in sizes[1:]]

    def once():
        h = x
        for w in ws:
            h = h @ w
        for i in range(len(ws) - 1, -1, -1):
            below = x if i == 0 else acts[i - 1]
            below.T @ acts[i]
            if i > 0:
                acts[i] @ ws[i].T

    samples = []
    for _ in range(repeats + 2):
        sync(xp)
        start = time.perf_counter()
        once()
        sync(xp)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples[2:])


def sync(xp) -> None:
    if xp is not np:
        xp.cuda.Stream.null.synchronize()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", required=True, help="the competition zip (train.csv, test.csv)")
    parser.add_argument("--solution", help="the answer key of test.csv (ImageId,Label), to score the test rows")
    parser.add_argument("--device", default="gpu", choices=("gpu", "cpu"), help="where to train (default gpu)")
    parser.add_argument("--max-iter", type=int, help="updates per run (default: params.yaml's train.max_iter)")
    parser.add_argument("--runs", type=int, default=2, help="trainings to compare byte for byte (default 2)")
    args = parser.parse_args(argv)
    params = load_params(ROOT / "params.yaml")
    try:
        device = devices.resolve(args.device)
        data = load_split(args.zip, args.solution, params.split)
    except (PipelineError, devices.GpuUnavailable, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    X, y, X_val, y_val = data.X, data.y, data.X_val, data.y_val
    test_pixels, answers = data.X_test, data.y_test
    train = dataclasses.replace(params.train, device=args.device,
                                **({"max_iter": args.max_iter} if args.max_iter else {}))
    print(f"device: {devices.describe(device)}")
    print(f"data: {len(X):,} train rows, {len(X_val):,} validation, {len(test_pixels):,} test; "
          f"{train.max_iter} updates of {'-'.join(map(str, (784, *train.hidden_layer_sizes, 10)))}", flush=True)
    digests, model = [], None
    for run in range(args.runs):
        model = DigitNetClassifier.from_params(train)
        start = time.perf_counter()
        model.fit(X, y, eval_set=(X_val, y_val))
        seconds = time.perf_counter() - start
        steps = np.diff([0.0] + [r["seconds"] for r in model.history_])
        with tempfile.TemporaryDirectory() as folder:
            save_model(Path(folder) / "model.npz", model)
            digests.append(hashlib.sha256((Path(folder) / "model.npz").read_bytes()).hexdigest())
        print(f"run {run + 1}: {seconds:.2f} s of fit, {float(np.median(steps[1:])) * 1e3:.2f} ms per update "
              f"(median; validation scoring every {train.eval_every} included), validation accuracy "
              f"{model.history_[-1]['validation_accuracy']:.4f}, model sha256 {digests[-1][:16]}", flush=True)
    print(f"model files byte-identical across {args.runs} runs: {'yes' if len(set(digests)) == 1 else 'NO'}")
    shift = params.predict.tta_shift
    start = time.perf_counter()
    predicted = predict_shifted(model, test_pixels, shift)
    if answers is not None:
        single = model.predict(test_pixels)
        print(f"test accuracy: {np.mean(predicted == answers):.4%} with {(2 * shift + 1) ** 2} views, "
              f"{np.mean(single == answers):.4%} with one ({len(answers):,} rows; predicted in "
              f"{time.perf_counter() - start:.1f} s on the CPU)")
    update = float(np.median(np.diff([0.0] + [r["seconds"] for r in model.history_])[1:]))
    products = products_seconds(model, len(X), device)
    where = "" if device == "gpu" else " (on the CPU the engine runs single-threaded BLAS per worker: bench.py's ratio check measures this properly)"
    print(f"one update's matrix products alone: {products * 1e3:.2f} ms; the update is {update / products:.2f}x them{where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
