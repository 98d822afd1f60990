"""Test-time augmentation: a digit's probabilities averaged over copies of it shifted by a pixel or two.

The network was trained on moved and warped digits, so each shifted copy of a test digit is one more
plausible view of it; averaging the softmax over the (2k + 1)^2 copies shifted by up to ``k`` pixels
(zero-filled, like the training shifts) corrects some of the answers a single view gets wrong. The
copies are summed in a fixed order and each row is predicted on its own (``DigitNetClassifier``'s
prediction is batch-independent), so a row's answer does not depend on the other rows or on the
chunking below, which keeps memory at a few copies of ``CHUNK_ROWS`` rows whatever the input size.
"""

from __future__ import annotations

import numpy as np

from pipeline.model import nn

CHUNK_ROWS = 4096


def shift_offsets(shift: int) -> list[tuple[int, int]]:
    """The (dy, dx) moves of every copy: all pairs in [-shift, shift], the unmoved copy among them."""
    span = range(-shift, shift + 1)
    return [(dy, dx) for dy in span for dx in span]


def predict_proba_shifted(model, X, shift: int) -> np.ndarray:
    """``model.predict_proba`` averaged over ``shift_offsets(shift)`` copies of each image row of ``X``.

    ``shift`` 0, or inputs that are not images (``model.image_shape_for`` gives None), give the plain
    ``predict_proba``.
    """
    X = np.asarray(X)
    shape = model.image_shape_for(X.shape[1]) if X.ndim == 2 else None
    if shift == 0 or shape is None:
        return model.predict_proba(X)
    offsets = shift_offsets(shift)
    out = np.empty((len(X), len(model.classes_)), np.float64)
    for start in range(0, len(X), CHUNK_ROWS):
        # the views move the rows as the network takes them (scaled, and deskewed when the model deskews:
        # deskewing a moved copy would centre it again)
        rows = model.transform_inputs(X[start:start + CHUNK_ROWS])
        total = np.zeros((len(rows), len(model.classes_)), np.float64)
        for dy, dx in offsets:
            total += nn.softmax(model.logits_of_inputs(nn.shift_images(rows, dy, dx, shape)))
        out[start:start + len(rows)] = total / len(offsets)
    return out


def predict_shifted(model, X, shift: int) -> np.ndarray:
    """The class with the highest averaged probability (``predict_proba_shifted``), per row."""
    return model.classes_[predict_proba_shifted(model, X, shift).argmax(axis=1)]
