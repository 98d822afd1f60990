"""``python -m pipeline report`` on a tiny project: what it writes, what it refuses, and how the
page looks in a real browser (headless Chromium, when installed)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.model.estimator import DigitNetClassifier
from pipeline.model.model_file import save_model
from report_support import SAMPLE_LEDGER, ledger, write_project

PNGS = ["augmented.png", "confusion.png", "curves.png", "first_layer.png", "mistakes.png", "per_class.png"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path)
    return tmp_path


def written(root) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "reports").iterdir())}


def test_writes_page_and_images_deterministically(project, capsys):
    assert main(["report"]) == 0
    first = written(project)
    assert sorted(first) == sorted(PNGS + ["index.html"])
    assert "report: wrote reports/index.html and 6 images" in capsys.readouterr().out
    assert b"No submission ledger yet" in first["index.html"]
    assert main(["report"]) == 0
    assert written(project) == first  # same inputs, same bytes: dvc.lock does not churn


def test_ledger_adds_score_history_and_leaving_it_removes_it(project):
    (project / "submissions").mkdir()
    (project / "submissions/history.csv").write_text(SAMPLE_LEDGER)
    assert main(["report"]) == 0
    files = written(project)
    assert "score_history.png" in files and b"41000004" in files["index.html"]
    (project / "submissions/history.csv").write_text(ledger())  # header only
    assert main(["report"]) == 0
    files = written(project)
    assert "score_history.png" not in files and b"has no submissions yet" in files["index.html"]


def test_bad_ledger_fails_clearly_and_keeps_the_previous_report(project, capsys):
    assert main(["report"]) == 0
    before = written(project)
    (project / "submissions").mkdir()
    (project / "submissions/history.csv").write_text(ledger("2024-06-01,1,m,complete,0.9x,,a,b,c,0.9"))
    assert main(["report"]) == 1
    err = capsys.readouterr().err
    assert "error: submissions/history.csv, line 2, column public_score" in err and "'0.9x'" in err
    assert written(project) == before


def test_metrics_from_another_split_are_refused_before_writing(project, capsys):
    (project / "metrics/confusion.csv").write_text("actual,predicted\n1,1\n2,2\n")
    assert main(["report"]) == 1
    err = capsys.readouterr().err
    assert "metrics/confusion.csv has 2 rows whose labels do not match the 40 digits" in err
    assert not (project / "reports").exists()


def test_missing_model_says_what_to_run(project, capsys):
    (project / "models/model.npz").unlink()
    assert main(["report"]) == 1
    assert "models/model.npz: not found; run the stage that makes it" in capsys.readouterr().err
    assert not (project / "reports").exists()


def test_model_without_28x28_inputs_is_refused(project, capsys):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, size=(40, 784)).astype(np.uint8), np.arange(40) % 10
    model = DigitNetClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(x[:, :100], y)
    save_model(project / "models/model.npz", model)
    assert main(["report"]) == 1
    err = capsys.readouterr().err
    assert "error: models/model.npz: the first layer takes 100 inputs, expected 784 (28x28 pixels)" in err
    assert not (project / "reports").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_headless_chromium_shows_the_pictures(project, tmp_path):
    if CHROMIUM is None:
        message = "Chromium is not installed (Debian: apt-get install chromium); the report was not opened in a browser"
        if os.environ.get("CI"):
            pytest.fail(message + " — .ci/run installs it, so CI must not skip this")
        pytest.skip(message)
    (project / "submissions").mkdir()
    (project / "submissions/history.csv").write_text(SAMPLE_LEDGER)
    assert main(["report"]) == 0
    shot = tmp_path / "screenshot.png"
    page = (project / "reports/index.html").resolve()
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1280,5200", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape == (5200, 1280, 3)

    def pixels_near(colour, tolerance=12) -> int:
        return int(np.sum(np.all(np.abs(image - np.array(colour)) <= tolerance, axis=-1)))

    # Only the embedded PNGs hold these colours (text and tables are black, grey and link blue):
    # the red of validation curves and recall bars, the blue of training curves and precision
    # bars, the green of the public-score line, and the dark blue of the confusion diagonal.
    assert pixels_near((0xd6, 0x27, 0x28)) > 2000, "no validation-red pixels: curves/bars not shown"
    assert pixels_near((0x1f, 0x77, 0xb4)) > 2000, "no train-blue pixels: curves/bars not shown"
    assert pixels_near((0x2c, 0xa0, 0x2c)) > 50, "no public-score green: score history not shown"
    assert pixels_near((0x08, 0x30, 0x6b), tolerance=20) > 500, "no dark confusion cells"
