"""tune.yaml: every bad entry is one line naming it, checked with params.yaml's own rules; trials draw
params.yaml values (lists for hidden_layer_sizes) that ``dvc exp run -S`` takes."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest

from pipeline.core.config import parse_params
from pipeline.core.errors import PipelineError
from pipeline.tuning.space import load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[1]


def settings(space: dict, **top):
    return parse_settings({"space": space, **top})


def test_the_committed_tune_yaml_loads_and_its_draws_pass_params_yaml_rules():
    import yaml

    loaded = load_settings(ROOT / "tune.yaml")
    space = yaml.safe_load((ROOT / "tune.yaml").read_text())["space"]  # the ranges as the file writes them
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    seen: dict[str, set] = {key: set() for key in space}
    for _ in range(20):
        trial = study.ask()
        drawn = loaded.suggest(trial)
        assert set(drawn) == set(space)
        raw = {"train": {}, "predict": {}}
        for key, value in drawn.items():
            section, name = key.split(".")
            raw[section][name] = value
            entry, seen[key] = space[key], seen[key] | {str(value)}
            if "choices" in entry:
                assert value in entry["choices"], (key, value)
            elif "depth" in entry:  # equal widths, as many as depth says, on width's grid
                (width,) = set(value)
                assert entry["depth"]["low"] <= len(value) <= entry["depth"]["high"], (key, value)
                assert entry["width"]["low"] <= width <= entry["width"]["high"], (key, value)
                assert (width - entry["width"]["low"]) % entry["width"].get("step", 1) == 0, (key, value)
            else:
                assert entry["low"] <= value <= entry["high"], (key, value)
                assert "step" not in entry or (value - entry["low"]) % entry["step"] == 0, (key, value)
        params = parse_params(raw)  # raises on a value params.yaml would refuse; and keeps each as drawn
        for key, value in drawn.items():
            section, name = key.split(".")
            assert getattr(getattr(params, section), name) == (tuple(value) if isinstance(value, list) else value)
        study.tell(trial, 0.5)
    assert all(len(values) > 1 for values in seen.values()), seen  # each entry is drawn, not fixed


@pytest.mark.parametrize("space, message", [
    ({"train.learning_rate": {"low": -1.0, "high": 0.1}},
     "tune.yaml.space.train.learning_rate.low must be > 0, got -1.0"),
    ({"train.augment_translate": {"low": 0, "high": 9}},
     "tune.yaml.space.train.augment_translate.high must be between 0 and 4 pixels, got 9"),
    ({"train.learnig_rate": {"low": 0.1, "high": 0.2}}, "tune.yaml.space.train.learnig_rate: train has no param 'learnig_rate'"),
    ({"learning_rate": {"low": 0.1, "high": 0.2}}, "a space entry names a params.yaml param as train.NAME or predict.NAME"),
    ({"train.learning_rate": {"low": 0.2, "high": 0.1}},
     "tune.yaml.space.train.learning_rate: `low <= high` must hold, but got (low=0.2, high=0.1)."),
    ({"train.learning_rate": {"low": 0.1, "high": 0.1}},
     "tune.yaml.space.train.learning_rate: low and high are both 0.1; for one value, write choices: [0.1]"),
    ({"train.learning_rate": {"low": 0.1, "high": 0.2, "step": -0.01}},
     "tune.yaml.space.train.learning_rate: `step > 0` must hold, but got step=-0.01."),
    ({"train.max_iter": {"low": 10, "high": 20, "step": "a"}}, "tune.yaml.space.train.max_iter.step must be a number, got 'a'"),
    ({"train.max_iter": {"low": 10, "high": 20, "log": True, "step": 2}},
     "tune.yaml.space.train.max_iter: Samplers and other components in Optuna only accept step is 1"),
    ({"train.learning_rate": {"low": 0.1}}, "tune.yaml.space.train.learning_rate needs low and high (or choices: [...]); high is missing"),
    ({"train.max_iter": {"low": 10.5, "high": 20}}, "tune.yaml.space.train.max_iter.low must be a whole number (max_iter is one), got 10.5"),
    ({"train.learning_rate": {"low": 0.1, "high": 0.2, "log": True, "step": 0.01}},
     "tune.yaml.space.train.learning_rate: The parameter `step` is not supported when `log` is true."),
    ({"train.optimizer": {"choices": ["adam", "sgd"]}}, "tune.yaml.space.train.optimizer.choices[1] must be one of"),
    ({"train.optimizer": {"low": 1, "high": 2}}, "tune.yaml.space.train.optimizer: optimizer is a word; list its values as choices"),
    ({"predict.tta_shift": {"choices": []}},
     "tune.yaml.space.predict.tta_shift.choices: The `choices` must contain one or more elements."),
    ({"predict.tta_shift": {"choices": 1}}, "tune.yaml.space.predict.tta_shift.choices must be a list, got 1"),
    ({"predict.tta_shift": {"choices": [1, 1]}}, "tune.yaml.space.predict.tta_shift.choices lists a value twice"),
    ({"train.hidden_layer_sizes": {"depth": {"low": 0, "high": 2}, "width": {"low": 8, "high": 16}}},
     "tune.yaml.space.train.hidden_layer_sizes.depth.low must be at least 1 hidden layer, got 0"),
    ({"train.hidden_layer_sizes": {"depth": {"low": 1, "high": 2}, "width": {"low": 0, "high": 16}}},
     "tune.yaml.space.train.hidden_layer_sizes.width.low must be at least 1 unit, got 0"),
    ({"train.hidden_layer_sizes": {"depth": {"low": 1, "high": 2}}}, "needs both depth and width; width is missing"),
    ({"train.learning_rate": {"low": 0.1, "high": 0.2, "lg": True}}, "tune.yaml.space.train.learning_rate has unknown key(s) lg"),
])
def test_a_bad_entry_is_one_line_that_names_it(space, message):
    with pytest.raises(PipelineError) as caught:
        settings(space)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("top, message", [
    ({"study": "my study"}, "tune.yaml.study must be letters, digits, - and _"),
    ({"sampler": "grid"}, "tune.yaml.sampler must be one of tpe, random, got 'grid'"),
    ({"pruner": {"kind": "hyperband"}}, "tune.yaml.pruner.kind must be one of median, none"),
    ({"pruner": {"warmup_percent": 120}}, "tune.yaml.pruner.warmup_percent must be at most 100"),
    ({"seed": -1}, "tune.yaml.seed must be a whole number >= 0"),
    ({"trials": 3}, "tune.yaml has unknown key(s) trials"),
])
def test_bad_settings_are_one_line(top, message):
    with pytest.raises(PipelineError, match="^" + re.escape(message)):
        settings({"train.learning_rate": {"low": 0.1, "high": 0.2}}, **top)


def test_an_empty_space_is_refused():
    with pytest.raises(PipelineError, match="tune.yaml.space is empty"):
        parse_settings({"study": "x"})


def test_draws_are_params_yaml_values():
    space = settings({
        "train.hidden_layer_sizes": {"depth": {"low": 2, "high": 2}, "width": {"low": 32, "high": 64, "step": 32}},
        "train.learning_rate": {"low": 0.001, "high": 0.01, "log": True},
        "train.max_iter": {"low": 100, "high": 300, "step": 100},
        "predict.tta_shift": {"choices": [0, 1]},
    })
    drawn = space.suggest(optuna.trial.FixedTrial({
        "train.hidden_layer_sizes.depth": 2, "train.hidden_layer_sizes.width": 64,
        "train.learning_rate": 0.004, "train.max_iter": 200, "predict.tta_shift": 1}))
    assert drawn == {"train.hidden_layer_sizes": [64, 64], "train.learning_rate": 0.004, "train.max_iter": 200,
                     "predict.tta_shift": 1}
    assert isinstance(drawn["train.max_iter"], int)


def test_list_choices_travel_through_optuna_as_json_and_come_back_as_lists():
    space = settings({"train.hidden_layer_sizes": {"choices": [[256, 256], [512]]}})
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        value = space.suggest(trial)["train.hidden_layer_sizes"]
        assert isinstance(value, list)
        seen.add(tuple(value))
        study.tell(trial, 0.1)
    assert seen == {(256, 256), (512,)}


def test_the_fingerprint_changes_with_the_space_and_only_with_it():
    a = settings({"train.learning_rate": {"low": 0.001, "high": 0.01}})
    b = settings({"train.learning_rate": {"low": 0.001, "high": 0.02}})
    c = settings({"train.learning_rate": {"low": 0.001, "high": 0.01}}, seed=3, pruner={"kind": "none"})
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == c.fingerprint()


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks" / "frontier").glob("*.yaml")), ids=lambda p: p.name)
def test_the_documented_frontier_spaces_load(path):
    assert load_settings(path).space  # docs/accuracy.md runs `tune --space` on these
