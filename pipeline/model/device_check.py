"""Whether a GPU can be trusted with a fit: a self-check run once per process before it is chosen.

``devices.gpu_problem()`` only says whether CuPy imports and counts a CUDA device. A CuPy that imports
can still fail at its first kernel: its CUDA libraries missing (``libnvrtc``, ``libcublas``), a wheel
with no kernels for the card (CUDA 13 builds dropped compute capabilities below 7.5: a P100 is 6.0), a
card whose memory another process holds, or results that are simply wrong. ``train.device: auto`` is
the default, so every such machine would otherwise crash where the CPU would have trained.

``choose(train.device)`` therefore runs ``self_check`` first: a small update of the network's own math
through the device engine (the warps' gather, forward, loss, backward, weight decay), one Adam step
and a forward pass, compared with the CPU engine within float32 tolerance. It takes a fraction of a
second once CuPy's kernels are compiled (the first run on a machine also compiles them, and CuPy keeps
them on disk). On failure ``auto`` trains on the CPU and says why in one warning line;
``gpu`` stops with that same line. The verdict is kept for the process.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from pipeline.core.errors import PipelineWarning
from pipeline.model import devices, nn, warps
from pipeline.model.device_batch import DeviceFullBatch
from pipeline.model.full_batch import FullBatchGradient
from pipeline.model.optim import Optimizer

CHECK_SIZES = [64, 48, 32, 10]  # 8 x 8 "images", three layers as the default has
CHECK_SHAPE = (8, 8)
CHECK_ROWS, CHECK_GROUPS = 90, 4  # groups of unequal sizes, as 37,800 rows in 16 groups are
TOLERANCE = 1e-4  # of the largest magnitude: float32 rounding is ~1e-6 here, a broken kernel far more
CUDA13_SMALLEST = (7, 5)  # CUDA 13 builds carry kernels for compute capability 7.5 and newer only


class DeviceFallbackWarning(PipelineWarning):
    """``train.device: auto`` found a GPU that failed its self-check, and trains on the CPU instead."""


@dataclass(frozen=True)
class DeviceChoice:
    device: str        # "cpu" or "gpu": where the fit runs
    description: str   # "cpu", or the GPU with its CuPy and CUDA versions
    reason: str        # why, in one line (recorded in metrics/train.json)
    fell_back: bool    # auto wanted a GPU that is there but failed: worth a warning


_verdicts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def choose(requested: str) -> DeviceChoice:
    """Where ``train.device`` (``auto``, ``cpu`` or ``gpu``) runs here; ``gpu`` with no trustworthy GPU
    raises ``GpuUnavailable`` with the reason."""
    if requested == "cpu":
        return DeviceChoice("cpu", "cpu", "train.device is cpu", False)
    problem = devices.gpu_problem()
    absent = problem is not None
    if problem is None:
        module = devices.cupy_module()
        if module not in _verdicts:
            _verdicts[module] = self_check(module)
        problem = _verdicts[module]
    if problem is None:
        return DeviceChoice("gpu", devices.describe("gpu"), f"train.device is {requested} and the GPU passed its "
                                                            f"self-check", False)
    if requested == "gpu":
        raise devices.GpuUnavailable(f"train.device is gpu, but {problem}")
    return DeviceChoice("cpu", "cpu", f"train.device is auto and {problem}; training on the CPU", not absent)


def self_check(xp) -> str | None:
    """None when the device ``xp`` computes like the CPU engine; else what is wrong, in one line."""
    try:
        return _compare(xp)
    except Exception as exc:  # whatever a broken install raises at its first kernel
        return explain(exc, xp)


def _compare(xp) -> str | None:
    rng = np.random.default_rng(0)
    x = rng.random((CHECK_ROWS, CHECK_SIZES[0]), dtype=np.float32)
    x[:, :5] = 0  # blank columns, as MNIST's corners
    targets = rng.integers(0, CHECK_SIZES[-1], CHECK_ROWS)
    host = [(w, (rng.standard_normal(b.shape) * 0.1).astype(np.float32)) for w, b in nn.he_init(rng, CHECK_SIZES)]
    moves = warps.random_warps(rng, CHECK_GROUPS, CHECK_SHAPE, warps.WarpRanges(1.5, 12, 0.1, 10, 2.0, 4.0), np.float32)
    with FullBatchGradient(x, targets, CHECK_SIZES, 1e-3, CHECK_SHAPE, CHECK_GROUPS, workers=1) as cpu:
        loss, _, grads = cpu(host, warps=moves)
    expected_grads = nn.flatten(grads)
    expected_params = nn.flatten(host)
    Optimizer("adam", [expected_params]).step([expected_params], [expected_grads], 1e-3)
    expected_logits = nn.forward(nn.flat_views(expected_params, CHECK_SIZES), x)

    engine = DeviceFullBatch(xp.asarray(x), xp.asarray(targets), CHECK_SIZES, 1e-3, CHECK_SHAPE, CHECK_GROUPS)
    params = xp.asarray(nn.flatten(host))
    gradient = xp.zeros_like(params)
    layers = nn.flat_views(params, CHECK_SIZES)
    got_loss, _, _ = engine.launch(layers, warps=moves, grads=nn.flat_views(gradient, CHECK_SIZES))
    got_grads = devices.to_numpy(gradient)
    Optimizer("adam", [params]).step([params], [gradient], 1e-3)
    got_logits = devices.to_numpy(nn.forward(layers, xp.asarray(x)))
    for what, got, expected in (("the loss", devices.to_numpy(got_loss), np.float64(loss)),
                                ("the gradients", got_grads, expected_grads),
                                ("an Adam step", devices.to_numpy(params), expected_params),
                                ("the forward pass", got_logits, expected_logits)):
        scale = float(np.max(np.abs(expected))) or 1.0
        error = float(np.max(np.abs(np.asarray(got, np.float64) - expected))) / scale
        if not np.isfinite(error) or error > TOLERANCE:
            return (f"the GPU's results differ from the CPU's ({what} off by {error:.2g} of its size, more than "
                    f"float32 rounding): a faulty card, driver or CuPy build")
    return None


def explain(exc: BaseException, xp=None) -> str:
    """What a failure of the first kernels means for the user, in one line."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:240]
    low = f"{name} {text}".lower()
    if "outofmemory" in low.replace(" ", "") or "out of memory" in low:
        return (f"the GPU is out of memory ({text}); free it (nvidia-smi lists the processes holding it) or set "
                f"train.device: cpu")
    if any(s in low for s in ("no kernel image", "nokernelimage", "no_binary_for_gpu", "gpu-architecture",
                              "unsupported gpu architecture", "invalid device function")):
        capability = _capability(xp)
        old = capability is not None and capability < CUDA13_SMALLEST
        hint = ("CUDA 13 builds of CuPy have no kernels below compute capability 7.5: pip install cupy-cuda12x"
                if old or capability is None else "install the CuPy built for this card's CUDA version")
        card = "" if capability is None else f" (compute capability {capability[0]}.{capability[1]})"
        return f"this CuPy has no kernels for this GPU{card}: {hint} ({name}: {text})"
    if isinstance(exc, (ImportError, OSError)) or any(s in low for s in (
            "cannot open shared object", "failed to load", "libnvrtc", "libcublas", "libcurand", "libcusparse",
            "libcudart", "nvrtc")):
        return (f"CuPy cannot load its CUDA libraries ({name}: {text}); install them with "
                f"pip install 'cupy-cuda12x[ctk]' (or the CUDA toolkit), or set train.device: cpu")
    return f"the GPU failed its self-check ({name}: {text})"


def _capability(xp) -> tuple[int, int] | None:
    try:
        props = xp.cuda.runtime.getDeviceProperties(xp.cuda.Device().id)
        return int(props["major"]), int(props["minor"])
    except Exception:  # the card cannot even say what it is
        return None
