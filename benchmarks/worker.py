"""Run one contender or check in a fresh process and write its result, with the process's peak memory.

    python benchmarks/worker.py JOB.json

bench.py writes JOB.json: {"task": ..., "data": folder of npz arrays, "settings": {...}, "result": path}.
A process per contender keeps each one's memory and threads its own.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Data, Tracker, accuracy, peak_rss_bytes  # noqa: E402

CONTENDERS = {  # name -> (module, unit of one training step)
    "ours": ("benchmarks.contenders.ours", "iteration"),
    "ours-previous": ("benchmarks.contenders.ours", "iteration"),
    "sklearn-default": ("benchmarks.contenders.sklearn_mlp", "epoch"),
    "sklearn-wide": ("benchmarks.contenders.sklearn_mlp", "epoch"),
    "torch": ("benchmarks.contenders.torch_mlp", "iteration"),
}


def run_contender(name: str, job: dict) -> dict:
    module, unit = CONTENDERS[name]
    run = importlib.import_module(module).run
    data = Data(job["data"])
    tracker = Tracker(name, job["settings"].get("budget_s"), unit)
    info, predict = run(data, job["settings"], tracker)
    result = {**info, **tracker.summary()}
    result["test_accuracy"] = accuracy(predict(data.X_test), data.y_test) if data.y_test is not None else None
    return result


def thread_counts() -> dict[str, int]:
    """Threads of each BLAS loaded here (by the package that ships it) and of torch, if loaded."""
    from threadpoolctl import threadpool_info

    counts = {Path(p["filepath"]).parent.name.removesuffix(".libs"): p["num_threads"]
              for p in threadpool_info() if p.get("user_api") == "blas"}
    if "torch" in sys.modules:
        counts["torch"] = sys.modules["torch"].get_num_threads()
    return counts


def kernels() -> dict[str, str]:
    """The OpenBLAS kernels each BLAS loaded here runs (threadpoolctl's "architecture"), by package."""
    from threadpoolctl import threadpool_info

    return {Path(p["filepath"]).parent.name.removesuffix(".libs"): str(p.get("architecture"))
            for p in threadpool_info() if p.get("user_api") == "blas"}


def main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    task = job["task"]
    if task in CONTENDERS:
        result = run_contender(task, job)
    elif task == "iteration-ratio":
        from benchmarks.checks import iteration_ratio

        result = iteration_ratio(Data(job["data"]), job["settings"]["repeats"])
    elif task == "train-stage":
        from benchmarks.checks import train_stage

        result = train_stage()
    else:
        raise SystemExit(f"unknown task {task!r}")
    result["peak_rss_bytes"] = peak_rss_bytes()
    result["threads"] = thread_counts()
    result["kernels"] = kernels()
    Path(job["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
