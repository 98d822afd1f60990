"""``positive_number``: the one reader of numeric environment settings."""

import pytest

from pipeline.core.env_settings import positive_number
from pipeline.core.errors import PipelineError


def test_unset_or_blank_gives_the_default():
    assert positive_number("X", 30.0, environ={}) == 30.0
    assert positive_number("X", 30.0, environ={"X": "  "}) == 30.0


def test_a_value_is_parsed_as_its_kind():
    assert positive_number("X", 1.0, environ={"X": " 2.5 "}) == 2.5
    value = positive_number("X", 1, kind=int, environ={"X": "7"})
    assert value == 7 and type(value) is int
    assert positive_number("X", 3, kind=int, zero_ok=True, environ={"X": "0"}) == 0


def test_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("DIGIT_PIPELINE_TEST_NUMBER", "4")
    assert positive_number("DIGIT_PIPELINE_TEST_NUMBER", 1.0) == 4.0


@pytest.mark.parametrize("raw, kind, unit, zero_ok, expected", [
    ("soon", float, "seconds", False, "must be a number of seconds > 0, got 'soon'"),
    ("0", float, "seconds", False, "must be a number of seconds > 0, got '0'"),
    ("-1", float, "", False, "must be a number > 0, got '-1'"),
    ("nan", float, "seconds", False, "must be a number of seconds > 0, got 'nan'"),
    ("inf", float, "seconds", False, "must be a number of seconds > 0, got 'inf'"),
    ("1.5", int, "megabytes", False, "must be a whole number of megabytes > 0, got '1.5'"),
    ("-1", int, "", True, "must be a whole number >= 0, got '-1'"),
])
def test_a_bad_value_is_one_line_naming_the_variable(raw, kind, unit, zero_ok, expected):
    with pytest.raises(PipelineError) as caught:
        positive_number("SOME_LIMIT", 1, kind=kind, unit=unit, zero_ok=zero_ok, environ={"SOME_LIMIT": raw})
    assert str(caught.value) == f"environment variable SOME_LIMIT {expected}"
