"""The project's own import graph, read from the source (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"


def module_file(name: str) -> Path | None:
    """The file of a ``pipeline...`` module or package, or None if there is none."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ``pipeline`` module ``path`` imports, wherever the import statement stands."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from a.b import c`: c may be a module (a.b.c) or a name in a.b
            names = [f"{base}.{alias.name}" if module_file(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        found.update(n for n in names if n == "pipeline" or n.startswith("pipeline."))
    return found


def closure(start: list[str]) -> set[Path]:
    """Files of every project module reached from ``start``, with the packages that hold them."""
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        # importing a.b.c runs a/__init__, a/b/__init__ too
        for depth in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:depth]))
            if path is not None and path not in seen:
                seen.add(path)
                todo.extend(imports_of(path))
    return seen


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))
