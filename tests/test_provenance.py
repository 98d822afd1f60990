import hashlib
import json

import pytest

from pipeline.submissions import provenance
from pipeline.submissions import archive as submission_archive
from pipeline.core.config import TrainParams, parse_params
from repo_support import run

LOCK = """schema: '2.0'
stages:
  split:
    params:
      params.yaml:
        split: {{validation_fraction: 0.2, random_state: 7}}
  train:
    params:
      params.yaml:
        train: {{hidden_layer_sizes: [256, 128], learning_rate: 0.003, max_iter: 400}}
  predict:
    params:
      params.yaml:
        predict: {{tta_shift: 2}}
    outs:
    - path: submissions/submission.csv
      md5: {md5}
"""


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("train:\n  hidden_layer_sizes: [32]\n  max_iter: 10\n")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/train.json").write_text(json.dumps({"validation_accuracy": 0.95678}))
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions/submission.csv").write_text("ImageId,Label\n1,3\n")
    return tmp_path


def test_params_come_from_dvc_lock_when_it_records_this_very_file(workspace):
    data = (workspace / "submissions/submission.csv").read_bytes()
    (workspace / "dvc.lock").write_text(LOCK.format(md5=hashlib.md5(data).hexdigest()))
    origin = provenance.of_file(workspace / "submissions/submission.csv", data)
    # not params.yaml's [32]; the optimizer the lock does not name is the default's
    assert origin.summary == f"hidden [256, 128] {TrainParams().optimizer} lr 0.003 cosine 400 it, tta 2 px"
    expected = parse_params({"split": {"validation_fraction": 0.2, "random_state": 7},
                             "train": {"hidden_layer_sizes": [256, 128], "learning_rate": 0.003, "max_iter": 400},
                             "predict": {"tta_shift": 2}})
    assert origin.params_digest == provenance.params_digest(expected)
    assert origin.validation_accuracy == "0.95678"


def test_the_validation_accuracy_is_the_submissions_own_procedure_when_predict_measured_it(workspace):
    (workspace / "metrics/predict.json").write_text(json.dumps({"validation_accuracy": 0.96789}))
    data = (workspace / "submissions/submission.csv").read_bytes()
    assert provenance.of_file(workspace / "submissions/submission.csv", data).validation_accuracy == "0.96789"


def test_params_yaml_is_used_when_dvc_lock_describes_another_file(workspace):
    data = (workspace / "submissions/submission.csv").read_bytes()
    (workspace / "dvc.lock").write_text(LOCK.format(md5="0" * 32))
    assert provenance.of_file(workspace / "submissions/submission.csv", data).summary.startswith("hidden [32]")


def test_a_file_from_elsewhere_has_no_params(workspace):
    (workspace / "mine.csv").write_text("ImageId,Label\n1,3\n")
    origin = provenance.of_file(workspace / "mine.csv", b"ImageId,Label\n1,3\n")
    assert (origin.params_digest, origin.validation_accuracy, origin.summary) == ("", "", "")
    assert provenance.default_message(origin, workspace / "mine.csv", "ab" * 32) == "no-git mine.csv sha256 abababababab"


def test_the_digest_changes_with_any_train_split_or_predict_param_and_ignores_fetch():
    base = parse_params({})
    assert provenance.params_digest(base) != provenance.params_digest(parse_params({"predict": {"tta_shift": 0}}))
    assert provenance.params_digest(base) == provenance.params_digest(parse_params({"fetch": {"source": "sample"}}))
    assert provenance.params_digest(base) != provenance.params_digest(parse_params({"train": {"random_state": 1}}))
    assert provenance.params_digest(base) != provenance.params_digest(parse_params({"split": {"random_state": 1}}))
    # 1 and 1.0 are the same learning rate: the digest is of the typed params, not the YAML text
    assert (provenance.params_digest(parse_params({"train": {"learning_rate": 1}}))
            == provenance.params_digest(parse_params({"train": {"learning_rate": 1.0}})))


def test_git_commit_is_marked_dirty_by_code_changes_but_not_by_the_ledger(workspace):
    assert provenance.git_commit(workspace) == ""
    run(["git", "init", "-q", "-b", "main"], workspace)
    run(["git", "add", "-A"], workspace)
    run(["git", "commit", "-q", "-m", "x"], workspace)
    head = run(["git", "rev-parse", "HEAD"], workspace).stdout.strip()
    assert provenance.git_commit(workspace) == head
    (workspace / "submissions/history.csv").write_text("a new row\n")
    run(["git", "add", "submissions/history.csv"], workspace)
    (workspace / "submissions/archive").mkdir()
    assert provenance.git_commit(workspace) == head
    (workspace / "params.yaml").write_text("train:\n  max_iter: 11\n")
    assert provenance.git_commit(workspace) == head + "-dirty"
    origin = provenance.Provenance(git_commit=head + "-dirty", summary="s", validation_accuracy="0.9")
    assert provenance.default_message(origin, workspace / "x.csv", "0" * 64) == f"{head[:7]}-dirty s, val acc 0.9000"


def test_the_archive_keeps_the_first_provenance_and_ties_upload_names_back(workspace):
    data = b"ImageId,Label\n1,3\n"
    sha = hashlib.sha256(data).hexdigest()
    first = provenance.Provenance(git_commit="abc", params_digest="0123456789ab", validation_accuracy="0.9")
    assert submission_archive.save(data, sha, first) is True
    assert submission_archive.save(data, sha, provenance.Provenance(git_commit="later")) is False
    name = submission_archive.upload_name(workspace / "submissions/submission.csv", sha)
    assert name == f"submission-{sha[:12]}.csv"
    assert submission_archive.for_upload_name(name) == (sha, first)
    assert submission_archive.for_upload_name("submission.csv") is None
    assert (workspace / f"submissions/archive/{sha}.csv").read_bytes() == data
