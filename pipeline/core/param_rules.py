"""The rules a parameter's value must follow, written once and checked wherever a value comes in.

A typed params dataclass (``pipeline.core.config``) declares each field with ``rule(default,
constraint)``. ``check_fields`` then coerces and checks a mapping of values against that table and
raises ``InvalidParameter`` with one line that names where the value came from, the field, what
was expected and what was found::

    params.yaml.train.learning_rate must be > 0, got -1.0
    DigitNetClassifier.learning_rate must be > 0, got -1.0

``params.yaml``'s loader and ``DigitNetClassifier.fit`` both call it, so a value is refused with
the same words whichever way it arrives.
"""

from __future__ import annotations

import numbers
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from pipeline.core.errors import InvalidParameter


def _num(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Interval:
    """``low`` ≤ value ≤ ``high`` (either end open, either left out); ``unit`` follows the range in words."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""

    def holds(self, value, values: Mapping[str, Any]) -> bool:
        return ((self.low is None or (value > self.low if self.low_open else value >= self.low))
                and (self.high is None or (value < self.high if self.high_open else value <= self.high)))

    def words(self) -> str:
        low, high, unit = self.low, self.high, self.unit
        if high is None:
            return f"must be {'>' if self.low_open else '>='} {_num(low)}{unit}"
        if self.low_open and self.high_open:
            return f"must be between {_num(low)} and {_num(high)}{unit} (exclusive)"
        if self.high_open:
            return f"must be >= {_num(low)} and below {_num(high)}{unit}"
        if self.low_open:
            return f"must be > {_num(low)} and <= {_num(high)}{unit}"
        return f"must be between {_num(low)} and {_num(high)}{unit}"


@dataclass(frozen=True)
class Below:
    """0 ≤ value < the value of another field of the same table."""
    other: str

    def holds(self, value, values: Mapping[str, Any]) -> bool:
        return 0 <= value < values[self.other]

    def words(self) -> str:
        return f"must be >= 0 and below {self.other}"


@dataclass(frozen=True)
class OneOf:
    options: tuple[str, ...]

    def holds(self, value, values: Mapping[str, Any]) -> bool:
        return value in self.options

    def words(self) -> str:
        return f"must be one of {', '.join(self.options)}"


@dataclass(frozen=True)
class NotBlank:
    def holds(self, value, values: Mapping[str, Any]) -> bool:
        return bool(value.strip())

    def words(self) -> str:
        return "must not be empty"


@dataclass(frozen=True)
class Widths:
    """A non-empty list of positive layer widths."""

    def holds(self, value, values: Mapping[str, Any]) -> bool:
        return len(value) > 0 and all(width > 0 for width in value)

    def words(self) -> str:
        return "must list one or more layer widths, each > 0"


Constraint = Interval | Below | OneOf | NotBlank | Widths


def rule(default, constraint: Constraint | None = None):
    """A dataclass field with its default and the constraint its values must meet."""
    return field(default=default, metadata={"rule": constraint})


def _fail(where: str, what: str, found: object) -> InvalidParameter:
    return InvalidParameter(f"{where} {what}, got {found!r}")


def coerce(value: object, annotation: object, where: str) -> object:
    """``value`` as the field's type: ints are taken where floats are expected, one int where a list
    of ints is, NumPy scalars as Python numbers; booleans are never numbers."""
    origin = typing.get_origin(annotation)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(annotation)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise _fail(where, f"must be a list of {item_type.__name__}", value)
        return tuple(coerce(item, item_type, f"{where}[{i}]") for i, item in enumerate(value))
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _fail(where, "must be a number", value)
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _fail(where, "must be an integer", value)
        return int(value)
    if annotation is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise _fail(where, "must be true or false", value)
        return bool(value)
    if annotation is str:
        if not isinstance(value, str):
            raise _fail(where, "must be a string", value)
        return value
    raise TypeError(f"unsupported annotation {annotation!r}")  # a bug in a params table, not user input


def check_fields(cls: type, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``values`` (a subset of ``cls``'s fields) coerced to their types and checked against their
    rules; the first bad one raises ``InvalidParameter`` naming ``where.field``."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    out = {name: coerce(value, hints[name], f"{where}.{name}") for name, value in values.items()}
    context = {f.name: f.default for f in known.values()} | out
    # A rule that compares with another field comes last, once that field has passed its own.
    for name, value in sorted(out.items(), key=lambda item: isinstance(known[item[0]].metadata.get("rule"), Below)):
        constraint = known[name].metadata.get("rule")
        if constraint is not None and not constraint.holds(value, context):
            shown = list(value) if isinstance(value, tuple) else value
            raise _fail(f"{where}.{name}", constraint.words(), shown)
    return out
