"""The arrays the GPU stand-in trains on: the split stage's exact split of the competition zip, and the answers.

    python benchmarks/frontier/prepare_data.py ZIP SOLUTION.csv OUT.npz
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.data.competition_zip import read_member  # noqa: E402
from pipeline.data.digits_csv import parse_digits_csv  # noqa: E402
from pipeline.data.splitting import split_indices  # noqa: E402
from pipeline.submissions.format import parse_submission  # noqa: E402

z, solution, out = sys.argv[1:4]
X, y = parse_digits_csv(read_member(z, "train.csv"), "train.csv", labelled=True)
T, _ = parse_digits_csv(read_member(z, "test.csv"), "test.csv", labelled=False)
_, sol = parse_submission(Path(solution).read_bytes(), solution)
tr, va = split_indices(y, 0.1, 42)  # params.yaml's split
np.savez_compressed(out, Xtr=X[tr], ytr=y[tr], Xva=X[va], yva=y[va], Xte=T, yte=sol.astype(np.uint8), Xall=X, yall=y)
print(X.shape, len(tr), len(va), T.shape)
