import pytest

from pipeline.core.config import Params, TrainParams, load_params, parse_params
from pipeline.core.errors import PipelineError


def test_project_params_file_loads_with_the_documented_defaults():
    params = load_params("params.yaml")
    assert isinstance(params, Params)
    assert params.fetch.source == "auto"
    assert params.train.hidden_layer_sizes and all(w > 0 for w in params.train.hidden_layer_sizes)
    assert 0 < params.split.validation_fraction < 1


def test_missing_sections_take_defaults_and_ints_are_accepted_as_floats():
    params = parse_params({"train": {"learning_rate": 1, "hidden_layer_sizes": [8, 4]}})
    assert params.train.learning_rate == 1.0 and isinstance(params.train.learning_rate, float)
    assert params.train.hidden_layer_sizes == (8, 4)
    assert params.split == Params().split


@pytest.mark.parametrize("raw, fragment", [
    ({"train": {"lerning_rate": 0.1}}, "params.yaml.train has unknown key(s) lerning_rate (did you mean learning_rate?); "),
    ({"train": {"learnig_rate": 0.1}}, "params.yaml.train has unknown key(s) learnig_rate (did you mean learning_rate?); "),
    ({"train": {"hiden_layer_size": [8]}}, "unknown key(s) hiden_layer_size (did you mean hidden_layer_sizes?); "),
    ({"train": {"augment_rotate": 5, "colour": 1}}, "unknown key(s) augment_rotate (did you mean augment_rotate_degrees?), colour; "),
    ({"trian": {}}, "params.yaml has unknown key(s) trian (did you mean train?); "),
    ({"train": {"iterations": 9, "seed": 1}}, "params.yaml.train has unknown key(s) iterations (now max_iter), seed (now random_state)"),
    ({"split": {"seed": 1}}, "params.yaml.split has unknown key(s) seed (now random_state)"),
    ({"train": {"learning_rate": "fast"}}, "params.yaml.train.learning_rate must be a number, got 'fast'"),
    ({"train": {"max_iter": 1.5}}, "params.yaml.train.max_iter must be an integer"),
    ({"train": {"max_iter": True}}, "params.yaml.train.max_iter must be an integer"),
    ({"train": {"learning_rate": -1}}, "train.learning_rate must be > 0, got -1.0"),
    ({"train": {"learning_rate": 0}}, "train.learning_rate must be > 0"),
    ({"train": {"max_iter": 0}}, "train.max_iter must be > 0"),
    ({"train": {"hidden_layer_sizes": []}}, "train.hidden_layer_sizes must list one or more layer widths, each > 0, got []"),
    ({"train": {"hidden_layer_sizes": [64, 0]}}, "train.hidden_layer_sizes must list one or more layer widths, each > 0, got [64, 0]"),
    ({"train": {"hidden_layer_sizes": "64"}}, "train.hidden_layer_sizes must be a list of int"),
    ({"train": {"optimizer": "sgd"}}, "train.optimizer must be one of gd, momentum, adam, muon"),
    ({"train": {"lr_schedule": "linear"}}, "train.lr_schedule must be one of"),
    ({"split": {"validation_fraction": 0}}, "split.validation_fraction must be between 0 and 1"),
    ({"split": {"validation_fraction": 1.0}}, "split.validation_fraction must be between 0 and 1"),
    ({"split": {"random_state": -3}}, "split.random_state must be >= 0"),
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
        parse_params({"train": {"max_iter": 10, "warmup_iterations": 10}})


def test_defaults_are_written_once_params_yaml_typed_params_and_the_estimator_agree():
    import dataclasses
    import inspect

    import yaml

    from pipeline.model.estimator import DigitNetClassifier

    defaults = TrainParams()
    written = yaml.safe_load(open("params.yaml", encoding="utf-8"))["train"]
    # params.yaml lists every train key, each at TrainParams's default ...
    assert set(written) == {f.name for f in dataclasses.fields(TrainParams)}
    assert parse_params({"train": written}).train == defaults
    # ... and the estimator's parameters are the same names with the same defaults (plus image_shape).
    signature = inspect.signature(DigitNetClassifier).parameters
    assert set(signature) - {"image_shape"} == {f.name for f in dataclasses.fields(TrainParams)}
    for f in dataclasses.fields(TrainParams):
        assert signature[f.name].default == getattr(defaults, f.name), f.name


def test_a_single_width_is_a_one_layer_network():
    assert parse_params({"train": {"hidden_layer_sizes": 64}}).train.hidden_layer_sizes == (64,)


def test_params_yaml_lists_every_predict_key_at_its_default():
    import dataclasses

    import yaml

    from pipeline.core.config import PredictParams

    written = yaml.safe_load(open("params.yaml", encoding="utf-8"))["predict"]
    assert set(written) == {f.name for f in dataclasses.fields(PredictParams)}
    assert parse_params({"predict": written}).predict == PredictParams()
