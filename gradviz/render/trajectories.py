"""Trajectory animations: optimizers racing over a function's contours, one RGB frame at a time.

`TrajectoryRenderer` follows a stage metaphor: everything that never moves (filled contours, minima,
starts, legend, axes, title) is drawn once and kept as a pixel copy; `frame(i)` restores that copy and
draws only the moving artists on top: all trails as one LineCollection, all current points as one
scatter, the same pair in the loss panel, and the step counter. That is what makes a 200-frame GIF take
about a second instead of a minute (see benchmarks/render.py). Frames are produced on demand, so a writer
can stream them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from gradviz.records import Surface, Trajectory
from gradviz.registry import InvalidArgument
from gradviz.render.counter import StepCounter
from gradviz.render.frames import FrameRenderer, check_render_options, colours_uint8, style_axes
from gradviz.render.geometry import FADE_FRAMES, GeometryLayer
from gradviz.render.theme import Theme

__all__ = ["TrajectoryRenderer", "contour_levels", "check_render_options"]

MAX_DEFAULT_FRAMES = 300


def contour_levels(surface: Surface, count: int = 24) -> tuple[np.ndarray, np.ndarray, bool]:
    """-> (values to colour, levels, whether they are log10 of z - floor).

    Levels span the 0.5th to 99.5th percentile so one steep corner does not flatten the picture.
    """
    z = np.where(np.isfinite(surface.z), surface.z, np.nan)
    if surface.log_scale:
        floor = surface.floor if surface.floor is not None else np.nanmin(z)
        delta = np.maximum(z - floor, 0.0)
        positive = delta[delta > 0]
        if positive.size:
            lo = np.log10(np.nanpercentile(positive, 0.5))
            hi = np.log10(np.nanpercentile(delta, 99.5))
            values = np.log10(np.maximum(delta, 10.0**lo))
            if hi > lo:
                return values, np.linspace(lo, hi, count), True
    lo, hi = np.nanpercentile(z, 0.5), np.nanpercentile(z, 99.5)
    if not hi > lo:
        lo, hi = np.nanmin(z) - 1.0, np.nanmax(z) + 1.0
    return z, np.linspace(lo, hi, count), False


class TrajectoryRenderer(FrameRenderer):
    """Draws trajectories over a surface; `frame(i)` returns frame i as an (H, W, 3) uint8 array.

    trajectories: records from `trace`. surface: the function sampled on a grid (its extent is the view).
    size: (width, height) in pixels; dpi scales text and lines. frames: how many frames (default: one per
    step, at most 300, spread evenly over the steps). loss_panel: plot f - f* (or f) against the step.
    clock: "steps", or "evaluations" to run the frames, the counter and the loss panel's x axis on
    function evaluations (each record at the last point it reached within that many), so methods that
    spend different numbers of evaluations per step appear side by side fairly; the legend then says how
    many each spent. Direct methods' geometry and evaluated points are drawn by a GeometryLayer.
    """

    def __init__(
        self,
        trajectories: Sequence[Trajectory],
        surface: Surface,
        *,
        size: tuple[int, int] = (960, 540),
        dpi: float = 100,
        theme: str | Theme = "light",
        loss_panel: bool = True,
        frames: int | None = None,
        title: str | None = None,
        clock: str = "steps",
    ) -> None:
        self.trajectories = list(trajectories)
        if not self.trajectories:
            raise InvalidArgument("nothing to draw: no trajectories given")
        if clock not in ("steps", "evaluations"):
            raise InvalidArgument(f"invalid clock {clock!r} (valid: steps, evaluations)")
        self._configure(size=size, dpi=dpi, theme=theme, frames=frames)
        self.surface = surface
        self.clock = clock
        if clock == "evaluations":
            self.total_steps = max(t.evaluations_requested or t.evaluations_spent for t in self.trajectories)
        else:
            self.total_steps = max(t.steps_requested or t.steps for t in self.trajectories)
        if frames is None:
            frames = min(self.total_steps + 1, MAX_DEFAULT_FRAMES)
        self.frame_steps = np.unique(np.round(np.linspace(0, self.total_steps, int(frames))).astype(int))
        self._colors = [self.theme.trails[i % len(self.theme.trails)] for i in range(len(self.trajectories))]
        self._build(float(dpi), loss_panel, title)

    # -- the stage: drawn once --------------------------------------------------------------------------

    def _build(self, dpi: float, loss_panel: bool, title: str | None) -> None:
        theme, surface = self.theme, self.surface
        fig, scale, font = self._new_figure(dpi)

        ax = fig.add_axes((0.065, 0.09, 0.50, 0.80))
        values, levels, is_log = contour_levels(surface)
        ax.contourf(surface.x, surface.y, values, levels=levels, cmap=theme.colormap, extend="both")
        ax.contour(surface.x, surface.y, values, levels=levels[::2], colors=theme.contour_lines,
                   linewidths=0.4 * scale, alpha=0.35)
        x0, x1, y0, y1 = surface.extent
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("x", color=theme.foreground, fontsize=font, labelpad=1)
        ax.set_ylabel("y", color=theme.foreground, fontsize=font, labelpad=1)
        self._style(ax, font)
        handles = []
        if len(surface.minima):
            ax.scatter(surface.minima[:, 0], surface.minima[:, 1], marker="*", s=170 * scale**2,
                       c=theme.minimum, edgecolors=theme.foreground, linewidths=0.7, zorder=4)
            handles.append(Line2D([], [], ls="", marker="*", ms=11 * scale, color=theme.minimum,
                                  markeredgecolor=theme.foreground, markeredgewidth=0.7,
                                  label="global minimum" + ("s" if len(surface.minima) > 1 else "")))
        starts = np.array([t.points[0] for t in self.trajectories])
        ax.scatter(starts[:, 0], starts[:, 1], s=45 * scale**2, facecolors="none", edgecolors=self._colors,
                   linewidths=1.4 * scale, zorder=4)
        for trajectory, color in zip(self.trajectories, self._colors):
            label = trajectory.label
            if self.clock == "evaluations":
                label += f", {trajectory.evaluations_spent} evaluations"
            handles.append(Line2D([], [], color=color, lw=2.2 * scale, marker="o", ms=5 * scale, label=label))
        name = surface.name
        if name.replace("-", "").isalnum():  # a registry name: 'six-hump-camel' -> 'Six hump camel'
            name = name.replace("-", " ").capitalize()
        name = title if title is not None else (name or "f(x, y)")  # an expression stays as typed
        ax.set_title(name + (" (log colours)" if is_log else ""), color=theme.foreground, fontsize=font * 1.15,
                     loc="left", pad=4)

        self.axes = ax
        self.trails = LineCollection([], colors=self._colors, linewidths=1.9 * scale, capstyle="round",
                                     joinstyle="round", animated=True, zorder=5)
        ax.add_collection(self.trails, autolim=False)
        self.heads = ax.scatter(starts[:, 0], starts[:, 1], s=60 * scale**2, c=self._colors,
                                edgecolors=theme.background, linewidths=0.9 * scale, animated=True, zorder=6)
        self.geometry = GeometryLayer(ax, self.trajectories, self._colors, scale)

        self.loss_axes = None
        if loss_panel:
            self._build_loss_panel(fig, font, scale)
            legend_top = 0.44
        else:
            legend_top = 0.89
        legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.635, legend_top), frameon=False,
                            fontsize=font * 0.9, labelcolor=theme.foreground, handlelength=1.8,
                            borderaxespad=0.0)
        legend.set_in_layout(False)
        # top right of the contour axes: the changing pixels of a frame stay in one compact rectangle
        self.step_text = fig.text(0.565, 0.915, "", ha="right", va="center", color=theme.foreground,
                                  fontsize=font * 1.1, family="monospace", animated=True)
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, self.step_text, self.canvas.copy_from_bbox(fig.bbox),
                                   self.total_steps, word="evals" if self.clock == "evaluations" else "step")
        self._background = self.counter.background

    def restage(self) -> None:
        """Copy the static background again after drawing more on it (a gradient field, other labels)."""
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, self.step_text, self.canvas.copy_from_bbox(self.figure.bbox),
                                   self.total_steps, word="evals" if self.clock == "evaluations" else "step")
        self._background = self.counter.background

    def _build_loss_panel(self, fig: Figure, font: float, scale: float) -> None:
        theme, surface = self.theme, self.surface
        lax = fig.add_axes((0.655, 0.54, 0.325, 0.35))
        floor = surface.floor
        series = []
        for t in self.trajectories:
            y = t.losses - floor if floor is not None else t.losses.copy()
            series.append(y)
        finite = np.concatenate([s[np.isfinite(s)] for s in series])
        use_log = finite.size > 0 and floor is not None and bool((finite >= 0).all())
        # A diverging path would stretch the axis to 1e100: cap it at 100x the highest starting value.
        starts = np.array([s[0] for s in series if len(s) and np.isfinite(s[0])])
        cap = float(np.abs(starts).max()) * 100 if starts.size else np.inf
        if use_log:
            tiny = max(1e-12, float(finite[finite > 0].min()) if (finite > 0).any() else 1e-12)
            series = [np.maximum(s, tiny) for s in series]
            lax.set_yscale("log")
            lax.yaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks pile up on short ranges
            lo, hi = tiny, float(min(max(finite.max(), tiny * 10), max(cap, tiny * 10)))
            lax.set_ylim(lo / 2, hi * 2)
            lax.set_ylabel("f - f*", color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        else:
            lo, hi = (float(max(finite.min(), -cap)), float(min(finite.max(), cap))) if finite.size else (-1.0, 1.0)
            pad = 0.05 * (hi - lo or 1.0)
            lax.set_ylim(lo - pad, hi + pad)
            lax.set_ylabel("f", color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        lax.set_xlim(0, max(1, self.total_steps))
        lax.set_xlabel("evaluations" if self.clock == "evaluations" else "step", color=theme.foreground,
                       fontsize=font * 0.9, labelpad=1)
        lax.grid(True, color=theme.grid, linewidth=0.5 * scale, alpha=0.7)
        self._style(lax, font * 0.85)
        self.loss_axes = lax
        self._loss_series = [np.column_stack([t.evaluations if self.clock == "evaluations" else np.arange(len(s)), s])
                             for t, s in zip(self.trajectories, series)]
        self.loss_lines = LineCollection([], colors=self._colors, linewidths=1.5 * scale, animated=True)
        lax.add_collection(self.loss_lines, autolim=False)
        heads = np.array([s[0] for s in self._loss_series])
        self.loss_heads = lax.scatter(heads[:, 0], heads[:, 1], s=22 * scale**2, c=self._colors, animated=True,
                                      zorder=4)

    def _style(self, ax: object, font: float) -> None:
        style_axes(ax, self.theme, font * 0.85, grid=False)

    # -- the actors: redrawn every frame ------------------------------------------------------------------

    def _ends(self, index: int) -> list[int]:
        """The point index each record has reached at frame `index` (-1 before the first frame)."""
        if index < 0:
            return [-1] * len(self.trajectories)
        clock = int(self.frame_steps[index])
        if self.clock == "evaluations":
            return [max(0, int(np.searchsorted(t.evaluations, clock, side="right")) - 1) for t in self.trajectories]
        return [min(clock, t.steps) for t in self.trajectories]

    def _draw(self, index: int) -> int:
        step = int(self.frame_steps[index])
        ends = self._ends(index)
        if self.geometry.active:
            self.geometry.draw_points([self._ends(i) for i in range(index, index - FADE_FRAMES - 1, -1)])
        self.trails.set_segments([t.points[: end + 1] for t, end in zip(self.trajectories, ends)])
        self.heads.set_offsets(np.array([t.points[end] for t, end in zip(self.trajectories, ends)]))
        self.axes.draw_artist(self.trails)
        self.axes.draw_artist(self.heads)
        if self.geometry.active:
            self.geometry.draw_shapes(ends)
        if self.loss_axes is not None:
            self.loss_lines.set_segments([s[: end + 1] for s, end in zip(self._loss_series, ends)])
            self.loss_heads.set_offsets(np.array([s[end] for s, end in zip(self._loss_series, ends)]))
            self.loss_axes.draw_artist(self.loss_lines)
            self.loss_axes.draw_artist(self.loss_heads)
        return step

    def key_colours(self) -> np.ndarray:
        """(k, 3) uint8: the colours of trails, markers and text, which a palette must keep exact."""
        theme = self.theme
        return colours_uint8([*self._colors, theme.minimum, theme.foreground, theme.background, theme.grid])
