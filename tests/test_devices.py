"""train.device: what auto picks, and the one line that device: gpu gets when no GPU can be used."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from pipeline.model import device_check, devices
from strict_cupy import StrictCupy


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv(devices.NO_GPU_ENV, raising=False)
    devices._cupy.cache_clear()
    yield
    devices._cupy.cache_clear()


def fake_cupy(monkeypatch, count=None, error=None):
    runtime = types.SimpleNamespace(getDeviceCount=lambda: (_ for _ in ()).throw(error) if error else count)
    monkeypatch.setitem(sys.modules, "cupy", types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime)))


def test_without_cupy_auto_is_the_cpu_and_gpu_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    assert device_check.choose("auto").device == "cpu"
    with pytest.raises(devices.GpuUnavailable) as err:
        device_check.choose("gpu")
    assert str(err.value) == "train.device is gpu, but CuPy is not installed: " + devices.INSTALL_HINT
    assert "pip install -e '.[gpu]'" in str(err.value) and "\n" not in str(err.value)


def test_an_old_driver_and_no_device_are_named(monkeypatch):
    fake_cupy(monkeypatch, error=RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient"))
    with pytest.raises(devices.GpuUnavailable, match="the NVIDIA driver is too old for this CuPy"):
        device_check.choose("gpu")
    devices._cupy.cache_clear()
    fake_cupy(monkeypatch, count=0)
    with pytest.raises(devices.GpuUnavailable, match="sees no CUDA device"):
        device_check.choose("gpu")
    assert device_check.choose("auto").device == "cpu"


def test_a_visible_device_that_passes_its_check_is_used_by_auto(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", StrictCupy())  # imports, counts one device, computes right
    assert device_check.choose("auto").device == "gpu" and device_check.choose("cpu").device == "cpu"
    monkeypatch.setenv(devices.NO_GPU_ENV, "1")
    devices._cupy.cache_clear()
    assert device_check.choose("auto").device == "cpu"


def test_numpy_arrays_belong_to_numpy():
    assert devices.array_module(np.zeros(2), [1]) is np
    a = np.arange(3)
    assert devices.to_numpy(a) is a


def test_the_train_stage_stops_with_one_line_when_the_gpu_is_missing(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main
    from pipeline.core.arrays_file import save_arrays

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "cupy", None)
    (tmp_path / "params.yaml").write_text("train:\n  device: gpu\n  max_iter: 2\n  hidden_layer_sizes: [4]\n")
    (tmp_path / "data/prepared").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("train", "validation"):
        save_arrays(tmp_path / f"data/prepared/{name}.npz", {"X": rng.integers(0, 255, (20, 784)).astype(np.uint8),
                                                            "y": np.arange(20) % 10})
    assert main(["train"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: train.device is gpu, but CuPy is not installed: " + devices.INSTALL_HINT]
    assert not (tmp_path / "models").exists()
