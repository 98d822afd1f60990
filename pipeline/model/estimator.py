"""``DigitNetClassifier``: the full-batch ReLU-softmax network as a scikit-learn classifier.

Every update's gradient covers the whole training set. Works in float32; inputs are scaled by
one number learned in ``fit`` (1/255 for pixel data), which keeps a blank pixel at zero, so the
optional random shifts (``augment_shift``) fill with blank pixels.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from pipeline.model import nn
from pipeline.model.full_batch import FullBatchGradient
from pipeline.model.optim import Optimizer, learning_rate_at

DTYPE = np.float32


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; raised with the iteration instead of keeping NaN weights."""


class DigitNetClassifier(ClassifierMixin, BaseEstimator):
    """A ReLU network with a softmax output, trained by full-batch gradient descent.

    Parameters mirror ``params.yaml``'s ``train`` section; ``max_iter`` is the number of
    full-batch updates. ``augment_shift`` > 0 moves each group of training images by a random
    offset of up to that many pixels, drawn anew every iteration (needs ``image_shape``).
    """

    def __init__(self, hidden_layer_sizes=(512,), optimizer="adam", learning_rate=0.001, max_iter=200,
                 lr_schedule="cosine", warmup_iterations=0, momentum=0.9, beta1=0.9, beta2=0.999,
                 weight_decay=0.0, augment_shift=0, image_shape=(28, 28), n_shift_groups=16,
                 random_state=0, eval_every=10):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.lr_schedule = lr_schedule
        self.warmup_iterations = warmup_iterations
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.weight_decay = weight_decay
        self.augment_shift = augment_shift
        self.image_shape = image_shape
        self.n_shift_groups = n_shift_groups
        self.random_state = random_state
        self.eval_every = eval_every

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, eval_set=None, callback: Callable[[dict], None] | None = None):
        """Train on (X, y). ``eval_set``: optional (X_val, y_val) scored every ``eval_every`` updates.

        ``callback`` receives each iteration's record (iteration, loss, accuracy, lr, seconds and,
        when evaluated, validation_loss and validation_accuracy).
        """
        X, y = validate_data(self, X, y, dtype="numeric", ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_, targets = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least 2 classes in y; got 1 class: {self.classes_[0]!r}")
        hidden = [int(h) for h in np.atleast_1d(self.hidden_layer_sizes)]
        if not hidden or min(hidden) < 1:
            raise ValueError(f"hidden_layer_sizes must be positive widths, got {self.hidden_layer_sizes!r}")
        if self.max_iter < 1 or self.learning_rate <= 0:
            raise ValueError("max_iter must be >= 1 and learning_rate > 0")
        largest = float(np.max(np.abs(X))) if X.size else 0.0
        self.input_scale_ = 1.0 / largest if largest > 0 and np.isfinite(largest) else 1.0
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(X))  # mixes classes across the augmentation groups
        x = np.multiply(X[order], self.input_scale_, dtype=DTYPE, casting="unsafe")
        targets = targets[order]
        sizes = [x.shape[1], *hidden, len(self.classes_)]
        self.layers_ = nn.he_init(rng, sizes, DTYPE)
        shifting = self.augment_shift > 0
        if shifting and (self.image_shape is None or int(np.prod(self.image_shape)) != x.shape[1]):
            raise ValueError(f"augment_shift needs images: image_shape {self.image_shape} does not "
                             f"match {x.shape[1]} features")
        # The groups are also the units of work shared among the cores, so they are kept without shifts too.
        engine = FullBatchGradient(x, targets, sizes, self.weight_decay,
                                   tuple(self.image_shape) if shifting else None, self.n_shift_groups)
        params = [p for layer in self.layers_ for p in layer]
        optimizer = Optimizer(self.optimizer, params, self.momentum, self.beta1, self.beta2)
        validation = None
        if eval_set is not None:
            x_val, y_val = eval_set
            validation = (self._scaled(x_val), np.searchsorted(self.classes_, np.asarray(y_val)))
        self.history_ = []
        start = time.perf_counter()
        # Divergence is caught below and reported with its iteration; NumPy's overflow warnings would only add noise.
        with engine, engine.single_threaded_blas(), np.errstate(over="ignore", invalid="ignore"):
            for step in range(self.max_iter):
                shifts = (rng.integers(-self.augment_shift, self.augment_shift + 1, size=(len(engine.groups), 2))
                          if shifting else None)
                loss, accuracy, grads = engine(self.layers_, shifts)
                if not np.isfinite(loss):
                    raise TrainingDiverged(
                        f"training diverged at iteration {step + 1}: the loss is {loss} "
                        f"(learning_rate {self.learning_rate} is probably too large)")
                lr = learning_rate_at(step, self.learning_rate, self.max_iter, self.lr_schedule, self.warmup_iterations)
                optimizer.step(params, [g for layer in grads for g in layer], lr)
                record = {"iteration": step + 1, "loss": loss, "accuracy": accuracy, "learning_rate": lr}
                if validation is not None and ((step + 1) % self.eval_every == 0 or step + 1 == self.max_iter):
                    record.update(self._evaluate(*validation))
                record["seconds"] = time.perf_counter() - start
                self.history_.append(record)
                if callback is not None:
                    callback(record)
        self.n_iter_ = self.max_iter
        return self

    def _scaled(self, X) -> np.ndarray:
        X = validate_data(self, X, dtype="numeric", reset=False)
        return np.multiply(X, self.input_scale_, dtype=DTYPE, casting="unsafe")

    def _evaluate(self, x_scaled: np.ndarray, targets: np.ndarray) -> dict:
        logits = nn.forward(self.layers_, x_scaled)
        return {"validation_loss": nn.cross_entropy(logits, targets),
                "validation_accuracy": float(np.mean(logits.argmax(axis=1) == targets))}

    # -- prediction ------------------------------------------------------------------------
    def decision_function_logits(self, X) -> np.ndarray:
        check_is_fitted(self)
        return nn.forward(self.layers_, self._scaled(X))

    def predict_proba(self, X) -> np.ndarray:
        return nn.softmax(self.decision_function_logits(X).astype(np.float64))

    def predict(self, X) -> np.ndarray:
        logits = self.decision_function_logits(X)  # checks fitted before classes_ is read
        return self.classes_[logits.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
