"""``DigitNetClassifier``: the full-batch ReLU-softmax network as a scikit-learn classifier.

Every update's gradient covers the whole training set. Works in float32; inputs are scaled by
one number learned in ``fit`` (1/255 for pixel data), which keeps a blank pixel at zero, so the
optional random shifts (``augment_translate``) fill with blank pixels.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from pipeline.core.config import TrainParams
from pipeline.core.param_rules import check_fields
from pipeline.model import deskew, device_check, devices, nn, projection, warps
from pipeline.model.engines import make_engine
from pipeline.model.optim import learning_rate_at, network_optimizer
from pipeline.model.padded_batches import padded_batches

DTYPE = np.float32

# The estimator's parameters are params.yaml's train keys: the same names, defaults and rules
# (``TrainParams``), plus ``image_shape``, which only callers outside the pipeline set.
TRAIN_PARAMS = tuple(f.name for f in dataclasses.fields(TrainParams))
_D = TrainParams()
MNIST_SHAPE = (28, 28)  # image_shape="auto": the digits' shape; other inputs are not taken for images


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; raised with the iteration instead of keeping NaN weights."""


class DigitNetClassifier(ClassifierMixin, BaseEstimator):
    """A ReLU network with a softmax output, trained by full-batch gradient descent.

    Its parameters are ``params.yaml``'s ``train`` keys, with ``TrainParams``'s defaults and rules
    (``fit`` refuses a bad value with the loader's words); ``max_iter`` is the number of full-batch
    updates. ``augment_translate`` > 0 moves each group of training images by a random offset of up
    to that many pixels, drawn anew every update; the ``augment_*`` warps add rotation, scale, shear
    and elastic distortion. ``image_shape``: the (rows, cols) of an image; "auto" takes 784 features
    for 28 x 28 digits and leaves any other input unaugmented, since moving pixels only means
    something for images (``image_shape_`` says what ``fit`` used: None when nothing moved). An
    explicit shape must match the features.

    Prediction runs in float64, so a row's answer does not depend on the other rows of its batch.
    """

    def __init__(self, hidden_layer_sizes=_D.hidden_layer_sizes, optimizer=_D.optimizer,
                 learning_rate=_D.learning_rate, lr_schedule=_D.lr_schedule, warmup_iterations=_D.warmup_iterations,
                 max_iter=_D.max_iter, momentum=_D.momentum, beta_1=_D.beta_1, beta_2=_D.beta_2,
                 weight_decay=_D.weight_decay, deskew=_D.deskew, input_components=_D.input_components,
                 dropout=_D.dropout,
                 augment_translate=_D.augment_translate,
                 augment_groups=_D.augment_groups, augment_rotate_degrees=_D.augment_rotate_degrees,
                 augment_scale=_D.augment_scale, augment_shear_degrees=_D.augment_shear_degrees,
                 augment_elastic_alpha=_D.augment_elastic_alpha, augment_elastic_sigma=_D.augment_elastic_sigma,
                 random_state=_D.random_state, eval_every=_D.eval_every, device=_D.device, image_shape="auto"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.warmup_iterations = warmup_iterations
        self.max_iter = max_iter
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.weight_decay = weight_decay
        self.deskew = deskew
        self.input_components = input_components
        self.dropout = dropout
        self.augment_translate = augment_translate
        self.augment_groups = augment_groups
        self.augment_rotate_degrees = augment_rotate_degrees
        self.augment_scale = augment_scale
        self.augment_shear_degrees = augment_shear_degrees
        self.augment_elastic_alpha = augment_elastic_alpha
        self.augment_elastic_sigma = augment_elastic_sigma
        self.random_state = random_state
        self.eval_every = eval_every
        self.device = device
        self.image_shape = image_shape

    @classmethod
    def from_params(cls, params: TrainParams, **extra) -> "DigitNetClassifier":
        """The estimator for params.yaml's ``train`` section (``extra``: ``image_shape``)."""
        model = cls(**dataclasses.asdict(params), **extra)
        model._loaded_params = params  # already checked by params.yaml's loader: fit does not check them again
        return model

    def checked_params(self) -> TrainParams:
        """This estimator's training parameters, coerced and checked against ``TrainParams``'s rules:
        a bad one raises ``InvalidParameter`` (a ``ValueError``) with the words params.yaml's loader uses.
        Params that came checked through ``from_params`` and have not been changed since are returned as they are."""
        given = {name: getattr(self, name) for name in TRAIN_PARAMS}
        loaded = getattr(self, "_loaded_params", None)
        if loaded is not None and dataclasses.asdict(loaded) == given:
            return loaded
        return TrainParams(**check_fields(TrainParams, given, type(self).__name__))

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, eval_set=None, callback: Callable[[dict], None] | None = None):
        """Train on (X, y). ``eval_set``: optional (X_val, y_val) scored every ``eval_every`` updates.

        ``callback`` receives each iteration's record (iteration, loss, accuracy, lr, seconds and,
        when evaluated, validation_loss and validation_accuracy).
        """
        p = self.checked_params()  # before any work: a bad value is one line, as from params.yaml
        choice = device_check.choose(p.device)  # device: gpu with no trustworthy GPU stops here, in one line
        X, y = validate_data(self, X, y, dtype="numeric", ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_, targets = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least 2 classes in y; got 1 class: {self.classes_[0]!r}")
        largest = float(np.max(np.abs(X))) if X.size else 0.0
        self.input_scale_ = 1.0 / largest if largest > 0 and np.isfinite(largest) else 1.0
        # Every random draw comes from this host generator, in the same order on either device, so
        # a seed means the same initial weights and the same augmentation on the CPU and the GPU.
        rng = np.random.default_rng(p.random_state)
        order = rng.permutation(len(X))  # mixes classes across the augmentation groups
        x = self._deskewed(np.multiply(X[order], self.input_scale_, dtype=DTYPE, casting="unsafe"), p.deskew)
        targets = targets[order]
        sizes = [x.shape[1], *p.hidden_layer_sizes, len(self.classes_)]
        host_layers = nn.he_init(rng, sizes, DTYPE)
        ranges = warps.ranges_of(p)
        self.image_shape_ = self.image_shape_for(x.shape[1]) if p.augment_translate > 0 or ranges.warping else None
        shifting = self.image_shape_ is not None
        self.device_, self.device_reason_ = choice.description, choice.reason
        if choice.fell_back:
            warnings.warn(choice.reason, device_check.DeviceFallbackWarning, stacklevel=2)
        # input_components k: the images' k leading directions; an input of k features or fewer has nothing to drop
        reduce = 0 < p.input_components < x.shape[1]
        self.input_basis_ = projection.principal_basis(x, p.input_components) if reduce else None
        engine = make_engine(choice.device, x, targets, sizes, p.weight_decay, self.image_shape_,
                             p.augment_groups if shifting else None, self.input_basis_, p.dropout)
        # Every weight and bias is a view into one flat array, and so is every gradient: the optimizer
        # updates them all with a few operations (on a GPU, a few kernel launches instead of a few per array).
        flat = engine.put(nn.flatten(host_layers))
        flat_grad = engine.xp.zeros_like(flat)
        layers, grads = nn.flat_views(flat, sizes), nn.flat_views(flat_grad, sizes)
        self.layers_ = layers  # the live weights (on the device during a GPU fit), for callbacks that predict
        optimizer_step = network_optimizer(p.optimizer, flat, flat_grad, sizes, p.momentum, p.beta_1, p.beta_2,
                                           run_each=engine.run_each)
        validation = None
        if eval_set is not None:
            x_val, y_val = eval_set
            val_targets = np.searchsorted(self.classes_, np.asarray(y_val))
            validation = (engine.put(self.transform_inputs(x_val, DTYPE)), engine.put(val_targets),
                          engine.put(np.arange(len(val_targets))))
        # Reading the device makes the host wait for it, so a GPU fit reads its losses once every
        # eval_every updates (with the validation scores), from this buffer: row k holds pending update
        # k's (loss, accuracy), the last row the validation's. On the CPU every value is already on the
        # host, and each update is read as it ends.
        read_every = 1 if choice.device == "cpu" else p.eval_every
        pending_stats = engine.xp.zeros((read_every + 1, 2), np.float64)
        pending: list[tuple[int, float, bool]] = []  # (iteration, learning rate, validated) not yet read
        self.history_ = []
        start = time.perf_counter()
        # Divergence is caught below and reported with its iteration; NumPy's overflow warnings would only add noise.
        try:
            with engine, engine.single_threaded_blas(), np.errstate(over="ignore", invalid="ignore"):
                def draw() -> tuple:
                    """One update's (shifts, warps), one per group, and its dropout seed (None when off),
                    from the host generator."""
                    shifts = moved = None
                    if shifting and ranges.warping:
                        moved = warps.random_warps(rng, len(engine.groups), self.image_shape_, ranges, DTYPE)
                    elif shifting:
                        shifts = rng.integers(-p.augment_translate, p.augment_translate + 1, size=(len(engine.groups), 2))
                    return shifts, moved, int(rng.integers(2 ** 63)) if p.dropout else None

                def read_pending() -> None:
                    """Turn the pending updates into history records (one wait for the device)."""
                    values = devices.to_numpy(pending_stats)
                    for k, (iteration, lr, validated) in enumerate(pending):
                        loss = float(values[k, 0])
                        if not np.isfinite(loss):
                            raise TrainingDiverged(
                                f"training diverged at iteration {iteration}: the loss is {loss} "
                                f"(learning_rate {p.learning_rate} is probably too large)")
                        record = {"iteration": iteration, "loss": loss, "accuracy": float(values[k, 1]),
                                  "learning_rate": lr}
                        if validated:
                            record["validation_loss"] = float(values[-1, 0])
                            record["validation_accuracy"] = float(values[-1, 1])
                        record["seconds"] = time.perf_counter() - start
                        self.history_.append(record)
                        if callback is not None:
                            callback(record)
                    pending.clear()

                # The next update's moves are drawn while this one finishes (the same draws, in the same
                # order): the device engine queues an update and returns at once, so they are drawn on the
                # host while the device computes; the CPU engine draws them on a worker thread beside the
                # optimizer's step.
                moves = draw()
                for step in range(p.max_iter):
                    shifts, moved, keep_seed = moves
                    loss, accuracy, _ = engine.launch(layers, shifts, moved, grads=grads, keep_seed=keep_seed)
                    upcoming = engine.in_background(draw) if step + 1 < p.max_iter else None
                    pending_stats[len(pending), 0] = loss
                    pending_stats[len(pending), 1] = accuracy
                    lr = learning_rate_at(step, p.learning_rate, p.max_iter, p.lr_schedule, p.warmup_iterations)
                    optimizer_step(lr)
                    if upcoming is not None:
                        moves = upcoming()
                    validated = validation is not None and ((step + 1) % p.eval_every == 0 or step + 1 == p.max_iter)
                    if validated:
                        x_val, val_targets, val_rows = validation
                        pending_stats[-1, 0], pending_stats[-1, 1] = nn.scores(nn.forward(layers, x_val), val_targets,
                                                                               val_rows)
                    pending.append((step + 1, lr, validated))
                    if len(pending) == read_every or validated or step + 1 == p.max_iter:
                        read_pending()
        finally:
            self.layers_ = nn.flat_views(devices.to_numpy(flat), sizes)  # the model is NumPy arrays, read at once
        self.n_iter_ = p.max_iter
        return self

    def image_shape_for(self, n_features: int) -> tuple[int, int] | None:
        """The (rows, cols) that ``n_features`` inputs fold into under ``image_shape`` (None: not images)."""
        if isinstance(self.image_shape, str) and self.image_shape == "auto":
            return MNIST_SHAPE if n_features == MNIST_SHAPE[0] * MNIST_SHAPE[1] else None
        if self.image_shape is None or int(np.prod(self.image_shape)) != n_features:
            raise ValueError(f"augment_translate needs images: image_shape {self.image_shape} does not "
                             f"match {n_features} features")
        return tuple(int(v) for v in self.image_shape)

    def augmented_examples(self, X, seed: int = 0) -> np.ndarray:
        """``X`` (rows of images) as training shows them: each row with its own fresh random warp
        or translation from this model's augmentation params (unchanged when augmentation is off)."""
        p = self.checked_params()
        ranges = warps.ranges_of(p)
        X = self._deskewed(np.asarray(X, dtype=np.float64), p.deskew)  # deskewing is linear: no need to scale first
        shape = self.image_shape_for(X.shape[1]) if p.augment_translate > 0 or ranges.warping else None
        if shape is None:
            return X.copy()
        rng = np.random.default_rng(seed)
        if ranges.warping:
            return np.stack([warps.random_warp(rng, shape, ranges) @ row for row in X])
        moves = rng.integers(-p.augment_translate, p.augment_translate + 1, size=(len(X), 2))
        return np.concatenate([nn.shift_images(row[None], int(dy), int(dx), shape) for row, (dy, dx) in zip(X, moves)])

    def transform_inputs(self, X, dtype=np.float64) -> np.ndarray:
        """``X`` as the network takes it: scaled as in ``fit``, deskewed when ``deskew`` is on, and projected on
        the training images' principal directions when ``input_components`` is set."""
        X = validate_data(self, X, dtype="numeric", reset=False)
        x = self._deskewed(np.multiply(X, self.input_scale_, dtype=dtype, casting="unsafe"), self.deskew)
        basis = getattr(self, "input_basis_", None)
        return x if basis is None else projection.project(x, basis)

    def _deskewed(self, x: np.ndarray, on: bool) -> np.ndarray:
        """``x`` deskewed when ``on`` and its rows are images (as with the augmentation, image_shape "auto"
        takes 784 features for 28 x 28 digits and leaves any other input as it is)."""
        shape = self.image_shape_for(x.shape[1]) if on else None
        return x if shape is None else deskew.deskew(x, shape)

    # -- prediction ------------------------------------------------------------------------
    def decision_function_logits(self, X) -> np.ndarray:
        """The output layer's logits, one column per class, as float64 NumPy.

        Rows go through the network in ``padded_batches``, the last one zero-padded, so every
        product has the same shape: BLAS (and cuBLAS) then sum each row's products in the same order
        wherever the row sits, and a row's answer is the same, bit for bit, alone or in any batch. On
        the CPU in float64; on a GPU that passes its self-check (``device`` auto or gpu), in float32.
        """
        check_is_fitted(self)
        return self.logits_of_inputs(self.transform_inputs(X))

    def logits_of_inputs(self, x: np.ndarray) -> np.ndarray:
        """``decision_function_logits`` of rows already through ``transform_inputs`` (test-time views move those)."""
        device = self.prediction_device().device if len(x) else "cpu"
        if device == "cpu":
            layers = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in self.layers_]
            return _batched_logits(layers, x, np.float64, lambda a: a)
        xp = devices.module_for(device)
        layers = [(xp.asarray(devices.to_numpy(w), DTYPE), xp.asarray(devices.to_numpy(b), DTYPE)) for w, b in self.layers_]
        return _batched_logits(layers, x, DTYPE, xp.asarray)

    def prediction_device(self) -> "device_check.DeviceChoice":
        """Where prediction runs: a GPU that passes its self-check unless ``device`` is cpu (never an error:
        a model trained on a GPU still predicts on a machine without one)."""
        return device_check.choose("cpu" if self.device == "cpu" else "auto")

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


def _batched_logits(layers, x: np.ndarray, dtype, put) -> np.ndarray:
    """``nn.forward`` over ``x`` in ``padded_batches`` of ``dtype``, on the device of ``layers`` (``put``
    moves a host batch there); float64 NumPy logits."""
    out = np.empty((len(x), layers[-1][0].shape[1]), np.float64)
    for begin, rows, batch in padded_batches(x, dtype):
        out[begin:begin + rows] = devices.to_numpy(nn.forward(layers, put(batch)))[:rows]
    return out
