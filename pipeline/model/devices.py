"""The one module that knows about GPUs: which array module an array lives in, and whether CuPy can run.

Training runs on ``numpy`` (the CPU) or on ``cupy`` (a CUDA GPU), whose arrays and functions mirror
NumPy's. The math in ``pipeline.model`` reads the module off its inputs (``array_module``) instead of
branching on a flag, so one function serves both. ``import cupy`` happens here only, and lazily: a
machine without CuPy never imports it, and nothing else in the package names it.

``gpu_problem()`` says in one line why CuPy cannot be used here (not installed, no driver, no device),
or None; ``pipeline.model.device_check.choose`` adds the self-check that a CuPy which imports can also
compute, and turns ``train.device`` into the device a fit runs on.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

INSTALL_HINT = ("pip install -e '.[gpu]' (CuPy for CUDA 12; on CUDA 11 pip install cupy-cuda11x); "
                "Kaggle's GPU notebooks have CuPy already")
# Set to any value, CuPy counts as absent: what a CPU-only machine sees, for tests and for
# forcing the CPU under device: auto.
NO_GPU_ENV = "DIGIT_PIPELINE_NO_GPU"


class GpuUnavailable(RuntimeError):
    """``device: gpu`` was asked for and no GPU can be used; the message says why and what to do."""


@lru_cache(maxsize=1)
def _cupy():
    """The ``cupy`` module, or the reason it cannot run here (a str)."""
    if os.environ.get(NO_GPU_ENV):
        return f"CuPy use is switched off ({NO_GPU_ENV} is set)"
    try:
        import cupy
    except ImportError:
        return f"CuPy is not installed: {INSTALL_HINT}"
    except Exception as exc:  # a broken install (missing CUDA libraries) raises other errors at import
        return f"CuPy does not import ({type(exc).__name__}: {exc}); reinstall it: {INSTALL_HINT}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # cudaErrorInsufficientDriver, cudaErrorNoDevice, ...
        text = str(exc)
        if "Insufficient" in text or "driver" in text.lower():
            return (f"the NVIDIA driver is too old for this CuPy ({text}); update the driver, or install the "
                    f"CuPy built for its CUDA version (cupy-cuda11x)")
        return f"CuPy sees no CUDA device ({text}); check nvidia-smi, or use train.device: cpu"
    if count < 1:
        return "CuPy sees no CUDA device; check nvidia-smi, or use train.device: cpu"
    return cupy


def gpu_problem() -> str | None:
    """Why the GPU cannot be used here, in one line; None when it can."""
    found = _cupy()
    return found if isinstance(found, str) else None


def cupy_module():
    """``cupy`` itself; raises ``GpuUnavailable`` when it cannot run here."""
    found = _cupy()
    if isinstance(found, str):
        raise GpuUnavailable(found)
    return found


def describe(device: str) -> str:
    """``cpu``, or the GPU's name with the CuPy and CUDA versions (``gpu: NVIDIA H100 ..., CuPy 13.4, CUDA 12.8``)."""
    if device != "gpu":
        return "cpu"
    cupy = cupy_module()
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    runtime = cupy.cuda.runtime.runtimeGetVersion()
    return f"gpu: {name}, CuPy {cupy.__version__}, CUDA {runtime // 1000}.{runtime % 1000 // 10}"


def module_for(device: str):
    """The array module of ``device`` (``cpu`` or ``gpu``)."""
    return cupy_module() if device == "gpu" else np


def array_module(*arrays):
    """``numpy`` or ``cupy``: the module of ``arrays`` (numpy for anything that is not a CuPy array).

    A machine without CuPy never imports it here: NumPy arrays, scalars and lists answer at once."""
    for a in arrays:
        if isinstance(a, (np.ndarray, np.generic, int, float, list, tuple)) or a is None:
            continue
        found = _cupy()
        if not isinstance(found, str) and isinstance(a, found.ndarray):
            return found
    return np


def to_numpy(a) -> np.ndarray:
    """A host NumPy copy of ``a`` (``a`` itself when it is already NumPy): the one way a fit reads the device."""
    xp = array_module(a)
    return np.asarray(a) if xp is np else xp.asnumpy(a)
