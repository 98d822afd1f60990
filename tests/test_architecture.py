"""The package's folders are its layers, and dvc.yaml's deps cover every file each stage runs."""

from __future__ import annotations

import re

import pytest
import yaml

from import_graph import ROOT, all_modules, closure, imports_of, module_name
from pipeline.cli import COMMANDS

# Lower layers first. A module may import its own package and any package of a lower rank;
# packages of the same rank may not import each other.
RANKS = {"core": 0, "kaggle": 1, "submissions": 2, "data": 3, "model": 3, "report": 4,
         "stages": 5, "commands": 5, "": 6}  # "": pipeline/__init__, __main__, cli


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANKS) else ""


def test_every_module_lives_in_a_known_layer():
    unknown = [module_name(p) for p in all_modules() if layer(module_name(p)) not in RANKS]
    assert unknown == []
    assert {layer(module_name(p)) for p in all_modules()} == set(RANKS)


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_go_downward(path):
    here = layer(module_name(path))
    upward = sorted(m for m in imports_of(path)
                    if layer(m) != here and RANKS[layer(m)] >= RANKS[here])
    assert upward == [], f"{path.relative_to(ROOT)} (layer {here or 'pipeline'}) imports {upward}"


def test_each_layer_says_what_it_owns():
    for package in [name for name in RANKS if name]:
        doc = (ROOT / "pipeline" / package / "__init__.py").read_text()
        assert doc.lstrip().startswith('"""') and "import" in doc, f"pipeline/{package}/__init__.py"


def dvc_stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def covered(path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == dep or rel.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("stage", list(dvc_stages()))
def test_stage_deps_cover_every_project_file_it_imports(stage):
    spec = dvc_stages()[stage]
    command = re.fullmatch(r"python -m pipeline (\w+)", spec["cmd"])
    assert command, f"{stage}: cmd {spec['cmd']!r} is not `python -m pipeline <stage>`"
    module = COMMANDS[command.group(1)][0]
    files = closure(["pipeline.__main__", "pipeline.cli", module])
    missing = sorted(p.relative_to(ROOT).as_posix() for p in files if not covered(p, spec["deps"]))
    assert missing == [], f"dvc.yaml stage {stage} runs these files but does not list them in deps: {missing}"


@pytest.mark.parametrize("stage", list(dvc_stages()))
def test_stage_code_deps_are_all_used(stage):
    """A dep the stage never imports reruns it for nothing."""
    spec = dvc_stages()[stage]
    module = COMMANDS[spec["cmd"].split()[-1]][0]
    files = closure(["pipeline.__main__", "pipeline.cli", module])
    unused = [dep for dep in spec["deps"] if dep.startswith("pipeline")
              and not any(covered(p, [dep]) for p in files)]
    assert unused == [], f"dvc.yaml stage {stage} lists code it never imports: {unused}"
