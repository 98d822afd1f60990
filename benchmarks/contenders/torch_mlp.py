"""PyTorch on CPU, the same network and training as ours, written the way a PyTorch user would.

Same layer sizes, He-normal weights and zero biases, ReLU, softmax cross-entropy, the same
optimizer and learning-rate schedule (``pipeline.model.optim.learning_rate_at``), the same number of
updates, each on the whole training set. The shift augmentation is the same too (one random
shift of up to ``augment_translate`` pixels per group of images, drawn every update) but done the
usual way: the images are copied, shifted, from a zero-padded copy made once. With warps on, each
group's images are warped as copies too, by the same random warps ours draws (``random_warps``),
each output pixel gathered from its 4 bilinear neighbours.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from benchmarks.common import ROOT, accuracy, scaled
from benchmarks.contenders.ours import describe
from pipeline.core.config import load_params
from pipeline.model import warps
from pipeline.model.nn import shift_images
from pipeline.model.tta import shift_offsets
from pipeline.model.optim import learning_rate_at
from pipeline.stages.train import build_model

SIDE = 28


def network(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")  # std sqrt(2 / fan_in), as ours
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()] if i < len(sizes) - 2 else [linear]
    return nn.Sequential(*layers)


def optimizer_for(params, parameters):
    if params.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=params.learning_rate, betas=(params.beta_1, params.beta_2), eps=1e-8)
    momentum = params.momentum if params.optimizer == "momentum" else 0.0
    return torch.optim.SGD(parameters, lr=params.learning_rate, momentum=momentum)


class Shifter:
    """Each call returns the images with group g moved by shifts[g] = (dy, dx) pixels, zero-filled."""

    def __init__(self, x: torch.Tensor, n_groups: int, pad: int):
        self.pad = pad
        self.padded = nn.functional.pad(x.view(-1, SIDE, SIDE), (pad, pad, pad, pad))
        self.out = torch.empty_like(x).view(-1, SIDE, SIDE)
        bounds = np.linspace(0, len(x), min(n_groups, len(x)) + 1).astype(int)
        self.groups = list(zip(bounds[:-1], bounds[1:]))

    def __call__(self, shifts: np.ndarray) -> torch.Tensor:
        p = self.pad
        for (a, b), (dy, dx) in zip(self.groups, shifts.tolist()):
            self.out[a:b] = self.padded[a:b, p - dy:p - dy + SIDE, p - dx:p - dx + SIDE]
        return self.out.view(len(self.out), -1)


class Warper:
    """Each call returns the images with group g warped by warp g of a ``warps.WarpBatch`` (bilinear, zero outside)."""

    def __init__(self, x: torch.Tensor, n_groups: int):
        self.x, self.out = x, torch.empty_like(x)
        bounds = np.linspace(0, len(x), min(n_groups, len(x)) + 1).astype(int)
        self.groups = list(zip(bounds[:-1], bounds[1:]))

    def __call__(self, batch: warps.WarpBatch) -> torch.Tensor:
        d = self.x.shape[1]
        for g, (a, b) in enumerate(self.groups):
            columns = torch.from_numpy(batch.columns[g].astype(np.int64))
            self.out[a:b] = (self.x[a:b][:, columns] * torch.from_numpy(batch.weights[g])).view(b - a, d, 4).sum(-1)
        return self.out


def run(data, settings, tracker):
    loaded = load_params(ROOT / "params.yaml")
    params, tta_shift = loaded.train, loaded.predict.tta_shift
    total = settings.get("iterations") or params.max_iter
    n_groups = params.augment_groups
    torch.manual_seed(params.random_state)
    rng = np.random.default_rng(params.random_state)
    order = rng.permutation(len(data.X_train))  # mixes classes across the shift groups, as ours does
    x = torch.from_numpy(scaled(data.X_train[order]))
    y = torch.from_numpy(data.y_train[order].astype(np.int64))
    x_val = torch.from_numpy(scaled(data.X_val))
    model = network([x.shape[1], *params.hidden_layer_sizes, 10])
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    optimizer = optimizer_for(params, model.parameters())
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: learning_rate_at(
        step, 1.0, total, params.lr_schedule, params.warmup_iterations))
    shift, ranges = params.augment_translate, warps.ranges_of(params)
    shifter = Shifter(x, n_groups, shift) if shift and not ranges.warping else None
    warper = Warper(x, n_groups) if ranges.warping else None

    def score() -> float:
        with torch.no_grad():
            return accuracy(model(x_val).argmax(1).numpy(), data.y_val)

    stopped = "completed"
    tracker.start()
    for step in range(1, total + 1):
        if warper is not None:
            inputs = warper(warps.random_warps(rng, len(warper.groups), (SIDE, SIDE), ranges, np.float32))
        elif shifter is not None:
            inputs = shifter(rng.integers(-shift, shift + 1, size=(len(shifter.groups), 2)))
        else:
            inputs = x
        loss = nn.functional.cross_entropy(model(inputs), y)
        if params.weight_decay:  # ours: an L2 penalty on the weights, not the biases
            loss = loss + 0.5 * params.weight_decay * sum((w * w).sum() for w in weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        tracker.end_step()
        if step % params.eval_every == 0 or step == total or tracker.over_budget():
            tracker.validate(step, score)
            if tracker.over_budget() and step < total:
                stopped = "budget"
                break

    def predict(pixels: np.ndarray) -> np.ndarray:
        """The predict stage's procedure: softmax averaged over the shifted copies of each digit."""
        images = np.asarray(pixels, np.float64)
        with torch.no_grad():
            total_proba = sum(torch.softmax(model(torch.from_numpy(scaled(shift_images(images, dy, dx, (SIDE, SIDE))))), 1)
                              for dy, dx in shift_offsets(tta_shift))
        return total_proba.argmax(1).numpy()

    info = {"setup": describe(params, "image copies shifted", tta_shift), "planned_steps": total,
            "stopped": stopped, "eval_every": params.eval_every,
            "library": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                        "mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available()}}
    return info, predict
