"""Ours: the project's ``DigitNetClassifier`` exactly as the train stage builds it from params.yaml,
predicting as the predict stage does (``predict.tta_shift``); or, as ``ours-previous``, the same
estimator with ``PREVIOUS``'s params (one hidden layer, no weight-space warps) and no test-time
shifts, so the table shows what warps, depth and test-time shifts add."""

from __future__ import annotations

import dataclasses

from benchmarks.common import ROOT, OverBudget, accuracy
from pipeline.core.config import load_params
from pipeline.model.tta import predict_shifted
from pipeline.model.warps import ranges_of
from pipeline.stages.train import build_model

# ours-previous: one hidden layer of 512, whole-pixel shifts only (every warp 0); it predicts one view per test digit.
PREVIOUS = {"hidden_layer_sizes": (512,), "learning_rate": 0.003, "max_iter": 1000, "augment_translate": 2,
            "augment_groups": 16, "augment_rotate_degrees": 0.0, "augment_scale": 0.0,
            "augment_shear_degrees": 0.0, "augment_elastic_alpha": 0.0}


def describe(params, shifted: str = "shifts", tta_shift: int = 0) -> str:
    """E.g. '784-512-10, adam, cosine lr 0.001, full batch, shifts ±2 px'."""
    sizes = "-".join(str(s) for s in (784, *params.hidden_layer_sizes, 10))
    shifts = f", {shifted} ±{params.augment_translate} px" if params.augment_translate else ""
    if ranges_of(params).warping:
        shifts += (f", warps ±{params.augment_rotate_degrees:g}° ±{params.augment_scale:g} scale "
                   f"±{params.augment_shear_degrees:g}° shear, elastic {params.augment_elastic_alpha:g} px")
    views = f", {(2 * tta_shift + 1) ** 2} shifted views per test digit" if tta_shift else ""
    return f"{sizes}, {params.optimizer}, {params.lr_schedule} lr {params.learning_rate:g}, full batch{shifts}{views}"


def run(data, settings, tracker):
    loaded = load_params(ROOT / "params.yaml")
    params, tta_shift = loaded.train, loaded.predict.tta_shift
    if settings.get("previous"):
        params, tta_shift = dataclasses.replace(params, **PREVIOUS), 0
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
    info = {"setup": describe(params, tta_shift=tta_shift), "planned_steps": total, "stopped": stopped,
            "eval_every": every}
    return info, lambda pixels: predict_shifted(model, pixels, tta_shift)
