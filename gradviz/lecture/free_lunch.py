"""No free lunch (Wolpert 1996), computed: averaged over every possible target, every learner has the same
error on the points it did not see.

The lecture's statement: any classification algorithm, averaged over all data-generating distributions,
has the same error on a point not seen before; so the work is to know which distributions our task has.
Here the whole space is small enough to enumerate: inputs are the 8 corners of the cube {0, 1}³, a target
is any of the 2⁸ = 256 labelings, a training set is any 4 of the 8 corners (70 of them) with the target's
labels, and a learner's off-training-set error is its error on the other 4. Over all 256 targets every
learner's mean error is exactly 1/2 (for each target, the one with the unseen labels flipped has the same
training set). Over a structured family, the 104 labelings a linear threshold can make (the "smooth"
tasks a linear model or nearest neighbours assume), the learners differ, and the contrarian who predicts
the opposite of its nearest neighbour is worst: whoever wins there loses by as much elsewhere.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gradviz.i18n import N_

__all__ = ["LEARNERS", "FreeLunch", "no_free_lunch", "cube", "threshold_labelings"]


def cube(bits: int = 3) -> np.ndarray:
    """(2**bits, bits) the corners of {0, 1}^bits, in binary order."""
    return np.array(list(itertools.product((0, 1), repeat=bits)), dtype=float)


def threshold_labelings(points: np.ndarray, weights: range = range(-3, 4)) -> np.ndarray:
    """(k, n) every distinct labeling of `points` that a linear threshold [w·x > b] makes, with integer
    weights from `weights` and every threshold between the sums (enough on the 3-cube: all 104)."""
    found = set()
    for w in itertools.product(weights, repeat=points.shape[1]):
        sums = points @ np.array(w, dtype=float)
        for b in np.unique(np.concatenate([sums - 0.5, sums + 0.5])):
            found.add(tuple((sums > b).astype(int)))
    return np.array(sorted(found), dtype=int)


def _nearest(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray) -> int:
    distance = np.abs(train_x - x).sum(1)
    votes = train_y[distance == distance.min()]
    share = votes.mean()
    return int(share > 0.5) if share != 0.5 else _majority(train_x, train_y, x)


def _majority(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray) -> int:
    return int(train_y.mean() > 0.5)


def _linear(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray) -> int:
    design = np.hstack([train_x, np.ones((len(train_x), 1))])
    w = np.linalg.lstsq(design, 2.0 * train_y - 1.0, rcond=None)[0]  # least squares on ±1 targets
    return int(np.append(x, 1.0) @ w > 0)


def _contrarian(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray) -> int:
    return 1 - _nearest(train_x, train_y, x)


# name -> learner(train_x, train_y, x) -> predicted label
LEARNERS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], int]] = {
    N_("nearest neighbour"): _nearest,
    N_("linear (least squares)"): _linear,
    N_("majority class"): _majority,
    N_("contrarian (opposite of NN)"): _contrarian,
}


@dataclass(frozen=True, eq=False)
class FreeLunch:
    """errors_all[l]: learner l's off-training-set error for each of the 256 targets (averaged over the 70
    training sets); errors_smooth[l]: the same over the threshold labelings; counts: (targets, smooth
    targets, training sets, training-set size)."""

    learners: tuple[str, ...]
    errors_all: np.ndarray
    errors_smooth: np.ndarray
    counts: tuple[int, int, int, int]

    @property
    def mean_all(self) -> np.ndarray:
        return self.errors_all.mean(1)

    @property
    def mean_smooth(self) -> np.ndarray:
        return self.errors_smooth.mean(1)


def no_free_lunch(*, bits: int = 3, train_size: int = 4) -> FreeLunch:
    """Every learner of LEARNERS on every target labeling of the cube and every training set of
    `train_size` corners: the off-training-set error per target. Exact; no randomness."""
    points = cube(bits)
    n = len(points)
    targets = np.array(list(itertools.product((0, 1), repeat=n)), dtype=int)
    splits = list(itertools.combinations(range(n), train_size))
    errors = np.zeros((len(LEARNERS), len(targets)))
    for seen in splits:
        seen = list(seen)
        unseen = [i for i in range(n) if i not in seen]
        # a learner sees only the training labels: predict once per labeling of the seen corners
        for labels in itertools.product((0, 1), repeat=train_size):
            labels = np.array(labels)
            match = (targets[:, seen] == labels).all(1)
            for l, learner in enumerate(LEARNERS.values()):
                guess = np.array([learner(points[seen], labels, points[i]) for i in unseen])
                errors[l, match] += (targets[match][:, unseen] != guess).mean(1)
    errors /= len(splits)
    smooth = threshold_labelings(points)
    index = {tuple(t): i for i, t in enumerate(targets)}
    rows = [index[tuple(t)] for t in smooth]
    return FreeLunch(tuple(LEARNERS), errors, errors[:, rows], (len(targets), len(rows), len(splits), train_size))
