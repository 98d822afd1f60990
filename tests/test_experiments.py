"""``python -m pipeline experiments``: the rows and the 100-column table, from ``dvc exp show --json``'s shape.

(tests/test_end_to_end.py runs the command on real experiments.)"""

from __future__ import annotations

from pipeline.commands.experiments import render, rows


def revision(name, rev, train, validation, test=None):
    metrics = {"validation_accuracy": validation, **({"test_accuracy": test} if test is not None else {})}
    return {"rev": rev, "name": name, "data": {
        "params": {"params.yaml": {"data": {"train": train, "predict": {"tta_shift": 1}}}},
        "metrics": {"metrics/predict.json": {"data": metrics},
                    "metrics/train.json": {"data": {"validation_accuracy": 0.0}}}}}


BASE = {"learning_rate": 0.005, "max_iter": 2400, "hidden_layer_sizes": [256, 256]}
SHOWN = [
    {"rev": "workspace", "name": None, "data": {}, "experiments": None},
    {**revision("main", "a" * 40, BASE, 0.9943, 0.9937), "experiments": [
        {"name": "lower-lr", "revs": [revision("lower-lr", "b" * 40, {**BASE, "learning_rate": 0.003}, 0.9921)]},
        {"name": "wider", "revs": [revision("wider", "c" * 40, {**BASE, "hidden_layer_sizes": [512, 256],
                                                                 "max_iter": 3000}, 0.9951, 0.9940)]},
    ]},
]


def test_each_experiment_shows_only_what_differs_from_its_commit_best_first():
    table = rows(SHOWN)
    assert [(depth, name) for depth, name, *_ in table] == [(0, "main"), (1, "wider"), (1, "lower-lr")]
    assert table[0][3] == []
    assert table[1][3] == ["train.max_iter=3000", "train.hidden_layer_sizes=[512,256]"]
    assert table[2][3] == ["train.learning_rate=0.003"]
    assert table[1][2]["validation_accuracy"] == 0.9951  # predict.json's: the submission's procedure


def test_the_table_fits_100_columns_with_params_and_both_accuracies():
    text = render(rows(SHOWN), width=100)
    lines = text.splitlines()
    assert all(len(line) <= 100 for line in lines), text
    wider = next(line for line in lines if "wider" in line)
    assert "99.51 %" in wider and "99.40 %" in wider and "train.max_iter=3000" in wider
    lower = next(line for line in lines if "lower-lr" in line)
    assert "99.21 %" in lower and " - " in lower + " " and "train.learning_rate=0.003" in lower


def test_long_param_lists_wrap_inside_the_width():
    many = [{**SHOWN[1], "experiments": [{"name": "x", "revs": [revision(
        "x", "d" * 40, {**BASE, **{f"p{i}": i for i in range(30)}}, 0.5)]}]}]
    text = render(rows(many), width=60)
    assert all(len(line) <= 60 for line in text.splitlines()), text
    assert "train.p29=29" in text
