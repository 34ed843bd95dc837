"""The baseline: how tutorials teach optimizer animations.

A self-contained script a student would write: trace the optimizers with torch.optim, then draw with
matplotlib's FuncAnimation, updating every artist with set_data and saving with PillowWriter. The scene
matches `gradviz trajectories --no-loss-panel`: log-coloured Rosenbrock contours from a 300x300 grid, the
minimum, each optimizer's start, trail and current point, a legend, and the step in the title; 960x540 at
20 fps. Run it alone (`python benchmarks/baseline_funcanimation.py out.gif`) or import `render`.
"""

from __future__ import annotations

import sys

import numpy as np

OPTIMIZERS = [  # name, torch class, settings: the same as gradviz's registry defaults
    ("sgd", "SGD", {"lr": 1e-3}),
    ("momentum", "SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("nesterov", "SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("adam", "Adam", {"lr": 0.1}),
    ("adagrad", "Adagrad", {"lr": 0.5}),
]


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def trace_all(steps=200, start=(-1.5, 2.0)):
    import torch

    paths = {}
    for name, cls, settings in OPTIMIZERS:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        optimizer = getattr(torch.optim, cls)([p], **settings)
        points = [p.detach().numpy().copy()]
        for _ in range(steps):
            optimizer.zero_grad()
            rosenbrock(p[0], p[1]).backward()
            optimizer.step()
            points.append(p.detach().numpy().copy())
        paths[name] = np.array(points)
    return paths


def render(paths, out, fps=20, size=(960, 540), dpi=100):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.colors import LogNorm

    x = np.linspace(-2, 2, 300)
    y = np.linspace(-1, 3, 300)
    X, Y = np.meshgrid(x, y)
    Z = rosenbrock(X, Y)
    fig, ax = plt.subplots(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    ax.contourf(X, Y, Z, levels=np.logspace(-1, 3.5, 24), norm=LogNorm(), cmap="Blues_r", extend="both")
    ax.plot(1, 1, "*", color="gold", markersize=14, markeredgecolor="k", label="global minimum")
    lines, dots = [], []
    for name, points in paths.items():
        (line,) = ax.plot([], [], lw=1.9, label=name)
        (dot,) = ax.plot([], [], "o", color=line.get_color())
        ax.plot(*points[0], "o", mfc="none", color=line.get_color())
        lines.append(line)
        dots.append(dot)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.subplots_adjust(left=0.07, right=0.68)
    title = ax.set_title("")
    n = len(next(iter(paths.values())))

    def update(i):
        for line, dot, points in zip(lines, dots, paths.values()):
            line.set_data(points[: i + 1, 0], points[: i + 1, 1])
            dot.set_data([points[i, 0]], [points[i, 1]])
        title.set_text(f"Rosenbrock, step {i}/{n - 1}")
        return lines + dots + [title]

    animation = FuncAnimation(fig, update, frames=n, blit=False)
    animation.save(out, writer=PillowWriter(fps=fps))
    plt.close(fig)


if __name__ == "__main__":
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    render(trace_all(steps), sys.argv[1] if len(sys.argv) > 1 else "baseline.gif")
