"""Seconds per full-batch update of the default training (warps, groups, optimizer) for other hidden layers.

    python benchmarks/frontier/update_seconds.py data/prepared/train.npz 512 256,256 512,128 384,384 512,256 512,512

The first argument is the split stage's train.npz (its X, y: the 37,800 training rows of the competition zip). Each shape
trains twice for 8 updates through ``DigitNetClassifier.fit``, the shapes alternating; the median of the
updates after the first of each fit is printed with the BLAS kernels that ran.
"""
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.core.config import TrainParams  # noqa: E402
from pipeline.stages.train import build_model  # noqa: E402

data = np.load(sys.argv[1])
shapes = [tuple(int(w) for w in arg.split(",")) for arg in sys.argv[2:]]
print("kernels:", sorted({str(i.get("architecture")) for i in threadpool_info() if i["user_api"] == "blas"}))
seconds = {shape: [] for shape in shapes}
for _ in range(2):
    for shape in shapes:
        model = build_model(TrainParams(hidden_layer_sizes=shape, max_iter=8))
        model.fit(data["X"], data["y"])
        times = [r["seconds"] for r in model.history_]
        seconds[shape] += list(np.diff(times)[1:])
base = np.median(seconds[shapes[0]])
for shape, values in seconds.items():
    print(f"{'-'.join(map(str, shape)):>10}: {np.median(values):.3f} s per update ({np.median(values) / base:.2f}x the first)")
