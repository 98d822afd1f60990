"""Peak memory of the split stage against the size of train.csv, which it parses in chunks so that
memory follows the rows, not the bytes of the text.

Builds competition-shaped zips of 1x, 5x and 10x the competition's 42,000 labelled rows (random
pixels; test.csv 28,000 rows) in a temporary folder, runs `python -m pipeline split` on each in a
throwaway project, and prints the child's peak RSS and wall time. The BLAS variables this machine
forces are unset for the child only (split does no BLAS work, but its numbers should be the ones
users get). Run from the project root:

    python benchmarks/split_memory.py [--sizes 1,5,10]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROWS, TEST_ROWS = 42_000, 28_000
HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _write_csv(handle, rows: int, labelled: bool, rng: np.random.Generator, chunk: int = 2_000) -> None:
    handle.write(((HEADER if labelled else HEADER.split(",", 1)[1]) + "\n").encode())
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        pixels = rng.integers(0, 256, size=(n, 784)) * (rng.random((n, 784)) < 0.2)  # mostly blank, like digits
        if labelled:
            pixels = np.column_stack([np.arange(start, start + n) % 10, pixels])
        handle.write(("\n".join(",".join(map(str, row)) for row in pixels.tolist()) + "\n").encode())


def build_project(folder: Path, factor: int) -> Path:
    rng = np.random.default_rng(factor)
    raw = folder / "data/raw"
    raw.mkdir(parents=True)
    with zipfile.ZipFile(raw / "digit-recognizer.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("train.csv", "w", force_zip64=True) as handle:
            _write_csv(handle, ROWS * factor, True, rng)
        with archive.open("test.csv", "w", force_zip64=True) as handle:
            _write_csv(handle, TEST_ROWS, False, rng)
        archive.writestr("sample_submission.csv",
                         "ImageId,Label\n" + "".join(f"{i},0\n" for i in range(1, TEST_ROWS + 1)))
    (folder / "params.yaml").write_text("split:\n  validation_fraction: 0.1\n  random_state: 42\n")
    return folder


def measure(project: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["PYTHONPATH"] = str(ROOT)
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipeline", "split"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit(f"split failed:\n{result.stderr[-2000:]}")
    seconds = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
    return peak_kib / 1024 ** 2, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10", help="multiples of the competition's 42,000 rows")
    factors = [int(f) for f in parser.parse_args().sizes.split(",")]
    print(f"{'train rows':>11} {'train.csv MB':>13} {'peak RSS GB':>12} {'seconds':>8}")
    for factor in sorted(factors):  # ascending: ru_maxrss of children is a running maximum
        with tempfile.TemporaryDirectory() as tmp:
            project = build_project(Path(tmp), factor)
            with zipfile.ZipFile(project / "data/raw/digit-recognizer.zip") as archive:
                size_mb = archive.getinfo("train.csv").file_size / 1e6
            peak_gb, seconds = measure(project)
            print(f"{ROWS * factor:>11,} {size_mb:>13,.0f} {peak_gb:>12.2f} {seconds:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
