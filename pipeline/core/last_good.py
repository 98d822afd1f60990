"""Put a stage's last good outputs back when its command fails, so that a mistake never costs a model.

``dvc repro`` deletes a stage's outputs before it runs the stage's command, and leaves dvc.lock as
it was when the command fails. A typo in params.yaml, a crash or Ctrl-C would then leave the
workspace without the model, metrics and submission of the last good run, although their bytes
are still in DVC's cache (and, for the metrics kept in git, in git's HEAD).

``restore(stage)`` puts back every output of ``stage`` that dvc.lock records and that is missing
from the workspace, file by file (a directory output through its listing in the cache). The bytes
come from DVC's cache, or else from git's HEAD, and only when their MD5 is the one dvc.lock
names: a corrupt cache entry or a HEAD copy of another version is passed over, never written.
An output that exists is never touched, so a stage run by hand, which deletes nothing, is left as
it was; a directory output that exists but holds no file (the failed command made the folder and
stopped) counts as missing. A directory output comes back whole or not at all. Afterwards the
workspace matches dvc.lock again: ``dvc status`` shows only what the user changed, and putting the
params back reruns nothing. ``put_back(stage)`` does that and returns the stage's line for the
user: what came back, and what could not and why.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from pipeline.core.atomic import write_bytes

Source = Callable[[str, str], "bytes | None"]  # (path in the repo, md5) -> the bytes, or None
NO_COPY = "no copy with dvc.lock's MD5 in DVC's cache or git's HEAD"


@dataclass
class Restored:
    """What ``restore`` did: the outputs put back, and those left missing with why."""
    put_back: list[str] = field(default_factory=list)
    not_put_back: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


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
    """Bytes of ``path`` in git's HEAD (``./``: relative to the project, which may be a folder of the repo)."""
    def read(path: str, md5: str) -> bytes | None:
        try:
            result = subprocess.run(["git", "show", f"HEAD:./{path}"], cwd=root, capture_output=True)
        except OSError:  # no git on this machine
            return None
        return result.stdout if result.returncode == 0 else None
    return read


def _first_match(sources: list[Source], path: str, md5: str) -> bytes | None:
    """The bytes of the first source whose copy has ``md5`` (a directory's listing: its hash without ``.dir``)."""
    want = md5.removesuffix(".dir")
    for source in sources:
        data = source(path, md5)
        if data is not None and _md5(data) == want:
            return data
    return None


def _missing(target: Path) -> bool:
    """Absent, or a folder without a single file in it (what a command that failed early leaves)."""
    if not target.exists():
        return True
    return target.is_dir() and not any(p.is_file() for p in target.rglob("*"))


def _files(sources: list[Source], path: str, md5: str) -> tuple[list[tuple[str, str]], str]:
    """The (file, md5) pairs an output consists of, or ([], why not) for a directory without an intact listing."""
    if not md5.endswith(".dir"):
        return [(path, md5)], ""
    listing = _first_match(sources[:1], path, md5)  # DVC's listing of the folder's files, kept in its cache
    try:
        entries = json.loads(listing) if listing is not None else None
        files = [(f"{path}/{e['relpath']}", e["md5"]) for e in entries]
    except (ValueError, TypeError, KeyError):
        files = []
    return files, "" if files else "DVC's cache has no intact listing of its files"


def restore(stage: str, root: Path = Path("."), sources: list[Source] | None = None) -> Restored:
    """Put back ``stage``'s missing outputs as dvc.lock records them (``sources`` in order of trust:
    DVC's cache, then git's HEAD, unless given)."""
    outcome = Restored()
    missing = [o for o in locked_outputs(stage, root) if _missing(root / o["path"])]
    if not missing:
        return outcome
    if sources is None:
        sources = [_dvc_cache(root), _git_head(root)]
    for out in missing:
        path, md5 = out["path"], out["md5"]
        files, why = _files(sources, path, md5)
        found = {name: _first_match(sources, name, digest) for name, digest in files}
        lacking = [name for name, data in found.items() if data is None]
        if lacking:
            more = f" (and {len(lacking) - 1} more of its files)" if len(lacking) > 1 else ""
            why = NO_COPY if lacking == [path] else f"{lacking[0]}{more} has {NO_COPY}"
        if why:  # not all of it is at hand: leave it missing rather than put back a part
            outcome.not_put_back.append((path, why))
            continue
        try:
            for name, data in found.items():
                write_bytes(root / name, data)
        except OSError as exc:
            outcome.not_put_back.append((path, f"writing it failed: {exc.strerror or exc}"))
            continue
        outcome.put_back.append(path)
    return outcome


def put_back(stage: str, root: Path = Path(".")) -> str | None:
    """Restore ``stage``'s missing outputs; the line that tells the user what came back and what did not."""
    outcome = restore(stage, root)
    parts = []
    if outcome.put_back:
        parts.append(f"put back the last good {', '.join(outcome.put_back)} (as dvc.lock records them), so the "
                     f"failed run cost none of them")
    if outcome.not_put_back:
        lost = "; ".join(f"{path} ({why})" for path, why in outcome.not_put_back)
        parts.append(f"could not put back {lost}: it stays missing until the stage runs again")
    return f"{stage}: {'; '.join(parts)}" if parts else None
