"""Find, for each test function, the learning-rate scales that make its default animation readable.

The registry's default learning rates are tuned on Rosenbrock. Other functions have other gradient
magnitudes and window sizes, so each TestFunction carries two multipliers: one for the optimizers whose
step is lr times the gradient (sgd, momentum, nesterov) and one for those whose step is about lr whatever
the gradient (adagrad, rmsprop, adam, ...). This script scans the multipliers on a log grid and prints,
per function, the one with the most progress towards f* in 200 steps with no optimizer of the family
diverging or leaving the plot window. Its output is what `lr_scale` in gradviz/lecture/functions.py holds.

    python examples/tune_learning_rates.py [NAME ...]
"""

from __future__ import annotations

import sys

import numpy as np

from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.optim import OPTIMIZERS
from gradviz.lecture.tracing import trace

FAMILIES = {"gradient": ("sgd", "momentum", "nesterov"), "adaptive": ("adagrad", "rmsprop", "adam")}
SCALES = np.round(np.logspace(-3, 3, 19), 6)


def progress(fn, record) -> float:
    (x0, x1), (y0, y1) = fn.domain
    inside = ((record.points[:, 0] >= x0) & (record.points[:, 0] <= x1) &
              (record.points[:, 1] >= y0) & (record.points[:, 1] <= y1)).all()
    if record.diverged_at is not None or not inside:
        return -np.inf
    if fn.f_min is None:
        return float(record.losses[0] - record.losses[-1]) / (abs(record.losses[0]) + 1.0)
    gap = np.maximum(record.losses - fn.f_min, 1e-12)
    return float(np.log10(gap[0]) - np.log10(gap[-1]))


def tune(name: str) -> dict[str, float]:
    fn = FUNCTIONS[name]
    chosen = {}
    for family, names in FAMILIES.items():
        best, best_scale = -np.inf, 1.0
        for scale in SCALES:
            scores = [progress(fn, trace(fn, o, steps=200, lr=OPTIMIZERS[o].defaults["lr"] * scale)) for o in names]
            score = float(np.median(scores)) if min(scores) > -np.inf else -np.inf
            if score > best + 1e-9:
                best, best_scale = score, float(scale)
        chosen[family] = best_scale
    return chosen


if __name__ == "__main__":
    for name in sys.argv[1:] or list(FUNCTIONS):
        print(f"{name:18s} {tune(name)}")
