"""``python -m pipeline <command>``: every stage and tool, with one way of reporting errors."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from pipeline.core import last_good
from pipeline.core.errors import PipelineError, PipelineWarning

# name -> (module with add_arguments(parser)? and run(args), one-line help)
COMMANDS = {
    "fetch": ("pipeline.stages.fetch", "stage: get the competition zip into data/raw (params: fetch.*)"),
    "split": ("pipeline.stages.split", "stage: validate the CSVs, split train/validation, write arrays"),
    "train": ("pipeline.stages.train", "stage: train the network, write model, metrics and plots"),
    "predict": ("pipeline.stages.predict", "stage: predict test.csv, write submissions/submission.csv"),
    "report": ("pipeline.stages.report", "stage: render reports/index.html (curves, confusion, mistakes, weights, scores)"),
    "score": ("pipeline.commands.score", "accuracy of a submission file against an answer key"),
    "submit": ("pipeline.commands.submit", "upload a submission to Kaggle (quota checked), wait for its score, record it"),
    "scores": ("pipeline.commands.scores", "refresh the ledger from Kaggle; print scores, leaderboard position, plot"),
    "experiments": ("pipeline.commands.experiments", "DVC experiments: changed params beside validation and test accuracy"),
    "tune": ("pipeline.commands.tune", "hyperparameter sweep on Optuna (tune.yaml's space), each trial a DVC experiment"),
}
STAGES = ("fetch", "split", "train", "predict", "report")  # the commands dvc.yaml runs


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``selected``'s module is imported (all of them when None, e.g. for --help).

    Importing every stage costs seconds (scikit-learn, matplotlib), which a command like
    ``submit`` should not pay.
    """
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Kaggle digit-recognizer pipeline. The stages run through `dvc repro`; "
                    "each can also be run alone from the project root.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if selected is not None and name != selected:
            continue
        module = importlib.import_module(module_name)
        if hasattr(module, "add_arguments"):
            module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    _one_line_warnings()
    words = sys.argv[1:] if argv is None else argv
    selected = next((w for w in words if not w.startswith("-")), None)
    args = build_parser(selected if selected in COMMANDS else None).parse_args(argv)
    try:
        code = _run(args)
    except BaseException:  # a bug's traceback, or Ctrl-C a second time
        _put_back(args.command)
        raise
    if code != 0:
        _put_back(args.command)
    return code


def _run(args) -> int:
    try:
        return int(args.run(args) or 0)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # disk full, read-only folder, ...: say which file; outputs stay as they were
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc} (nothing was half-written; earlier outputs are intact)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; outputs are written atomically, so nothing half-written was left", file=sys.stderr)
        return 130


def _one_line_warnings() -> None:
    """The project's own warnings (``PipelineWarning``) print as ``warning: <message>``, one line, as errors
    do; any other warning keeps Python's format, which says where it came from."""
    if getattr(warnings.showwarning, "one_line", False):
        return
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, PipelineWarning):
            print(f"warning: {message}", file=file or sys.stderr, flush=True)
        else:
            shown(message, category, filename, lineno, file, line)

    show.one_line = True
    warnings.showwarning = show


def _put_back(command: str) -> None:
    """After a failed stage: its last good outputs, which dvc repro deleted, back from DVC's cache."""
    if command in STAGES and (line := last_good.put_back(command)):
        print(line, file=sys.stderr)
