"""One table of rules for the train params: params.yaml's loader and ``DigitNetClassifier.fit``
accept and refuse the same values, with the same one-line message.

The bounds below are written out by hand from the documented ranges (not read from the table), so
a rule that drifts from them fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.config import TrainParams, parse_params
from pipeline.core.errors import InvalidParameter, PipelineError
from pipeline.model.estimator import DigitNetClassifier

TINY = float(np.nextafter(0.0, 1.0))


def above(x: float) -> float:
    return float(np.nextafter(x, np.inf))


def below(x: float) -> float:
    return float(np.nextafter(x, -np.inf))


# param: (values at or just inside each bound, values one step past a bound)
BOUNDS = {
    "hidden_layer_sizes": ([[1], [1, 1], 3], [[], [0], [5, -1]]),
    "optimizer": (["gd", "momentum", "adam", "muon"], ["sgd", ""]),
    "learning_rate": ([TINY, 10.0], [0.0, -TINY]),
    "lr_schedule": (["constant", "cosine", "step"], ["linear"]),
    "warmup_iterations": ([0, TrainParams().max_iter - 1], [-1, TrainParams().max_iter]),
    "max_iter": ([1], [0]),
    "momentum": ([0.0, below(1.0)], [-TINY, 1.0]),
    "beta_1": ([0.0, below(1.0)], [-TINY, 1.0]),
    "beta_2": ([0.0, below(1.0)], [-TINY, 1.0]),
    "weight_decay": ([0.0], [-TINY]),
    "deskew": ([True, False], []),
    "input_components": ([0, 784], [-1]),
    "dropout": ([0.0, 0.9], [-TINY, above(0.9)]),
    "augment_translate": ([0, 4], [-1, 5]),
    "augment_groups": ([1], [0]),
    "augment_rotate_degrees": ([0.0, 45.0], [-TINY, above(45.0)]),
    "augment_scale": ([0.0, below(0.5)], [-TINY, 0.5]),
    "augment_shear_degrees": ([0.0, 45.0], [-TINY, above(45.0)]),
    "augment_elastic_alpha": ([0.0, 8.0], [-TINY, above(8.0)]),
    "augment_elastic_sigma": ([TINY], [0.0, -1.0]),
    "random_state": ([0], [-1]),
    "eval_every": ([1], [0]),
    "device": (["auto", "cpu", "gpu"], ["cuda", "GPU"]),
}
WRONG_TYPES = [("learning_rate", "fast"), ("max_iter", 1.5), ("max_iter", True), ("optimizer", 3),
               ("hidden_layer_sizes", "64"), ("hidden_layer_sizes", [8.5]), ("augment_scale", None),
               ("deskew", 1), ("deskew", "yes")]


def test_every_train_param_has_its_bounds_here():
    assert set(BOUNDS) == set(TrainParams.__dataclass_fields__)


def cases(kind: int):
    return [(name, value) for name, pair in BOUNDS.items() for value in pair[kind]]


def loader_message(name, value) -> str:
    with pytest.raises(PipelineError) as err:
        parse_params({"train": {name: value}})
    return str(err.value)


def estimator_message(name, value) -> str:
    X = np.random.default_rng(0).random((6, 4))
    with pytest.raises(ValueError) as err:
        DigitNetClassifier(**{name: value}).fit(X, [0, 1, 0, 1, 0, 1], eval_set=(X, [0, 1, 0, 1, 0, 1]))
    assert isinstance(err.value, InvalidParameter)
    return str(err.value)


@pytest.mark.parametrize("name, value", cases(1) + WRONG_TYPES)
def test_a_bad_value_is_refused_with_the_same_line_both_ways(name, value):
    from_yaml, from_fit = loader_message(name, value), estimator_message(name, value)
    assert from_yaml.startswith((f"params.yaml.train.{name} ", f"params.yaml.train.{name}[")), from_yaml
    assert from_fit.startswith((f"DigitNetClassifier.{name} ", f"DigitNetClassifier.{name}[")), from_fit
    assert from_yaml.removeprefix("params.yaml.train.") == from_fit.removeprefix("DigitNetClassifier.")
    assert "\n" not in from_yaml and ", got " in from_yaml


@pytest.mark.parametrize("name, value", cases(0))
def test_a_value_at_its_bound_is_accepted_both_ways(name, value):
    """Each route keeps the value it was given: the one written here (layer widths as a tuple, one width as a
    tuple of one), of the same type; not merely the same as the other route, which runs the same code."""
    if name == "hidden_layer_sizes":
        value_kept = tuple(value) if isinstance(value, list) else (value,)
    else:
        value_kept = value
    from_yaml = getattr(parse_params({"train": {name: value}}).train, name)
    from_estimator = getattr(DigitNetClassifier(**{name: value}).checked_params(), name)
    for kept in (from_yaml, from_estimator):
        assert kept == value_kept and type(kept) is type(value_kept), (name, value, kept)


@pytest.mark.parametrize("name, value, value_kept", [("learning_rate", 1, 1.0), ("augment_rotate_degrees", 45, 45.0),
                                                     ("hidden_layer_sizes", np.int64(7), (7,)),
                                                     ("max_iter", np.int64(3), 3), ("momentum", np.float32(0.5), 0.5)])
def test_an_int_for_a_float_and_numpy_numbers_are_kept_as_python_numbers_both_ways(name, value, value_kept):
    for params in (parse_params({"train": {name: value}}).train, DigitNetClassifier(**{name: value}).checked_params()):
        kept = getattr(params, name)
        assert kept == value_kept and type(kept) is type(value_kept)
        if name == "hidden_layer_sizes":
            assert all(type(width) is int for width in kept)


def test_fit_checks_before_training():
    """The crashes this table replaced: eval_every 0 divided by zero, augment_groups 0 took max() of nothing."""
    X = np.random.default_rng(0).random((8, 784))
    y = [0, 1] * 4
    with pytest.raises(InvalidParameter, match=r"^DigitNetClassifier.eval_every must be > 0, got 0$"):
        DigitNetClassifier(eval_every=0, max_iter=2).fit(X, y, eval_set=(X, y))
    with pytest.raises(InvalidParameter, match=r"^DigitNetClassifier.augment_groups must be > 0, got 0$"):
        DigitNetClassifier(augment_groups=0, max_iter=2).fit(X, y)


def test_warmup_is_checked_against_the_estimators_own_max_iter():
    X = np.random.default_rng(0).random((6, 4))
    with pytest.raises(InvalidParameter, match="warmup_iterations must be >= 0 and below max_iter, got 5"):
        DigitNetClassifier(max_iter=5, warmup_iterations=5).fit(X, [0, 1] * 3)
    DigitNetClassifier(max_iter=5, warmup_iterations=4, hidden_layer_sizes=[3]).fit(X, [0, 1] * 3)
