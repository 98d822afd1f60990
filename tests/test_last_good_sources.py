"""``pipeline.core.last_good`` alone: which source an output comes back from, in which order, and that
bytes whose MD5 is not the one dvc.lock records are never put back (a corrupt cache entry, a stale
copy in git's HEAD, a directory with one file wrong), while the stage's line says what stayed missing.

The sources are plain functions here (``restore(..., sources=...)``) and then the real ones: DVC's
cache filled by ``dvc add`` (in this process, through DVC's API) and git's HEAD.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.core import last_good
from repo_support import GIT_ENV


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def listing(files: dict[str, bytes]) -> bytes:
    """A directory's listing as DVC keeps it in its cache (its MD5 + '.dir' is the output's hash)."""
    return json.dumps([{"md5": md5(data), "relpath": name} for name, data in sorted(files.items())]).encode()


def lock(root: Path, **stages: dict[str, str]) -> None:
    """A dvc.lock recording each stage's outputs ({path: md5})."""
    (root / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        stage: {"cmd": "true", "outs": [{"path": p, "hash": "md5", "md5": h} for p, h in outs.items()]}
        for stage, outs in stages.items()}}))


class Store:
    """A source: bytes by md5 (as DVC's cache) or by path (as git's HEAD), recording every question."""

    def __init__(self, by_md5: dict[str, bytes] | None = None, by_path: dict[str, bytes] | None = None):
        self.by_md5, self.by_path, self.asked = by_md5 or {}, by_path or {}, []

    def __call__(self, path: str, digest: str) -> bytes | None:
        self.asked.append(path)
        return self.by_md5.get(digest, self.by_path.get(path))


GOOD, OTHER = b"the last good model", b"another version of the model"
FILES = {"train.npz": b"train arrays", "validation.npz": b"validation arrays", "test.npz": b"test arrays"}
DIR_MD5 = md5(listing(FILES)) + ".dir"


@pytest.fixture
def root(tmp_path):
    lock(tmp_path, train={"models/model.npz": md5(GOOD)})
    return tmp_path


def test_the_cache_is_asked_first_and_its_right_bytes_are_put_back(root):
    cache, head = Store({md5(GOOD): GOOD}), Store(by_path={"models/model.npz": GOOD})
    outcome = last_good.restore("train", root, [cache, head])
    assert (root / "models/model.npz").read_bytes() == GOOD
    assert outcome.put_back == ["models/model.npz"] and outcome.not_put_back == []
    assert cache.asked == ["models/model.npz"] and head.asked == []  # found in the cache: HEAD not asked


def test_a_corrupt_cache_entry_is_passed_over_for_the_right_bytes_in_git_head(root):
    cache = Store({md5(GOOD): b"the last good model, with a flipped bit"})
    head = Store(by_path={"models/model.npz": GOOD})
    outcome = last_good.restore("train", root, [cache, head])
    assert (root / "models/model.npz").read_bytes() == GOOD and outcome.put_back == ["models/model.npz"]
    assert head.asked == ["models/model.npz"]


@pytest.mark.parametrize("cache, head", [
    (Store(), Store(by_path={"models/model.npz": OTHER})),  # no cache entry; HEAD holds another version
    (Store({md5(GOOD): OTHER}), Store(by_path={"models/model.npz": OTHER})),  # both wrong
    (Store(), Store()),  # neither has it
], ids=["stale-head", "corrupt-cache-and-stale-head", "neither"])
def test_without_the_right_bytes_nothing_is_written_and_the_line_says_so(root, cache, head):
    outcome = last_good.restore("train", root, [cache, head])
    assert not (root / "models").exists()
    assert outcome.put_back == [] and outcome.not_put_back == [("models/model.npz", last_good.NO_COPY)]


def test_an_output_that_exists_is_never_touched(root):
    (root / "models").mkdir()
    (root / "models/model.npz").write_bytes(OTHER)  # e.g. the stage was run by hand and failed later
    cache = Store({md5(GOOD): GOOD})
    assert last_good.restore("train", root, [cache]).put_back == []
    assert (root / "models/model.npz").read_bytes() == OTHER and cache.asked == []


def test_a_directory_comes_back_file_by_file_through_its_listing(tmp_path):
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    cache = Store({DIR_MD5: listing(FILES), **{md5(d): d for d in FILES.values()}})
    assert last_good.restore("split", tmp_path, [cache]).put_back == ["data/prepared"]
    assert {p.name: p.read_bytes() for p in (tmp_path / "data/prepared").iterdir()} == FILES


def test_a_folder_the_failed_command_made_and_left_empty_counts_as_missing(tmp_path):
    """What a failed fetch left before: dvc repro deleted data/raw, the command made the folder, then failed."""
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    (tmp_path / "data/prepared/empty-subfolder").mkdir(parents=True)
    cache = Store({DIR_MD5: listing(FILES), **{md5(d): d for d in FILES.values()}})
    assert last_good.restore("split", tmp_path, [cache]).put_back == ["data/prepared"]
    assert (tmp_path / "data/prepared/test.npz").read_bytes() == FILES["test.npz"]


def test_a_folder_with_a_file_in_it_is_left_as_it_is(tmp_path):
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    (tmp_path / "data/prepared").mkdir(parents=True)
    (tmp_path / "data/prepared/test.npz").write_bytes(b"new test arrays")
    cache = Store({DIR_MD5: listing(FILES), **{md5(d): d for d in FILES.values()}})
    assert last_good.restore("split", tmp_path, [cache]).put_back == []
    assert [p.name for p in (tmp_path / "data/prepared").iterdir()] == ["test.npz"]


def test_a_directory_with_one_file_wrong_everywhere_is_not_put_back_in_part(tmp_path):
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    cache = Store({DIR_MD5: listing(FILES), md5(FILES["train.npz"]): FILES["train.npz"],
                   md5(FILES["validation.npz"]): FILES["validation.npz"],
                   md5(FILES["test.npz"]): b"test arrays, truncated"})
    head = Store(by_path={"data/prepared/test.npz": b"test arrays of last month"})
    outcome = last_good.restore("split", tmp_path, [cache, head])
    assert not (tmp_path / "data/prepared").exists()
    assert outcome.not_put_back == [("data/prepared", f"data/prepared/test.npz has {last_good.NO_COPY}")]


def test_a_directory_whose_listing_is_corrupt_is_not_put_back(tmp_path):
    """A listing that lost a file would otherwise bring back a folder without it."""
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    short = {k: v for k, v in FILES.items() if k != "test.npz"}
    cache = Store({DIR_MD5: listing(short), **{md5(d): d for d in FILES.values()}})
    outcome = last_good.restore("split", tmp_path, [cache])
    assert not (tmp_path / "data/prepared").exists()
    assert outcome.not_put_back == [("data/prepared", "DVC's cache has no intact listing of its files")]


def test_the_stages_line_names_what_came_back_and_what_did_not(tmp_path, monkeypatch):
    lock(tmp_path, train={"models/model.npz": md5(GOOD), "metrics/train_curve.csv": md5(b"curve")})
    sources = [Store({md5(GOOD): GOOD}), Store(by_path={"metrics/train_curve.csv": b"an older curve"})]
    monkeypatch.setattr(last_good, "_dvc_cache", lambda root: sources[0])
    monkeypatch.setattr(last_good, "_git_head", lambda root: sources[1])
    assert last_good.put_back("train", tmp_path) == (
        "train: put back the last good models/model.npz (as dvc.lock records them), so the failed run cost none "
        f"of them; could not put back metrics/train_curve.csv ({last_good.NO_COPY}): it stays missing until the "
        "stage runs again")
    assert last_good.put_back("train", tmp_path) == (  # the model is there now; the curve is still missing
        f"train: could not put back metrics/train_curve.csv ({last_good.NO_COPY}): it stays missing until the "
        "stage runs again")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/train_curve.csv").write_bytes(b"curve")
    assert last_good.put_back("train", tmp_path) is None  # nothing missing: nothing to say


def test_no_dvc_lock_or_no_record_of_the_stage_restores_nothing(tmp_path):
    assert last_good.restore("train", tmp_path, [Store()]).put_back == []
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    assert last_good.put_back("train", tmp_path) is None


# -- the real sources: DVC's cache (filled by dvc add) and git's HEAD ----------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env={**GIT_ENV, "PATH": "/usr/bin:/bin",
                                                                                 "HOME": str(root)})


@pytest.fixture
def project(tmp_path, request):
    """A git repository whose project folder (a subfolder, as ``dvc init --subdir`` allows) has DVC's cache
    holding a file and a folder, and git's HEAD the file's good version."""
    import logging

    from dvc.repo import Repo

    # DVC's log handler keeps the stream it first wrote to: a second pytest run in this process (mutmut's)
    # would find it closed. Its notices are not what these tests check.
    dvc_log, level = logging.getLogger("dvc"), logging.getLogger("dvc").level
    dvc_log.setLevel(logging.ERROR)
    request.addfinalizer(lambda: dvc_log.setLevel(level))

    git(tmp_path, "init", "-q")
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "models/model.npz").write_bytes(GOOD)
    (root / "data/prepared").mkdir(parents=True)
    for name, data in FILES.items():
        (root / "data/prepared" / name).write_bytes(data)
    repo = Repo.init(str(root), subdir=True)
    try:
        repo.add(str(root / "models/model.npz"))
        repo.add(str(root / "data/prepared"))
        oid_to_path = repo.cache.local.oid_to_path
    finally:
        repo.close()
    (root / "models/model.npz.dvc").unlink()  # the stage's outputs are recorded in dvc.lock, not in .dvc files
    (root / "data/prepared.dvc").unlink()
    (root / "metrics").mkdir()
    (root / "metrics/train.json").write_text('{"validation_accuracy": 0.9}')  # cache: false, kept in git
    lock(root, train={"models/model.npz": md5(GOOD), "metrics/train.json": md5(b'{"validation_accuracy": 0.9}')},
         split={"data/prepared": DIR_MD5})
    git(tmp_path, "add", "project/metrics/train.json", "project/models/.gitignore")
    git(tmp_path, "commit", "-q", "-m", "good run")
    return root, oid_to_path


def failed_run(root: Path) -> None:
    """What dvc repro does before the command runs: deletes the outputs."""
    (root / "models/model.npz").unlink()
    (root / "metrics/train.json").unlink()
    for path in (root / "data/prepared").iterdir():
        path.unlink()
    (root / "data/prepared").rmdir()


def test_real_sources_bring_back_a_file_from_the_cache_and_a_metric_from_git_head(project):
    root, _ = project
    failed_run(root)
    outcome = last_good.restore("train", root)
    assert outcome.put_back == ["models/model.npz", "metrics/train.json"] and outcome.not_put_back == []
    assert (root / "models/model.npz").read_bytes() == GOOD
    assert (root / "metrics/train.json").read_text() == '{"validation_accuracy": 0.9}'
    assert last_good.restore("split", root).put_back == ["data/prepared"]
    assert {p.name: p.read_bytes() for p in (root / "data/prepared").iterdir()} == FILES


def test_real_sources_a_corrupt_cache_entry_and_a_stale_head_put_nothing_back(project):
    root, oid_to_path = project
    cached = Path(oid_to_path(md5(GOOD)))
    cached.chmod(0o644)
    cached.write_bytes(b"the last good model, with a flipped bit")
    (root / "models/model.npz").write_bytes(OTHER)  # git's HEAD gets a stale copy of the model
    git(root.parent, "add", "-f", "project/models/model.npz")
    git(root.parent, "commit", "-q", "-m", "a stale model in git")
    failed_run(root)
    outcome = last_good.restore("train", root)
    assert not (root / "models/model.npz").exists()
    assert outcome.put_back == ["metrics/train.json"]
    assert outcome.not_put_back == [("models/model.npz", last_good.NO_COPY)]


def test_real_sources_a_directory_with_one_corrupt_cache_file_stays_missing(project):
    root, oid_to_path = project
    cached = Path(oid_to_path(md5(FILES["validation.npz"])))
    cached.chmod(0o644)
    cached.write_bytes(b"validation arrays, half")
    failed_run(root)
    outcome = last_good.restore("split", root)
    assert not (root / "data/prepared").exists()
    assert outcome.not_put_back == [("data/prepared", f"data/prepared/validation.npz has {last_good.NO_COPY}")]


def test_outside_a_dvc_and_git_repository_nothing_is_found_and_nothing_breaks(tmp_path):
    lock(tmp_path, train={"models/model.npz": md5(GOOD)})
    outcome = last_good.restore("train", tmp_path)
    assert outcome.not_put_back == [("models/model.npz", last_good.NO_COPY)] and not (tmp_path / "models").exists()


def test_lock_entries_without_a_path_or_an_md5_are_passed_over(tmp_path):
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {"train": {"outs": [
        "models/model.npz", {"path": "a"}, {"md5": md5(GOOD)}, {"path": 3, "md5": md5(GOOD)},
        {"path": "b", "md5": None}, {"path": "models/model.npz", "md5": md5(GOOD)}]}}}))
    assert last_good.locked_outputs("train", tmp_path) == [{"path": "models/model.npz", "md5": md5(GOOD)}]
    (tmp_path / "dvc.lock").write_text("stages: [not, a, mapping")
    assert last_good.locked_outputs("train", tmp_path) == []


def test_a_directory_missing_several_files_says_how_many(tmp_path):
    lock(tmp_path, split={"data/prepared": DIR_MD5})
    cache = Store({DIR_MD5: listing(FILES), md5(FILES["test.npz"]): FILES["test.npz"]})
    outcome = last_good.restore("split", tmp_path, [cache])
    assert outcome.not_put_back == [("data/prepared", f"data/prepared/train.npz (and 1 more of its files) has "
                                                       f"{last_good.NO_COPY}")]
    cache = Store({DIR_MD5: listing(FILES)})
    outcome = last_good.restore("split", tmp_path, [cache])
    assert outcome.not_put_back[0][1].startswith("data/prepared/test.npz (and 2 more of its files) has ")


def test_an_output_that_cannot_be_written_is_named_and_the_others_still_come_back(tmp_path):
    lock(tmp_path, train={"models/model.npz": md5(GOOD), "metrics/curve.csv": md5(b"curve")})
    (tmp_path / "models").write_text("a file where the models folder should be")
    cache = Store({md5(GOOD): GOOD, md5(b"curve"): b"curve"})
    outcome = last_good.restore("train", tmp_path, [cache])
    assert outcome.put_back == ["metrics/curve.csv"] and (tmp_path / "metrics/curve.csv").read_bytes() == b"curve"
    [(path, why)] = outcome.not_put_back
    assert path == "models/model.npz" and why.startswith("writing it failed: cannot write here (") and \
        why.endswith("models is a file, not a folder)"), why


def test_the_line_lists_every_output_put_back_and_every_one_not(tmp_path, monkeypatch):
    lock(tmp_path, train={"a.bin": md5(b"a"), "b.bin": md5(b"b"), "c.bin": md5(b"c"), "d.bin": md5(b"d")})
    monkeypatch.setattr(last_good, "_dvc_cache", lambda root: Store({md5(b"a"): b"a", md5(b"b"): b"b"}))
    monkeypatch.setattr(last_good, "_git_head", lambda root: Store())
    assert last_good.put_back("train", tmp_path) == (
        "train: put back the last good a.bin, b.bin (as dvc.lock records them), so the failed run cost none of them; "
        f"could not put back c.bin ({last_good.NO_COPY}); d.bin ({last_good.NO_COPY}): it stays missing until the "
        "stage runs again")
