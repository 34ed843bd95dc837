"""Toy 2-D classification data, generated here, seeded and deterministic: the seminar's points.

`make_dataset(name, n=..., noise=..., seed=...)` returns (X, y): a float32 tensor (n, 2) and a long tensor
(n,) of class labels. Points come from numpy's PCG64 generator seeded with `seed`, so the same call gives
the same bits on every machine, then become tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from typing import TYPE_CHECKING

import numpy as np

from gradviz.limits import check_count
from gradviz.registry import InvalidArgument, Registry, check_positive, check_seed

if TYPE_CHECKING:  # torch is imported when data is made, so listing DATASETS stays light
    import torch

__all__ = ["DATASETS", "DatasetSpec", "make_dataset", "train_val_split", "check_classes", "MAX_CLASSES"]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    make: Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]
    summary: str
    noise: float
    classes: int = 2
    variable_classes: bool = False


def _linear(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    # uniform points labelled by the side of the line x + 0.5 y = 0.1, pushed out of a margin of 0.15
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    normal = np.array([1.0, 0.5]) / math.hypot(1.0, 0.5)
    side = X @ normal - 0.1 / math.hypot(1.0, 0.5)
    y = (side > 0).astype(np.int64)
    X = X + np.outer(np.where(y == 1, 0.15, -0.15), normal)
    return X + rng.normal(0.0, noise, size=X.shape), y


def _moons(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    upper = n // 2
    t = rng.uniform(0.0, math.pi, size=n)
    y = (np.arange(n) >= upper).astype(np.int64)
    X = np.where(y[:, None] == 0, np.stack([np.cos(t), np.sin(t)], 1), np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    X = X - np.array([0.5, 0.25])
    return X + rng.normal(0.0, noise, size=X.shape), y


def _circles(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = (np.arange(n) >= n // 2).astype(np.int64)
    t = rng.uniform(0.0, 2 * math.pi, size=n)
    radius = np.where(y == 1, 0.45, 1.0)
    X = radius[:, None] * np.stack([np.cos(t), np.sin(t)], 1)
    return X + rng.normal(0.0, noise, size=X.shape), y


def _xor(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    X = X + 0.1 * np.sign(X)  # keep the quadrants apart
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(0.0, noise, size=X.shape), y


def _spirals(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % classes
    t = rng.uniform(0.0, 1.0, size=n)
    angle = 3.0 * math.pi * t + 2 * math.pi * y / classes
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) * 1.2
    return X + rng.normal(0.0, noise, size=X.shape), y.astype(np.int64)


def _blobs(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % classes
    angle = 2 * math.pi * y / classes + math.pi / 2
    centres = np.stack([np.cos(angle), np.sin(angle)], 1)
    X = centres + rng.normal(0.0, noise, size=(n, 2))
    return X, y.astype(np.int64)


def _pinwheel(rng: np.random.Generator, n: int, noise: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    # k arms leaving the centre, each bending by 2.5 radians on its way out: the boundaries between classes
    # are curves, yet a small net learns them (unlike spirals' one and a half turns)
    y = np.arange(n) % classes
    t = rng.uniform(0.0, 1.0, size=n)
    radius = 0.15 + 0.85 * t
    angle = 2 * math.pi * y / classes + 2.5 * t
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return X + rng.normal(0.0, noise, size=X.shape), y.astype(np.int64)


DATASETS: Registry = Registry("dataset")
DATASETS.register("linear", DatasetSpec("linear", _linear, "two classes split by a line, with a margin", 0.0))
DATASETS.register("moons", DatasetSpec("moons", _moons, "two interleaved half circles", 0.1))
DATASETS.register("circles", DatasetSpec("circles", _circles, "a ring around a disc", 0.08))
DATASETS.register("xor", DatasetSpec("xor", _xor, "opposite quadrants share a class", 0.05))
DATASETS.register("spirals", DatasetSpec("spirals", _spirals, "k interleaved spiral arms, one class each", 0.05,
                                         classes=2, variable_classes=True))
DATASETS.register("blobs", DatasetSpec("blobs", _blobs, "k Gaussian clusters on a circle", 0.35, classes=3,
                                       variable_classes=True))
DATASETS.register("pinwheel", DatasetSpec("pinwheel", _pinwheel, "k curved arms from the centre, one class each",
                                          0.05, classes=3, variable_classes=True))


MAX_CLASSES = 8  # one colour each: the boundary palette (render.boundary.CLASS_COLOURS) has 8


def check_classes(spec: DatasetSpec, classes: int | None) -> int:
    """The number of classes for `spec`: its own, or a checked choice where it takes any (no torch needed)."""
    if classes is None:
        return spec.classes
    if not spec.variable_classes:
        if classes != spec.classes:
            raise InvalidArgument(f"dataset {spec.name!r} has {spec.classes} classes, not {classes} "
                                  "(spirals, pinwheel and blobs take any number)")
        return classes
    check_positive("classes", classes, integer=True)
    if not 2 <= classes <= MAX_CLASSES:
        raise InvalidArgument(f"invalid classes: {classes} (2 to {MAX_CLASSES}: one colour each on the boundary)")
    return classes


def make_dataset(name: str, *, n: int = 300, noise: float | None = None, seed: int = 0,
                 classes: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(X float32 (n, 2), y long (n,)) for a dataset of DATASETS, the same for the same arguments.

    noise: standard deviation of the Gaussian jitter (default: the dataset's own); classes: the number of
    arms or clusters for spirals, pinwheel and blobs.
    """
    spec = DATASETS.lookup(name)
    n = check_count("n", n, "n", least=2)
    seed = check_seed(seed)
    noise = spec.noise if noise is None else noise
    check_positive("noise", noise, allow_zero=True)
    classes = check_classes(spec, classes)
    import torch

    rng = np.random.default_rng(seed)
    X, y = spec.make(rng, n, float(noise), int(classes))
    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y)


def train_val_split(X: torch.Tensor, y: torch.Tensor, *, fraction: float = 0.25,
                    seed: int = 0) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Shuffle with `seed` and hold out `fraction` of the points: ((X_train, y_train), (X_val, y_val))."""
    import torch

    if not 0.0 < fraction < 1.0:
        raise InvalidArgument(f"invalid validation fraction: {fraction!r} (must be between 0 and 1)")
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(X)))
    cut = len(X) - max(1, int(round(fraction * len(X))))
    if cut < 1:
        raise InvalidArgument(f"cannot split {len(X)} points")
    train, val = order[:cut], order[cut:]
    return (X[train], y[train]), (X[val], y[val])
