"""The GPU engine on a real CUDA device, through CuPy; skipped where there is none (CI, most laptops)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import devices
from pipeline.model.estimator import DigitNetClassifier
from test_device_batch import assert_same_as_cpu, digits

pytestmark = pytest.mark.skipif(devices.gpu_problem() is not None, reason=f"no usable GPU: {devices.gpu_problem()}")


@pytest.mark.parametrize("moves", ["none", "shifts", "warps"])
def test_gradients_on_the_gpu_match_the_cpu_engine(moves):
    assert_same_as_cpu(moves, xp=devices.cupy_module())


def test_a_gpu_fit_is_deterministic_and_its_model_is_numpy():
    X, y = digits(600)
    fit = lambda: DigitNetClassifier(device="gpu", hidden_layer_sizes=(64,), max_iter=30).fit(X, y)  # noqa: E731
    a, b = fit(), fit()
    assert a.device_.startswith("gpu: ")
    for (wa, ba), (wb, bb) in zip(a.layers_, b.layers_):
        assert isinstance(wa, np.ndarray) and wa.tobytes() == wb.tobytes() and ba.tobytes() == bb.tobytes()
    cpu = DigitNetClassifier(device="cpu", hidden_layer_sizes=(64,), max_iter=30).fit(X, y)
    assert a.history_[-1]["loss"] == pytest.approx(cpu.history_[-1]["loss"], rel=1e-3)
