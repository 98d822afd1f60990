"""The GPU check: params.yaml's training on the GPU, timed phase by phase, compared byte for byte, scored.

    python benchmarks/gpu_check.py --zip ../shared/data/digit-recognizer.zip --solution ../shared/data/solution.csv

Reads the competition zip and splits it as the ``split`` stage does (``params.yaml``'s ``split``),
trains ``params.yaml``'s ``train`` section (``train.device`` set to ``--device``, default gpu;
``--set key=value`` changes a train param, e.g. ``--set hidden_layer_sizes=[2500,2000,1500,1000,500]``)
and prints, in this order, so that one call says where the time goes:

- the device, with the self-check's seconds (the first run on a machine compiles CuPy's kernels);
- a 2-update warm-up fit's seconds (compiling the full-size kernels), apart from what follows;
- each timed fit's seconds and seconds per update (validation scoring every ``eval_every`` included);
- the median seconds of each phase of an update, measured alone with the device synced around it:
  the host's draw of the warps, the moves (copy to the device and gather), forward, loss and backward,
  the optimizer step; and the layers' matrix products alone, with the update's ratio to them (the
  projection's and Newton-Schulz's products are inside the other phases: ``bench.py --checks ratio`` counts them);
- whether the model files are byte-identical: the runs of this process, and one run in a second process;
- test accuracy with the submission's views (``predict.tta_shift``) and with one, and the seconds to score.

It needs only NumPy, SciPy, scikit-learn, pandas, PyYAML and CuPy, and runs from the working tree
(``PYTHONPATH=.``): no dvc, no kaggle, no mlxtend. ``--max-iter`` shortens the runs (1 works).
CuPy leaves TF32 off unless ``CUPY_TF32=1``: these figures are full float32.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.competition_data import load_split  # noqa: E402
from pipeline.core.config import load_params, parse_params  # noqa: E402
from pipeline.core.errors import PipelineError  # noqa: E402
from pipeline.model import deskew, device_check, devices, nn, projection, warps  # noqa: E402
from pipeline.model.engines import make_engine  # noqa: E402
from pipeline.model.estimator import DTYPE, DigitNetClassifier  # noqa: E402
from pipeline.model.model_file import save_model  # noqa: E402
from pipeline.model.optim import network_optimizer  # noqa: E402
from pipeline.model.tta import predict_shifted  # noqa: E402


def synced(xp):
    """A clock that waits for the device before it reads the time."""
    def now() -> float:
        if xp is not np:
            xp.cuda.Stream.null.synchronize()
        return time.perf_counter()
    return now


def median_seconds(task, now, repeats: int) -> float:
    samples = []
    for _ in range(repeats + 1):
        start = now()
        task()
        samples.append(now() - start)
    return statistics.median(samples[1:])  # the first is a warm-up


def phase_seconds(params, X, y, device: str, repeats: int) -> dict[str, float]:
    """The median seconds of each phase of one update of ``params``' network over ``X``, each alone, on the
    engine ``fit`` builds (the digits deskewed and projected when those levers are on)."""
    rng = np.random.default_rng(0)
    x = np.multiply(X, 1 / 255, dtype=DTYPE)
    x = deskew.deskew(x, (28, 28)) if params.deskew else x
    basis = projection.principal_basis(x, params.input_components) if 0 < params.input_components < x.shape[1] else None
    sizes = [x.shape[1], *params.hidden_layer_sizes, int(y.max()) + 1]
    ranges = warps.ranges_of(params)
    engine = make_engine(device, x, y, sizes, params.weight_decay, (28, 28), params.augment_groups, basis,
                         params.dropout)
    xp, now = engine.xp, synced(engine.xp)
    flat = engine.put(nn.flatten(nn.he_init(rng, sizes, DTYPE)))
    gradient = xp.zeros_like(flat)
    layers, grads = nn.flat_views(flat, sizes), nn.flat_views(gradient, sizes)
    draw = lambda: warps.random_warps(rng, params.augment_groups, (28, 28), ranges, DTYPE)  # noqa: E731
    moves = draw()
    optimizer_step = network_optimizer(params.optimizer, flat, gradient, sizes, params.momentum, params.beta_1,
                                       params.beta_2, run_each=engine.run_each)
    out = {"host draw of the warps": median_seconds(draw, time.perf_counter, repeats)}
    with engine, engine.single_threaded_blas():
        if device == "cpu":  # the CPU engine moves weights inside its groups: only the whole update is its own
            out["whole update (moves, layers, backward)"] = median_seconds(
                lambda: engine.launch(layers, warps=moves, grads=grads, keep_seed=1), now, repeats)
            # its products are over the columns it keeps (the projection's k coordinates, or the used pixels)
            inputs = engine.x
            first = rng.standard_normal((inputs.shape[1], sizes[1]), dtype=np.float32) * np.float32(0.05)
            product_layers = [(first, layers[0][1]), *layers[1:]]
        else:
            move = lambda: engine._move(xp.asarray(moves.columns), xp.asarray(moves.weights))  # noqa: E731
            out["moves (to the device, gather)"] = median_seconds(move, now, repeats)
            inputs = move()
            product_layers = layers
        rows, targets = xp.arange(len(x)), engine.put(y)
        if device != "cpu":
            forward = median_seconds(lambda: nn.forward_all(layers, inputs), now, repeats)
            both = median_seconds(lambda: nn.loss_and_gradients(layers, inputs, targets, rows, 1 / len(x),
                                                                {"grads": grads}), now, repeats)
            out["forward"], out["loss and backward"] = forward, both - forward
        out["optimizer step"] = median_seconds(lambda: optimizer_step(1e-3), now, repeats)
    # with the BLAS library's own threads on the CPU (the engine's workers each run single-threaded BLAS)
    out["matrix products alone"] = median_seconds(lambda: products(product_layers, inputs), now, repeats)
    return out


def products(layers, x) -> None:
    """One update's matrix products: each layer's forward, weight gradient and (above the first) the gradient passed down."""
    h, acts = x, []
    for w, _ in layers:
        h = h @ w
        acts.append(h)
    for i in range(len(layers) - 1, -1, -1):
        below = x if i == 0 else acts[i - 1]
        below.T @ acts[i]
        if i > 0:
            acts[i] @ layers[i][0].T


def train_once(params, data) -> tuple[DigitNetClassifier, float, str]:
    model = DigitNetClassifier.from_params(params)
    start = time.perf_counter()
    model.fit(data.X, data.y, eval_set=(data.X_val, data.y_val))
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        save_model(Path(folder) / "model.npz", model)
        digest = hashlib.sha256((Path(folder) / "model.npz").read_bytes()).hexdigest()
    return model, seconds, digest


def train_params(args):
    changes = {"device": args.device, **({"max_iter": args.max_iter} if args.max_iter else {})}
    for item in args.set:
        key, _, value = item.partition("=")
        changes[key] = yaml.safe_load(value)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["train"] = {**raw.get("train", {}), **changes}
    return parse_params(raw, "params.yaml with --set").train


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", required=True, help="the competition zip (train.csv, test.csv)")
    parser.add_argument("--solution", help="the answer key of test.csv (ImageId,Label), to score the test rows")
    parser.add_argument("--device", default="gpu", choices=("gpu", "cpu"), help="where to train (default gpu)")
    parser.add_argument("--max-iter", type=int, help="updates per run (default: params.yaml's train.max_iter)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a train param, as YAML")
    parser.add_argument("--runs", type=int, default=2, help="timed trainings in this process (default 2)")
    parser.add_argument("--repeats", type=int, default=10, help="timings of each phase (default 10)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # one run, print its sha256
    args = parser.parse_args(argv)
    try:
        base = load_params(ROOT / "params.yaml")
        params = train_params(args)
        start = time.perf_counter()
        choice = device_check.choose(args.device)
        check_seconds = time.perf_counter() - start
        data = load_split(args.zip, args.solution, base.split)
    except (PipelineError, devices.GpuUnavailable, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.child:
        print(train_once(params, data)[2])
        return 0
    shape = "-".join(map(str, (784, *params.hidden_layer_sizes, 10)))
    print(f"device: {choice.description} (self-check {check_seconds:.2f} s)")
    print(f"data: {len(data.X):,} train rows, {len(data.X_val):,} validation, {len(data.X_test):,} test; "
          f"{params.max_iter} updates of {shape}, {params.augment_groups} groups", flush=True)
    start = time.perf_counter()
    train_once(dataclasses.replace(params, max_iter=2), data)
    print(f"warm-up: a 2-update fit in {time.perf_counter() - start:.2f} s (compiles the full-size kernels)", flush=True)
    digests, model = [], None
    for run in range(args.runs):
        model, seconds, digest = train_once(params, data)
        digests.append(digest)
        print(f"run {run + 1}: {seconds:.2f} s of fit, {seconds / params.max_iter * 1e3:.2f} ms per update (validation "
              f"every {params.eval_every} included), validation accuracy "
              f"{model.history_[-1]['validation_accuracy']:.4f}, model sha256 {digest[:16]}", flush=True)
    phases = phase_seconds(params, data.X, data.y, choice.device, args.repeats)
    update = sum(v for k, v in phases.items() if k != "matrix products alone")
    for name, seconds in phases.items():
        print(f"  phase: {name}: {seconds * 1e3:.2f} ms (median of {args.repeats})")
    print(f"one update's phases add up to {update * 1e3:.2f} ms, {update / phases['matrix products alone']:.2f}x its "
          f"layers' matrix products alone (the projection's and Muon's products are inside the other phases; "
          f"benchmarks/bench.py --checks ratio times them all)", flush=True)
    child = subprocess.run([sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]), "--child"],
                           capture_output=True, text=True)
    other = child.stdout.strip().splitlines()[-1] if child.returncode == 0 and child.stdout.strip() else None
    same_here = len(set(digests)) == 1
    print(f"model files byte-identical: {'yes' if same_here else 'NO'} across {args.runs} runs in this process; "
          + ("yes" if other == digests[0] else f"NO ({child.stderr.strip()[-200:] or other})") + " in a second process")
    start = time.perf_counter()
    predicted = predict_shifted(model, data.X_test, base.predict.tta_shift)
    scored = time.perf_counter() - start
    views = (2 * base.predict.tta_shift + 1) ** 2
    if data.y_test is not None:
        single = model.predict(data.X_test)
        print(f"test accuracy: {np.mean(predicted == data.y_test):.4%} with {views} views, "
              f"{np.mean(single == data.y_test):.4%} with one ({len(data.y_test):,} rows; {views} views scored in "
              f"{scored:.1f} s on {device_check.choose('cpu' if params.device == 'cpu' else 'auto').device})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
