import pytest

from pipeline.core.config import Params, TrainParams, load_params, parse_params
from pipeline.core.errors import PipelineError


def test_project_params_file_loads_with_the_documented_defaults():
    params = load_params("params.yaml")
    assert isinstance(params, Params)
    assert params.fetch.source == "auto"
    assert params.train.hidden_layers and all(w > 0 for w in params.train.hidden_layers)
    assert 0 < params.split.validation_fraction < 1


def test_missing_sections_take_defaults_and_ints_are_accepted_as_floats():
    params = parse_params({"train": {"learning_rate": 1, "hidden_layers": [8, 4]}})
    assert params.train.learning_rate == 1.0 and isinstance(params.train.learning_rate, float)
    assert params.train.hidden_layers == (8, 4)
    assert params.split == Params().split


@pytest.mark.parametrize("raw, fragment", [
    ({"train": {"lerning_rate": 0.1}}, "params.yaml.train has unknown key(s) lerning_rate"),
    ({"trian": {}}, "params.yaml has unknown key(s) trian"),
    ({"train": {"learning_rate": "fast"}}, "params.yaml.train.learning_rate must be a number, got 'fast'"),
    ({"train": {"iterations": 1.5}}, "params.yaml.train.iterations must be an integer"),
    ({"train": {"iterations": True}}, "params.yaml.train.iterations must be an integer"),
    ({"train": {"learning_rate": -1}}, "train.learning_rate must be > 0, got -1.0"),
    ({"train": {"learning_rate": 0}}, "train.learning_rate must be > 0"),
    ({"train": {"iterations": 0}}, "train.iterations must be > 0"),
    ({"train": {"hidden_layers": []}}, "train.hidden_layers must list at least one layer width"),
    ({"train": {"hidden_layers": [64, 0]}}, "train.hidden_layers widths must be > 0"),
    ({"train": {"hidden_layers": 64}}, "train.hidden_layers must be a list of int"),
    ({"train": {"optimizer": "sgd"}}, "train.optimizer must be one of gd, momentum, adam"),
    ({"train": {"lr_schedule": "linear"}}, "train.lr_schedule must be one of"),
    ({"split": {"validation_fraction": 0}}, "split.validation_fraction must be between 0 and 1"),
    ({"split": {"validation_fraction": 1.0}}, "split.validation_fraction must be between 0 and 1"),
    ({"split": {"seed": -3}}, "split.seed must be >= 0"),
    ({"fetch": {"source": ""}}, "fetch.source must not be empty"),
    ({"predict": {"tta_shift": 4}}, "params.yaml.predict.tta_shift must be between 0 and 3 pixels, got 4"),
    ({"predict": {"tta_shift": -1}}, "params.yaml.predict.tta_shift must be between 0 and 3 pixels, got -1"),
    ({"fetch": "kaggle"}, "params.yaml.fetch must be a mapping"),
    (["not", "a", "mapping"], "params.yaml must be a mapping"),
])
def test_bad_params_name_the_field_and_what_was_wrong(raw, fragment):
    with pytest.raises(PipelineError) as err:
        parse_params(raw)
    assert fragment in str(err.value)


def test_load_params_reports_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(PipelineError, match="not found"):
        load_params(tmp_path / "params.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(PipelineError, match=r"params.yaml: not valid YAML"):
        load_params(bad)


def test_train_params_check_rejects_warmup_longer_than_training():
    with pytest.raises(PipelineError, match="warmup_iterations"):
        TrainParams(iterations=10, warmup_iterations=10).check("params.yaml.train")


def test_defaults_are_written_once_params_yaml_typed_params_and_the_estimator_agree():
    import dataclasses
    import inspect

    import yaml

    from pipeline.model.estimator import PARAM_KEYS, DigitNetClassifier

    defaults = TrainParams()
    written = yaml.safe_load(open("params.yaml", encoding="utf-8"))["train"]
    # params.yaml lists every train key, each at TrainParams's default ...
    assert set(written) == {f.name for f in dataclasses.fields(TrainParams)}
    assert parse_params({"train": written}).train == defaults
    # ... and the estimator's constructor defaults are the same values under scikit-learn's names.
    signature = inspect.signature(DigitNetClassifier).parameters
    assert set(PARAM_KEYS.values()) == {f.name for f in dataclasses.fields(TrainParams)}
    for name, key in PARAM_KEYS.items():
        value = signature[name].default
        assert (tuple(value) if isinstance(value, (list, tuple)) else value) == getattr(defaults, key), name


def test_params_yaml_lists_every_predict_key_at_its_default():
    import dataclasses

    import yaml

    from pipeline.core.config import PredictParams

    written = yaml.safe_load(open("params.yaml", encoding="utf-8"))["predict"]
    assert set(written) == {f.name for f in dataclasses.fields(PredictParams)}
    assert parse_params({"predict": written}).predict == PredictParams()
