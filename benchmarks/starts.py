"""Many starts at the cost of torch itself: trace_swarm and trace of N starts against a bare torch loop.

10,000 random starts on Himmelblau's window, 500 Adam steps (lr 0.1), one torch thread. The baseline is the
leanest plain loop that records every position: the (N, 2) tensor, torch.optim.Adam, `backward` with a
vector of ones, each position copied into a preallocated (steps + 1, N, 2) tensor, then `.numpy()`.
`trace_swarm` returns a Swarm (positions and losses, every start's end and divergence); `trace(start=
<(N, 2) array>)` returns N Trajectory records (positions, losses, gradient norms, learning rates and
evaluation counts); "loop, trace's record" is the bare loop recording positions, losses and gradient
norms too, the floor for what trace records. Both are first checked to equal the loop's positions bit for bit. The three are timed in
interleaved blocks; prints medians over --repeat in CPU seconds of this process (which a busy shared
machine disturbs less than wall-clock time, printed beside them) and each one's ratio to the loop.

    python benchmarks/starts.py [--repeat 7] [--starts 10000] [--steps 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from gradviz.lecture.compare import trace_swarm
from gradviz.lecture.tracing import trace

LR = 0.1


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    x, y = p[:, 0], p[:, 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def bare_loop(starts: np.ndarray, steps: int, *, everything: bool = False) -> np.ndarray:
    """Every position; with everything=True also every loss and gradient norm (what trace records)."""
    x = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([x], lr=LR)
    ones = torch.ones(len(starts), dtype=torch.float64)
    points = torch.empty((steps + 1, len(starts), 2), dtype=torch.float64)
    if everything:
        losses, norms = torch.empty((2, steps + 1, len(starts)), dtype=torch.float64)
    for k in range(steps + 1):
        optimizer.zero_grad()
        loss = himmelblau(x)
        points[k].copy_(x.detach())
        if everything:  # trace takes the gradient at the last point too, for its norm
            losses[k].copy_(loss.detach())
            loss.backward(ones)
            torch.linalg.vector_norm(x.grad, dim=-1, out=norms[k])
        if k == steps:
            break
        if not everything:
            loss.backward(ones)
        optimizer.step()
    return points.numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--starts", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    starts = np.random.default_rng(0).uniform(-5, 5, (args.starts, 2))
    work = {
        "bare loop": lambda: bare_loop(starts, args.steps),
        "trace_swarm": lambda: trace_swarm("himmelblau", "adam", starts=starts, steps=args.steps, lr=LR),
        "trace, N starts": lambda: trace("himmelblau", "adam", start=starts, steps=args.steps, lr=LR),
        "loop, trace's record": lambda: bare_loop(starts, args.steps, everything=True),
    }
    expected = bare_loop(starts, args.steps)
    swarm, records = work["trace_swarm"](), work["trace, N starts"]()
    assert np.array_equal(swarm.points, expected), "trace_swarm and the bare loop traced different paths"
    assert all(np.array_equal(r.points, expected[:, i]) for i, r in enumerate(records)), \
        "trace and the bare loop traced different paths"
    del swarm, records

    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in work}
    for _ in range(args.repeat):
        for name, run in work.items():  # interleaved: a change in the machine's load hits all three alike
            wall, cpu = time.perf_counter(), time.process_time()
            result = run()
            timings[name].append((time.process_time() - cpu, time.perf_counter() - wall))
            del result
    base_cpu = statistics.median(t[0] for t in timings["bare loop"])
    base_wall = statistics.median(t[1] for t in timings["bare loop"])
    print(f"{args.starts} starts x {args.steps} Adam steps on Himmelblau, one thread, medians of {args.repeat} "
          f"interleaved blocks; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'':21} {'CPU s':>7} {'ratio':>6}   {'wall s':>7} {'ratio':>6}")
    for name, values in timings.items():
        cpu = statistics.median(t[0] for t in values)
        wall = statistics.median(t[1] for t in values)
        print(f"{name:21} {cpu:7.3f} {cpu / base_cpu:5.2f}x   {wall:7.3f} {wall / base_wall:5.2f}x")


if __name__ == "__main__":
    main()
