"""What more augmentation groups cost: seconds per full-batch update and peak memory, warps on and off.

Every update draws a fresh shift or warp for each of ``train.augment_groups`` groups of rows, so more
groups show the network more variety per update; this measures where that starts to cost. Each
configuration is the default ``params.yaml: train`` with only the groups (and, for "shifts only",
the warps off) changed, trained for ``--updates`` updates through ``DigitNetClassifier.fit`` on the
split stage's training rows, in a process of its own so its peak memory (VmHWM; 1 GB = 10⁹ bytes) is its own. The
configurations alternate over ``--rounds`` rounds; the figure is the median of every update after
each fit's first. BLAS runs as on users' machines (``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``
unset in the children) unless ``--kernels as-set``. Run from the project root:

    python benchmarks/groups_cost.py --zip ../shared/data/digit-recognizer.zip [--groups 4,16,64,256]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(zip_path: str, out: Path) -> int:
    """The split stage's training rows of ``zip_path``, saved to ``out`` (.npy pair); returns the row count."""
    from pipeline.core.config import load_params
    from pipeline.data.competition_zip import check_competition_zip, read_member
    from pipeline.data.digits_csv import parse_digits_csv
    from pipeline.data.splitting import split_indices

    check_competition_zip(zip_path)
    split = load_params(ROOT / "params.yaml").split
    X, y = parse_digits_csv(read_member(zip_path, "train.csv"), "train.csv", labelled=True)
    train, _ = split_indices(y, split.validation_fraction, split.random_state)
    np.save(out / "X.npy", X[train])
    np.save(out / "y.npy", y[train])
    return len(train)


def child(folder: str, groups: int, warps: bool, updates: int) -> None:
    """One configuration's fit; prints a JSON line: per-update seconds, peak RSS, the BLAS kernels."""
    from benchmarks.common import peak_rss_bytes
    from benchmarks.worker import kernels
    from pipeline.core.config import load_params
    from pipeline.stages.train import build_model
    from pipeline.model.warps import WARP_PARAMS

    params = dataclasses.replace(load_params(ROOT / "params.yaml").train, augment_groups=groups,
                                 max_iter=updates)
    if not warps:
        params = dataclasses.replace(params, **{key: 0.0 for key in WARP_PARAMS})
    X, y = np.load(Path(folder) / "X.npy"), np.load(Path(folder) / "y.npy")
    model = build_model(params)
    model.fit(X, y)
    seconds = np.diff([0.0] + [r["seconds"] for r in model.history_])[1:]  # the first update warms up
    print(json.dumps({"seconds": seconds.tolist(), "peak_gb": peak_rss_bytes() / 1e9,
                      "kernels": sorted(f"{lib}: {arch}" for lib, arch in kernels().items())}))


def run_child(folder: Path, groups: int, warps: bool, updates: int, env: dict) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", str(folder), str(groups), str(int(warps)),
                             str(updates)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"groups {groups}, warps {warps}: the fit failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        folder, groups, warps, updates = sys.argv[2:6]
        child(folder, int(groups), warps == "1", int(updates))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", default=str(ROOT / "data/raw/digit-recognizer.zip"))
    parser.add_argument("--groups", default="4,16,64,256", help="comma-separated numbers of groups")
    parser.add_argument("--updates", type=int, default=8, help="updates per fit (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="fits per configuration, alternating (default 2)")
    parser.add_argument("--kernels", choices=("users", "as-set"), default="users")
    args = parser.parse_args()
    counts = [int(g) for g in args.groups.split(",")]
    env = dict(os.environ)
    if args.kernels == "users":
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            env.pop(key, None)
    configs = [(g, w) for g in counts for w in (False, True)]
    seconds = {c: [] for c in configs}
    peak = {c: 0.0 for c in configs}
    ran = set()
    with tempfile.TemporaryDirectory() as tmp:
        from pipeline.core.errors import PipelineError

        try:
            rows = prepare(args.zip, Path(tmp))
        except PipelineError as exc:
            raise SystemExit(f"error: {exc}; pass --zip PATH to the competition zip") from None
        print(f"{rows:,} training rows; {args.updates} updates per fit, {args.rounds} rounds; command: "
              f"`python {' '.join(sys.argv)}`", flush=True)
        for round_ in range(args.rounds):
            for config in configs if round_ % 2 == 0 else configs[::-1]:
                result = run_child(Path(tmp), *config, args.updates, env)
                seconds[config] += result["seconds"]
                peak[config] = max(peak[config], result["peak_gb"])
                ran.update(result["kernels"])
                print(f"  round {round_ + 1}: groups {config[0]}, {'warps' if config[1] else 'shifts only'}: "
                      f"{np.median(result['seconds']):.3f} s per update", file=sys.stderr, flush=True)
    print(f"BLAS kernels: {', '.join(sorted(ran))} ({'unset' if args.kernels == 'users' else 'as set'}: "
          "OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)\n")
    print("| groups | s per update, shifts only | s per update, warps | warps' extra | peak RSS, shifts only | peak RSS, warps |")
    print("|---|---|---|---|---|---|")
    for g in counts:
        plain, warped = np.median(seconds[(g, False)]), np.median(seconds[(g, True)])
        print(f"| {g} | {plain:.3f} | {warped:.3f} | {warped / plain - 1:+.1%} | {peak[(g, False)]:.2f} GB "
              f"| {peak[(g, True)]:.2f} GB |")


if __name__ == "__main__":
    main()
