"""The one typed loader for ``params.yaml``: every stage reads its section through here.

Each field is declared with its default and its rule (``pipeline.core.param_rules``), once:
``DigitNetClassifier`` takes its parameters' names and defaults from ``TrainParams`` and checks
them against the same rules. Unknown keys, wrong types and out-of-range values are refused with a
message that names the file and the field (``params.yaml.train.learning_rate must be > 0, got -1.0``).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from pipeline.core.errors import PipelineError
from pipeline.core.param_rules import Below, Interval, NotBlank, OneOf, Widths, check_fields, rule
from pipeline.core.text_file import read_text

OPTIMIZERS = ("gd", "momentum", "adam", "muon")
SCHEDULES = ("constant", "cosine", "step")
DEVICES = ("auto", "cpu", "gpu")
POSITIVE = Interval(0, low_open=True)
NOT_NEGATIVE = Interval(0)
FRACTION = Interval(0, 1, high_open=True)
# Former names of keys: an error that meets one names the key that replaced it.
RENAMED = {"iterations": "max_iter", "hidden_layers": "hidden_layer_sizes", "seed": "random_state",
           "beta1": "beta_1", "beta2": "beta_2", "augment_shift": "augment_translate"}


@dataclass(frozen=True)
class FetchParams:
    source: str = rule("auto", NotBlank())  # auto | kaggle | sample | path to a competition zip
    competition: str = rule("digit-recognizer", NotBlank())
    solution: str = rule("")  # optional answer key (ImageId,Label) for a local zip


@dataclass(frozen=True)
class SplitParams:
    validation_fraction: float = rule(0.1, Interval(0, 1, low_open=True, high_open=True))
    random_state: int = rule(42, NOT_NEGATIVE)


@dataclass(frozen=True)
class TrainParams:
    """``params.yaml``'s ``train`` section, named as ``DigitNetClassifier``'s parameters (scikit-learn's
    ``MLPClassifier`` names where it has one), with each value's rule."""
    hidden_layer_sizes: tuple[int, ...] = rule((256, 256), Widths())
    optimizer: str = rule("muon", OneOf(OPTIMIZERS))
    learning_rate: float = rule(0.005, POSITIVE)
    lr_schedule: str = rule("cosine", OneOf(SCHEDULES))
    warmup_iterations: int = rule(0, Below("max_iter"))
    max_iter: int = rule(3600, POSITIVE)  # full-batch updates
    momentum: float = rule(0.9, FRACTION)
    beta_1: float = rule(0.9, FRACTION)
    beta_2: float = rule(0.999, FRACTION)
    weight_decay: float = rule(0.0, NOT_NEGATIVE)
    # Each image sheared upright and centred by its own moments before the network sees it, in training,
    # validation and prediction alike (pipeline/model/deskew.py).
    deskew: bool = rule(True)
    # k > 0: each image kept as its coordinates along the training images' k leading principal directions,
    # which shrinks the first layer's products from 784 columns to k (pipeline/model/projection.py); 0: off.
    input_components: int = rule(128, NOT_NEGATIVE)
    # r > 0: each hidden unit of each training row dropped with probability r at every update, the rest
    # scaled by 1 / (1 - r); in steps of 1/256 (pipeline/model/dropout.py). 0: off.
    dropout: float = rule(0.0, Interval(0, 0.9))
    # Largest random translation, in pixels, drawn per group of images and update: whole pixels
    # while every warp below is 0, any sub-pixel amount (a part of the warp) when one is on.
    augment_translate: int = rule(2, Interval(0, 4, unit=" pixels"))
    augment_groups: int = rule(16, POSITIVE)  # groups of training images, each with its own draw per update
    augment_rotate_degrees: float = rule(12.0, Interval(0, 45))
    augment_scale: float = rule(0.1, Interval(0, 0.5, high_open=True))  # zoom factor in [1 - x, 1 + x]
    augment_shear_degrees: float = rule(10.0, Interval(0, 45))
    augment_elastic_alpha: float = rule(2.0, Interval(0, 8, unit=" pixels"))  # largest elastic displacement
    augment_elastic_sigma: float = rule(4.0, POSITIVE)  # smoothness of the elastic field, pixels
    random_state: int = rule(0, NOT_NEGATIVE)
    eval_every: int = rule(10, POSITIVE)  # validation accuracy every this many updates
    # auto: the GPU when CuPy imports and sees a CUDA device, else the CPU (pipeline/model/devices.py)
    device: str = rule("auto", OneOf(DEVICES))


@dataclass(frozen=True)
class PredictParams:
    # Test-time augmentation: average the probabilities of each test image shifted by up to this many
    # pixels each way ((2k + 1)^2 copies); 0 predicts each image once.
    tta_shift: int = rule(1, Interval(0, 3, unit=" pixels"))


@dataclass(frozen=True)
class Params:
    fetch: FetchParams = field(default_factory=FetchParams)
    split: SplitParams = field(default_factory=SplitParams)
    train: TrainParams = field(default_factory=TrainParams)
    predict: PredictParams = field(default_factory=PredictParams)


def _named(key: object, known: set[str]) -> str:
    """An unknown key as the error names it: with the key that replaced it, or the known key it is a typo of
    (difflib's closest match, as Python's own "Did you mean" does it)."""
    if RENAMED.get(key) in known:
        return f"{key} (now {RENAMED[key]})"
    close = difflib.get_close_matches(str(key), sorted(known), n=1)
    return f"{key} (did you mean {close[0]}?)" if close else str(key)


def _build(cls: type, raw: object, where: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PipelineError(f"{where} must be a mapping of keys to values, got {raw!r}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known, key=str)
    if unknown:
        named = [_named(key, known) for key in unknown]
        raise PipelineError(f"{where} has unknown key(s) {', '.join(named)}; known keys: {', '.join(sorted(known))}")
    hints = typing.get_type_hints(cls)
    sections = {name: _build(hints[name], value, f"{where}.{name}")
                for name, value in raw.items() if dataclasses.is_dataclass(hints[name])}
    values = check_fields(cls, {k: v for k, v in raw.items() if k not in sections}, where)
    return cls(**values, **sections)


def parse_params(raw: object, source: str = "params.yaml") -> Params:
    """Build typed params from already-parsed YAML (a dict); ``source`` names it in errors."""
    return _build(Params, raw, source)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader (YAML 1.1), reading ``1e-07`` as YAML 1.2 does: a float, not a string. DVC writes
    params.yaml for ``dvc exp run -S train.learning_rate=1e-7`` (and every trial of ``tune``) that way."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def read_yaml_file(path: str | Path) -> object:
    """A project YAML file (params.yaml, tune.yaml) parsed, or one line naming it and what is wrong."""
    path = Path(path)
    text = read_text(path, f"fix or restore it: git checkout -- {path.name}",
                     missing=f"run from the project root, where {path.name} lives")
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None


def load_params(path: str | Path = "params.yaml") -> Params:
    return parse_params(read_yaml_file(path), str(path))
