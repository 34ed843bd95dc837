"""The 3-D trajectories scene: gradviz against the tutorial way (FuncAnimation + PillowWriter), same scene.

Scene: Himmelblau as a 3-D surface (log10 f, an 80 x 80 mesh from a 120 x 120 grid), the six optimizers of
benchmarks/baseline_funcanimation.py for 200 steps (their gradviz defaults), each path riding on the
surface with its current point, a legend and the step; 960x540, 20 fps, fixed camera. gradviz draws the
surface once and only the paths per frame; the baseline updates the lines with set_data_3d and lets
FuncAnimation redraw the figure for every frame, as the 3-D optimizer posts do. Both write a GIF; render
+ encode is timed from the same traced paths, interleaved, medians and the ratio printed.

    python benchmarks/render3d.py [--repeat 3] [--frames 201] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import baseline_funcanimation as baseline  # noqa: E402
from scratch import add_keep_option, scratch_folder  # noqa: E402

FUNCTION = "himmelblau"


def baseline_render(surface, records, out, frames, fps=20, size=(960, 540), dpi=100):
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    from gradviz.render.surface3d import surface_heights

    heights, zlabel = surface_heights(surface, surface.z)
    fig = plt.figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    ax = fig.add_axes((-0.02, 0.0, 0.78, 0.95), projection="3d")
    X, Y = np.meshgrid(surface.x, surface.y)
    ax.plot_surface(X, Y, heights, rstride=2, cstride=2, cmap="Blues_r", linewidth=0, antialiased=False, alpha=0.85)
    ax.set_zlabel(zlabel)
    ax.view_init(elev=35, azim=-60)
    lines, dots, tracks = [], [], []
    for record in records:
        z, _ = surface_heights(surface, record.losses)
        (line,) = ax.plot([], [], [], lw=2.2, label=record.label)
        (dot,) = ax.plot([], [], [], "o", color=line.get_color())
        lines.append(line)
        dots.append(dot)
        tracks.append((record.points, z))
    fig.legend(loc="upper left", bbox_to_anchor=(0.72, 0.8), frameon=False)
    title = fig.text(0.98, 0.965, "", ha="right")
    steps = np.unique(np.round(np.linspace(0, len(records[0].points) - 1, frames)).astype(int))

    def update(k):
        i = steps[k]
        for line, dot, (points, z) in zip(lines, dots, tracks):
            line.set_data_3d(points[: i + 1, 0], points[: i + 1, 1], z[: i + 1])
            dot.set_data_3d([points[i, 0]], [points[i, 1]], [z[i]])
        title.set_text(f"step {i}/{len(records[0].points) - 1}")
        return lines + dots + [title]

    FuncAnimation(fig, update, frames=len(steps), blit=False).save(out, writer=PillowWriter(fps=fps))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    add_keep_option(parser)
    parser.add_argument("--frames", type=int, default=201)
    args = parser.parse_args()
    import gradviz
    from gradviz.pipelines.trajectories import write_rendered
    from gradviz.render.surface3d import surface_3d_renderer

    with scratch_folder(args.keep, "gradviz-bench3d-") as tmp:
        records = [gradviz.trace(FUNCTION, name, steps=200) for name, _, _ in baseline.OPTIMIZERS]
        surface = gradviz.get_function(FUNCTION).surface(resolution=120)

        def ours():
            renderer = surface_3d_renderer(records, surface, frames=args.frames)
            write_rendered(renderer, tmp / "gradviz.gif", fps=20)

        def theirs():
            baseline_render(surface, records, str(tmp / "baseline.gif"), args.frames)

        times_ours, times_theirs = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            ours()
            times_ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            theirs()
            times_theirs.append(time.perf_counter() - start)
        a, b = statistics.median(times_ours), statistics.median(times_theirs)
        print(f"3-D trajectories scene, {FUNCTION}, 6 optimizers, {args.frames} frames, 960x540, render+encode "
              f"(median of {args.repeat}):")
        print(f"  gradviz   {a:7.2f} s  {args.frames / a:6.1f} frames/s   (surface drawn once, paths per frame)")
        print(f"  baseline  {b:7.2f} s  {args.frames / b:6.1f} frames/s   (FuncAnimation + PillowWriter)")
        print(f"  ratio     {b / a:7.1f}x faster")
        print(f"GIF size: gradviz {(tmp / 'gradviz.gif').stat().st_size / 1e6:.2f} MB, "
              f"baseline {(tmp / 'baseline.gif').stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
