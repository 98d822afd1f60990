"""The report page: parses, embeds every image, refers to nothing outside itself."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from pipeline.report import page
from pipeline.report.build import ReportInputs, build_report
from pipeline.submissions.ledger import read_history
from report_support import SAMPLE_LEDGER, tiny_model


class Collector(HTMLParser):
    """Every start tag with its attributes, plus the text of <style> and of headings."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.open: list[str] = []
        self.style = ""
        self.h2: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("img", "meta"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        if self.open and self.open[-1] == "style":
            self.style += data
        if self.open and self.open[-1] == "h2":
            self.h2.append(data)


def parse(text: str) -> Collector:
    collector = Collector()
    collector.feed(text)
    collector.close()
    assert collector.open == [], f"unclosed tags: {collector.open}"
    return collector


def assert_self_contained(text: str, collector: Collector) -> None:
    for tag, attrs in collector.tags:
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            if name not in attrs:
                continue
            value = (attrs[name] or "").strip().lower()
            assert not re.match(r"(https?:)?//", value), f"<{tag} {name}={value[:60]!r}> loads from the network"
            if name == "href":
                assert value.startswith("#"), f"<{tag} href={value!r}> leaves the page"
            if name == "src":
                assert value.startswith("data:image/png;base64,"), f"<{tag} src> is not embedded"
    assert "url(" not in collector.style and "@import" not in collector.style
    assert not any(tag in ("script", "link", "iframe", "object", "embed") for tag, _ in collector.tags)


def inputs_from_tiny_model(history) -> ReportInputs:
    model, _, validation = tiny_model()
    history_rows = model.history_
    evaluated = [r for r in history_rows if "validation_accuracy" in r]
    return ReportInputs(
        train_curve={k: np.array([r[k] for r in history_rows]) for k in ("iteration", "loss", "accuracy")},
        validation_curve={k: np.array([r[k] for r in evaluated])
                          for k in ("iteration", "validation_loss", "validation_accuracy")},
        actual=validation["y"], predicted=model.predict(validation["X"]), classes=model.classes_,
        validation_images=validation["X"], validation_proba=model.predict_proba(validation["X"]),
        first_layer=model.layers_[0][0],
        train_metrics={"validation_accuracy": 0.85, "train_accuracy": 0.9, "iterations": 15, "train_seconds": 0.2},
        predict_metrics={"test_rows": 40, "test_accuracy": 0.8},
        params=[("train.hidden_layer_sizes", (12,)), ("train.learning_rate", 0.01)],
        source={"kind": "sample", "origin": "synthetic"}, history=history,
        augmented=model.set_params(augment_translate=2).augmented_examples(validation["X"][:8]),
        augmentation="shift up to 2 px")


@pytest.fixture(scope="module")
def report_with_history(tmp_path_factory):
    path = tmp_path_factory.mktemp("ledger") / "history.csv"
    path.write_text(SAMPLE_LEDGER)
    inputs = inputs_from_tiny_model(read_history(path))
    report = build_report(inputs)
    report["wrong"] = int(np.sum(inputs.actual != inputs.predicted))  # what this training happened to get wrong
    return report


def test_page_parses_and_embeds_every_picture(report_with_history):
    text = report_with_history["index.html"].decode("utf-8")
    collector = parse(text)
    assert_self_contained(text, collector)
    images = [attrs for tag, attrs in collector.tags if tag == "img"]
    pngs = {name: data for name, data in report_with_history.items() if str(name).endswith(".png")}
    assert sorted(pngs) == ["augmented.png", "confusion.png", "curves.png", "first_layer.png", "mistakes.png",
                            "per_class.png", "score_history.png"]
    assert len(images) == len(pngs) == 7
    embedded = [base64.b64decode(img["src"].split(",", 1)[1]) for img in images]
    assert sorted(embedded) == sorted(pngs.values())  # the page shows exactly the files written
    for img, data in zip(images, embedded):
        picture = Image.open(io.BytesIO(data))
        assert (int(img["width"]), int(img["height"])) == picture.size
        assert img["alt"]
    assert collector.h2 == ["Headline metrics", "Training curves", "Confusion matrix",
                            "Per-class precision and recall", "Most confident mistakes",
                            "What the first layer learned", "What the network was shown", "Score history"]


def test_page_shows_metrics_params_and_escapes_ledger_text(report_with_history):
    text = report_with_history["index.html"].decode("utf-8")
    assert "<td>validation accuracy (one view)</td><td class=\"num\">85.00%</td>" in text
    assert "<td>test accuracy (local answer key)</td><td class=\"num\">80.00%</td>" in text
    assert "<td>train.hidden_layer_sizes</td><td>[12]</td>" in text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    wrong = report_with_history["wrong"]
    assert 0 < wrong <= 12  # every mistake is shown when there are few (the tiny model's flipped labels)
    assert f"All {wrong} validation digits the model got wrong (out of 40)" in text
    assert "The input weights of the 12 hidden units" in text


def test_without_ledger_or_submissions_the_page_says_so():
    for history, note in ((None, "No submission ledger yet"), ([], "has no submissions yet")):
        files = build_report(inputs_from_tiny_model(history))
        assert "score_history.png" not in files and len(files) == 7
        text = files["index.html"].decode()
        assert note in text
        assert_self_contained(text, parse(text))


def test_table_escapes_and_aligns_numbers():
    html_text = page.table(("a", "b"), [("<x>", 1.5), ("y", "12.0%")])
    assert "<td>&lt;x&gt;</td><td class=\"num\">1.5</td>" in html_text
    assert "<td class=\"num\">12.0%</td>" in html_text


def test_png_size_refuses_other_data():
    with pytest.raises(ValueError):
        page.png_size(b"GIF89a" + bytes(30))
