"""What the numbers ran on: CPU, cores, memory, library versions and BLAS, load, commit."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path


def _first_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _commit(root: Path) -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + (" (with uncommitted changes)" if dirty else "")


def _blas() -> dict[str, str]:
    """BLAS libraries loaded here, by the package that ships them (numpy's does the products)."""
    import numpy  # noqa: F401  (loaded, so threadpoolctl sees its BLAS)
    import scipy.linalg  # noqa: F401  (scikit-learn's, for the record)
    from threadpoolctl import threadpool_info

    found = {}
    for p in threadpool_info():
        if p.get("user_api") == "blas":
            package = Path(p["filepath"]).parent.name.removesuffix(".libs")
            found[package] = f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} kernels)"
    return found


def describe(root: Path) -> dict:
    memory_kib = _first_field("/proc/meminfo", "MemTotal")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _first_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": round(int(memory_kib.split()[0]) * 1024 / 1e9, 1) if memory_kib else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "blas": _blas(),
        "scikit-learn": _version("scikit-learn"),
        "torch": _version("torch"),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "commit": _commit(root),
    }


def one_line(info: dict) -> str:
    torch = f", torch {info['torch']}" if info["torch"] else ", torch not installed"
    return (f"{info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), {info['memory_gb']} GB RAM, "
            f"{info['os']}; Python {info['python']}, numpy {info['numpy']} with {info['blas'].get('numpy', 'unknown BLAS')}, "
            f"scikit-learn {info['scikit-learn']}{torch}; load average {info['load_average']} at start; "
            f"commit {info['commit']}")
