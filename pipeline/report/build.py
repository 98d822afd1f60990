"""Assemble the report from already-loaded inputs: every PNG and ``index.html``, as bytes.

Everything is rendered in memory first, so the stage writes either a complete report or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.report import analysis, figures, page, study_figures
from pipeline.submissions.ledger import Submission

MISTAKES_SHOWN = 24
UNITS_SHOWN = 64
TITLE = "Digit recognizer: what the model learned"


@dataclass(frozen=True)
class ReportInputs:
    train_curve: dict[str, np.ndarray]        # iteration, loss, accuracy
    validation_curve: dict[str, np.ndarray]   # iteration, validation_loss, validation_accuracy
    actual: np.ndarray                        # validation labels (metrics/confusion.csv)
    predicted: np.ndarray                     # the train stage's validation predictions
    classes: np.ndarray                       # the model's classes
    validation_images: np.ndarray             # (n, 784) uint8, rows aligned with ``actual``
    validation_proba: np.ndarray              # (n, n_classes) from the saved model
    first_layer: np.ndarray                   # (784, n_hidden)
    train_metrics: dict
    params: list[tuple[str, object]]          # (dotted name, value) as in params.yaml
    predict_metrics: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    history: list[Submission] | None = None   # None: no ledger file
    augmented: np.ndarray | None = None       # (k, 784) digits as training augments them
    augmentation: str = ""                    # what was drawn, in words
    study: dict | None = None                 # tune/study.json (pipeline.tuning.study_file.export); None: no study


def build_report(inputs: ReportInputs) -> dict[str, bytes]:
    """File name -> bytes for every file of the report (PNGs and index.html)."""
    pngs: dict[str, bytes] = {}
    sections = [page.Section("headline", "Headline metrics", _headline(inputs))]

    pngs["curves.png"] = figures.png_bytes(figures.curves_figure(inputs.train_curve, inputs.validation_curve))
    sections.append(page.Section("curves", "Training curves", page.image(
        pngs["curves.png"], "Loss and accuracy against iteration, train and validation",
        "Train loss and accuracy are measured on each iteration's (randomly shifted) full batch; "
        "validation is scored every few iterations on the held-out digits.")))

    counts = analysis.confusion_counts(inputs.actual, inputs.predicted, inputs.classes)
    pngs["confusion.png"] = figures.png_bytes(figures.confusion_figure(counts, inputs.classes))
    sections.append(page.Section("confusion", "Confusion matrix", page.image(
        pngs["confusion.png"], "Validation confusion matrix with counts",
        "Rows are the true digits, columns the predictions; each cell holds a count, its colour the "
        "share of its row. Mistakes are the off-diagonal numbers, in red.")))

    scores = analysis.class_scores(inputs.actual, inputs.predicted, inputs.classes)
    pngs["per_class.png"] = figures.png_bytes(figures.class_scores_figure(scores))
    rows = [(str(c), f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", int(s)) for c, p, r, f, s in
            zip(scores.classes, scores.precision, scores.recall, scores.f1, scores.support)]
    sections.append(page.Section("per-class", "Per-class precision and recall", page.image(
        pngs["per_class.png"], "Error rates (1 - precision, 1 - recall) for each digit on the validation set",
        "The bars are errors, on an axis from 0, so their lengths compare truly. 1 - precision: of "
        "the digits predicted as d, the share that were not d. 1 - recall: of the true d, the share "
        "predicted as another digit. The table gives the scores.")
        + page.table(("digit", "precision", "recall", "F1", "support"), rows)))

    mistakes = analysis.worst_mistakes(inputs.validation_proba, inputs.actual, inputs.classes, MISTAKES_SHOWN)
    pngs["mistakes.png"] = figures.png_bytes(figures.mistakes_figure(
        inputs.validation_images[mistakes.rows], mistakes.actual, mistakes.predicted, mistakes.confidence))
    sections.append(page.Section("mistakes", "Most confident mistakes", page.image(
        pngs["mistakes.png"], "Misclassified validation digits with true and predicted labels",
        _mistakes_caption(len(mistakes.rows), mistakes.total_wrong, len(inputs.actual)))))

    images, units = analysis.first_layer_images(inputs.first_layer, UNITS_SHOWN)
    pngs["first_layer.png"] = figures.png_bytes(figures.weights_figure(images))
    sections.append(page.Section("first-layer", "What the first layer learned", page.image(
        pngs["first_layer.png"], "First-layer weights drawn as 28x28 images",
        f"The input weights of the {len(units)} hidden units with the largest weight norm, of "
        f"{inputs.first_layer.shape[1]}, each drawn as a 28x28 image: red pixels raise the unit's "
        f"activation, blue ones lower it.")))

    if inputs.augmented is not None and len(inputs.augmented):
        pngs["augmented.png"] = figures.png_bytes(figures.digits_figure(inputs.augmented))
        sections.append(page.Section("augmented", "What the network was shown", page.image(
            pngs["augmented.png"], "Digits with the training augmentation applied",
            f"Validation digits, each with a fresh random draw of the augmentation training uses "
            f"({inputs.augmentation}): every group of training images gets such a draw at every update. "
            f"Each grey frame is the edge of the 28x28 image the network reads; ink moved past it is "
            f"lost, in training too.")))

    if inputs.study is not None:
        sections.append(page.Section("study", "Hyperparameter study", _study(inputs.study, pngs)))

    sections.append(page.Section("scores", "Score history", _history(inputs.history, pngs)))

    source = inputs.source
    origin = f"{source.get('kind', '?')} ({source.get('origin', '?')})" if source else "unknown"
    lede = (f"Data: {origin}; {len(inputs.actual)} validation digits. Made by the report stage of "
            f"dvc repro; every picture is embedded in this file, so it opens without a network.")
    html_text = page.document(TITLE, lede, sections)
    return {**pngs, "index.html": html_text.encode("utf-8")}


def _mistakes_caption(shown: int, wrong: int, total: int) -> str:
    which = (f"All {wrong} validation digits the model got wrong" if shown == wrong else
             f"The {shown} wrong answers the model was surest of, of {wrong}")
    return (f"{which} (out of {total}), surest first: each says the true label, the prediction and "
            f"the probability the model gave that prediction.")


def _headline(inputs: ReportInputs) -> str:
    m, p = inputs.train_metrics, inputs.predict_metrics
    rows = []

    def add(name: str, key: str, source: dict, fmt) -> None:
        if isinstance(source.get(key), (int, float)):
            rows.append((name, fmt(source[key])))

    pct, four = (lambda v: f"{v:.2%}"), (lambda v: f"{v:.4f}")
    add("validation accuracy (the submission's procedure)", "validation_accuracy", p, pct)
    add("validation accuracy (one view)", "validation_accuracy", m, pct)
    add("validation loss", "validation_loss", m, four)
    add("train accuracy", "train_accuracy", m, pct)
    add("train loss", "train_loss", m, four)
    add("test accuracy (local answer key)", "test_accuracy", p, pct)
    add("test accuracy, one view (local answer key)", "test_accuracy_single", p, pct)
    add("shifted copies averaged per test digit", "tta_copies", p, lambda v: f"{int(v):,}")
    add("test rows predicted", "test_rows", p, lambda v: f"{int(v):,}")
    add("iterations", "iterations", m, lambda v: f"{int(v):,}")
    add("training time (s)", "train_seconds", m, lambda v: f"{v:.1f}")
    add("seconds per iteration", "seconds_per_iteration", m, lambda v: f"{v:.4f}")
    params = [(name, _param(value)) for name, value in inputs.params]
    return ('<div class="tables">' + page.table(("metric", "value"), rows, "metrics/train.json, metrics/predict.json")
            + page.table(("param", "value"), params, "params.yaml") + "</div>")


def _param(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _history(history: list[Submission] | None, pngs: dict[str, bytes]) -> str:
    if history is None:
        return page.paragraph("No submission ledger yet (submissions/history.csv): submit to Kaggle "
                              "and the public score of each submission will be plotted here.", "note")
    if not history:
        return page.paragraph("The submission ledger (submissions/history.csv) has no submissions yet.", "note")
    pngs["score_history.png"] = figures.png_bytes(figures.history_figure(history))

    def score(value: float | None) -> str:
        return "" if value is None else f"{value:.5f}"

    rows = [(s.submitted_at, s.ref, s.status, score(s.public_score), score(s.private_score),
             score(s.validation_accuracy), s.git_commit[:10], s.message) for s in reversed(history)]
    return (page.image(pngs["score_history.png"], "Public score and validation accuracy per submission",
                       "Kaggle's public score (and private, once known) next to the validation accuracy "
                       "measured locally before each submission; gaps are submissions not scored yet.")
            + page.table(("submitted at", "ref", "status", "public", "private", "validation", "commit",
                          "message"), rows, "submissions/history.csv, newest first"))


def _study(exported: dict, pngs: dict[str, bytes]) -> str:
    pictures = study_figures.study_pictures(exported)
    pngs.update(pictures.pngs)
    parts = [page.paragraph(pictures.caption)]
    if study_figures.HISTORY_PNG in pictures.pngs:
        parts.append(page.image(
            pictures.pngs[study_figures.HISTORY_PNG], "Validation accuracy of each complete trial and the best so far",
            "Each complete trial's validation accuracy, by trial number, and the best one so far; pruned and "
            "failed trials have no point."))
    if study_figures.IMPORTANCES_PNG in pictures.pngs:
        parts.append(page.image(
            pictures.pngs[study_figures.IMPORTANCES_PNG], "Importance of each hyperparameter for validation accuracy",
            "How much of the spread in validation accuracy each parameter accounts for (Optuna's PED-ANOVA "
            "over the complete trials); the importances add up to 1."))
    if pictures.note:
        parts.append(page.paragraph(pictures.note, "note"))
    parts.append(page.paragraph("From tune/study.json, written by python -m pipeline tune at the end of its "
                                "run.", "note"))
    return "".join(parts)
