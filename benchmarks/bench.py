"""Benchmark: our full-batch NumPy network against scikit-learn's MLPClassifier and PyTorch.

    python benchmarks/bench.py                           # everything, on data/raw/digit-recognizer.zip
    python benchmarks/bench.py --rows 3000 --iterations 30 --epochs 3   # a quick look

All contenders train on the same rows and are scored on the same stratified validation split
(params.yaml's split section, as the split stage makes it), each in its own process. Prints a
Markdown table on stdout (progress goes to stderr) and writes the raw results as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import machine, table  # noqa: E402
from benchmarks.common import ROOT  # noqa: E402
from pipeline.core.arrays_file import save_arrays  # noqa: E402
from pipeline.data.competition_zip import check_competition_zip, read_member  # noqa: E402
from pipeline.core.config import load_params  # noqa: E402
from pipeline.data.digits_csv import parse_digits_csv  # noqa: E402
from pipeline.core.errors import PipelineError  # noqa: E402
from pipeline.core.threads import with_threads  # noqa: E402
from pipeline.data.splitting import split_indices  # noqa: E402
from pipeline.submissions.format import parse_submission  # noqa: E402

CONTENDERS = ("ours", "ours-previous", "sklearn-default", "sklearn-wide", "torch")
CHECKS = ("parse", "ratio", "stage")
WORKER = Path(__file__).resolve().parent / "worker.py"
DEFAULT_ZIP = ROOT / "data/raw/digit-recognizer.zip"
# Some machines set these to force older OpenBLAS kernels (older builds crashed on their CPUs); users'
# machines do not. --kernels users (the default) runs every worker without them.
FORCING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
KERNELS = ("users", "as-set", "both")


def names(allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        chosen = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; choose from {','.join(allowed)}")
        return chosen
    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP,
                        help="the competition zip (train.csv, test.csv); default data/raw/digit-recognizer.zip, "
                             "where `dvc repro` fetches it")
    parser.add_argument("--solution", type=Path, default=None,
                        help="test answers (ImageId,Label) for test accuracy; default: solution.csv beside the zip, if any")
    parser.add_argument("--rows", type=int, default=None, help="use only the first N rows of train.csv")
    parser.add_argument("--iterations", type=int, default=None,
                        help="full-batch updates for ours and torch (default: params.yaml train.max_iter)")
    parser.add_argument("--epochs", type=int, default=None, help="most epochs for sklearn (default: its max_iter, 200)")
    parser.add_argument("--contenders", type=names(CONTENDERS), default=list(CONTENDERS),
                        help=f"comma-separated, default {','.join(CONTENDERS)}")
    parser.add_argument("--checks", type=names(CHECKS), default=list(CHECKS),
                        help="ours' targets, comma-separated: parse (train.csv parse time), ratio (an iteration "
                             "against its two largest products), stage (train stage peak memory); default all")
    parser.add_argument("--budget-s", type=float, default=1200.0,
                        help="training seconds per contender (default 1200); past it, training stops after the "
                             "current step, so the curve up to there is that of the full run")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit each contender's BLAS/OpenMP/torch threads (default: the libraries' own)")
    parser.add_argument("--kernels", choices=KERNELS, default="users",
                        help="BLAS kernels: users (default: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset in every "
                             "worker, as on users' machines), as-set (this environment's), or both (contenders as "
                             "users get them; the ratio check under both, side by side)")
    parser.add_argument("--parse-repeats", type=int, default=5, help="default 5")
    parser.add_argument("--ratio-repeats", type=int, default=7, help="default 7")
    parser.add_argument("--stage-iterations", type=int, default=20,
                        help="iterations of the train-stage memory run (default 20; its buffers do not grow "
                             "with iterations)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/latest.json",
                        help="where to write the raw results (default benchmarks/results/latest.json)")
    args = parser.parse_args(argv)
    for name in ("rows", "iterations", "epochs", "threads", "parse_repeats", "ratio_repeats", "stage_iterations"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(args, params, folder: Path) -> dict:
    """Parse the zip (timing train.csv), split like the split stage, save the arrays under ``folder``."""
    if not args.zip.is_file():
        hint = " (run `dvc repro` to fetch it)" if args.zip == DEFAULT_ZIP else ""
        raise PipelineError(f"{args.zip}: competition zip not found{hint}; or pass --zip PATH")
    check_competition_zip(args.zip)
    raw = read_member(args.zip, "train.csv")
    repeats = args.parse_repeats if "parse" in args.checks else 1
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        pixels, labels = parse_digits_csv(raw, "train.csv", labelled=True)
        seconds.append(time.perf_counter() - start)
    parse = {"median_seconds": statistics.median(seconds), "samples": seconds, "shape": [len(pixels), 785],
             "megabytes": len(raw) / 1e6}
    del raw
    test_pixels, _ = parse_digits_csv(read_member(args.zip, "test.csv"), "test.csv", labelled=False)
    solution = args.solution or (args.zip.parent / "solution.csv")
    if args.solution and not args.solution.is_file():
        raise PipelineError(f"{args.solution}: answer key not found")
    test = {"X": test_pixels}
    if args.solution or solution.is_file():
        _, answers = parse_submission(solution.read_bytes(), str(solution), expected_rows=len(test_pixels))
        test["y"] = answers.astype("uint8")
    if args.rows:
        pixels, labels = pixels[:args.rows], labels[:args.rows]
    train_rows, validation_rows = split_indices(labels, params.split.validation_fraction, params.split.random_state)
    prepared = folder / "data/prepared"
    prepared.mkdir(parents=True)
    save_arrays(prepared / "train.npz", {"X": pixels[train_rows], "y": labels[train_rows]})
    save_arrays(prepared / "validation.npz", {"X": pixels[validation_rows], "y": labels[validation_rows]})
    save_arrays(prepared / "test.npz", test)
    return {"zip": str(args.zip), "solution": str(solution) if "y" in test else None,
            "train_rows": len(train_rows), "validation_rows": len(validation_rows), "test_rows": len(test_pixels),
            "validation_fraction": params.split.validation_fraction, "split_seed": params.split.random_state,
            "folder": str(prepared), "parse": parse if "parse" in args.checks else None}


def run_worker(task: str, data: str, settings: dict, folder: Path, threads: int | None,
               cwd: Path | None = None, timeout: float | None = None, kernels: str = "users") -> dict:
    job, result = folder / f"{task}.job.json", folder / f"{task}.result.json"
    job.write_text(json.dumps({"task": task, "data": data, "settings": settings, "result": str(result)}))
    env = dict(os.environ)
    if kernels == "users":
        for name in FORCING_VARIABLES:
            env.pop(name, None)
    if threads:
        env = with_threads(env, threads)  # torch follows OMP's
    start = time.perf_counter()
    try:  # the worker's own output is progress: keep stdout for the table
        done = subprocess.run([sys.executable, str(WORKER), str(job)], cwd=cwd, env=env, stdout=sys.stderr,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no result after {timeout:.0f} s"}
    if done.returncode != 0 or not result.is_file():
        return {"error": f"worker exited with status {done.returncode} (its messages are above)"}
    return {**json.loads(result.read_text()), "wall_seconds": time.perf_counter() - start}


def run_contenders(args, params, data: dict, project: Path) -> dict:
    results = {}
    common = {"budget_s": args.budget_s, "iterations": args.iterations, "epochs": args.epochs,
              "seed": params.train.random_state}
    hidden = {"sklearn-default": [100], "sklearn-wide": list(params.train.hidden_layer_sizes)}
    for name in args.contenders:
        if name == "torch" and importlib.util.find_spec("torch") is None:
            log("bench: torch skipped: PyTorch is not installed (a CPU build is enough to include it)")
            results[name] = {"skipped": "PyTorch is not installed"}
            continue
        log(f"bench: training {name}")
        settings = {**common, "hidden": hidden.get(name), "previous": name == "ours-previous"}
        results[name] = run_worker(name, data["folder"], settings, project,
                                   args.threads, timeout=2 * args.budget_s + 600,
                                   kernels="as-set" if args.kernels == "as-set" else "users")
    return results


def run_checks(args, data: dict, project: Path) -> dict:
    results = {}
    if "parse" in args.checks:
        results["parse"] = data["parse"]
    if "ratio" in args.checks:
        for kernels in (("users", "as-set") if args.kernels == "both" else (args.kernels,)):
            log(f"bench: timing one iteration against its matrix products ({kernels} kernels)")
            key = "ratio-as-set" if args.kernels == "both" and kernels == "as-set" else "ratio"
            results[key] = run_worker("iteration-ratio", data["folder"], {"repeats": args.ratio_repeats},
                                      project, args.threads, kernels=kernels)
    if "stage" in args.checks:
        log(f"bench: peak memory of the train stage ({args.stage_iterations} iterations)")
        raw = yaml.safe_load((ROOT / "params.yaml").read_text())  # project/ already has data/prepared
        raw["train"]["max_iter"] = args.stage_iterations
        raw["train"]["warmup_iterations"] = min(raw["train"].get("warmup_iterations", 0), args.stage_iterations - 1)
        (project / "params.yaml").write_text(yaml.safe_dump(raw))
        stage = run_worker("train-stage", data["folder"], {}, project, args.threads, cwd=project,
                           kernels="as-set" if args.kernels == "as-set" else "users")
        results["stage"] = {**stage, "iterations": args.stage_iterations}
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = time.perf_counter()
    report = {"command": " ".join(shlex.quote(a) for a in ["python", "benchmarks/bench.py", *argv]),
              "machine": machine.describe(ROOT),
              "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="digit-bench-") as tmp:
        project = Path(tmp)  # a project copy for the train stage: params.yaml and data/prepared
        try:
            params = load_params(ROOT / "params.yaml")
            log(f"bench: reading {args.zip}")
            report["data"] = data = prepare(args, params, project)
        except PipelineError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        log(f"bench: {data['train_rows']} train, {data['validation_rows']} validation, {data['test_rows']} test rows")
        report["contenders"] = run_contenders(args, params, data, project)
        report["checks"] = run_checks(args, data, project)
    report["total_seconds"] = time.perf_counter() - started
    report["markdown"] = table.render(report, params.train)
    print(report["markdown"])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    log(f"bench: done in {report['total_seconds']:.0f} s; raw results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
