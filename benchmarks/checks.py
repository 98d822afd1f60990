"""The targets for ours that are not a race: one iteration against its matrix products alone, and
the train stage's peak memory. (The CSV parse time is measured in bench.py, where the zip is read.)"""

from __future__ import annotations

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks.common import ROOT, scaled
from pipeline.core.config import load_params
from pipeline.stages.train import build_model

PARK_SECONDS = 0.5


def default_blas_threads() -> int:
    """BLAS threads as the libraries start them (their default, or what OMP_NUM_THREADS & co. set)."""
    return max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def update_products(sizes: list[int], n: int, rng: np.random.Generator, params=None, image_size: int = 784):
    """One full-batch update's matrix products for layer ``sizes`` over ``n`` rows, as (a, b, out) triples
    on same-shaped float32 arrays with preallocated outputs: per layer the forward ``h @ W``, the weight
    gradient ``h.T @ delta`` and, above the first layer, the gradient passed down ``delta @ W.T``.

    With ``params`` (a ``TrainParams``), also the products its levers add, each as often as an update makes
    it: ``input_components`` k (``sizes[0]`` is then k) adds per group the projected first layer
    ``(T P)ᵀ W``, and one product of the moved bases side by side with the groups' shares of the first
    layer's gradient (``pipeline.model.full_batch``); ``optimizer: muon`` adds five Newton-Schulz iterations
    (three products each) per hidden weight matrix."""
    products = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        h = rng.standard_normal((n, fan_in), dtype=np.float32)
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
        delta = rng.standard_normal((n, fan_out), dtype=np.float32)
        products.append((h, w, np.empty((n, fan_out), np.float32)))
        products.append((h.T, delta, np.empty((fan_in, fan_out), np.float32)))
        if i > 0:
            products.append((delta, w.T, np.empty((n, fan_in), np.float32)))
    if params is not None and params.input_components:
        k, width, groups = sizes[0], sizes[1], params.augment_groups
        bases = rng.standard_normal((image_size, groups, k), dtype=np.float32)  # the moved bases, side by side
        weights = rng.standard_normal((image_size, width), dtype=np.float32)
        for g in range(groups):
            products.append((bases[:, g].T, weights, np.empty((k, width), np.float32)))
        shares = rng.standard_normal((groups * k, width), dtype=np.float32)
        products.append((bases.reshape(image_size, groups * k), shares, np.empty((image_size, width), np.float32)))
    if params is not None and params.optimizer == "muon":
        shapes = list(zip([image_size, *sizes[1:-1]], sizes[1:-1]))  # the hidden weight matrices, in pixels
        for a, b in shapes:
            m, big = min(a, b), max(a, b)
            x = rng.standard_normal((m, big), dtype=np.float32)
            gram = rng.standard_normal((m, m), dtype=np.float32)
            for _ in range(5):
                products.append((x, x.T, np.empty((m, m), np.float32)))
                products.append((gram, gram, np.empty((m, m), np.float32)))
                products.append((gram, x, np.empty((m, big), np.float32)))
    return products


def iteration_ratio(data, repeats: int, params=None) -> dict:
    """Median time of one training iteration over the median time of that update's matrix products alone.

    The iterations are the estimator's own (``fit`` with the train stage's parameters, or ``params``,
    augmentation included), timed between its callbacks, and the update's products (``update_products``)
    are timed alone in some callbacks, so both are measured side by side, interleaved, in one process. After
    the products the process rests (``PARK_SECONDS``, for OpenBLAS's helper threads to park), so the
    iteration that follows starts cold, as no training iteration does; it is timed apart
    (``iteration_after_rest_seconds``), and the ratio is taken over the one after it, which follows an
    update as in training. So a cycle is: rest, the cold iteration, the warm one, the products. The first
    products' timing is a warm-up and is dropped. Without ``input_components``, the same products over
    only the pixel columns some training row uses (what the engine multiplies) give a second, stricter
    ratio, ``ratio_used_columns``; with it, the first layer multiplies the k coordinates, and there is none.
    """
    params = params or load_params(ROOT / "params.yaml").train
    model = build_model(params).set_params(max_iter=2 * repeats + 1)
    rng = np.random.default_rng(0)
    x = scaled(data.X_train)
    sizes = [x.shape[1], *params.hidden_layer_sizes, len(np.unique(data.y_train))]
    if params.input_components:  # the first layer multiplies k coordinates per image, not pixels
        sizes[0] = params.input_components
    timings = {"products": update_products(sizes, len(x), rng, params)}
    if not params.input_components:
        np.copyto(timings["products"][0][0], x)  # the first layer multiplies the real (sparse-looking) digits
        # The engine drops the pixel columns that are blank in every training row before it multiplies,
        # so the products it really computes are narrower: timed too, so the ratio can be read both ways.
        used = np.flatnonzero(np.any(x != 0, axis=0))
        timings["products_used_columns"] = update_products([len(used), *sizes[1:]], len(x), rng, params)
        np.copyto(timings["products_used_columns"][0][0], x[:, used])
    samples = {key: [] for key in timings}
    iterations = {"cold": [], "warm": []}
    state = {"start": None, "timing": None}  # the clock of the iteration now running, and which kind it is
    blas_threads = default_blas_threads()

    def time_products() -> None:
        # fit runs its loop with single-threaded BLAS; the products get the library's own threads.
        with threadpool_limits(limits=blas_threads, user_api="blas"):
            for key, triples in timings.items():
                start = time.perf_counter()
                for a, b, out in triples:
                    np.matmul(a, b, out=out)
                samples[key].append(time.perf_counter() - start)
        # OpenBLAS's helper threads spin for a while after a threaded call; let them park so that
        # they do not take the cores from the next iteration (an artefact of interleaving, not of
        # training, whose loop makes no threaded call). Not counted in any timing.
        time.sleep(PARK_SECONDS)

    def callback(record: dict) -> None:
        now = time.perf_counter()
        if state["timing"] is not None:
            iterations[state["timing"]].append(now - state["start"])
        if state["timing"] == "cold":  # the next iteration follows this one at once, as in training
            state["timing"] = "warm"
        else:  # the first callback, or a warm iteration has ended: the products, then a rest
            time_products()
            state["timing"] = "cold"
        state["start"] = time.perf_counter()

    model.fit(data.X_train, data.y_train, callback=callback)
    samples = {key: values[1:] for key, values in samples.items()}
    iteration_s, products_s = statistics.median(iterations["warm"]), statistics.median(samples["products"])
    after_rest_s = statistics.median(iterations["cold"])
    result = {"ratio": iteration_s / products_s, "iteration_seconds": iteration_s, "products_seconds": products_s,
              "ratio_after_rest": after_rest_s / products_s, "iteration_after_rest_seconds": after_rest_s,
              "repeats": len(iterations["warm"]), "iteration_samples": iterations["warm"],
              "iteration_after_rest_samples": iterations["cold"], "product_samples": samples["products"],
              "shape": {"x": list(x.shape), "sizes": sizes}}
    if "products_used_columns" in samples:
        used_s = statistics.median(samples["products_used_columns"])
        result.update(ratio_used_columns=iteration_s / used_s, products_used_columns_seconds=used_s,
                      used_columns=len(used), product_used_columns_samples=samples["products_used_columns"])
    return result


def train_stage() -> dict:
    """``python -m pipeline train`` in this process (the current folder is a prepared project copy)."""
    from pipeline.cli import main

    start = time.perf_counter()
    status = main(["train"])
    return {"exit_status": status, "seconds": time.perf_counter() - start}
