"""gradviz.hessian against PyHessian: the top Hessian eigenvalue of the same model on the same data.

PyHessian (Yao et al. 2020; `pip install pyhessian`) finds it by power iteration, stopping when the estimate
changes by less than its tol (1e-3 relative) between iterations; gradviz by Lanczos with full
reorthogonalization, stopping when the Ritz pair's residual ||Hv - lambda v|| is below tol |lambda|. Both
get the same (inputs, targets) tensors and loss. Their tolerances mean different things, so each is run at
the loosest tolerance (of 1e-1, 3e-2, ..., 1e-6) whose answer lies within `--target` (1e-3 relative) of the
reference, a tight Lanczos run (tol 1e-8): the same accuracy for both. Each is then timed over `--repeat`
interleaved runs, and the medians, the eigenvalues, their errors and the ratio are printed.

    python benchmarks/hessian.py [--repeat 3] [--threads 1] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import gradviz.analysis.curvature as curvature


def cases():
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(32 * 4, 10))
    images = torch.randn(1024, 1, 8, 8, generator=generator)
    labels = torch.randint(0, 10, (1024,), generator=generator)
    mlp = nn.Sequential(nn.Linear(20, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 5))
    X = torch.randn(2000, 20, generator=generator)
    y = torch.randint(0, 5, (2000,), generator=generator)
    return [("CNN (6k parameters), 1024 x 1 x 8 x 8 images", cnn, images, labels),
            ("MLP 20-128-128-5 tanh (19k parameters), 2000 points", mlp, X, y)]


def pyhessian_top(pyhessian, model, X, y, tol, device):
    torch.manual_seed(0)
    other = pyhessian.hessian(model, nn.CrossEntropyLoss(), data=(X, y), cuda=device != "cpu")
    value, _ = other.eigenvalues(maxIter=200, tol=tol, top_n=1)
    return float(value[0])


def timed(run, repeat):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def loosest(run, tols, exact, target):
    """The loosest tolerance of `tols` whose answer is within `target` (relative) of `exact`."""
    for tol in tols:
        if abs(run(tol) - exact) <= target * abs(exact):
            return tol
    return tols[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--target", type=float, default=1e-3, help="relative error both must reach")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import pyhessian

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}; "
          f"both to a relative error <= {args.target:g} of the reference")
    tols = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6)
    for title, model, X, y in cases():
        model = model.to(args.device)
        X, y = X.to(args.device), y.to(args.device)
        exact = curvature.hessian(model, (X, y), tol=1e-8, max_steps=300, device=args.device).top

        def ours(tol):
            return curvature.hessian(model, (X, y), tol=tol, device=args.device).top

        def theirs(tol):
            return pyhessian_top(pyhessian, model, X, y, tol, args.device)

        tol_ours = loosest(ours, tols, exact, args.target)
        tol_theirs = loosest(theirs, tols, exact, args.target)
        products = curvature.hessian(model, (X, y), tol=tol_ours, device=args.device).products
        ours_s, ours_v, theirs_s, theirs_v = None, None, None, None
        ours_times, theirs_times = [], []
        for _ in range(args.repeat):  # interleaved
            t, ours_v = timed(lambda: ours(tol_ours), 1)
            ours_times.append(t)
            t, theirs_v = timed(lambda: theirs(tol_theirs), 1)
            theirs_times.append(t)
        ours_s, theirs_s = statistics.median(ours_times), statistics.median(theirs_times)
        print(f"\n{title}: medians of {args.repeat}; reference top eigenvalue (Lanczos, tol 1e-8) {exact:.6g}")
        print(f"  gradviz   {ours_s:7.3f} s  (residual tol {tol_ours:g}, {products} products)  {ours_v:.6g}  "
              f"rel. error {abs(ours_v - exact) / abs(exact):.1e}")
        print(f"  PyHessian {theirs_s:7.3f} s  (power iteration tol {tol_theirs:g})  {theirs_v:.6g}  "
              f"rel. error {abs(theirs_v - exact) / abs(exact):.1e}")
        print(f"  gradviz {theirs_s / ours_s:.2f}x the speed of PyHessian at the same accuracy")


if __name__ == "__main__":
    main()
