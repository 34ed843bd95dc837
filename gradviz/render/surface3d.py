"""A Surface in 3-D with paths riding on it: test functions with optimizer trajectories, loss landscapes
with training paths. One renderer for both `gradviz trajectories --view 3d` and `gradviz landscape
--view 3d`.

With a fixed camera the surface (the slow part: thousands of shaded polygons) is drawn once and kept as
a pixel copy; a frame restores it and draws only the paths and their heads, projected with the axes'
fixed view matrix. With `spin` degrees the camera turns evenly over the animation, so every frame
redraws the whole scene: slower, and said so in the docstring of the commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from matplotlib.lines import Line2D

from gradviz.i18n import _
from gradviz.records import Surface
from gradviz.registry import InvalidArgument
from gradviz.render.counter import StepCounter
from gradviz.render.frames import small_font, FrameRenderer, colours_uint8
from gradviz.render.theme import Theme, trail_colours
from gradviz.render.trajectories import clock_total

__all__ = ["Surface3DRenderer", "Path3D", "surface_heights", "surface_3d_renderer", "MAX_MESH"]

MAX_MESH = 80  # polygons per side: enough to look smooth, few enough to draw in a fraction of a second


@dataclass(frozen=True)
class Path3D:
    """What the renderer needs of one path: (n, 2) points in the surface's plane, (n,) heights on the
    surface's z scale, (n,) steps, a legend label, and optionally (n,) heights where the path really is
    (a training path off the plane: drawn as a thin stalk from the surface to its true loss)."""

    points: np.ndarray
    heights: np.ndarray
    steps: np.ndarray
    label: str
    true_heights: np.ndarray | None = None


def surface_heights(surface: Surface, values: np.ndarray) -> tuple[np.ndarray, str]:
    """Map raw values (f, or a loss) to the height scale the 3-D view draws: log10(value - floor) for a
    log-scaled surface (clipped below at its 0.5th percentile), the value itself otherwise."""
    values = np.asarray(values, dtype=float)
    if not surface.log_scale:
        return values, surface.zlabel or "f"
    floor = surface.floor if surface.floor is not None else float(np.nanmin(surface.z))
    delta = np.where(np.isfinite(surface.z), surface.z, np.nan) - floor
    positive = delta[delta > 0]
    tiny = float(np.nanpercentile(positive, 0.5)) if positive.size else 1e-12
    label = surface.zlabel or "f"
    name = f"log10({label} - {floor:g})" if floor else f"log10({label})"
    return np.log10(np.maximum(values - floor, tiny)), name


class _NoCounter:
    """The counter of a picture without paths: draws nothing."""

    def paste(self, rgb: np.ndarray, step: int) -> None:
        pass


class Surface3DRenderer(FrameRenderer):
    """frame(i) -> (H, W, 3) uint8: the surface in 3-D with every path drawn up to frame i's step.

    elev, azim: the camera (degrees); spin: degrees the camera turns over the whole animation (0: fixed,
    the surface drawn once). frames: how many frames (default: one per step, at most 300). The paths'
    `steps` are the clock the frames run on; word and total label the counter ('step 40/200', or
    'evals 40/200' when the steps are evaluations), total by default the longest path's last step.
    """

    def __init__(self, surface: Surface, paths: Sequence[Path3D], *, size: tuple[int, int] = (960, 540),
                 dpi: float = 100, theme: str | Theme = "light", frames: int | None = None,
                 title: str | None = None, elev: float = 35.0, azim: float = -60.0, spin: float = 0.0,
                 word: str = "step", total: int | None = None) -> None:
        if surface.is_curve:
            raise InvalidArgument("a 1-D curve has no 3-D view")
        if not np.isfinite(spin):
            raise InvalidArgument(f"invalid spin: {spin!r} (must be a finite number of degrees)")
        self.surface, self.paths = surface, list(paths)
        self._configure(size=size, dpi=dpi, theme=theme, frames=frames)
        self.total_steps = int(total) if total is not None else max([int(p.steps[-1]) for p in self.paths] or [0])
        self.word = word
        count = min(self.total_steps + 1, 300) if frames is None else int(frames)
        self.frame_steps = np.unique(np.round(np.linspace(0, self.total_steps, count)).astype(int))
        self.elev, self.azim, self.spin = float(elev), float(azim), float(spin)
        self._colors = trail_colours(self.paths, self.theme)
        self._build(float(dpi), title)

    def _build(self, dpi: float, title: str | None) -> None:
        theme, surface = self.theme, self.surface
        fig, scale, font = self._new_figure(dpi)
        # room below for the x and y labels, which a 3-D box draws outside its axes
        ax = fig.add_axes((-0.02, 0.1, 0.78, 0.84), projection="3d")
        heights, zlabel = surface_heights(surface, surface.z)
        lo, hi = np.nanpercentile(heights, 0.5), np.nanpercentile(heights, 99.5)
        heights = np.clip(heights, lo, hi)
        step_y = max(1, int(np.ceil(len(surface.y) / MAX_MESH)))
        step_x = max(1, int(np.ceil(len(surface.x) / MAX_MESH)))
        X, Y = np.meshgrid(surface.x, surface.y)
        ax.plot_surface(X, Y, heights, rstride=step_y, cstride=step_x, cmap=theme.colormap, linewidth=0,
                        antialiased=False, alpha=0.85, vmin=lo, vmax=hi)
        ax.set_zlim(lo, hi + 0.05 * (hi - lo or 1.0))
        ax.set_xlim(surface.x[0], surface.x[-1])
        ax.set_ylim(surface.y[0], surface.y[-1])
        for axis, text in ((ax.xaxis, surface.xlabel), (ax.yaxis, surface.ylabel), (ax.zaxis, zlabel)):
            axis.set_label_text(text, color=theme.foreground, fontsize=font * 0.85)
            axis.set_pane_color((*[c for c in (1.0, 1.0, 1.0)], 0.0))
            axis.label.set_color(theme.foreground)
        ax.tick_params(colors=theme.foreground, labelsize=small_font(font), pad=0)
        ax.set_facecolor(theme.background)
        ax.view_init(elev=self.elev, azim=self.azim)
        self.axes = ax
        self._heights = []
        for path in self.paths:
            z = np.clip(np.asarray(path.heights, dtype=float), lo, hi)
            true = None
            if path.true_heights is not None:
                true = np.clip(np.asarray(path.true_heights, dtype=float), lo, hi)
            self._heights.append((z, true))
        self.trails, self.heads, self.stalks = [], [], []
        # each path its own marker as in the 2-D view: colour is not the only cue
        markers = [theme.markers[i % len(theme.markers)] for i in range(len(self.paths))]
        for path, colour, marker in zip(self.paths, self._colors, markers):
            (trail,) = ax.plot([], [], [], color=colour, lw=2.2 * scale, animated=True, zorder=10)
            (head,) = ax.plot([], [], [], marker, color=colour, ms=7.5 * scale, mec=theme.background,
                              mew=0.8 * scale, animated=True, zorder=11)
            (stalk,) = ax.plot([], [], [], color=colour, lw=1.0 * scale, ls=":", animated=True, zorder=10)
            start_z = self._heights[len(self.trails)][0][0]
            ax.plot([path.points[0, 0]], [path.points[0, 1]], [start_z], "o", mfc="none", mec=colour,
                    ms=7 * scale, mew=1.4 * scale, zorder=10)
            self.trails.append(trail)
            self.heads.append(head)
            self.stalks.append(stalk)
        handles = [Line2D([], [], color=c, lw=2.2 * scale, marker=m, ms=6 * scale, label=p.label)
                   for c, m, p in zip(self._colors, markers, self.paths)]
        if any(h[1] is not None for h in self._heights):
            handles.append(Line2D([], [], color=theme.foreground, lw=1.0 * scale, ls=":",
                                  label=_("dotted: to the true loss")))
        legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.72, 0.80), frameon=False,
                            fontsize=font * 0.85, labelcolor=theme.foreground)
        legend.set_in_layout(False)
        name = title if title is not None else (surface.name.replace("-", " ").capitalize() or _("surface"))
        fig.text(0.02, 0.965, name, color=theme.foreground, fontsize=font * 1.15, va="center")
        if not self.paths:  # nothing moves: a counter ('step 300/300') would count steps no picture shows
            self.canvas.draw()
            self.counter = _NoCounter()
            self._background = self.canvas.copy_from_bbox(fig.bbox)
            return
        text = fig.text(0.985, 0.965, "", ha="right", va="center", color=theme.foreground, fontsize=font * 1.05,
                        family="monospace", animated=True)
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, text, self.canvas.copy_from_bbox(fig.bbox), self.total_steps,
                                   word=_(self.word))
        self._background = self.counter.background

    def _end(self, path: Path3D, step: int) -> int:
        return int(np.searchsorted(path.steps, step, side="right")) - 1

    def frame(self, index: int) -> np.ndarray:
        if self.spin and self.n_frames > 1:
            if not 0 <= index < self.n_frames:
                raise IndexError(f"frame {index} out of range 0..{self.n_frames - 1}")
            # a turning camera moves the surface too: redraw everything, then the counter as usual
            self.axes.view_init(elev=self.elev, azim=self.azim + self.spin * index / (self.n_frames - 1))
            self.canvas.draw()
            step = self._draw(index)
            from gradviz.render.frames import rgb_copy

            rgb = rgb_copy(np.asarray(self.canvas.buffer_rgba()))
            self.counter.paste(rgb, step)
            return rgb
        return super().frame(index)

    def _draw(self, index: int) -> int:
        step = int(self.frame_steps[index])
        for path, (z, true), trail, head, stalk in zip(self.paths, self._heights, self.trails, self.heads,
                                                      self.stalks):
            end = self._end(path, step)
            if end < 0:
                continue
            points = path.points[: end + 1]
            trail.set_data_3d(points[:, 0], points[:, 1], z[: end + 1])
            head.set_data_3d([points[-1, 0]], [points[-1, 1]], [z[end]])
            self.axes.draw_artist(trail)
            if true is not None:
                stalk.set_data_3d([points[-1, 0]] * 2, [points[-1, 1]] * 2, [z[end], true[end]])
                self.axes.draw_artist(stalk)
            self.axes.draw_artist(head)
        return step

    def key_colours(self) -> np.ndarray:
        theme = self.theme
        return colours_uint8([*self._colors, theme.foreground, theme.background])


def surface_3d_renderer(trajectories: Sequence[Any], surface: Surface, *, clock: str = "steps",
                        **options: Any) -> Surface3DRenderer:
    """A Surface3DRenderer for optimizer Trajectories on a test function's surface (heights: f at each
    point, on the surface's log or linear scale). The paths are clipped to the surface's window.

    clock: "steps", or "evaluations" to run the frames on function evaluations (each path at the last
    point it reached within that many), as the 2-D view does, so that methods spending different numbers
    of evaluations per step move side by side fairly."""
    longest = clock_total(trajectories, clock)
    (x0, x1, y0, y1) = surface.extent
    tracks = []
    for t in trajectories:
        points = np.column_stack([np.clip(t.points[:, 0], x0, x1), np.clip(t.points[:, 1], y0, y1)])
        heights, _name = surface_heights(surface, t.losses)
        ticks = np.asarray(t.evaluations) if clock == "evaluations" else np.arange(len(points))
        label = (_("{label}, {n} evaluations").format(label=t.label, n=t.evaluations_spent) if clock == "evaluations"
                 else t.label)
        tracks.append(Path3D(points, heights, ticks, label))
    if clock == "evaluations":
        options.setdefault("word", "evals")
    options.setdefault("total", longest)
    if options.get("frames") is None:
        options["frames"] = min(longest + 1, 300)
    return Surface3DRenderer(surface, tracks, **options)
