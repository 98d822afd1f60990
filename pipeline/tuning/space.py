"""``tune.yaml``: the study's defaults and its search space, checked with params.yaml's own rules.

Each entry of ``space`` names a param of params.yaml's ``train`` or ``predict`` section (as
``dvc exp run -S`` does) and the values a trial may give it::

    train.learning_rate: {low: 0.001, high: 0.02, log: true}      # log-uniform
    train.max_iter: {low: 1200, high: 3600, step: 600}             # an int param: whole steps
    train.hidden_layer_sizes: {depth: {low: 1, high: 3}, width: {low: 128, high: 1024, step: 128}}
    predict.tta_shift: {choices: [0, 1, 2]}

Every bound and choice must pass the rule params.yaml's loader applies to that param, and a bad
entry is one line naming it (``tune.yaml.space.train.learning_rate.low must be > 0, got -1.0``).
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import re
import typing
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from pipeline.core.config import PredictParams, TrainParams, read_yaml_file
from pipeline.core.errors import InvalidParameter, PipelineError
from pipeline.core.param_rules import check_fields

SECTIONS = {"train": TrainParams, "predict": PredictParams}
SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "none")
# A study's name becomes part of each trial's DVC experiment name, a git ref: letters, digits, - and _.
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
TOP_KEYS = ("study", "sampler", "seed", "pruner", "space")
PRUNER_KEYS = ("kind", "startup_trials", "warmup_percent")


@dataclass(frozen=True)
class Range:
    """A number drawn between ``low`` and ``high`` (inclusive), log-uniform or in whole ``step``s."""
    low: float
    high: float
    log: bool = False
    step: float | None = None
    integer: bool = False

    def suggest(self, trial, name: str):
        if self.integer:
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return trial.suggest_float(name, float(self.low), float(self.high), log=self.log, step=self.step)


def _categorical(choice: Any) -> Any:
    """Optuna's categorical values are numbers, strings or None: a list travels as its JSON."""
    return json.dumps(choice, separators=(",", ":")) if isinstance(choice, (list, tuple)) else choice


@dataclass(frozen=True)
class Entry:
    """One param of params.yaml and how a trial draws it."""
    key: str  # e.g. "train.learning_rate"
    values: Range | None = None
    choices: tuple = ()
    depth: Range | None = None  # hidden_layer_sizes only: that many layers ...
    width: Range | None = None  # ... all of this width

    def suggest(self, trial) -> Any:
        if self.depth is not None:
            depth = self.depth.suggest(trial, f"{self.key}.depth")
            return [self.width.suggest(trial, f"{self.key}.width")] * depth
        if self.choices:
            picked = trial.suggest_categorical(self.key, [_categorical(c) for c in self.choices])
            return json.loads(picked) if isinstance(picked, str) and picked.startswith("[") else picked
        return self.values.suggest(trial, self.key)


@dataclass(frozen=True)
class TuneSettings:
    study: str = "digits"
    sampler: str = "tpe"
    seed: int | None = None
    pruner: str = "median"
    startup_trials: int = 4  # trials that run to the end before any is pruned
    warmup_percent: int = 25  # no trial is pruned before this share of its updates
    space: tuple[Entry, ...] = ()

    def fingerprint(self) -> str:
        """The search space as canonical JSON: a study keeps the space it was made with."""
        return json.dumps([dataclasses.asdict(e) for e in self.space], sort_keys=True, separators=(",", ":"))

    def suggest(self, trial) -> dict[str, Any]:
        """``{"train.learning_rate": 0.004, ...}``: this trial's values, as ``dvc exp run -S`` takes them."""
        return {entry.key: entry.suggest(trial) for entry in self.space}


def _mapping(raw: object, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PipelineError(f"{where} must be a mapping of keys to values, got {raw!r}")
    return raw


def _only(raw: dict, known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(raw) - set(known), key=str)
    if unknown:
        raise PipelineError(f"{where} has unknown key(s) {', '.join(map(str, unknown))}; known keys: {', '.join(known)}")


def _whole(raw: object, where: str, low: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, numbers.Integral) or raw < low:
        raise PipelineError(f"{where} must be a whole number >= {low}, got {raw!r}")
    return int(raw)


def _check_value(cls: type, name: str, value: object, where: str) -> object:
    """``value`` through the rule params.yaml applies to ``name``; the error names ``where``."""
    try:
        return check_fields(cls, {name: value}, "")[name]
    except InvalidParameter as exc:
        words = str(exc).split(" ", 1)[1] if " " in str(exc) else str(exc)
        raise InvalidParameter(f"{where} {words}") from None


def _optuna_checks(where: str, distribution) -> None:
    """Optuna's own checks of the distribution ``distribution()`` builds: its message, ``where`` in front.
    (Its warning that the steps do not reach high is left to Optuna's draws, as before.)"""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            distribution()
    except ValueError as exc:
        raise PipelineError(f"{where}: {exc}") from None


def _range(spec: dict, cls: type, name: str, where: str, integer: bool, check: bool = True,
           single_ok: bool = False) -> Range:
    _only(spec, ("low", "high", "log", "step"), where)
    for bound in ("low", "high"):
        if bound not in spec:
            raise PipelineError(f"{where} needs low and high (or choices: [...]); {bound} is missing")
        value = spec[bound]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise PipelineError(f"{where}.{bound} must be a number, got {value!r}")
        if integer and not isinstance(value, numbers.Integral):
            raise PipelineError(f"{where}.{bound} must be a whole number ({name} is one), got {value!r}")
        if check:
            _check_value(cls, name, value, f"{where}.{bound}")
    low, high = spec["low"], spec["high"]
    if low == high and not single_ok:
        raise PipelineError(f"{where}: low and high are both {low!r}; for one value, write choices: [{low!r}]")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise PipelineError(f"{where}.log must be true or false, got {log!r}")
    step = spec.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, numbers.Real):
            raise PipelineError(f"{where}.step must be a number, got {step!r}")
        if integer and not isinstance(step, numbers.Integral):
            raise PipelineError(f"{where}.step must be a whole number ({name} is one), got {step!r}")
    # The rest (low <= high, log's low > 0, step > 0, not both log and step) is Optuna's to check.
    _optuna_checks(where, lambda: IntDistribution(int(low), int(high), log=log, step=int(step or 1)) if integer
                   else FloatDistribution(float(low), float(high), log=log, step=step))
    return Range(low, high, log, step, integer)


def _entry(key: object, spec: object, where_space: str) -> Entry:
    where = f"{where_space}.{key}"
    section, _, name = str(key).partition(".")
    if section not in SECTIONS or not name:
        raise PipelineError(f"{where}: a space entry names a params.yaml param as train.NAME or predict.NAME")
    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    if name not in {f.name for f in fields(cls)}:
        known = ", ".join(sorted(f.name for f in fields(cls)))
        raise PipelineError(f"{where}: {section} has no param {name!r}; known: {known}")
    spec = _mapping(spec, where)
    if "choices" in spec:
        _only(spec, ("choices",), where)
        choices = spec["choices"]
        if not isinstance(choices, list):
            raise PipelineError(f"{where}.choices must be a list, got {choices!r}")
        _optuna_checks(f"{where}.choices", lambda: CategoricalDistribution([_categorical(c) for c in choices]))
        checked = []
        for i, choice in enumerate(choices):
            value = _check_value(cls, name, choice, f"{where}.choices[{i}]")
            checked.append(list(value) if isinstance(value, tuple) else value)
        if len({json.dumps(c) for c in checked}) != len(checked):
            raise PipelineError(f"{where}.choices lists a value twice: {choices!r}")
        return Entry(str(key), choices=tuple(checked))
    hint = hints[name]
    if typing.get_origin(hint) is tuple:  # hidden_layer_sizes
        if "depth" not in spec and "width" not in spec:
            raise PipelineError(f"{where} needs choices: [...] or depth: {{low, high}} and width: {{low, high}}")
        _only(spec, ("depth", "width"), where)
        for part in ("depth", "width"):
            if part not in spec:
                raise PipelineError(f"{where} needs both depth and width; {part} is missing")
        depth = _range(_mapping(spec["depth"], f"{where}.depth"), cls, name, f"{where}.depth", True, check=False,
                       single_ok=True)  # a fixed depth with a drawn width is a fair question
        if depth.low < 1:
            raise PipelineError(f"{where}.depth.low must be at least 1 hidden layer, got {depth.low!r}")
        width = _range(_mapping(spec["width"], f"{where}.width"), cls, name, f"{where}.width", True, check=False)
        if width.low < 1:
            raise PipelineError(f"{where}.width.low must be at least 1 unit, got {width.low!r}")
        return Entry(str(key), depth=depth, width=width)
    if hint is str:
        raise PipelineError(f"{where}: {name} is a word; list its values as choices: [...]")
    return Entry(str(key), values=_range(spec, cls, name, where, integer=hint is int))


def parse_settings(raw: object, source: str = "tune.yaml") -> TuneSettings:
    """Typed settings from already-parsed YAML; ``source`` names the file in errors."""
    raw = _mapping(raw, source)
    _only(raw, TOP_KEYS, source)
    defaults = TuneSettings()
    study = raw.get("study", defaults.study)
    if not isinstance(study, str) or not STUDY_NAME.fullmatch(study):
        raise PipelineError(f"{source}.study must be letters, digits, - and _ (at most 64, a DVC experiment "
                            f"name starts with it), got {study!r}")
    sampler = raw.get("sampler", defaults.sampler)
    if sampler not in SAMPLERS:
        raise PipelineError(f"{source}.sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    seed = raw.get("seed")
    if seed is not None:
        seed = _whole(seed, f"{source}.seed")
    pruner = _mapping(raw.get("pruner"), f"{source}.pruner")
    _only(pruner, PRUNER_KEYS, f"{source}.pruner")
    kind = pruner.get("kind", defaults.pruner)
    if kind not in PRUNERS:
        raise PipelineError(f"{source}.pruner.kind must be one of {', '.join(PRUNERS)}, got {kind!r}")
    startup = _whole(pruner.get("startup_trials", defaults.startup_trials), f"{source}.pruner.startup_trials")
    warmup = _whole(pruner.get("warmup_percent", defaults.warmup_percent), f"{source}.pruner.warmup_percent")
    if warmup > 100:
        raise PipelineError(f"{source}.pruner.warmup_percent must be at most 100, got {warmup!r}")
    space_raw = _mapping(raw.get("space"), f"{source}.space")
    if not space_raw:
        raise PipelineError(f"{source}.space is empty: name at least one param to tune, e.g. "
                            f"train.learning_rate: {{low: 0.001, high: 0.02, log: true}}")
    space = tuple(_entry(key, spec, f"{source}.space") for key, spec in space_raw.items())
    return TuneSettings(study, sampler, seed, kind, startup, warmup, space)


def load_settings(path: str | Path = "tune.yaml") -> TuneSettings:
    return parse_settings(read_yaml_file(path), str(path))
