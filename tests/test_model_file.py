"""The model file: a file saved before the parameters took the estimator's names still loads and predicts."""

from __future__ import annotations

import json

import numpy as np

from pipeline.core.arrays_file import load_arrays, save_arrays
from pipeline.model.estimator import DigitNetClassifier
from pipeline.model.model_file import load_model, save_model


def test_a_model_saved_under_the_former_parameter_names_loads(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 6)), np.arange(40) % 3
    model = DigitNetClassifier(hidden_layer_sizes=(5,), max_iter=3, augment_groups=4, beta_1=0.8).fit(X, y)
    save_model(tmp_path / "model.npz", model)
    arrays = load_arrays(tmp_path / "model.npz")
    meta = json.loads(arrays["meta"].tobytes())
    params = meta["params"]
    for new, old in (("augment_groups", "n_shift_groups"), ("augment_translate", "augment_shift"),
                     ("beta_1", "beta1"), ("beta_2", "beta2")):
        params[old] = params.pop(new)
    del params["device"], meta["trained_on"]  # neither existed then
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    save_arrays(tmp_path / "old.npz", arrays)

    loaded = load_model(tmp_path / "old.npz")
    assert loaded.augment_groups == 4 and loaded.beta_1 == 0.8 and loaded.device_ == "cpu"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
