"""Every param a stage reads is in its `params:` in dvc.yaml, and every one listed there is read.

Each stage runs for real, in-process, on a tiny project, while every read of a params field outside
the loader itself is recorded.
"""

from __future__ import annotations

import dataclasses
import sys

import pytest
import yaml

from import_graph import ROOT
from test_bad_inputs import params
from pipeline.cli import main
from pipeline.core import config

pytestmark = pytest.mark.slow  # the fixture runs all five stages, training included: 3.6 s, once per xdist worker
SECTIONS = {field.name: field.type for field in dataclasses.fields(config.Params)}


@pytest.fixture(scope="module")
def reads(tmp_path_factory):
    """{stage: {"section.field", ...}} read by each stage of the pipeline, run in order."""
    project = tmp_path_factory.mktemp("project")
    params(project)
    recorded: dict[str, set[str]] = {}
    current: set[str] = set()
    classes = {getattr(config, SECTIONS[name]) if isinstance(SECTIONS[name], str) else SECTIONS[name]: name
               for name in SECTIONS}
    patch = pytest.MonkeyPatch()
    for cls, section in classes.items():
        names = {f.name for f in dataclasses.fields(cls)}

        def getattribute(self, name, _section=section, _names=names):
            if name in _names and sys._getframe(1).f_code.co_filename != config.__file__:
                current.add(f"{_section}.{name}")
            return object.__getattribute__(self, name)

        patch.setattr(cls, "__getattribute__", getattribute)
    patch.chdir(project)
    try:
        for stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]:
            current.clear()
            assert main([stage]) == 0, stage
            recorded[stage] = set(current)
    finally:
        patch.undo()
    return recorded


def declared(stage: str) -> list[str]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage].get("params", [])


def covers(entry: str, read: str) -> bool:
    return read == entry or read.startswith(entry + ".")


@pytest.mark.parametrize("stage", list(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]))
def test_stage_params_are_exactly_what_it_reads(reads, stage):
    entries = declared(stage)
    undeclared = sorted(r for r in reads[stage] if not any(covers(e, r) for e in entries))
    assert undeclared == [], f"dvc.yaml stage {stage} reads {undeclared} but does not list them in params"
    unread = [e for e in entries if not any(covers(e, r) for r in reads[stage])]
    assert unread == [], f"dvc.yaml stage {stage} lists params it never reads: {unread}"
