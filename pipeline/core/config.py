"""The one typed loader for ``params.yaml``: every stage reads its section through here.

Unknown keys, wrong types and out-of-range values are refused with a message that names the
file and the field (``params.yaml: train.learning_rate must be > 0, got -1``).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from pipeline.core.errors import PipelineError

OPTIMIZERS = ("gd", "momentum", "adam")
SCHEDULES = ("constant", "cosine", "step")


@dataclass(frozen=True)
class FetchParams:
    source: str = "auto"  # auto | kaggle | sample | path to a competition zip
    competition: str = "digit-recognizer"
    solution: str = ""  # optional answer key (ImageId,Label) for a local zip

    def check(self, where: str) -> None:
        _require(bool(self.source.strip()), where, "source", "must not be empty", self.source)
        _require(bool(self.competition.strip()), where, "competition", "must not be empty", self.competition)


@dataclass(frozen=True)
class SplitParams:
    validation_fraction: float = 0.1
    seed: int = 42

    def check(self, where: str) -> None:
        _require(0.0 < self.validation_fraction < 1.0, where, "validation_fraction",
                 "must be between 0 and 1 (exclusive)", self.validation_fraction)
        _require(self.seed >= 0, where, "seed", "must be >= 0", self.seed)


@dataclass(frozen=True)
class TrainParams:
    hidden_layers: tuple[int, ...] = (256, 256)
    optimizer: str = "adam"
    learning_rate: float = 0.005
    lr_schedule: str = "cosine"
    warmup_iterations: int = 0
    iterations: int = 2400
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 0.0
    augment_shift: int = 2
    augment_groups: int = 16
    # Warps drawn per group and iteration (all 0: integer shifts only). With any of them on,
    # augment_shift is a sub-pixel translation range and the shift is one part of a bilinear warp.
    augment_rotate_degrees: float = 12.0
    augment_scale: float = 0.1          # zoom factor in [1 - x, 1 + x]
    augment_shear_degrees: float = 10.0
    augment_elastic_alpha: float = 2.0  # largest elastic displacement, pixels
    augment_elastic_sigma: float = 4.0  # smoothness of the elastic field, pixels
    seed: int = 0
    eval_every: int = 10

    def check(self, where: str) -> None:
        _require(len(self.hidden_layers) > 0, where, "hidden_layers",
                 "must list at least one layer width", list(self.hidden_layers))
        for width in self.hidden_layers:
            _require(width > 0, where, "hidden_layers", "widths must be > 0", list(self.hidden_layers))
        _require(self.optimizer in OPTIMIZERS, where, "optimizer", f"must be one of {', '.join(OPTIMIZERS)}", self.optimizer)
        _require(self.lr_schedule in SCHEDULES, where, "lr_schedule", f"must be one of {', '.join(SCHEDULES)}", self.lr_schedule)
        _require(self.learning_rate > 0, where, "learning_rate", "must be > 0", self.learning_rate)
        _require(self.iterations > 0, where, "iterations", "must be > 0", self.iterations)
        _require(0 <= self.warmup_iterations < self.iterations, where, "warmup_iterations",
                 "must be >= 0 and below iterations", self.warmup_iterations)
        _require(0.0 <= self.momentum < 1.0, where, "momentum", "must be in [0, 1)", self.momentum)
        _require(0.0 <= self.beta1 < 1.0, where, "beta1", "must be in [0, 1)", self.beta1)
        _require(0.0 <= self.beta2 < 1.0, where, "beta2", "must be in [0, 1)", self.beta2)
        _require(self.weight_decay >= 0, where, "weight_decay", "must be >= 0", self.weight_decay)
        _require(0 <= self.augment_shift <= 4, where, "augment_shift", "must be between 0 and 4 pixels", self.augment_shift)
        _require(self.augment_groups > 0, where, "augment_groups", "must be > 0", self.augment_groups)
        _require(0 <= self.augment_rotate_degrees <= 45, where, "augment_rotate_degrees",
                 "must be between 0 and 45", self.augment_rotate_degrees)
        _require(0 <= self.augment_scale < 0.5, where, "augment_scale", "must be >= 0 and below 0.5", self.augment_scale)
        _require(0 <= self.augment_shear_degrees <= 45, where, "augment_shear_degrees",
                 "must be between 0 and 45", self.augment_shear_degrees)
        _require(0 <= self.augment_elastic_alpha <= 8, where, "augment_elastic_alpha",
                 "must be between 0 and 8 pixels", self.augment_elastic_alpha)
        _require(self.augment_elastic_sigma > 0, where, "augment_elastic_sigma", "must be > 0", self.augment_elastic_sigma)
        _require(self.seed >= 0, where, "seed", "must be >= 0", self.seed)
        _require(self.eval_every > 0, where, "eval_every", "must be > 0", self.eval_every)


@dataclass(frozen=True)
class PredictParams:
    # Test-time augmentation: average the probabilities of each test image shifted by up to this many
    # pixels each way ((2k + 1)^2 copies); 0 predicts each image once.
    tta_shift: int = 1

    def check(self, where: str) -> None:
        _require(0 <= self.tta_shift <= 3, where, "tta_shift", "must be between 0 and 3 pixels", self.tta_shift)


@dataclass(frozen=True)
class Params:
    fetch: FetchParams = field(default_factory=FetchParams)
    split: SplitParams = field(default_factory=SplitParams)
    train: TrainParams = field(default_factory=TrainParams)
    predict: PredictParams = field(default_factory=PredictParams)


def _require(ok: bool, where: str, name: str, what: str, found: object) -> None:
    if not ok:
        raise PipelineError(f"{where}.{name} {what}, got {found!r}")


def _coerce(value: object, annotation: object, where: str) -> object:
    """Check ``value`` against a field's annotation; ints are accepted where floats are expected."""
    origin = typing.get_origin(annotation)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(annotation)
        if not isinstance(value, (list, tuple)):
            raise PipelineError(f"{where} must be a list of {item_type.__name__}, got {value!r}")
        return tuple(_coerce(item, item_type, f"{where}[{i}]") for i, item in enumerate(value))
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PipelineError(f"{where} must be a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PipelineError(f"{where} must be an integer, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise PipelineError(f"{where} must be a string, got {value!r}")
        return value
    raise TypeError(f"unsupported annotation {annotation!r}")  # a bug in this module, not user input


def _build(cls: type, raw: object, where: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PipelineError(f"{where} must be a mapping of keys to values, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PipelineError(f"{where} has unknown key(s) {', '.join(map(str, unknown))}; "
                            f"known keys: {', '.join(sorted(known))}")
    values = {}
    for f in fields(cls):
        if f.name in raw:
            if dataclasses.is_dataclass(hints[f.name]):
                values[f.name] = _build(hints[f.name], raw[f.name], f"{where}.{f.name}")
            else:
                values[f.name] = _coerce(raw[f.name], hints[f.name], f"{where}.{f.name}")
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(where)
    return obj


def parse_params(raw: object, source: str = "params.yaml") -> Params:
    """Build typed params from already-parsed YAML (a dict); ``source`` names it in errors."""
    return _build(Params, raw, source)


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run from the project root, where params.yaml lives") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None
    return parse_params(raw, str(path))
