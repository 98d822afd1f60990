"""train.device auto checks the GPU before it trusts it: each way a CuPy install breaks is named in one
line, auto then trains on the CPU, gpu stops. The GPU is the strict CuPy stand-in (tests/strict_cupy.py)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from pipeline.core.arrays_file import save_arrays
from pipeline.model import device_check, devices
from strict_cupy import StrictCupy

FAULTS = {  # what the stand-in breaks -> words the one line must hold
    "no_libraries": ["CuPy cannot load its CUDA libraries", "libnvrtc.so.12", "pip install"],
    "no_kernel": ["no kernels for this GPU (compute capability 6.0)", "pip install cupy-cuda12x",
                  "cudaErrorNoKernelImageForDevice"],
    "out_of_memory": ["the GPU is out of memory", "nvidia-smi", "train.device: cpu"],
    "wrong_results": ["differ from the CPU's", "the loss"],
}


def gpu(monkeypatch, **kwargs) -> StrictCupy:
    module = StrictCupy(**kwargs)
    monkeypatch.setattr(devices, "_cupy", lambda: module)
    return module


def test_a_sound_gpu_passes_and_is_chosen(monkeypatch):
    gpu(monkeypatch)
    choice = device_check.choose("auto")
    assert choice.device == "gpu" and not choice.fell_back
    assert choice.description.startswith("gpu: Strict CuPy stand-in")
    assert device_check.choose("cpu").device == "cpu"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_broken_install_is_named_auto_falls_back_and_gpu_stops(monkeypatch, fault):
    gpu(monkeypatch, fault=fault, capability=(6, 0))  # a P100: CUDA 13 builds have no kernels for it
    choice = device_check.choose("auto")
    assert (choice.device, choice.fell_back) == ("cpu", True)
    assert "\n" not in choice.reason and choice.reason.endswith("; training on the CPU")
    for words in FAULTS[fault]:
        assert words in choice.reason
    with pytest.raises(devices.GpuUnavailable) as raised:
        device_check.choose("gpu")
    assert str(raised.value).startswith("train.device is gpu, but ")
    assert str(raised.value)[len("train.device is gpu, but "):] == choice.reason[len("train.device is auto and "):
                                                                               -len("; training on the CPU")]


def test_a_newer_card_is_not_told_to_take_the_cuda_12_build(monkeypatch):
    gpu(monkeypatch, fault="no_kernel", capability=(12, 0))
    reason = device_check.choose("auto").reason
    assert "compute capability 12.0" in reason and "cupy-cuda12x" not in reason


def test_without_cupy_auto_is_the_cpu_without_a_warning(monkeypatch):
    monkeypatch.setattr(devices, "_cupy", lambda: f"CuPy is not installed: {devices.INSTALL_HINT}")
    choice = device_check.choose("auto")
    assert choice.device == "cpu" and not choice.fell_back and "not installed" in choice.reason


def test_the_verdict_is_kept_for_the_process(monkeypatch):
    module = gpu(monkeypatch)
    device_check.choose("auto")
    module.reset_counts()
    device_check.choose("auto")
    assert module.counts == {"ops": 0, "syncs": 0}


def project(tmp_path, device: str):
    (tmp_path / "params.yaml").write_text(f"train:\n  device: {device}\n  max_iter: 3\n  hidden_layer_sizes: [8]\n")
    (tmp_path / "data/prepared").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("train", "validation"):
        save_arrays(tmp_path / f"data/prepared/{name}.npz", {"X": rng.integers(0, 255, (30, 784)).astype(np.uint8),
                                                            "y": np.arange(30) % 10})


def test_the_train_stage_warns_in_one_line_trains_on_the_cpu_and_records_why(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    gpu(monkeypatch, fault="no_kernel", capability=(6, 0))
    monkeypatch.chdir(tmp_path)
    project(tmp_path, "auto")
    assert main(["train"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "no kernels for this GPU" in warnings[0] and "training on the CPU" in warnings[0]
    assert not [line for line in err.splitlines() if "Warning" in line]  # no Python warning format
    metrics = json.loads((tmp_path / "metrics/train.json").read_text())
    assert metrics["device"] == "cpu" and "no kernels for this GPU" in metrics["device_reason"]


def test_the_train_stage_with_device_gpu_stops_with_the_same_line(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    gpu(monkeypatch, fault="out_of_memory")
    monkeypatch.chdir(tmp_path)
    project(tmp_path, "gpu")
    assert main(["train"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: train.device is gpu, but the GPU is out of memory")
    assert not (tmp_path / "models").exists()


def test_a_gpu_that_passes_is_recorded_with_why(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    gpu(monkeypatch)
    monkeypatch.chdir(tmp_path)
    project(tmp_path, "auto")
    assert main(["train"]) == 0
    metrics = json.loads((tmp_path / "metrics/train.json").read_text())
    assert metrics["device"].startswith("gpu: Strict CuPy stand-in")
    assert metrics["device_reason"] == "train.device is auto and the GPU passed its self-check"
    assert "warning" not in capsys.readouterr().err
