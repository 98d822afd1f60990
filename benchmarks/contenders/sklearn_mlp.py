"""scikit-learn's ``MLPClassifier`` (mini-batch Adam), trained one epoch per ``partial_fit`` call.

Epoch by epoch so that validation can be scored between epochs off the clock. It is ``fit``'s
training in all but the exact shuffles: with a ``RandomState`` object (an int would give every
epoch the same order) each epoch draws a new random order (``fit`` reshuffles the previous
order; this starts from the natural one, so the first epoch is identical and the later ones are
equally random), and it stops by ``fit``'s rule: ``max_iter`` epochs, or more than
``n_iter_no_change`` epochs in a row without the training loss improving by ``tol``.
"""

from __future__ import annotations

import numpy as np
from sklearn.neural_network import MLPClassifier

from benchmarks.common import accuracy, scaled


def stalled(losses: list[float], tol: float, patience: int) -> bool:
    """``fit``'s stopping rule for adam without early_stopping, from the public ``loss_curve_``."""
    best, count = np.inf, 0
    for loss in losses:
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
    return count > patience


def run(data, settings, tracker):
    hidden = tuple(settings["hidden"])
    model = MLPClassifier(hidden_layer_sizes=hidden, random_state=np.random.RandomState(settings["seed"]))
    max_epochs = settings.get("epochs") or model.max_iter
    x, x_val = scaled(data.X_train), scaled(data.X_val)
    classes = np.unique(data.y_train)
    stopped = "max_iter"
    tracker.start()
    for epoch in range(1, max_epochs + 1):
        model.partial_fit(x, data.y_train, classes=classes)
        tracker.end_step()
        tracker.validate(epoch, lambda: accuracy(model.predict(x_val), data.y_val))
        if stalled(model.loss_curve_, model.tol, model.n_iter_no_change):
            stopped = "converged"
            break
        if tracker.over_budget() and epoch < max_epochs:
            stopped = "budget"
            break
    sizes = "-".join(str(s) for s in (784, *hidden, 10))
    batch = min(200, len(x)) if model.batch_size == "auto" else model.batch_size
    info = {"setup": f"{sizes}, adam lr {model.learning_rate_init:g}, mini-batch {batch}, no shifts",
            "planned_steps": max_epochs, "stopped": stopped}
    return info, lambda pixels: model.predict(scaled(pixels))
