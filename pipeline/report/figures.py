"""One matplotlib figure per picture in the report, and their rendering to PNG bytes.

Built on ``matplotlib.figure.Figure`` (no pyplot: no global figure state, no GUI backend) under
one fixed style, so the same numbers give the same PNG bytes on any machine with the same
matplotlib. Each function takes plain arrays and returns a Figure whose ``axes`` are its panels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from pipeline.submissions.ledger import Submission

if TYPE_CHECKING:  # only an annotation here; importing analysis loads scikit-learn (1.5 s for `scores`)
    from pipeline.report.analysis import ClassScores

DPI = 100
STYLE = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: no system fonts, no network
    "font.size": 10,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": DPI,
    "figure.dpi": DPI,
    "image.interpolation": "nearest",
}
TRAIN_COLOUR, VALIDATION_COLOUR, PUBLIC_COLOUR, PRIVATE_COLOUR = "#1f77b4", "#d62728", "#2ca02c", "#9467bd"
FRAME_COLOUR = "#bbbbbb"


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, with no timestamp or version in its metadata (same input, same bytes)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def curves_figure(train: dict[str, np.ndarray], validation: dict[str, np.ndarray]) -> Figure:
    """Two panels, loss (log scale) and accuracy against iteration, train and validation in each."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(11, 4)
        loss, accuracy = fig.subplots(1, 2)
        loss.plot(train["iteration"], train["loss"], color=TRAIN_COLOUR, lw=1.2, label="train (augmented batch)")
        accuracy.plot(train["iteration"], train["accuracy"], color=TRAIN_COLOUR, lw=1.2,
                      label="train (augmented batch)")
        if len(validation["iteration"]):
            loss.plot(validation["iteration"], validation["validation_loss"], color=VALIDATION_COLOUR,
                      lw=1.5, marker="." if len(validation["iteration"]) <= 60 else None, label="validation")
            accuracy.plot(validation["iteration"], validation["validation_accuracy"], color=VALIDATION_COLOUR,
                          lw=1.5, marker="." if len(validation["iteration"]) <= 60 else None, label="validation")
            last = float(validation["validation_accuracy"][-1])
            accuracy.annotate(f"{last:.2%}", (validation["iteration"][-1], last), textcoords="offset points",
                              xytext=(-4, -14), ha="right", color=VALIDATION_COLOUR)
        if np.all(train["loss"] > 0):
            loss.set_yscale("log")
        loss.set(title="Loss (cross-entropy)", xlabel="iteration", ylabel="loss")
        accuracy.set(title="Accuracy", xlabel="iteration", ylabel="accuracy", ylim=(None, 1.005))
        for ax in (loss, accuracy):
            ax.grid(True, alpha=0.3)
            ax.legend(loc="best", frameon=False)
    return fig


def confusion_figure(counts: np.ndarray, classes: Sequence) -> Figure:
    """One panel: rows are true digits, columns predictions; colour is the share of the row."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(6.5, 6)
        ax = fig.subplots()
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for (i, j), n in np.ndenumerate(counts):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=9,
                        color="white" if share[i, j] > 0.5 else ("#b00000" if i != j else "black"))
        ticks = np.arange(len(classes))
        ax.set_xticks(ticks, [str(c) for c in classes])
        ax.set_yticks(ticks, [str(c) for c in classes])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        total = counts.sum()
        accuracy = np.trace(counts) / total if total else 0.0
        ax.set(xlabel="predicted", ylabel="true", title=f"Validation confusion matrix: {int(total)} digits, "
                                                        f"{accuracy:.2%} right")
    return fig


def mistakes_figure(images: np.ndarray, actual: Sequence, predicted: Sequence, confidence: Sequence,
                    columns: int = 8, shape: tuple[int, int] = (28, 28)) -> Figure:
    """A grid with one panel per misclassified digit: true label, prediction and its confidence."""
    count = len(images)
    rows = max(1, -(-count // columns))
    with matplotlib.rc_context(STYLE):
        fig = _figure(1.3 * columns, 1.55 * rows + 0.2)
        if count == 0:
            ax = fig.add_subplot()
            ax.axis("off")
            ax.text(0.5, 0.5, "No validation digit was misclassified.", ha="center", va="center", fontsize=12)
            return fig
        for k in range(count):
            ax = fig.add_subplot(rows, columns, k + 1)
            ax.imshow(np.asarray(images[k]).reshape(shape), cmap="gray_r", vmin=0, vmax=255)
            ax.set_title(f"true {actual[k]} → {predicted[k]}\n{confidence[k]:.0%} sure", fontsize=9,
                         color="#b00000")
            _frame(ax)
    return fig


def _frame(ax) -> None:
    """No ticks, and a thin grey line on all four sides at the edge of the image."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set(visible=True, color=FRAME_COLOUR)


def _image_grid(images: Sequence[np.ndarray], columns: int, show, framed: bool = False) -> Figure:
    """One small panel per image, ``columns`` a row; ``show(ax, image)`` draws each, and ``framed``
    outlines each image's edge."""
    count = len(images)
    rows = max(1, -(-count // columns))
    with matplotlib.rc_context(STYLE):
        fig = _figure(1.0 * columns, 1.0 * rows)
        for k in range(count):
            ax = fig.add_subplot(rows, columns, k + 1)
            show(ax, images[k])
            if framed:
                _frame(ax)
            else:
                ax.axis("off")
    return fig


def digits_figure(images: np.ndarray, columns: int = 8, shape: tuple[int, int] = (28, 28)) -> Figure:
    """A grid of digits (pixels 0-255), e.g. as the training augmentation shows them.

    Each panel is the whole image in a thin grey frame. A warped digit often reaches the edge of
    its 28x28 image; without the frame, a stroke that ends there looks cut off by the figure.
    """
    return _image_grid(images, columns, lambda ax, image: ax.imshow(
        np.asarray(image).reshape(shape), cmap="gray_r", vmin=0, vmax=255), framed=True)


def weights_figure(images: np.ndarray, columns: int = 8) -> Figure:
    """One panel per hidden unit: its 784 input weights as a 28x28 image (red +, blue -)."""
    def show(ax, image):
        limit = float(np.max(np.abs(image))) or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    return _image_grid(images, columns, show)


def class_scores_figure(scores: ClassScores) -> Figure:
    """One panel: each digit's error rates, 1 - precision and 1 - recall, as bars from 0.

    Errors, not scores: every score of a good model lies near 1, so bars of scores either fill an
    axis from 0 alike or stand on a cut axis that makes a 1 % difference look like a 10x one.
    Bars of errors on an axis from 0 are as long as the errors, so their ratios read true.
    """
    with matplotlib.rc_context(STYLE):
        fig = _figure(9, 4)
        ax = fig.subplots()
        x = np.arange(len(scores.classes))
        wrongly_called = 1.0 - np.asarray(scores.precision, dtype=np.float64)
        missed = 1.0 - np.asarray(scores.recall, dtype=np.float64)
        ax.bar(x - 0.2, wrongly_called, width=0.4, color=TRAIN_COLOUR,
               label="1 − precision:\npredicted d, was not d")
        ax.bar(x + 0.2, missed, width=0.4, color=VALIDATION_COLOUR, label="1 − recall:\nwas d, predicted not d")
        high = float(max(wrongly_called.max(), missed.max())) if len(x) else 0.0
        ax.set_ylim(0.0, min(1.0, high * 1.1) if high > 0 else 0.01)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xticks(x, [str(c) for c in scores.classes])
        ax.set(xlabel="digit d", ylabel="error rate (lower is better)",
               title="Per-class error rates (validation)")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def history_figure(submissions: Sequence[Submission]) -> Figure:
    """One panel: public (and private, when known) score and validation accuracy per submission."""
    with matplotlib.rc_context(STYLE):
        fig = _figure(10, 4)
        ax = fig.subplots()
        x = np.arange(1, len(submissions) + 1)

        def series(values, **style):
            known = [(i, v) for i, v in zip(x, values) if v is not None]
            if known:
                xs, ys = zip(*known)
                ax.plot(xs, ys, **style)

        series([s.public_score for s in submissions], color=PUBLIC_COLOUR, marker="o", lw=1.5,
               label="public score (Kaggle)")
        if any(s.private_score is not None for s in submissions):
            series([s.private_score for s in submissions], color=PRIVATE_COLOUR, marker="s", lw=1.2,
                   label="private score (Kaggle)")
        series([s.validation_accuracy for s in submissions], color=VALIDATION_COLOUR, marker="^", lw=1.2,
               ls="--", label="validation accuracy (local)")
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], [s.submitted_at[:10] or str(i) for i, s in zip(x, submissions)][::step],
                      rotation=30, ha="right")
        if not any(s.public_score is not None for s in submissions):
            ax.text(0.5, 0.5, "no public score yet", transform=ax.transAxes, ha="center", color="gray")
        ax.set(xlabel="submission", ylabel="accuracy", title="Score history",
               xlim=(0.5, len(x) + 0.5))
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", frameon=False)
    return fig
