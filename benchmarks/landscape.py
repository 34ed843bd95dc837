"""gradviz.landscape against the ways the field computes loss surfaces, on the same model, data and grid.

1. loop: the reference scripts' way (tomgoldstein/loss-landscape and most notebooks): for each grid point
   copy theta + a d1 + b d2 into the model, evaluate the whole data set in eval mode without gradients,
   repeat. Same directions as gradviz, so the two surfaces are compared value by value.
2. loss-landscapes: the `loss-landscapes` package's random_plane with filter normalization (an optional
   benchmark dependency, skipped where it is not installed). It draws its own directions, so only its time
   is comparable.
3. gradviz: landscape(model, data, directions=(d1, d2), grid=..., ...): chunks of grid points as one
   batched forward pass (for these nn.Sequential MLPs: the first layer's output computed once per plane,
   then one batched matrix product per later layer; functional_call under vmap for other modules).

Three cases: a 2-16-16-1 ReLU MLP on 500 moons points over 101 x 101 (overhead-bound), a 2-64-64-1 MLP
on 1000 points over 51 x 51 (arithmetic-bound), and a small CNN (conv-BatchNorm-ReLU-pool twice, then a
linear layer; 5k parameters) on 1797 image-shaped samples (1 x 8 x 8, the digits data set's shape) read
through a DataLoader in batches of 256 over 21 x 21 (compute-bound: gradviz takes its point-by-point path,
and the loop reads the same DataLoader for every point). Runs are interleaved (loop, loss-landscapes, gradviz,
loop, ...) and medians printed with ratios; gradviz's GFLOP/s is printed beside a plain float32 matrix
product's on the same device, so the distance to the machine's limit is visible.

    python benchmarks/landscape.py [--repeat 3] [--device cuda] [--loop-points N] [--threads T] [--sizes 0,1,2]

Real networks (benchmarks/zoo.py: digits CNN in float32 and float64, ResNet-18, a ViT, a BERT-like encoder, an
LSTM) with --models: each case times, interleaved, the loop over tensors, loss-landscapes' random_plane (it
fails with ZeroDivisionError on models with zero biases or BatchNorm shifts, which is printed), gradviz, and the
floor (grid points x one plain eval pass of the model over the same batches); medians of CPU seconds (the box
is shared: the wall clock counts other people's work; it is printed in brackets), ratios to gradviz, and the
largest difference between gradviz's surface and the loop's.

    python benchmarks/landscape.py --models resnet18 --samples 64 --grid 3 --threads 1
    python benchmarks/landscape.py --models digits-cnn --samples 1797 --batch 256 --grid 5 --channels-last
    python benchmarks/landscape.py --models digits-cnn --samples 1797 --batch 256 --grid 5 --subsets 64,256,512
    python benchmarks/landscape.py --models digits-cnn --samples 1797 --batch 256 --compile-grids 3,9
    python benchmarks/landscape.py --models resnet18 --device cuda --precision bf16   (prints bf16 - float32)

Each --models entry may carry its own sizes, NAME[:SAMPLES[:BATCH[:GRID]]] (the rest from --samples, --batch
and --grid), and `--models suite` is the set the README's table is measured on, each grid large enough that
gradviz's fixed cost per call (flattening the weights and directions, the first-batch check) is a few per cent
of the run or less (ResNet-18: about 0.3 CPU s against 25 points x 0.7 s):

    python benchmarks/landscape.py --threads 1 --repeat 3 --models suite     (about 6-7 minutes, idle 2-core box)

--loop-points times the loop (and loss-landscapes) on N evenly spread grid points and scales the time to the
full grid (the per-point cost is constant); the default runs the whole grid.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # zoo.py beside this script

import gradviz
from gradviz.lecture import make_dataset, mlp, train
from gradviz.analysis.landscape import random_directions
from gradviz.lecture.training import loss_function

SIZES = [("2-16-16-1, 500 points, 101 x 101", (16, 16), 500, 101),
         ("2-64-64-1, 1000 points, 51 x 51", (64, 64), 1000, 51),
         ("CNN, 1797 x 1 x 8 x 8 images through a DataLoader (batches of 256), 21 x 21", "cnn", 1797, 21)]


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def grid_points(a, b, subset=None):
    """The (row, column) grid points a loop visits: all of them, or `subset` evenly spread."""
    points = [(i, j) for i in range(len(b)) for j in range(len(a))]
    if subset is not None and subset < len(points):
        points = [points[k] for k in np.linspace(0, len(points) - 1, subset).astype(int)]
    return points


# --models suite: NAME:SAMPLES:BATCH:GRID of every real network, as docs/performance.md's table measures them
SUITE = ("resnet18:64:64:5,vit:128:128:5,bert:128:128:5,lstm:256:256:5,digits-cnn:1797:256:5,"
         "digits-cnn-f64:1797:256:5")


def model_entries(models: str, samples: int, batch: int | None, grid: int) -> list[tuple[str, int, int, int]]:
    """--models text -> (name, samples, batch, grid) per model: NAME[:SAMPLES[:BATCH[:GRID]]], or 'suite'."""
    entries = []
    for entry in (SUITE if models == "suite" else models).split(","):
        name, *sizes = entry.split(":")
        n = int(sizes[0]) if len(sizes) > 0 and sizes[0] else samples
        b = int(sizes[1]) if len(sizes) > 1 and sizes[1] else (batch or n)
        g = int(sizes[2]) if len(sizes) > 2 and sizes[2] else grid
        entries.append((name, n, b, g))
    return entries


def make_cnn() -> torch.nn.Module:
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def setup_cnn(n):
    """A CNN trained a few steps (so BatchNorm has running statistics) and a DataLoader of its images."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 1, 8, 8, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    model = make_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for start in range(0, n, 128):
        loss = torch.nn.functional.cross_entropy(model(X[start:start + 128]), y[start:start + 128])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=256)
    d1, d2 = random_directions(model, norm="filter", seed=1)
    return model, loader, d1, d2


def loader_loop_surface(model, loader, d1, d2, a, b, device, subset=None):
    """The loop over a DataLoader: per point, weights in, every batch, the batch-size-weighted mean."""
    probe = copy.deepcopy(model).to(device).eval()
    origin = [p.detach().clone().to(device) for p in model.parameters()]
    e1, e2 = [d.to(device) for d in d1], [d.to(device) for d in d2]
    z = np.full((len(b), len(a)), np.nan)
    points = grid_points(a, b, subset)
    with torch.no_grad():
        for i, j in points:
            for p, o, u, v in zip(probe.parameters(), origin, e1, e2):
                p.copy_(o + float(a[j]) * u + float(b[i]) * v)
            total, count = 0.0, 0
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                total += torch.nn.functional.cross_entropy(probe(xb), yb).item() * len(xb)
                count += len(xb)
            z[i, j] = total / count
    return z, len(points)


def cnn_case(title, n, grid, device, repeat, loop_points):
    model, loader, d1, d2 = setup_cnn(n)
    a = b = np.linspace(-1.0, 1.0, grid)
    points = grid * grid
    gradviz.landscape(model, loader, directions=(d1, d2), grid=3, span=1.0, device=device)  # warm-up
    ours, loops = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        z_loop, done = loader_loop_surface(model, loader, d1, d2, a, b, device, loop_points)
        sync(device)
        loops.append((time.perf_counter() - start) * points / done)
        start = time.perf_counter()
        surface = gradviz.landscape(model, loader, directions=(d1, d2), grid=grid, span=1.0, device=device)
        sync(device)
        ours.append(time.perf_counter() - start)
    mask = np.isfinite(z_loop)
    ours_s, loop_s = statistics.median(ours), statistics.median(loops)
    scaled = " (scaled from %d points)" % loop_points if loop_points else ""
    print(f"\n{title}: {points} grid points, medians of {repeat}")
    print(f"  loop over the DataLoader {loop_s:8.3f} s{scaled}")
    print(f"  gradviz                  {ours_s:8.3f} s   {loop_s / ours_s:6.2f}x the loop's speed")
    print(f"  max |gradviz - loop| = {float(np.abs(surface.z[mask] - z_loop[mask]).max()):.2e} over "
          f"{int(mask.sum())} points")
    if device != "cpu":
        cpu = gradviz.landscape(model, loader, directions=(d1, d2), grid=grid, span=1.0)
        print(f"  max |{device} - cpu| = {float(np.abs(surface.z - cpu.z).max()):.2e}")


def setup(hidden, n, device):
    X, y = make_dataset("moons", n=n, seed=0)
    model = mlp(2, list(hidden), 1, seed=0)
    train(model, (X, y), "adam", steps=50, grid=10)
    d1, d2 = random_directions(model, norm="filter", seed=1)
    return model, X, y, d1, d2


def loop_surface(model, X, y, d1, d2, a, b, device, subset=None):
    """The point-by-point way: copy weights in, evaluate, repeat. -> (z with NaN where skipped, points done)."""
    probe = copy.deepcopy(model).to(device).eval()
    X, y = X.to(device), y.to(device)
    origin = [p.detach().clone().to(device) for p in model.parameters()]
    e1 = [d.to(device) for d in d1]
    e2 = [d.to(device) for d in d2]
    z = np.full((len(b), len(a)), np.nan)
    points = grid_points(a, b, subset)
    with torch.no_grad():
        for i, j in points:
            for p, o, u, v in zip(probe.parameters(), origin, e1, e2):
                p.copy_(o + float(a[j]) * u + float(b[i]) * v)
            z[i, j] = loss_function(probe(X), y).item()
    return z, len(points)


def loss_landscapes_plane(model, X, y, steps, subset=None):
    import loss_landscapes
    from loss_landscapes.metrics import Loss

    metric = Loss(loss_function, X, y)
    probe = copy.deepcopy(model).eval()
    if subset is not None and subset < steps * steps:
        side = max(2, int(round(subset ** 0.5)))
        loss_landscapes.random_plane(probe, metric, distance=2.0, steps=side, normalization="filter",
                                     deepcopy_model=True)
        return side * side
    loss_landscapes.random_plane(probe, metric, distance=2.0, steps=steps, normalization="filter",
                                 deepcopy_model=True)
    return steps * steps


def matmul_gflops(device: str, repeat: int = 5) -> float:
    n = 1024 if device == "cpu" else 8192
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    sync(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def forward_flops(model, n):
    return sum(2 * n * m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))


def plain_loop(model, X, y, d1, d2, a, b, batch, device, points):
    """The reference scripts' loop on tensors: per point, weights copied into a copy of the model, every batch."""
    probe = copy.deepcopy(model).to(device).eval()
    origin = [p.detach().clone() for p in probe.parameters()]
    e1, e2 = [d.to(device) for d in d1], [d.to(device) for d in d2]
    out = []
    with torch.no_grad():
        for i, j in points:
            for p, o, u, v in zip(probe.parameters(), origin, e1, e2):
                p.copy_(o + float(a[j]) * u + float(b[i]) * v)
            total = 0.0
            for start in range(0, len(X), batch):
                xb, yb = X[start:start + batch].to(device), y[start:start + batch].to(device)
                total += torch.nn.functional.cross_entropy(probe(xb), yb).item() * len(xb)
            out.append(total / len(X))
    return np.array(out)


def floor_pass(model, X, y, batch, device):
    """One plain eval pass over the data, as the model's own forward does it: the floor per grid point."""
    with torch.no_grad():
        for start in range(0, len(X), batch):
            xb, yb = X[start:start + batch].to(device), y[start:start + batch].to(device)
            torch.nn.functional.cross_entropy(model(xb), yb).item()


def ll_plane(model, X, y, steps):
    import loss_landscapes
    from loss_landscapes.metrics import Loss

    metric = Loss(torch.nn.functional.cross_entropy, X, y)
    loss_landscapes.random_plane(copy.deepcopy(model), metric, distance=1.0, steps=steps, normalization="filter",
                                 deepcopy_model=True)


def model_case(name, samples, grid, device, repeat, batch, options):
    """One real network: loop, loss-landscapes, gradviz and the floor, interleaved; medians and ratios of CPU
    time (time.process_time: on a shared machine the wall clock counts other people's work; on CUDA the wall
    clock, after a synchronize, is what counts)."""
    import zoo

    model, X, y = zoo.build(name, samples)
    model = model.to(device)
    X, y = X.to(device), y.to(device)
    d1, d2 = random_directions(model, norm="filter", seed=1)
    a = b = np.linspace(-1.0, 1.0, grid)
    points = grid_points(a, b)
    kwargs = dict(directions=(d1, d2), grid=grid, span=1.0, device=device, batch_size=batch, **options)
    gradviz.landscape(model, (X[:8], y[:8]), directions=(d1, d2), grid=3, span=1.0, device=device)  # warm-up
    floor_pass(model, X, y, batch, device)
    clock = time.process_time if device == "cpu" else time.perf_counter
    times = {"loop": [], "loss-landscapes": [], "gradviz": [], "floor": []}
    walls = {key: [] for key in times}
    have_ll = device == "cpu" and ll_available()

    def timed(key, run):
        start, wall = clock(), time.perf_counter()
        out = run()
        sync(device)
        times[key].append(clock() - start)
        walls[key].append(time.perf_counter() - wall)
        return out

    z_loop = surface = None
    for _ in range(repeat):
        z_loop = timed("loop", lambda: plain_loop(model, X, y, d1, d2, a, b, batch, device, points))
        if have_ll:
            try:
                timed("loss-landscapes", lambda: ll_plane(model, X, y, grid))
            except ZeroDivisionError as error:  # its filter norm divides by a zero bias / BatchNorm shift
                print(f"  loss-landscapes failed on this model: ZeroDivisionError ({error}) in filter_normalize_")
                have_ll = False
        surface = timed("gradviz", lambda: gradviz.landscape(model, (X, y), **kwargs))
        timed("floor", lambda: [floor_pass(model, X, y, batch, device) for _ in points])
    med = {k: statistics.median(v) for k, v in times.items() if v}
    wall = {k: statistics.median(v) for k, v in walls.items() if v}
    gap = float(np.abs(surface.z.reshape(-1) - z_loop).max())
    label = zoo.CASES[name][0]
    extra = ", ".join(f"{k}={v}" for k, v in options.items())
    what = "CPU" if device == "cpu" else "wall"
    print(f"\n{name}: {label}; {samples} samples in batches of {batch}, {grid} x {grid} grid"
          + (f", {extra}" if extra else "") + f"; medians of {repeat}, {what} seconds (wall in brackets)")
    for key, value in med.items():
        ratio = "" if key == "gradviz" else f"   gradviz {value / med['gradviz']:5.2f}x its speed"
        print(f"  {key:16s}{value:8.3f} s  ({wall[key]:7.2f} s){ratio}")
    print(f"  max |gradviz - loop| = {gap:.2e}; load {open('/proc/loadavg').read().split()[:3]}")
    return med


def compile_case(name, samples, batch, grids, device):
    """compile=True against the plain point path on two grids: the first call compiles, the second reuses the
    compiled code (a process pays the compile once); the compile time is the first call's excess over its
    points' compiled cost, and the break-even grid is compile time / the saving per point."""
    import zoo

    model, X, y = zoo.build(name, samples)
    d1, d2 = random_directions(model, norm="filter", seed=1)
    clock = time.process_time
    rows = []
    for grid in grids:
        kwargs = dict(directions=(d1, d2), grid=grid, span=1.0, device=device, batch_size=batch)
        start = clock()
        plain = gradviz.landscape(model, (X, y), **kwargs)
        plain_s = clock() - start
        start = clock()
        compiled = gradviz.landscape(model, (X, y), compile=True, **kwargs)
        compiled_s = clock() - start
        rows.append((grid * grid, plain_s, compiled_s, float(np.abs(plain.z - compiled.z).max())))
        print(f"  {name} {grid} x {grid}: plain {plain_s:7.2f} CPU s, compile=True {compiled_s:7.2f} CPU s "
              f"(max difference {rows[-1][3]:.1e})")
    (n1, p1, c1, _), (n2, p2, c2, _) = rows[0], rows[-1]
    # the second compile=True call reuses the first's compiled code (dynamo's cache on the same code object)
    per_plain, per_compiled = p2 / n2, c2 / n2
    overhead = c1 - per_compiled * n1
    saving = per_plain - per_compiled
    print(f"  per point: plain {per_plain:.4f} s, compiled {per_compiled:.4f} s ({per_plain / per_compiled:.2f}x); "
          f"compiling {overhead:.1f} s; "
          + (f"pays from about {overhead / saving:.0f} grid points" if saving > 0 else "never pays here"))


def _surface_inputs(name, samples, device):
    import zoo

    model, X, y = zoo.build(name, samples)
    model, X, y = model.to(device), X.to(device), y.to(device)
    return model, (X, y)


def ll_available() -> bool:
    try:
        import loss_landscapes  # noqa: F401
    except ImportError:
        return False
    return True


def samples_case(name, samples, grid, device, subsets, batch):
    """samples=N against the whole set: time, the stated standard error, and the true error against all samples."""
    import zoo

    model, X, y = zoo.build(name, samples)
    d1, d2 = random_directions(model, norm="filter", seed=1)
    kwargs = dict(directions=(d1, d2), grid=grid, span=1.0, device=device, batch_size=batch)
    start = time.process_time()
    whole = gradviz.landscape(model, (X, y), **kwargs)
    full = time.process_time() - start
    print(f"\n{name} samples=N: {samples} samples, {grid} x {grid} grid; all samples {full:.2f} CPU s")
    for n in subsets:
        start = time.process_time()
        part = gradviz.landscape(model, (X, y), samples=n, **kwargs)
        spent = time.process_time() - start
        actual = np.abs(part.z - whole.z)
        print(f"  samples={n:5d}: {spent:7.2f} s ({full / spent:5.1f}x less time); stated standard error median "
              f"{np.median(part.error):.3g} (max {part.error.max():.3g}); |error| against all samples median "
              f"{np.median(actual):.3g} (max {actual.max():.3g}), {np.mean(actual <= 2 * part.error) * 100:.0f}% "
              "within 2 standard errors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--loop-points", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--sizes", default="0,1,2", help="which cases to run: 0 (small MLP), 1 (large MLP), 2 (CNN)")
    parser.add_argument("--models", default=None,
                        help="instead of --sizes, real networks from benchmarks/zoo.py: digits-cnn, digits-cnn-f64, "
                             "resnet18, vit, bert, lstm (comma-separated, each NAME[:SAMPLES[:BATCH[:GRID]]]), or "
                             "'suite' (all six at the table's sizes), each against the loop, loss-landscapes and "
                             "the floor (grid points x one plain eval pass)")
    parser.add_argument("--samples", type=int, default=64, help="samples per model case")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: all samples in one batch)")
    parser.add_argument("--grid", type=int, default=3, help="grid points per axis of a model case")
    parser.add_argument("--channels-last", action="store_true", help="gradviz with channels_last=True")
    parser.add_argument("--precision", default="float32", help="gradviz's precision (CUDA: tf32, bf16)")
    parser.add_argument("--no-first-layer", action="store_true", help="gradviz with first_layer=False")
    parser.add_argument("--compile-grids", default=None,
                        help="compile=True study instead: two grid sizes, e.g. 3,9, on --models")
    parser.add_argument("--subsets", default=None,
                        help="samples=N study instead: comma-separated N, on --models, against all --samples")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.models:
        import os

        print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}; load "
              f"{open('/proc/loadavg').read().split()[:3] if os.path.exists('/proc/loadavg') else '?'}")
        options = {}
        if args.channels_last:
            options["channels_last"] = True
        if args.no_first_layer:
            options["first_layer"] = False
        if args.precision != "float32":
            options["precision"] = args.precision
        started = time.perf_counter()
        summary = []
        for name, samples, batch, grid in model_entries(args.models, args.samples, args.batch, args.grid):
            if args.compile_grids:
                compile_case(name, samples, batch, [int(g) for g in args.compile_grids.split(",")], args.device)
                continue
            if args.subsets:
                samples_case(name, samples, grid, args.device, [int(n) for n in args.subsets.split(",")], batch)
                continue
            med = model_case(name, samples, grid, args.device, args.repeat, batch, options)
            summary.append((f"{name} ({samples}, {batch}, {grid} x {grid})", med))
            if args.precision != "float32":
                common = dict(grid=grid, span=1.0, seed=1, device=args.device)
                plain = gradviz.landscape(*_surface_inputs(name, samples, args.device), **common)
                tuned = gradviz.landscape(*_surface_inputs(name, samples, args.device), precision=args.precision,
                                          **common)
                print(f"  max |{args.precision} - float32| on the surface = {float(np.abs(tuned.z - plain.z).max()):.2e}"
                      f" (relative {float(np.abs(tuned.z - plain.z).max() / np.abs(plain.z).max()):.1e})")
            del med
        if summary:
            print(f"\n{'model (samples, batch, grid)':40s} {'loop':>8s} {'floor':>8s} {'gradviz':>8s} "
                  f"{'vs loop':>8s} {'vs floor':>8s}   (medians, {'CPU' if args.device == 'cpu' else 'wall'} s)")
            for label, med in summary:
                print(f"{label:40s} {med['loop']:8.3f} {med['floor']:8.3f} {med['gradviz']:8.3f} "
                      f"{med['loop'] / med['gradviz']:7.2f}x {med['floor'] / med['gradviz']:7.2f}x")
        print(f"load after: {open('/proc/loadavg').read().split()[:3]}; {time.perf_counter() - started:.0f} s in all")
        return
    try:
        import loss_landscapes  # noqa: F401
        have_ll = True
    except ImportError:
        have_ll = False
    device = args.device
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {device}"
          + (f" ({torch.cuda.get_device_name()})" if device.startswith("cuda") else ""))
    print(f"plain float32 matmul: {matmul_gflops(device):.1f} GFLOP/s (each case measures it again between its runs)")
    for title, hidden, n, grid in [SIZES[int(i)] for i in args.sizes.split(",")]:
        if hidden == "cnn":
            cnn_case(title, n, grid, device, args.repeat, args.loop_points)
            continue
        model, X, y, d1, d2 = setup(hidden, n, "cpu")
        a = b = np.linspace(-1.0, 1.0, grid)
        points = grid * grid
        ours, loops, lls, peaks = [], [], [], []
        surface = None
        gradviz.landscape(model, (X, y), directions=(d1, d2), grid=5, span=1.0, device=device)  # warm-up
        for _ in range(args.repeat):
            start = time.perf_counter()
            z_loop, done = loop_surface(model, X, y, d1, d2, a, b, device, args.loop_points)
            sync(device)
            loops.append((time.perf_counter() - start) * points / done)
            if have_ll and device == "cpu":
                start = time.perf_counter()
                done = loss_landscapes_plane(model, X, y, grid, args.loop_points)
                lls.append((time.perf_counter() - start) * points / done)
            start = time.perf_counter()
            surface = gradviz.landscape(model, (X, y), directions=(d1, d2), grid=grid, span=1.0, device=device)
            sync(device)
            ours.append(time.perf_counter() - start)
            peaks.append(matmul_gflops(device))  # interleaved too: the machine's limit under the same load
        peak = statistics.median(peaks)
        mask = np.isfinite(z_loop)
        gap = float(np.abs(surface.z[mask] - z_loop[mask]).max())
        ours_s, loop_s = statistics.median(ours), statistics.median(loops)
        gflops = forward_flops(model, n) * points / ours_s / 1e9
        scaled = " (scaled from %d points)" % args.loop_points if args.loop_points else ""
        print(f"\n{title}: {points} grid points, medians of {args.repeat}")
        print(f"  loop            {loop_s:8.3f} s{scaled}")
        if lls:
            ll_s = statistics.median(lls)
            print(f"  loss-landscapes {ll_s:8.3f} s{scaled}   gradviz {ll_s / ours_s:6.1f}x faster")
        elif device == "cpu":
            print("  loss-landscapes not installed: skipped")
        print(f"  gradviz         {ours_s:8.3f} s   {loop_s / ours_s:6.1f}x faster than the loop;"
              f" {gflops:.2f} GFLOP/s = {100 * gflops / peak:.1f}% of the matmul's {peak:.1f}")
        print(f"  max |gradviz - loop| = {gap:.2e} over {int(mask.sum())} points")
        if device != "cpu":
            cpu = gradviz.landscape(model, (X, y), directions=(d1, d2), grid=grid, span=1.0)
            print(f"  max |{device} - cpu| = {float(np.abs(surface.z - cpu.z).max()):.2e}")


if __name__ == "__main__":
    main()
