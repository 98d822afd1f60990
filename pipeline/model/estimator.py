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

from pipeline.core.config import TrainParams
from pipeline.model import nn, warps
from pipeline.model.full_batch import FullBatchGradient, auto_workers
from pipeline.model.optim import Optimizer, learning_rate_at

DTYPE = np.float32

# The one place where the estimator's parameters meet ``params.yaml``'s ``train`` keys: the estimator
# keeps scikit-learn's names (``MLPClassifier``'s where one exists), params.yaml keeps its own, and the
# estimator's constructor defaults are read from ``TrainParams``, so the two cannot drift apart.
PARAM_KEYS = {
    "hidden_layer_sizes": "hidden_layers", "optimizer": "optimizer", "learning_rate": "learning_rate",
    "max_iter": "iterations", "lr_schedule": "lr_schedule", "warmup_iterations": "warmup_iterations",
    "momentum": "momentum", "beta1": "beta1", "beta2": "beta2", "weight_decay": "weight_decay",
    "augment_shift": "augment_shift", "n_shift_groups": "augment_groups", "random_state": "seed",
    "eval_every": "eval_every", "augment_rotate_degrees": "augment_rotate_degrees",
    "augment_scale": "augment_scale", "augment_shear_degrees": "augment_shear_degrees",
    "augment_elastic_alpha": "augment_elastic_alpha", "augment_elastic_sigma": "augment_elastic_sigma",
}
_D = TrainParams()
MNIST_SHAPE = (28, 28)  # image_shape="auto": the digits' shape; other inputs are not taken for images


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; raised with the iteration instead of keeping NaN weights."""


class DigitNetClassifier(ClassifierMixin, BaseEstimator):
    """A ReLU network with a softmax output, trained by full-batch gradient descent.

    Parameters mirror ``params.yaml``'s ``train`` section (``PARAM_KEYS`` maps the names; the
    defaults are ``TrainParams``'s); ``max_iter`` is the number of full-batch updates.
    ``augment_shift`` > 0 moves each group of training images by a random offset of up to that
    many pixels, drawn anew every iteration. ``image_shape``: the (rows, cols) of an image; "auto"
    takes 784 features for 28 x 28 digits and leaves any other input unaugmented, since shifting
    only means something for images (``image_shape_`` says what ``fit`` used: None when nothing
    was shifted). An explicit shape must match the features.

    Prediction runs in float64, so a row's answer does not depend on the other rows of its batch.
    """

    def __init__(self, hidden_layer_sizes=_D.hidden_layers, optimizer=_D.optimizer, learning_rate=_D.learning_rate,
                 max_iter=_D.iterations, lr_schedule=_D.lr_schedule, warmup_iterations=_D.warmup_iterations,
                 momentum=_D.momentum, beta1=_D.beta1, beta2=_D.beta2, weight_decay=_D.weight_decay,
                 augment_shift=_D.augment_shift, image_shape="auto", n_shift_groups=_D.augment_groups,
                 random_state=_D.seed, eval_every=_D.eval_every,
                 augment_rotate_degrees=_D.augment_rotate_degrees, augment_scale=_D.augment_scale,
                 augment_shear_degrees=_D.augment_shear_degrees, augment_elastic_alpha=_D.augment_elastic_alpha,
                 augment_elastic_sigma=_D.augment_elastic_sigma):
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
        self.augment_rotate_degrees = augment_rotate_degrees
        self.augment_scale = augment_scale
        self.augment_shear_degrees = augment_shear_degrees
        self.augment_elastic_alpha = augment_elastic_alpha
        self.augment_elastic_sigma = augment_elastic_sigma

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
        ranges, warping = self._ranges(), self._warping()
        self.image_shape_ = self.image_shape_for(x.shape[1]) if self.augment_shift > 0 or warping else None
        shifting = self.image_shape_ is not None
        # Without shifts the groups are only units of work for the cores: one per worker thread.
        groups = self.n_shift_groups if shifting else auto_workers(len(x), sizes)
        engine = FullBatchGradient(x, targets, sizes, self.weight_decay, self.image_shape_, groups)
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
                shifts = group_warps = None
                if shifting and warping:
                    group_warps = warps.random_warps(rng, len(engine.groups), self.image_shape_, ranges, DTYPE)
                elif shifting:
                    shifts = rng.integers(-self.augment_shift, self.augment_shift + 1, size=(len(engine.groups), 2))
                loss, accuracy, grads = engine(self.layers_, shifts, group_warps)
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

    def image_shape_for(self, n_features: int) -> tuple[int, int] | None:
        """The (rows, cols) that ``n_features`` inputs fold into under ``image_shape`` (None: not images)."""
        if isinstance(self.image_shape, str) and self.image_shape == "auto":
            return MNIST_SHAPE if n_features == MNIST_SHAPE[0] * MNIST_SHAPE[1] else None
        if self.image_shape is None or int(np.prod(self.image_shape)) != n_features:
            raise ValueError(f"augment_shift needs images: image_shape {self.image_shape} does not "
                             f"match {n_features} features")
        return tuple(int(v) for v in self.image_shape)

    def augmented_examples(self, X, seed: int = 0) -> np.ndarray:
        """``X`` (rows of images) as training shows them: each row with its own fresh random warp
        or shift from this model's augmentation params (unchanged when augmentation is off)."""
        X = np.asarray(X, dtype=np.float64)
        shape = self.image_shape_for(X.shape[1]) if self.augment_shift > 0 or self._warping() else None
        if shape is None:
            return X.copy()
        rng = np.random.default_rng(seed)
        if self._warping():
            return np.stack([warps.random_warp(rng, shape, self._ranges()) @ row for row in X])
        moves = rng.integers(-self.augment_shift, self.augment_shift + 1, size=(len(X), 2))
        return np.concatenate([nn.shift_images(row[None], int(dy), int(dx), shape) for row, (dy, dx) in zip(X, moves)])

    def _ranges(self) -> warps.WarpRanges:
        return warps.WarpRanges(float(self.augment_shift), self.augment_rotate_degrees, self.augment_scale,
                                self.augment_shear_degrees, self.augment_elastic_alpha, self.augment_elastic_sigma)

    def _warping(self) -> bool:
        r = self._ranges()
        return any(v > 0 for v in (r.rotate_degrees, r.scale, r.shear_degrees, r.elastic_alpha))

    def _scaled(self, X, dtype=DTYPE) -> np.ndarray:
        X = validate_data(self, X, dtype="numeric", reset=False)
        return np.multiply(X, self.input_scale_, dtype=dtype, casting="unsafe")

    def _evaluate(self, x_scaled: np.ndarray, targets: np.ndarray) -> dict:
        logits = nn.forward(self.layers_, x_scaled)
        return {"validation_loss": nn.cross_entropy(logits, targets),
                "validation_accuracy": float(np.mean(logits.argmax(axis=1) == targets))}

    # -- prediction ------------------------------------------------------------------------
    def decision_function_logits(self, X) -> np.ndarray:
        """The output layer's logits, one column per class, computed in float64.

        float32 products are blocked differently for different batch sizes, which moved a row's
        probabilities by ~1e-7 with its batch. Each row also goes through its own product
        (``nn.forward_rowwise``), so its answer is the same, bit for bit, alone or in any batch.
        """
        check_is_fitted(self)
        layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in self.layers_]
        return nn.forward_rowwise(layers, self._scaled(X, np.float64))

    def decision_function(self, X) -> np.ndarray:
        """scikit-learn's convention: the logits, or for two classes the margin of the second."""
        logits = self.decision_function_logits(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X) -> np.ndarray:
        return nn.softmax(self.decision_function_logits(X))

    def predict(self, X) -> np.ndarray:
        logits = self.decision_function_logits(X)  # checks fitted before classes_ is read
        return self.classes_[logits.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
