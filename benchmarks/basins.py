"""Many starts as one batch against one at a time, and the time of a basin map.

10,000 random starts on Himmelblau's window, 500 Adam steps (lr 0.1). `trace_swarm` traces them as one
(N, 2) tensor and records every position and loss; the baseline is `trace` called once per start (timed on
--single starts and scaled to 10,000). Then `basin_map` on a 200 x 200 grid of starts, 500 steps. One
thread; blocks interleaved; prints medians over --repeat and the ratio, in wall-clock seconds and, beside
them, in CPU seconds of this process (which a busy shared machine disturbs less).

    python benchmarks/basins.py [--repeat 3] [--single 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from gradviz.lecture.compare import basin_map, trace_swarm
from gradviz.lecture.tracing import trace

STARTS, STEPS, LR = 10_000, 500, 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--single", type=int, default=100, help="starts traced one at a time per block")
    parser.add_argument("--resolution", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    starts = np.random.default_rng(0).uniform(-5, 5, (STARTS, 2))
    trace("himmelblau", "adam", start=starts[0], steps=10, lr=LR)  # warm-up
    timings: dict[str, list[tuple[float, float]]] = {"one": [], "batch": [], "basins": []}

    def timed(key: str, work, per: int = 1):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        timings[key].append(((time.perf_counter() - wall) / per, (time.process_time() - cpu) / per))
        return result

    for r in range(args.repeat):
        block = starts[r * args.single:(r + 1) * args.single]
        timed("one", lambda: [trace("himmelblau", "adam", start=s, steps=STEPS, lr=LR) for s in block], len(block))
        swarm = timed("batch", lambda: trace_swarm("himmelblau", "adam", starts=starts, steps=STEPS, lr=LR))
        result = timed("basins", lambda: basin_map("himmelblau", "adam", resolution=args.resolution, steps=STEPS,
                                                   lr=LR))
    (one_w, one_c), (batch_w, batch_c), (basin_w, basin_c) = (
        tuple(statistics.median(t[i] for t in timings[key]) for i in (0, 1)) for key in ("one", "batch", "basins"))
    print(f"medians of {args.repeat} interleaved blocks; wall-clock s (CPU s of this process)")
    print(f"trace, one start        {one_w * 1e3:8.1f} ms ({one_c * 1e3:.1f}) each -> {one_w * STARTS:7.1f} s "
          f"({one_c * STARTS:.1f}) for {STARTS}, scaled from {args.single} per block")
    print(f"trace_swarm, one batch  {batch_w:8.2f} s ({batch_c:.2f}) for {STARTS} starts x {STEPS} steps, "
          f"{swarm.points.nbytes / 1e6:.0f} MB of positions recorded")
    print(f"ratio                   {one_w * STARTS / batch_w:8.0f}x ({one_c * STARTS / batch_c:.0f}x) faster as one batch")
    shares = ", ".join(f"{s:.1%}" for s in result.shares())
    print(f"basin_map {args.resolution}x{args.resolution}      {basin_w:8.2f} s ({basin_c:.2f}), {STEPS} steps; shares "
          f"per minimum then none: {shares}")


if __name__ == "__main__":
    main()
