"""The several-seed numbers behind the seminar captions of gradviz/gallery.py (issue 31): weight decay
(seminar 6) and dropout (seminar 7), each run of the gallery repeated with seeds 0-4, and seminar 4's
pinwheel after the lecture's 1000 steps beside a linear softmax (seeds 0-2).

    python examples/seminar_seeds.py      # about a minute on one core
"""

from __future__ import annotations

import numpy as np
import torch

from gradviz.gallery import SEMINAR
from gradviz.pipelines.boundary import train_variants


def _arguments(stem: str) -> dict:
    return next(dict(arguments) for name, _caption, arguments in SEMINAR if name == stem)


def weight_norm(run) -> float:
    return float(np.sqrt((run.snapshots[-1] ** 2).sum()))


def main(seeds=range(5)) -> None:
    torch.set_num_threads(1)
    decay = _arguments("seminar-6-weight-decay")
    dropout = _arguments("seminar-7-dropout")
    for seed in seeds:
        runs = train_variants(seed=seed, grid=20, **decay)
        print(f"seed {seed} weight_decay {decay['weight_decay']}: held-out loss "
              f"{[round(float(r.val_loss[-1]), 3) for r in runs]}, weight norm {[round(weight_norm(r), 1) for r in runs]}")
        runs = train_variants(seed=seed, grid=20, **dropout)
        print(f"seed {seed} dropout {dropout['dropout']}: held-out loss best/last "
              f"{[(round(float(np.nanmin(r.val_loss)), 3), round(float(r.val_loss[-1]), 3)) for r in runs]}")

    for seed in range(3):
        linear = train_variants("pinwheel", classes=3, hidden=(), optimizers=["adam:lr=0.05"], steps=2000, seed=seed,
                                grid=2, record_every=2000)[0]
        mlp = train_variants("pinwheel", classes=3, hidden=(5, 5), activation="sigmoid", optimizers=["sgd:lr=0.1"],
                             steps=1000, seed=seed, grid=2, record_every=1000)[0]
        print(f"seed {seed} pinwheel: linear softmax accuracy {float(linear.accuracy[-1]):.3f}, "
              f"2-5-5-3 after 1000 steps {float(mlp.accuracy[-1]):.3f}")


if __name__ == "__main__":
    main()
