"""Each picture, drawn from a small trained model, has the size and panels it must have."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipeline.report import analysis, figures
from pipeline.submissions.ledger import Submission
from pipeline.report.page import png_size
from report_support import tiny_model


@pytest.fixture(scope="module")
def trained():
    model, train, validation = tiny_model()
    return model, validation


def rendered(fig) -> tuple[bytes, Image.Image]:
    png = figures.png_bytes(fig)
    image = Image.open(io.BytesIO(png))
    image.load()
    return png, image


def curves(model):
    history = model.history_
    train = {k: np.array([r[k] for r in history]) for k in ("iteration", "loss", "accuracy")}
    evaluated = [r for r in history if "validation_accuracy" in r]
    validation = {k: np.array([r[k] for r in evaluated])
                  for k in ("iteration", "validation_loss", "validation_accuracy")}
    return train, validation


def test_curves_two_panels_with_train_and_validation_lines(trained):
    model, _ = trained
    train, validation = curves(model)
    fig = figures.curves_figure(train, validation)
    png, image = rendered(fig)
    assert image.size == (1100, 400) == png_size(png)
    loss, accuracy = fig.axes
    assert len(fig.axes) == 2
    for ax, train_key, val_key in ((loss, "loss", "validation_loss"), (accuracy, "accuracy", "validation_accuracy")):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == ["train (augmented batch)", "validation"]
        assert np.array_equal(lines[0].get_xdata(), train["iteration"])
        assert np.array_equal(lines[0].get_ydata(), train[train_key])
        assert np.array_equal(lines[1].get_ydata(), validation[val_key])
    assert loss.get_yscale() == "log"


def test_confusion_one_panel_with_every_nonzero_count(trained):
    model, validation = trained
    predicted = model.predict(validation["X"])
    counts = analysis.confusion_counts(validation["y"], predicted, model.classes_)
    fig = figures.confusion_figure(counts, model.classes_)
    _, image = rendered(fig)
    assert image.size == (650, 600)
    (ax,) = fig.axes
    texts = sorted(int(t.get_text()) for t in ax.texts)
    assert texts == sorted(int(n) for n in counts[counts > 0])
    assert sum(texts) == len(validation["y"])
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in model.classes_]


def test_mistakes_grid_one_panel_per_digit_with_labels(trained):
    model, validation = trained
    mistakes = analysis.worst_mistakes(model.predict_proba(validation["X"]), validation["y"], model.classes_, 24)
    assert len(mistakes.rows) == 6  # the six flipped labels
    fig = figures.mistakes_figure(validation["X"][mistakes.rows], mistakes.actual, mistakes.predicted,
                                  mistakes.confidence)
    _, image = rendered(fig)
    assert image.size == (1040, 175)  # 8 columns x 1.3 in, one row of 1.55 in + 0.2 in, at 100 dpi
    assert len(fig.axes) == 6
    for ax, row, true, pred, conf in zip(fig.axes, mistakes.rows, mistakes.actual, mistakes.predicted,
                                         mistakes.confidence):
        assert ax.get_title() == f"true {true} → {pred}\n{conf:.0%} sure"
        assert np.array_equal(ax.images[0].get_array(), validation["X"][row].reshape(28, 28))


def test_mistakes_grid_wraps_rows():
    images = np.zeros((19, 784), dtype=np.uint8)
    fig = figures.mistakes_figure(images, [1] * 19, [2] * 19, [0.5] * 19)
    _, image = rendered(fig)
    assert len(fig.axes) == 19 and image.size == (1040, 485)  # three rows


def test_mistakes_when_there_are_none():
    fig = figures.mistakes_figure(np.zeros((0, 784)), [], [], [])
    assert len(fig.axes) == 1 and "No validation digit was misclassified" in fig.axes[0].texts[0].get_text()
    rendered(fig)


def test_first_layer_one_28x28_panel_per_unit(trained):
    model, _ = trained
    weights = model.layers_[0][0]
    images, units = analysis.first_layer_images(weights, 64)
    assert len(units) == 12  # the tiny model has 12 hidden units
    fig = figures.weights_figure(images)
    _, image = rendered(fig)
    assert len(fig.axes) == 12 and image.size == (800, 200)  # 8 columns, 2 rows of 1 inch
    for ax, unit in zip(fig.axes, units):
        shown = ax.images[0].get_array()
        assert shown.shape == (28, 28) and np.array_equal(shown.reshape(-1), weights[:, unit])
        low, high = ax.images[0].get_clim()
        assert low == -high  # symmetric: white is zero


def test_first_layer_full_grid_is_square():
    fig = figures.weights_figure(np.random.default_rng(0).normal(size=(64, 28, 28)))
    _, image = rendered(fig)
    assert len(fig.axes) == 64 and image.size == (800, 800)


def test_class_scores_bars_are_error_rates_on_an_axis_from_zero(trained):
    model, validation = trained
    scores = analysis.class_scores(validation["y"], model.predict(validation["X"]), model.classes_)
    fig = figures.class_scores_figure(scores)
    _, image = rendered(fig)
    (ax,) = fig.axes
    assert image.size == (900, 400)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, list(1 - scores.precision) + list(1 - scores.recall))
    low, high = ax.get_ylim()
    assert low == 0 and high >= max(heights)
    assert "error" in ax.get_ylabel()


def test_class_scores_axis_starts_at_zero_when_every_score_is_high():
    """Scores of 0.97-1.0 (a good model): the bars still stand on 0, not on a cut axis."""
    actual = np.repeat(np.arange(10), 100)
    predicted = actual.copy()
    predicted[::37] = (predicted[::37] + 1) % 10  # 28 of 1,000 wrong
    scores = analysis.class_scores(actual, predicted, np.arange(10))
    assert scores.precision.min() > 0.96 and scores.recall.min() > 0.96
    (ax,) = figures.class_scores_figure(scores).axes
    assert ax.get_ylim()[0] == 0
    assert max(p.get_height() for p in ax.patches) <= 0.04  # errors, not scores
    perfect = analysis.class_scores(actual, actual, np.arange(10))
    (ax,) = figures.class_scores_figure(perfect).axes
    assert ax.get_ylim()[0] == 0 < ax.get_ylim()[1]


def test_digits_each_drawn_whole_inside_a_visible_frame():
    """Digits that reach the top edge of their 28x28 image: every pixel of each image is drawn, inside
    the figure, and a grey line marks the image's edge, so a stroke ending there reads as the
    image's edge, not as a figure cut off."""
    images = np.zeros((10, 28, 28), dtype=np.uint8)
    images[:, 0:6, 10:18] = 255  # ink in the top row
    fig = figures.digits_figure(images.reshape(10, -1), columns=5)
    _, image = rendered(fig)
    assert image.size == (500, 200) and len(fig.axes) == 10
    pixels = np.asarray(image.convert("L"), dtype=int)
    for ax, digit in zip(fig.axes, images):
        shown = ax.images[0]
        assert np.array_equal(shown.get_array(), digit)
        left, right, bottom, top = shown.get_extent()
        assert (left, right, bottom, top) == (-0.5, 27.5, 27.5, -0.5)  # the whole 28x28 image
        assert ax.get_xlim() == (left, right) and ax.get_ylim() == (bottom, top)  # and no more, no less
        x0, y0, x1, y1 = shown.get_window_extent().extents
        assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
        row = image.height - y0  # the image's bottom edge, a blank row of the digit, in PNG rows
        edge = pixels[int(row) - 1:int(row) + 2, int(x0) + 3:int(x1) - 3]
        assert edge.min(axis=0).max() < 230  # a grey line runs the whole width; blank paper is 255
        inside = pixels[int(image.height - y1) + 3:int(row) - 3, int(x0) + 3:int(x0) + 8]
        assert inside.min() == 255  # the blank left of the digit stays white: the line is only the edge


def submission(day: int, public: float | None, validation: float | None, private: float | None = None):
    return Submission(f"2024-06-{day:02d}T10:00:00Z", str(day), status="complete" if public else "pending",
                      public_score=public, private_score=private, validation_accuracy=validation)


def test_history_plots_known_scores_and_skips_pending():
    rows = [submission(1, 0.95, 0.94), submission(2, None, 0.95), submission(3, 0.97, 0.96)]
    fig = figures.history_figure(rows)
    _, image = rendered(fig)
    (ax,) = fig.axes
    assert image.size == (1000, 400)
    public, local = ax.get_lines()
    assert public.get_label().startswith("public score")
    assert list(public.get_xdata()) == [1, 3] and list(public.get_ydata()) == [0.95, 0.97]
    assert list(local.get_xdata()) == [1, 2, 3]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2024-06-01", "2024-06-02", "2024-06-03"]


def test_history_private_scores_and_nothing_scored_yet():
    fig = figures.history_figure([submission(1, 0.95, 0.94, private=0.96)])
    assert [line.get_label() for line in fig.axes[0].get_lines()][:2] == ["public score (Kaggle)",
                                                                          "private score (Kaggle)"]
    fig = figures.history_figure([submission(1, None, None)])
    assert fig.axes[0].get_lines() == [] and fig.axes[0].texts[0].get_text() == "no public score yet"
    rendered(fig)


def test_same_numbers_same_png_bytes(trained):
    model, _ = trained
    first = figures.png_bytes(figures.curves_figure(*curves(model)))
    second = figures.png_bytes(figures.curves_figure(*curves(model)))
    assert first == second
    assert b"Software" not in first and b"matplotlib" not in first
