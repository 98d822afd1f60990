"""Every file the pipeline reads or writes, named once. Paths are relative to the project root."""

from pathlib import Path

PARAMS = Path("params.yaml")

RAW_DIR = Path("data/raw")
COMPETITION_ZIP = RAW_DIR / "digit-recognizer.zip"
RAW_SOLUTION = RAW_DIR / "solution.csv"
RAW_SOURCE = RAW_DIR / "source.json"

PREPARED_DIR = Path("data/prepared")
TRAIN_ARRAYS = PREPARED_DIR / "train.npz"
VALIDATION_ARRAYS = PREPARED_DIR / "validation.npz"
TEST_ARRAYS = PREPARED_DIR / "test.npz"

MODEL = Path("models/model.npz")

METRICS_DIR = Path("metrics")
TRAIN_METRICS = METRICS_DIR / "train.json"
PREDICT_METRICS = METRICS_DIR / "predict.json"
TRAIN_CURVE = METRICS_DIR / "train_curve.csv"
VALIDATION_CURVE = METRICS_DIR / "validation_curve.csv"
CONFUSION = METRICS_DIR / "confusion.csv"

SUBMISSIONS_DIR = Path("submissions")
SUBMISSION = SUBMISSIONS_DIR / "submission.csv"

SUBMISSION_HISTORY = SUBMISSIONS_DIR / "history.csv"  # the Kaggle ledger, git-tracked

REPORTS_DIR = Path("reports")
REPORT_PAGE = REPORTS_DIR / "index.html"

# `python -m pipeline tune`: the search space (tracked), and a git-ignored folder for the study
TUNE_SPACE = Path("tune.yaml")
TUNE_DIR = Path("tune")
TUNE_JOURNAL = TUNE_DIR / "journal.log"  # the default storage: Optuna's journal file
TUNE_LOGS = TUNE_DIR / "logs"  # each trial's dvc output
STUDY_EXPORT = TUNE_DIR / "study.json"  # the last study tune ran here, for the report
