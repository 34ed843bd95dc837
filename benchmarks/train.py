"""What recording a TrainingRun costs against a plain training loop of the same model.

Model 2-32-32-1 (ReLU), moons with 1000 points, full-batch Adam, 1000 steps. The plain loop is
zero_grad / forward / BCE / backward / step and nothing else. gradviz.train does the same steps and records
the loss and accuracy of every step plus, every 10 steps, a parameter snapshot and the decision surface on
an 80 x 80 grid. Prints medians over --repeat runs and the ratio.

    python benchmarks/train.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from gradviz.lecture import make_dataset, mlp, train

STEPS = 1000


def plain(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    target = y.float()
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X)[:, 0], target)
        loss.backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # both loops on one core: the ratio, not the machine's mood
    X, y = make_dataset("moons", n=1000)
    model = mlp(2, [32, 32], 1, seed=0)
    plain(copy.deepcopy(model), X, y)  # warm-up: first-optimizer start-up and allocator
    ours, theirs = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        plain(copy.deepcopy(model), X, y)
        theirs.append(time.perf_counter() - start)
        start = time.perf_counter()
        train(copy.deepcopy(model), (X, y), "adam", steps=STEPS, lr=0.02, record_every=10)
        ours.append(time.perf_counter() - start)
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"plain loop          {theirs_s:6.3f} s  ({theirs_s / STEPS * 1e3:.3f} ms/step)")
    print(f"gradviz.train       {ours_s:6.3f} s  ({ours_s / STEPS * 1e3:.3f} ms/step), recording every step's "
          "loss/accuracy, snapshots and an 80x80 decision grid every 10 steps")
    print(f"ratio               {ours_s / theirs_s:6.2f}x the plain loop (median of {args.repeat})")


if __name__ == "__main__":
    main()
