"""The package's folders are its layers, and dvc.yaml's deps cover every file each stage runs."""

from __future__ import annotations

import ast
import re

import pytest
import yaml

from import_graph import ROOT, all_modules, closure, imports_of, module_name
from pipeline.cli import COMMANDS

# Lower layers first. A module may import its own package and any package of a lower rank;
# packages of the same rank may not import each other.
RANKS = {"core": 0, "kaggle": 1, "submissions": 2, "data": 3, "model": 3, "tuning": 3, "report": 4,
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


# -- one reader for the competition zip ------------------------------------------------------------

# core's writers of our own zips (npz arrays, the reproducible zip): they open zips only to write.
ZIP_WRITERS = ("pipeline/core/arrays_file.py", "pipeline/core/zip_files.py")
WRITE_MODES = ("w", "x", "a")


def _zip_reads(path) -> list[str]:
    """Places in ``path`` that could read a zip: ``ZipFile(...)`` not opened to write, ``.open`` of a
    ZipFile, ``shutil.unpack_archive``; and ``zipfile`` imported by a module that is not a writer."""
    tree = ast.parse(path.read_text(), str(path))
    rel = path.relative_to(ROOT).as_posix()
    found = []
    for node in ast.walk(tree):
        line = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import) and any(a.name == "zipfile" for a in node.names) or (
                isinstance(node, ast.ImportFrom) and node.module == "zipfile"):
            if rel not in ZIP_WRITERS:
                found.append(f"{line} imports zipfile")
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "ZipFile":
            mode = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            if not (isinstance(mode, ast.Constant) and mode.value in WRITE_MODES):
                found.append(f"{line} opens a ZipFile to read")
        elif name == "unpack_archive":
            found.append(f"{line} unpacks an archive")
    return found


def _competition_zip_uses(path) -> list[str]:
    """Places in ``path`` that hand ``paths.COMPETITION_ZIP`` to anything but a function of pipeline.data
    (or an f-string, to name it in a message)."""
    tree = ast.parse(path.read_text(), str(path))
    from_data = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and (node.module or "").startswith("pipeline.data") for alias in node.names}
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr == "COMPETITION_ZIP"
                or isinstance(node, ast.Name) and node.id == "COMPETITION_ZIP"):
            continue
        parent = parents.get(node)
        if isinstance(getattr(node, "ctx", None), ast.Store) or isinstance(parent, ast.FormattedValue):
            continue
        if isinstance(parent, ast.Call) and node in parent.args:
            root = parent.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in from_data:
                continue
        found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno} uses paths.COMPETITION_ZIP")
    return found


def test_only_the_data_layer_reads_the_competition_zip():
    """One reader (pipeline/data/competition_zip.py) with its checks and size limits, where the zip may
    hold its files in a subfolder: no module outside pipeline/data opens a zip to read, or passes the
    competition zip to anything but pipeline.data."""
    outside = [p for p in all_modules() if layer(module_name(p)) != "data"]
    reads = [place for p in outside for place in _zip_reads(p) + _competition_zip_uses(p)]
    assert reads == [], f"only pipeline/data reads the competition zip, but: {reads}"
