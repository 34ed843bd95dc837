"""Data augmentation, computed: the numbers behind the `data-augmentation` figure.

The seminar imports torchvision.transforms "for augmenting the input data": transformations that change an
input but not its label, so that a few examples become many. Here on a task small enough to train in a
blink and where the invariance is exact: 2-D points labelled by whether they lie inside the circle of
radius `radius` (a rotation does not change the label). An MLP trained on `n` points overfits them; the
same MLP, from the same initial weights and for the same steps, trained on each point plus `copies`
rotated copies of it (a random angle each), sees the invariance and does better on held-out points.
Held-out loss is the mean BCE on `test` fresh points, measured during training, for several seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["Augmentation", "data_augmentation", "disc_points", "rotated_copies"]


@dataclass(frozen=True, eq=False)
class Augmentation:
    """points, labels: seed 0's training sample; augmented, augmented_labels: it with its rotated copies.
    steps: where the losses were measured; plain_test, augmented_test: (seeds, steps) held-out BCE;
    plain_train, augmented_train: (seeds, steps) BCE on the original training points. Settings beside."""

    points: np.ndarray
    labels: np.ndarray
    augmented: np.ndarray
    augmented_labels: np.ndarray
    steps: np.ndarray
    plain_test: np.ndarray
    augmented_test: np.ndarray
    plain_train: np.ndarray
    augmented_train: np.ndarray
    radius: float
    n: int
    copies: int
    hidden: int
    lr: float
    test: int
    seed: int

    @property
    def seeds(self) -> int:
        return len(self.plain_test)

    @property
    def wins(self) -> int:
        """On how many seeds augmentation ends with the lower held-out loss."""
        return int((self.augmented_test[:, -1] < self.plain_test[:, -1]).sum())


def disc_points(n: int, generator: torch.Generator, *, extent: float = 2.0,
                radius: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """n points uniform in the square [-extent, extent]^2, label 1 inside the circle of `radius`."""
    x = (torch.rand(n, 2, generator=generator, dtype=torch.float64) * 2 - 1) * extent
    return x, (x.norm(dim=1) < radius).to(torch.float64)


def rotated_copies(x: torch.Tensor, y: torch.Tensor, copies: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x with `copies` rotations of each point by a uniform random angle appended (labels repeated)."""
    angle = torch.rand(copies, len(x), generator=generator, dtype=torch.float64) * 2 * math.pi
    c, s = torch.cos(angle), torch.sin(angle)
    turned = torch.stack([c * x[:, 0] - s * x[:, 1], s * x[:, 0] + c * x[:, 1]], dim=-1).reshape(-1, 2)
    return torch.cat([x, turned]), torch.cat([y, y.repeat(copies)])


def _train(x: torch.Tensor, y: torch.Tensor, tests: tuple[torch.Tensor, ...], *, seed: int, hidden: int,
           lr: float, steps: int, every: int) -> tuple[list[float], list[float]]:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                              torch.nn.ReLU(), torch.nn.Linear(hidden, 1)).double()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = torch.nn.BCEWithLogitsLoss()
    test_x, test_y, train_x, train_y = tests
    held_out, train = [], []
    for step in range(steps + 1):
        if step % every == 0:
            with torch.no_grad():
                held_out.append(float(loss(net(test_x).flatten(), test_y)))
                train.append(float(loss(net(train_x).flatten(), train_y)))
        if step < steps:
            optimizer.zero_grad()
            loss(net(x).flatten(), y).backward()
            optimizer.step()
    return held_out, train


def data_augmentation(*, seed: int = 0, seeds: int = 5, n: int = 16, copies: int = 15, hidden: int = 32,
                      lr: float = 0.01, steps: int = 300, every: int = 10, test: int = 1000,
                      radius: float = 1.0) -> Augmentation:
    """Train the 2-hidden-hidden-1 ReLU MLP (Adam, full batch) on n points and on them with their rotated
    copies, for seeds seed, seed + 1, ...: the same points, initial weights and test set for both."""
    plain, augmented, plain_fit, augmented_fit = [], [], [], []
    shown = None
    # One thread, as compare.py's basin loop: each op is on a few hundred numbers, too few to split between
    # threads with profit, and on a busy 2-core box a second thread waiting for a core made this 20x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for s in range(seed, seed + seeds):
            shown = _seed_runs(s, shown, (plain, augmented, plain_fit, augmented_fit), n=n, copies=copies,
                               hidden=hidden, lr=lr, steps=steps, every=every, test=test, radius=radius)
    finally:
        torch.set_num_threads(threads)
    return Augmentation(*shown, np.arange(0, steps + 1, every), np.array(plain), np.array(augmented),
                        np.array(plain_fit), np.array(augmented_fit), radius, n, copies, hidden, lr, test, seed)


def _seed_runs(s: int, shown: Any, out: tuple[list[Any], ...], *, n: int, copies: int, hidden: int, lr: float,
               steps: int, every: int, test: int, radius: float) -> Any:
    """One seed: its points, test set and copies; the plain and augmented runs appended to `out`."""
    plain, augmented, plain_fit, augmented_fit = out
    generator = torch.Generator().manual_seed(s)
    x, y = disc_points(n, generator, radius=radius)
    test_x, test_y = disc_points(test, generator, radius=radius)
    big_x, big_y = rotated_copies(x, y, copies, generator)
    settings = dict(seed=s, hidden=hidden, lr=lr, steps=steps, every=every)
    for data, held, fit in (((x, y), plain, plain_fit), ((big_x, big_y), augmented, augmented_fit)):
        h, t = _train(*data, (test_x, test_y, x, y), **settings)
        held.append(h)
        fit.append(t)
    if shown is None:
        shown = (x.numpy(), y.numpy(), big_x[n:].numpy(), big_y[n:].numpy())
    return shown
