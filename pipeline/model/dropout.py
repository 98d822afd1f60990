"""Dropout of hidden units (Srivastava et al. 2014), drawn so that both engines drop the same units.

``train.dropout`` r > 0: at every update each hidden unit of each training row is dropped (its output set to
0) with probability r, and the units kept are scaled by 1 / (1 - r), so validation and prediction use the
network as it is, without masks. The rate works in steps of 1/256: a unit is kept when a random byte is at
least ``threshold(r)`` = round(256 r), and the scale is that step's own, 256 / (256 - threshold), so the
expected output of a unit is the same with and without dropout.

The masks come from one seed per update, drawn from the fit's host generator, and each group of rows
draws its own from (seed, group): the CPU engine's worker threads draw their groups' masks in parallel, and
the device engine draws the same masks on the host and copies them over, so the two train alike.
"""

from __future__ import annotations

import numpy as np

LEVELS = 256  # a unit is kept when its random byte is at least the threshold


def threshold(rate: float) -> int:
    """The byte below which a unit is dropped: ``rate`` in steps of 1/256."""
    return int(round(rate * LEVELS))


def keep_scale(rate: float) -> float:
    """What the kept units are multiplied by: 1 / (1 - the rate as drawn)."""
    return LEVELS / (LEVELS - threshold(rate))


def keep_masks(seed: int, group: int, rows: int, widths: list[int], rate: float, out: list | None = None) -> list:
    """Group ``group``'s masks for update ``seed``: one (rows, width) bool array per hidden layer, True where a
    unit is kept. ``out``: optional bool arrays, at least that large, to write them into (their top-left part)."""
    rng, cut = np.random.default_rng([seed, group]), threshold(rate)
    masks = []
    for i, width in enumerate(widths):
        drawn = np.frombuffer(rng.bytes(rows * width), np.uint8).reshape(rows, width)
        target = None if out is None else out[i][:rows, :width]
        masks.append(np.greater_equal(drawn, cut, out=target))
    return masks
