"""Benchmark of `python -m pipeline tune` on the offline sample: trials per hour and pruning's savings.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/tune_scaling.py
    python benchmarks/tune_scaling.py --trials 4 --max-iter 200 --runs scaling   # a quick look

Runs the real command, as a user would, in a throwaway copy of this repository (its git-tracked
files) on the offline sample, one configuration after the other on the same machine:

  scaling   the same trials with 1 worker (BLAS on every core), 2 workers on the journal file (each
            worker's BLAS on one thread), and 2 workers sharing a study in PostgreSQL (a server on
            a loopback port, started and stopped here; skipped where Debian's postgresql is missing)
  pruning   the same trials (a seeded random sampler draws the same params whatever happens to
            them) with the median pruner and without it: compute spent, and the best accuracy found

Prints a Markdown table per part, with the machine, its BLAS kernels and the settings, and each
trial's minutes (median). Figures are comparable within one run only: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL server of the tests

from benchmarks import machine  # noqa: E402

GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
# A space with good and bad corners, so that a pruner has something to stop.
SPACE = {"train.learning_rate": {"low": 0.0003, "high": 0.03, "log": True},
         "train.hidden_layer_sizes": {"depth": {"low": 1, "high": 2}, "width": {"low": 64, "high": 256, "step": 64}}}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=8, help="trials per configuration (default 8)")
    parser.add_argument("--max-iter", type=int, default=600, help="each trial's updates (default 600)")
    parser.add_argument("--runs", default="scaling,pruning", help="scaling, pruning or both (default)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    return parser.parse_args(argv)


def copy_repo(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-qm", "bench"]):
        subprocess.run(cmd, cwd=dest, env=env, check=True, capture_output=True)
    return dest


def environment(home: Path) -> dict:
    env = {**os.environ, **GIT_ENV, "HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"),
           "KAGGLE_USERNAME": "", "KAGGLE_KEY": "", "KAGGLE_API_TOKEN": ""}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def fresh_repo(tmp: Path, name: str, max_iter: int, env: dict) -> Path:
    """A copy of its own for each sweep: one DVC cache per sweep, so no trial is restored from another
    sweep's run cache (the same seed draws the same params)."""
    repo = copy_repo(tmp / name)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["max_iter"] = max_iter
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "commit", "-qam", "bench params"], cwd=repo, env=env, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "repro", "split"], cwd=repo, env=env, check=True,
                   capture_output=True)
    return repo


def sweep(repo: Path, env: dict, study: str, trials: int, workers: int, pruner: str,
          storage: str | None = None) -> dict:
    space_file = repo / f"{study}.yaml"
    space_file.write_text(yaml.safe_dump({"study": study, "sampler": "random", "seed": 0,
                                          "pruner": {"kind": pruner, "startup_trials": 2, "warmup_percent": 20},
                                          "space": SPACE}, sort_keys=False))
    command = [sys.executable, "-m", "pipeline", "tune", "--space", space_file.name, "--trials", str(trials),
               "--workers", str(workers), *(["--storage", storage] if storage else [])]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    exported = json.loads((repo / "tune" / "study.json").read_text())
    done = [t for t in exported["trials"] if t["state"] in ("COMPLETE", "PRUNED")]
    minutes = []
    for t in done:
        if t["start"] and t["complete"]:
            from datetime import datetime
            minutes.append((datetime.fromisoformat(t["complete"]) - datetime.fromisoformat(t["start"])).total_seconds() / 60)
    complete = [t["value"] for t in exported["trials"] if t["state"] == "COMPLETE"]
    return {"study": study, "workers": workers, "storage": "PostgreSQL" if storage else "journal file",
            "pruner": pruner, "wall_seconds": round(seconds, 1), "finished": len(done),
            "pruned": sum(t["state"] == "PRUNED" for t in exported["trials"]),
            "trials_per_hour": round(len(done) / seconds * 3600, 1),
            "trial_minutes_total": round(sum(minutes), 2),
            "trial_minutes_median": round(statistics.median(minutes), 2) if minutes else None,
            "best_validation": max(complete) if complete else None,
            "params_by_number": {t["number"]: t["params"] for t in exported["trials"]}}


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    lines = ["| " + " | ".join(title for title, _ in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(key, "")) for _, key in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = {r.strip() for r in args.runs.split(",")}
    info = machine.describe(ROOT)
    print(f"Machine: {machine.one_line(info)}")
    forcing = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    print(f"BLAS: {info['blas']}; forcing variables set: {forcing or 'none (users kernels)'}")
    print(f"Settings: offline sample (2,700 training rows), params.yaml's defaults with train.max_iter="
          f"{args.max_iter}, {args.trials} trials per configuration, random sampler seed 0 over {json.dumps(SPACE)}\n")
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = environment(tmp / "home")

        def repo(name: str) -> Path:
            return fresh_repo(tmp, name, args.max_iter, env)
        if "scaling" in runs:
            rows = [sweep(repo("one"), env, "one-worker", args.trials, 1, "none"),
                    sweep(repo("two"), env, "two-workers", args.trials, 2, "none")]
            server = None
            try:
                from postgres_support import start_server

                server = start_server(tmp / "postgres")
            except BaseException as exc:  # pytest.skip's exception, or a failed start
                print(f"PostgreSQL not measured: {exc}\n")
            if server is not None:
                try:
                    rows.append(sweep(repo("two-pg"), env, "two-workers-pg", args.trials, 2, "none",
                                      server.create_database("bench")))
                finally:
                    server.stop()
            base = rows[0]["trials_per_hour"]
            for row in rows:
                row["speed-up"] = f"{row['trials_per_hour'] / base:.2f}x"
            results["scaling"] = rows
            print("Scaling (no pruning):\n")
            print(table(rows, [("workers", "workers"), ("storage", "storage"), ("wall s", "wall_seconds"),
                               ("finished trials", "finished"), ("trials per hour", "trials_per_hour"),
                               ("speed-up", "speed-up"), ("median trial min", "trial_minutes_median")]))
            print()
        if "pruning" in runs:
            rows = [sweep(repo("no-pruner"), env, "no-pruner", args.trials, 1, "none"),
                    sweep(repo("pruner"), env, "median-pruner", args.trials, 1, "median")]
            same = rows[0]["params_by_number"] == rows[1]["params_by_number"]
            saved = 1 - rows[1]["trial_minutes_total"] / rows[0]["trial_minutes_total"]
            for row in rows:
                row["best"] = f"{100 * row['best_validation']:.2f} %" if row["best_validation"] else "-"
            results["pruning"] = rows
            print(f"Pruning (the same {args.trials} trials' params in both: {same}):\n")
            print(table(rows, [("pruner", "pruner"), ("wall s", "wall_seconds"), ("trial minutes, total",
                                                                                   "trial_minutes_total"),
                               ("pruned", "pruned"), ("best validation", "best")]))
            print(f"\nCompute saved by pruning: {100 * saved:.0f} % of the trials' minutes")
    if args.json:
        for rows in results.values():
            for row in rows:
                row.pop("params_by_number", None)
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
