"""What a submission file was made from: git commit, params, validation accuracy; and a default message.

For the pipeline's own ``submissions/submission.csv`` the params come from ``dvc.lock`` when the
file is the one it records (its md5 matches), since ``params.yaml`` may already have been edited
for the next experiment; otherwise from ``params.yaml``. A file from elsewhere has no known
provenance beyond its hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.core import paths
from pipeline.core.config import Params, load_params, parse_params
from pipeline.core.errors import PipelineError

DVC_LOCK = Path("dvc.lock")
# The ledger and the archive change with every submission: they do not make the code "dirty".
NOT_CODE = (f":(exclude){paths.SUBMISSION_HISTORY}", f":(exclude){paths.SUBMISSIONS_DIR}/archive")


@dataclass(frozen=True)
class Provenance:
    git_commit: str = ""  # full hash, "-dirty" when tracked files had uncommitted changes
    params_digest: str = ""  # sha256 of the split, train and predict params, 12 hex digits
    validation_accuracy: str = ""
    summary: str = ""  # key params in a few words, for the default message

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Provenance":
        raw = json.loads(text)
        return cls(**{f.name: str(raw.get(f.name, "")) for f in dataclasses.fields(cls)})


def git_commit(root: Path = Path(".")) -> str:
    """HEAD's hash, with "-dirty" when tracked files differ from it; "" outside a git repository."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=20)
        if head.returncode != 0:
            return ""
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *NOT_CODE],
                                cwd=root, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    dirty = status.returncode != 0 or bool(status.stdout.strip())
    return head.stdout.strip() + ("-dirty" if dirty else "")


def short_commit(commit: str) -> str:
    if not commit:
        return "no-git"
    return commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")


MADE_BY = ("split", "train", "predict")  # the params sections that shape a submission's answers


def params_digest(params: Params) -> str:
    canonical = json.dumps({name: dataclasses.asdict(getattr(params, name)) for name in MADE_BY}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def params_summary(params: Params) -> str:
    t = params.train
    views = f", tta {params.predict.tta_shift} px" if params.predict.tta_shift else ""
    return (f"hidden {list(t.hidden_layer_sizes)} {t.optimizer} lr {t.learning_rate:g} {t.lr_schedule} "
            f"{t.max_iter} it{views}")


def _locked_params(data: bytes, lock_path: Path) -> Params | None:
    """The split/train/predict params ``dvc.lock`` records, if it records ``data`` as the predict stage's output."""
    try:
        lock = yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}
        stages = lock["stages"]
        outs = {o["path"]: o.get("md5") for o in stages["predict"]["outs"]}
        if outs.get(str(paths.SUBMISSION)) != hashlib.md5(data).hexdigest():
            return None
        raw = {name: stages[name]["params"]["params.yaml"][name] for name in MADE_BY}
        return parse_params(raw, f"{lock_path}")
    except (OSError, yaml.YAMLError, KeyError, TypeError, PipelineError):
        return None


def _validation_accuracy() -> str:
    """The validation accuracy of the submission's own procedure (predict.json: with its shifted copies),
    else the model's single-view one (train.json)."""
    for source in (paths.PREDICT_METRICS, paths.TRAIN_METRICS):
        try:
            return f"{float(json.loads(source.read_text())['validation_accuracy']):.6g}"
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return ""


def of_file(path: Path, data: bytes) -> Provenance:
    """Provenance of ``data`` read from ``path`` (only the commit for a file the pipeline did not write)."""
    commit = git_commit()
    if Path(path).resolve() != paths.SUBMISSION.resolve():
        return Provenance(git_commit=commit)
    params = _locked_params(data, DVC_LOCK)
    if params is None:
        try:
            params = load_params(paths.PARAMS)
        except PipelineError:
            return Provenance(git_commit=commit, validation_accuracy=_validation_accuracy())
    return Provenance(git_commit=commit, params_digest=params_digest(params),
                      validation_accuracy=_validation_accuracy(), summary=params_summary(params))


def default_message(provenance: Provenance, path: Path, sha256: str) -> str:
    """E.g. ``a1b2c3d hidden [512] adam lr 0.001 cosine 1000 it, val acc 0.9567``."""
    parts = [short_commit(provenance.git_commit)]
    if provenance.summary:
        parts.append(provenance.summary)
    else:
        parts.append(f"{Path(path).name} sha256 {sha256[:12]}")
    message = " ".join(parts)
    if provenance.validation_accuracy:
        message += f", val acc {float(provenance.validation_accuracy):.4f}"
    return message
