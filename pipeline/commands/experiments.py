"""Command ``experiments``: each DVC experiment's changed params beside its validation and test accuracy.

``dvc exp show`` lists 20-odd columns (every metric, every param, an md5 per dependency), so in a
terminal the params that changed and the accuracies that matter scroll off-screen. This reads
``dvc exp show --json`` and prints one line per experiment, best validation accuracy first within
each commit: its name, the accuracy of the submission's procedure (test-time views) on the
validation rows, on the test rows when their answers are known (the offline sample, or
``fetch.solution``), and the params that differ from its commit's, as ``-S`` takes them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

from pipeline.core.errors import PipelineError

PREDICT_METRICS = "metrics/predict.json"


def add_arguments(parser) -> None:
    parser.add_argument("--all-commits", action="store_true",
                        help="experiments of every commit, not only of the current one")


def flat(tree: dict, prefix: str = "") -> dict[str, object]:
    """``{"train": {"max_iter": 10}}`` as ``{"train.max_iter": 10}``, as ``dvc exp run -S`` names params."""
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _record(entry: dict) -> tuple[dict, dict]:
    data = entry.get("data") or {}
    params = flat(((data.get("params") or {}).get("params.yaml") or {}).get("data") or {})
    metrics = ((data.get("metrics") or {}).get(PREDICT_METRICS) or {}).get("data") or {}
    return params, metrics


def rows(shown: list[dict]) -> list[tuple[int, str, dict, list[str]]]:
    """(depth, name, predict metrics, changed params) for each commit of ``dvc exp show --json`` and,
    under it, each of its experiments, best validation accuracy first."""
    out = []
    for commit in shown:
        if commit.get("rev") == "workspace":
            continue
        base_params, base_metrics = _record(commit)
        out.append((0, commit.get("name") or str(commit.get("rev", ""))[:7], base_metrics, []))
        children = []
        for experiment in commit.get("experiments") or []:
            for revision in experiment.get("revs") or []:
                params, metrics = _record(revision)
                changed = [f"{k}={json.dumps(v, separators=(',', ':')) if isinstance(v, list) else v}"
                           for k, v in params.items() if base_params.get(k) != v]
                name = revision.get("name") or experiment.get("name") or str(revision.get("rev", ""))[:7]
                children.append((1, name, metrics, changed))
        children.sort(key=lambda row: -(row[2].get("validation_accuracy") or -1.0))
        out.extend(children)
    return out


def _percent(value) -> str:
    return f"{100 * value:.2f} %" if isinstance(value, (int, float)) else "-"


def render(table: list[tuple[int, str, dict, list[str]]], width: int = 100) -> str:
    """The table as text no wider than ``width`` columns; long lists of params wrap under their column."""
    name_width = min(max([len(name) + 2 * depth for depth, name, *_ in table] + [len("experiment")]), 28)
    head = f"{'experiment':<{name_width}}  {'validation':>10}  {'test':>8}  "
    lines = [head + "changed params"]
    room = max(width - len(head), 20)
    for depth, name, metrics, changed in table:
        label = ("  " * depth + name)[:name_width]
        start = f"{label:<{name_width}}  {_percent(metrics.get('validation_accuracy')):>10}  " \
                f"{_percent(metrics.get('test_accuracy')):>8}  "
        wrapped = textwrap.wrap(" ".join(changed), room, break_on_hyphens=False) or [""]
        lines.append((start + wrapped[0]).rstrip())
        lines.extend(" " * len(head) + more for more in wrapped[1:])
    return "\n".join(lines)


def run(args) -> int:
    command = ["dvc", "exp", "show", "--json", *(["--all-commits"] if args.all_commits else [])]
    # The dvc of this Python (a dependency of the package), whatever PATH says.
    result = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise PipelineError(f"{' '.join(command)} failed: {last}")
    try:
        shown = json.loads(result.stdout or "[]")
    except ValueError:
        raise PipelineError(f"{' '.join(command)} printed no JSON: {result.stdout[:200]!r}") from None
    table = rows(shown)
    if len(table) <= 1 and not any(depth for depth, *_ in table):
        print("no experiments yet: run one with  dvc exp run -S train.learning_rate=0.003", file=sys.stderr)
    print(render(table, shutil.get_terminal_size((100, 24)).columns))
    return 0
