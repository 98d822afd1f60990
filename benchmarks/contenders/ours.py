"""Ours: the project's ``DigitNetClassifier`` exactly as the train stage builds it from params.yaml."""

from __future__ import annotations

from benchmarks.common import ROOT, OverBudget, accuracy
from pipeline.core.config import load_params
from pipeline.stages.train import build_model


def describe(params, shifted: str = "shifts") -> str:
    """E.g. '784-512-10, adam, cosine lr 0.001, full batch, shifts ±2 px'."""
    sizes = "-".join(str(s) for s in (784, *params.hidden_layers, 10))
    shifts = f", {shifted} ±{params.augment_shift} px" if params.augment_shift else ""
    return f"{sizes}, {params.optimizer}, {params.lr_schedule} lr {params.learning_rate:g}, full batch{shifts}"


def run(data, settings, tracker):
    params = load_params(ROOT / "params.yaml").train
    model = build_model(params)
    if settings.get("iterations"):
        model.set_params(max_iter=settings["iterations"])
    total, every = model.max_iter, params.eval_every

    def callback(record: dict) -> None:
        tracker.end_step()
        step = record["iteration"]
        if step % every == 0 or step == total or tracker.over_budget():
            tracker.validate(step, lambda: accuracy(model.predict(data.X_val), data.y_val))
            if tracker.over_budget() and step < total:
                raise OverBudget

    stopped = "completed"
    tracker.start()  # fit's own setup (scaling, buffers) counts as training time
    try:
        model.fit(data.X_train, data.y_train, callback=callback)
    except OverBudget:
        stopped = "budget"
    info = {"setup": describe(params), "planned_steps": total, "stopped": stopped,
            "eval_every": every}
    return info, model.predict
