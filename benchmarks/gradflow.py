"""What record_gradients costs per training step, against no recording and against the common approach.

Model: 10 Linear layers of width 64 (sigmoid), batch 128 of N(0, I) inputs with random labels, SGD.
Three loops of the same steps:
  plain      zero_grad / forward / cross-entropy / backward / step;
  gradviz    the same inside `with gradviz.record_gradients(model, optimizer)` (weight-gradient, signal and
             parameter norms per layer, total norm, update ratio, NaN/inf, dead units; one host transfer a step);
  per-item   what common tools do: after backward, for every parameter p.grad.norm().item() and p.norm().item()
             (a host sync per call), and no backward signal at all.
Prints the median time per step over --repeat rounds and the median of each round's ratio to plain.

    python benchmarks/gradflow.py [--steps 300] [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from gradviz.gradients import deep_mlp, random_data, record_gradients


def make(seed: int = 0) -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    model = deep_mlp(10, 64, out_features=10, activation="sigmoid", seed=seed)
    x, y = random_data(128, 64, 10, seed=seed)
    return model, torch.optim.SGD(model.parameters(), lr=0.1), x, y


def step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


def plain(steps: int) -> float:
    model, optimizer, x, y = make()
    start = time.perf_counter()
    for _ in range(steps):
        step(model, optimizer, x, y)
    return (time.perf_counter() - start) / steps


def recorded(steps: int) -> float:
    model, optimizer, x, y = make()
    start = time.perf_counter()
    with record_gradients(model, optimizer) as log:
        for _ in range(steps):
            step(model, optimizer, x, y)
    log.result()
    return (time.perf_counter() - start) / steps


def per_item(steps: int) -> float:
    model, optimizer, x, y = make()
    history: dict[str, list[tuple[float, float]]] = {}
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        for name, p in model.named_parameters():
            history.setdefault(name, []).append((p.grad.norm().item(), p.norm().item()))
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared 2-core machine, the steadiest ratio)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plain(20)  # warm-up: first-optimizer start-up, allocator
    times: dict[str, list[float]] = {"plain": [], "gradviz": [], "per-item": []}
    for _ in range(args.repeat):  # interleaved, so drift on a shared machine hits all three alike
        times["plain"].append(plain(args.steps))
        times["gradviz"].append(recorded(args.steps))
        times["per-item"].append(per_item(args.steps))
    for name, values in times.items():
        ratios = [value / base for value, base in zip(values, times["plain"])]  # each against its own round
        print(f"{name:9s} {statistics.median(values) * 1e3:7.3f} ms/step   {statistics.median(ratios):5.2f}x plain "
              f"(rounds: {min(ratios):.2f} to {max(ratios):.2f})")
    print(f"(10 x Linear(64), batch 128, SGD, {args.steps} steps, median of {args.repeat}, torch "
          f"{torch.__version__}, {torch.get_num_threads()} thread(s))")


if __name__ == "__main__":
    main()
