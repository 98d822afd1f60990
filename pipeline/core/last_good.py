"""Put a stage's last good outputs back when its command fails, so that a mistake never costs a model.

``dvc repro`` deletes a stage's outputs before it runs the stage's command, and leaves dvc.lock as
it was when the command fails. A typo in params.yaml, a crash or Ctrl-C would then leave the
workspace without the model, metrics and submission of the last good run, although their bytes
are still in DVC's cache (and, for the metrics kept in git, in git's HEAD).

``restore(stage)`` puts back every output of ``stage`` that dvc.lock records and that is missing
from the workspace, file by file (a directory output through its listing in the cache). The bytes
come from DVC's cache, or else from git's HEAD, and only when their MD5 is the one dvc.lock
names. An output that exists is never touched, so a stage run by hand, which deletes nothing, is
left as it was. Afterwards the workspace matches dvc.lock again: ``dvc status`` shows only what
the user changed, and putting the params back reruns nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Callable

import yaml

from pipeline.core.atomic import write_bytes

Source = Callable[[str, str], "bytes | None"]  # (path in the repo, md5) -> the bytes, or None


def locked_outputs(stage: str, root: Path) -> list[dict]:
    """dvc.lock's record of ``stage``'s outputs: dicts with ``path`` and ``md5`` (empty when none)."""
    try:
        lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))
        outs = lock["stages"][stage]["outs"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return []
    return [o for o in outs if isinstance(o, dict) and isinstance(o.get("path"), str) and isinstance(o.get("md5"), str)]


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _dvc_cache(root: Path) -> Source:
    """Bytes from DVC's local cache, found through DVC's own layout (``cache.local.oid_to_path``)."""
    try:
        from dvc.repo import Repo

        repo = Repo(str(root))
        oid_to_path = repo.cache.local.oid_to_path
        repo.close()
    except Exception:  # no DVC repo or cache here: nothing to restore from
        return lambda path, md5: None

    def read(path: str, md5: str) -> bytes | None:
        try:
            return Path(oid_to_path(md5)).read_bytes()
        except OSError:
            return None
    return read


def _git_head(root: Path) -> Source:
    def read(path: str, md5: str) -> bytes | None:
        result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True)
        return result.stdout if result.returncode == 0 else None
    return read


def _first_match(sources: list[Source], path: str, md5: str) -> bytes | None:
    for source in sources:
        data = source(path, md5)
        if data is not None and _md5(data) == md5:
            return data
    return None


def restore(stage: str, root: Path = Path(".")) -> list[str]:
    """Put back ``stage``'s missing outputs as dvc.lock records them; returns the paths put back."""
    missing = [o for o in locked_outputs(stage, root) if not (root / o["path"]).exists()]
    if not missing:
        return []
    sources = [_dvc_cache(root), _git_head(root)]
    restored = []
    for out in missing:
        path, md5 = out["path"], out["md5"]
        if md5.endswith(".dir"):
            listing = sources[0](path, md5)  # DVC's listing of the directory's files, kept in its cache
            try:
                entries = json.loads(listing) if listing is not None else []
            except ValueError:
                entries = []
            files = [(f"{path}/{e['relpath']}", e["md5"]) for e in entries]
        else:
            files = [(path, md5)]
        found = {name: _first_match(sources, name, digest) for name, digest in files}
        if not files or any(data is None for data in found.values()):
            continue  # not all of it is at hand: leave it missing rather than put back a part
        for name, data in found.items():
            write_bytes(root / name, data)
        restored.append(path)
    return restored
