"""Drawing comparisons: the final-loss-versus-learning-rate "U" curve, basin maps, and groups of paths.

`plot_lr_curve` draws a TuningTable (seaborn style: ax=None draws on a new figure, returns the Axes); runs
that diverged are drawn as crosses on a band above the finite values and labelled, so a missing point never
looks like a good one. `plot_basin_map` colours each start of a BasinMap by the minimum it reached and
shades it by the steps it needed. `GroupRenderer` animates groups of paths (a swarm of starts, a bundle of
noise seeds): one colour and one legend entry per group, every path of a group drawn thin.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gradviz.i18n import _
from gradviz.records import BasinMap, Surface, Trajectory, TuningTable
from gradviz.registry import InvalidArgument
from gradviz.render.counter import StepCounter
from gradviz.render.frames import check_render_options, fit_axes, rgb_copy, small_font, style_axes
from gradviz.render.theme import THEMES, Theme, trail_colours
from gradviz.render.layout import RoundedConstrainedLayout
from gradviz.render.trajectories import (HEAD_Z, TRAIL_Z, ContourStage, TrajectoryRenderer, contour_view, draw_in_order,
                                         loss_axis, minima_stars, surface_title)

__all__ = ["plot_lr_curve", "plot_basin_map", "share_parts", "figure_rgb", "new_figure", "GroupRenderer", "ScheduleRenderer",
           "NotedTrajectoryRenderer", "styled",
           "BASIN_COLOURS"]

# Colour-blind-safe (Okabe-Ito) colours for up to 8 basins; starts that reached no minimum are grey.
BASIN_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
NONE_COLOUR, DIVERGED_COLOUR = "#bdbdbd", "#3a3a3a"


def new_figure(size: tuple[int, int], dpi: float, theme: str | Theme = "light") -> Figure:
    check_render_options(size=size, dpi=dpi, frames=None)
    theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)
    figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout=RoundedConstrainedLayout(),
                    facecolor=theme.background)
    FigureCanvasAgg(figure)
    return figure


@contextmanager
def styled(size: tuple[int, int], dpi: float, theme: str | Theme = "light") -> Iterator[None]:
    """Type that keeps its share of the image at any size, dpi and --preset (10 pt at 960x540 / 100 dpi),
    in the theme's colours, for the static figures drawn inside the block."""
    import matplotlib

    from gradviz.render.theme import FONT_SCALE

    theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)
    font = max(6.0, 10.0 * min(size[0] / 960, size[1] / 540) * 100 / dpi * FONT_SCALE.get())
    with matplotlib.rc_context({
        "font.size": font, "text.color": theme.foreground, "axes.labelcolor": theme.foreground,
        "xtick.color": theme.foreground, "ytick.color": theme.foreground, "axes.edgecolor": theme.grid,
        "axes.facecolor": theme.background, "legend.labelcolor": theme.foreground,
    }):
        yield


def figure_rgb(figure: Figure) -> np.ndarray:
    figure.canvas.draw()
    return rgb_copy(np.asarray(figure.canvas.buffer_rgba()))


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    return new_figure((640, 400), 100).add_subplot()


def plot_lr_curve(table: TuningTable, *, values: str = "finals", ax: Axes | None = None,
                  theme: str | Theme = "light", **kwargs: Any) -> Axes:
    """Final f - f* (values='finals') or the objective (values='scores') against the learning rate, one
    line per optimizer, both axes logarithmic where the values allow. Diverged runs are crosses on a band
    above the plot's top, labelled 'diverged'; the best candidate of each optimizer is ringed."""
    ax = _axes(ax)
    theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)
    data = np.where(table.diverged, np.nan, getattr(table, values))
    finite = data[np.isfinite(data)]
    log_y = finite.size > 0 and bool((finite > 0).all())
    if log_y:
        low, high = float(finite.min()), float(finite.max())
        band = high * 10 ** max(0.6, 0.12 * np.log10(high / low) if high > low else 0.6)
        floor = low
    else:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        band = high + 0.15 * ((high - low) or 1.0)
        floor = low
    best = table.best
    for i, (label, colour) in enumerate(zip(table.labels, trail_colours(table.optimizers, theme))):
        ax.plot(table.lrs[i], data[i], marker="o", ms=4, lw=1.6, color=colour, label=label, **kwargs)
        gone = table.diverged[i]
        if gone.any():  # each optimizer's crosses a little higher, so none hides another's
            level = band * 1.35**i if log_y else band + 0.03 * i * (band - floor)
            ax.plot(table.lrs[i][gone], np.full(gone.sum(), level), ls="", marker="x", ms=7, mew=2, color=colour)
        if best[i] >= 0:
            ax.plot([table.lrs[i][best[i]]], [data[i][best[i]]], ls="",
                    marker="o", ms=11, mfc="none", mec=colour, mew=1.5)
    ax.set_xscale("log")
    rows = len(table.labels)
    if log_y:
        ax.set_yscale("log")
        ax.set_ylim(floor / 3, band * 1.35 ** rows * 2)
    else:
        ax.set_ylim(floor - 0.05 * (band - floor), band + (0.03 * rows + 0.08) * (band - floor))
    if table.diverged.any():
        ax.axhline(band, color=theme.grid, lw=0.8, ls="--", zorder=0)
        ax.annotate(_("diverged"), (0.01, band), xycoords=("axes fraction", "data"), va="bottom", fontsize=small_font(),
                    color=theme.foreground)
    ax.set_xlabel(_("learning rate"), color=theme.foreground)
    gap = "f - f*" if values == "finals" else table.objective
    ax.set_ylabel(_("{gap} after {steps} steps").format(gap=gap, steps=table.steps) if values == "finals" else gap,
                  color=theme.foreground)
    style_axes(ax, theme, rcParams["font.size"] * 0.85)
    ax.legend(fontsize=small_font(), frameon=False, labelcolor=theme.foreground)
    return ax


def share_parts(basin: BasinMap) -> list[tuple[str, str, float, int]]:
    """(name, colour, fraction, whole percent) of each part of the starts: every minimum (named by its
    coordinates), then 'none' and 'diverged' where any start is there. The fractions add up to 1 and the
    percents, rounded by largest remainder, to 100."""
    fractions = np.append(basin.shares(), basin.diverged.mean())  # the records' partition, diverged last
    exact = fractions * 100
    percents = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - percents), kind="stable")[:100 - int(percents.sum())]:
        percents[index] += 1
    names = [f"({x:.2f}, {y:.2f})" for x, y in basin.minima] + ["none", "diverged"]
    colours = list(BASIN_COLOURS[: len(basin.minima)]) + [NONE_COLOUR, DIVERGED_COLOUR]
    keep = [k for k in range(len(fractions)) if k < len(basin.minima) or fractions[k] > 0]
    return [(names[k], colours[k], float(fractions[k]), int(percents[k])) for k in keep]


def plot_basin_map(basin: BasinMap, *, ax: Axes | None = None, legend: bool = True, **kwargs: Any) -> Axes:
    """Each start coloured by the minimum it reached, darker the more steps it needed; grey: reached none
    within tol; dark grey: diverged. Minima are stars in their basin's colour."""
    ax = _axes(ax)
    if len(basin.minima) > len(BASIN_COLOURS):
        raise InvalidArgument(f"at most {len(BASIN_COLOURS)} minima can be told apart, got {len(basin.minima)}")
    colours = np.array([to_rgb(c) for c in BASIN_COLOURS[: len(basin.minima)]] + [to_rgb(NONE_COLOUR)])
    labels = np.where(basin.labels >= 0, basin.labels, len(basin.minima))
    rgb = colours[labels]
    steps = np.where(basin.labels >= 0, basin.steps, 0).astype(float)
    # shade: 1 at step 0 fading to 0.35 at the slowest start, so "how fast" reads as "how light"
    slowest = max(1.0, float(steps.max()))
    shade = 1.0 - 0.65 * steps / slowest
    rgb = 1.0 - (1.0 - rgb) * (1.35 - shade)[..., None]  # lighter for fast, full colour for slow
    rgb = np.clip(rgb, 0, 1)
    rgb[basin.diverged] = to_rgb(DIVERGED_COLOUR)
    dx = (basin.x[1] - basin.x[0]) / 2 if len(basin.x) > 1 else 0.5
    dy = (basin.y[1] - basin.y[0]) / 2 if len(basin.y) > 1 else 0.5
    ax.imshow(rgb, origin="lower", extent=(basin.x[0] - dx, basin.x[-1] + dx, basin.y[0] - dy, basin.y[-1] + dy),
              interpolation="nearest", aspect="auto", **kwargs)
    for point in basin.minima:
        # white with a dark edge: a star in its own basin's colour would vanish into it
        ax.plot(*point, marker="*", ms=14, color="white", mec="#222222", mew=1.0, ls="")
    handles = []
    for name, colour, fraction, percent in share_parts(basin):  # the same numbers as the printed line
        if name == "none":
            name = _("none within {tol:g}").format(tol=basin.tol)
        shown = "<1%" if percent == 0 and fraction > 0 else f"{percent}%"
        handles.append(Line2D([], [], ls="", marker="s", ms=8, color=colour, label=f"{_(name)}: {shown}"))
    ax.set_title(_("{label}, {steps} steps").format(label=basin.label, steps=basin.steps_requested), fontsize="medium")
    ax.set_xlabel(_("x start"))
    ax.set_ylabel(_("y start"))
    if legend:
        ax.legend(handles=handles, fontsize=small_font(), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  title="minimum: share", title_fontsize=small_font())
    return ax


def _wrap(text: str, width_px: float, font: float, dpi: float) -> str:
    import textwrap

    chars = max(20, int(width_px / (0.55 * font * dpi / 72)))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


class _Noted:
    """Prints `note` (what was tuned for, the noise, the starts) at the bottom of the right column, in the
    static background: a tuned picture carries its objective and grid wherever it is shown."""

    note: str | None = None
    note_text: Any = None  # the Text, which the layout keeps the legend above

    def _new_figure(self, dpi: float, base_font: float = 10.0) -> tuple[Any, float, float]:
        figure, scale, font = super()._new_figure(dpi, base_font)  # type: ignore[misc]
        if self.note:
            width = self.size[0] * 0.34  # type: ignore[attr-defined]
            self.note_text = figure.text(0.635, 0.03, _wrap(self.note, width, small_font(font), dpi), ha="left",
                                         va="bottom", fontsize=small_font(font),
                                         color=self.theme.foreground,  # type: ignore[attr-defined]
                                         linespacing=1.15)
        return figure, scale, font


class NotedTrajectoryRenderer(_Noted, TrajectoryRenderer):
    """TrajectoryRenderer with a note printed in the figure (see _Noted)."""

    def __init__(self, *args: Any, note: str | None = None, **kwargs: Any) -> None:
        self.note = note
        super().__init__(*args, **kwargs)


class GroupRenderer(_Noted, ContourStage):
    """Groups of paths over a surface: each group one colour and one legend entry, its paths thin.

    groups: (label, trajectories) pairs, e.g. the starts of a swarm or the seeds of a noise bundle. Paths
    that diverged end with a cross where they left. frame(i) draws every trail up to frame i's step.
    Without panels the stage is the trajectory animation's: the contours on the left, every path's f - f*
    top right (loss_panel), the legend under it, the note at the bottom. With panels (one per group, side by
    side) there is no right column. The minima's stars are drawn over the paths and their points (see
    minima_stars).
    """

    def __init__(self, groups: Sequence[tuple[str, Sequence[Trajectory]]], surface: Surface, *,
                 size: tuple[int, int] = (960, 540), dpi: float = 100, theme: str | Theme = "light",
                 frames: int | None = None, title: str | None = None, heads: bool = True,
                 panels: bool = False, note: str | None = None, loss_panel: bool = True) -> None:
        self.panels = panels and len(groups) > 1
        # with panels the right column is gone: the note joins the title line instead
        self.note, self._title_note = (None, note) if self.panels else (note, None)
        self.groups = [(label, list(paths)) for label, paths in groups]
        if not self.groups or not all(paths for _, paths in self.groups):
            raise InvalidArgument("nothing to draw: every group needs at least one path")
        self._configure(size=size, dpi=dpi, theme=theme, frames=frames)
        self.surface = surface
        self.paths = [path for _, paths in self.groups for path in paths]
        self.total_steps = max(p.steps_requested or p.steps for p in self.paths)
        count = frames if frames is not None else min(self.total_steps + 1, 300)
        self.frame_steps = np.unique(np.round(np.linspace(0, self.total_steps, int(count))).astype(int))
        self._colors = trail_colours([paths[0] for _, paths in self.groups], self.theme)
        self._path_colors = [c for c, (_, paths) in zip(self._colors, self.groups) for _ in paths]
        self._build(float(dpi), title, heads, loss_panel and not self.panels)

    def _build(self, dpi: float, title: str | None, heads: bool, loss_panel: bool) -> None:
        theme, surface = self.theme, self.surface
        fig, scale, font = self._new_figure(dpi)
        count = len(self.groups) if self.panels else 1
        if self.panels:  # one panel per group, side by side, titled by the group; no legend column
            gap, left, right = 0.04, 0.05, 0.99
            width = (right - left - gap * (count - 1)) / count
            boxes = [(left + k * (width + gap), 0.08, width, 0.78) for k in range(count)]
        else:
            boxes = [(0.065, 0.09, 0.50, 0.80)]
        self.axes_list, self.minima_markers = [], []
        for k, box in enumerate(boxes):
            ax = fig.add_axes(box)
            is_log = contour_view(ax, surface, theme, font, scale, ylabel=k == 0)
            self.minima_markers.append(minima_stars(ax, surface, theme, 170 * scale**2, over_points=True))
            self.axes_list.append(ax)
        self.axes = self.axes_list[0]
        many = len(self.paths) > 30
        width_lines = (0.6 if many else 1.1) * scale
        handles = []
        if self.minima_markers[0]:
            handles.append(Line2D([], [], ls="", marker="*", ms=11 * scale, color=theme.minimum,
                                  markeredgecolor=theme.foreground, markeredgewidth=0.7,
                                  label=_("global minima") if len(surface.minima) > 1 else _("global minimum")))
        self.trails, self.heads, self._members = [], [], []
        for k, ((label, paths), colour) in enumerate(zip(self.groups, self._colors)):
            ax = self.axes_list[k if self.panels else 0]
            gone = [p for p in paths if p.diverged_at is not None]
            text = f"{label}" + (_(", {n} paths").format(n=len(paths)) if len(paths) > 1 else "")
            if gone:
                text += _("; {n} diverged (x)").format(n=len(gone))
            handles.append(Line2D([], [], color=colour, lw=2.0 * scale, label=text))
            if gone:
                ends = np.array([p.points[-1] for p in gone])
                ax.scatter(ends[:, 0], ends[:, 1], marker="x", s=40 * scale**2, c=colour, linewidths=1.5 * scale,
                           zorder=4)
            if self.panels:
                ax.set_title(_wrap(text, self.size[0] * boxes[k][2], font * 0.85, dpi), color=theme.foreground,
                             fontsize=font * 0.85, loc="left", pad=3)
        groups = [[k] for k in range(len(self.groups))] if self.panels else [list(range(len(self.groups)))]
        for ax, members in zip(self.axes_list, groups):
            paths = [p for k in members for p in self.groups[k][1]]
            colours = [self._colors[k] for k in members for _ in self.groups[k][1]]
            trails = LineCollection([], colors=colours, linewidths=width_lines, alpha=0.75 if many else 0.9,
                                    animated=True, zorder=TRAIL_Z)
            ax.add_collection(trails, autolim=False)
            starts = np.array([p.points[0] for p in paths])
            head = ax.scatter(starts[:, 0], starts[:, 1], s=(6 if many else 20) * scale**2, c=colours,
                              edgecolors=theme.background, linewidths=(0.3 if many else 0.6) * scale,
                              animated=True, zorder=HEAD_Z) if heads else None
            self.trails.append(trails)
            self.heads.append(head)
            self._members.append(paths)
        self.loss_axes = None
        if loss_panel:
            self._build_loss_panel(fig, font, scale, width_lines)
        name = title if title is not None else surface_title(surface.name)
        if self.panels:
            fig.text(0.05, 0.975, name + (f": {self._title_note}" if self._title_note else ""), ha="left", va="top",
                     color=theme.foreground, fontsize=font)
            self.step_text = fig.text(0.99, 0.975, "", ha="right", va="top", color=theme.foreground,
                                      fontsize=font, family="monospace", animated=True)
            fit_axes(fig, self.axes_list)
        else:
            self.title = self.axes.set_title(name + (" " + _("(log colours)") if is_log else ""), color=theme.foreground,
                                             fontsize=font * 1.15, loc="left", pad=4)
            self.step_text = fig.text(0.565, 0.915, "", ha="right", va="center", color=theme.foreground,
                                      fontsize=font * 1.1, family="monospace", animated=True)
            self._layout(handles, font)
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, self.step_text, self.canvas.copy_from_bbox(fig.bbox),
                                   self.total_steps)
        self._background = self.counter.background

    def _build_loss_panel(self, fig: Figure, font: float, scale: float, width: float) -> None:
        """Every path's f - f* (or f) against the step, thin, in its group's colour."""
        theme = self.theme
        # taller than the trajectory view's: a group legend has a few entries, so the column has room
        lax = fig.add_axes((0.655, 0.42, 0.325, 0.47))
        series, _low, _high = loss_axis(lax, [p.losses for p in self.paths], self.surface.floor, theme, font, scale)
        lax.set_xlim(0, max(1, self.total_steps))
        lax.set_xlabel(_("step"), color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        lax.grid(True, color=theme.grid, linewidth=0.5 * scale, alpha=0.7)
        style_axes(lax, theme, font * 0.85, grid=False)
        self.loss_axes = lax
        self._loss_series = [np.column_stack([np.arange(len(s)), s]) for s in series]
        self.loss_lines = LineCollection([], colors=self._path_colors, linewidths=width,
                                         alpha=0.75 if len(self.paths) > 30 else 0.9, animated=True)
        lax.add_collection(self.loss_lines, autolim=False)

    def restage(self) -> None:
        """Copy the static background again after drawing more on it (a gradient field)."""
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, self.step_text, self.canvas.copy_from_bbox(self.figure.bbox),
                                   self.total_steps)
        self._background = self.counter.background

    def _draw(self, index: int) -> int:
        step = int(self.frame_steps[index])
        for ax, trails, heads, stars, paths in zip(self.axes_list, self.trails, self.heads, self.minima_markers,
                                                   self._members):
            ends = [min(step, p.steps) for p in paths]
            trails.set_segments([p.points[: end + 1] for p, end in zip(paths, ends)])
            if heads is not None:
                heads.set_offsets(np.array([p.points[end] for p, end in zip(paths, ends)]))
            draw_in_order(ax, [trails, heads, *stars])
        if self.loss_axes is not None:
            self.loss_lines.set_segments([s[: min(step, p.steps) + 1] for s, p in zip(self._loss_series, self.paths)])
            self.loss_axes.draw_artist(self.loss_lines)
        return step

    def key_colours(self) -> np.ndarray:
        from gradviz.render.frames import colours_uint8

        theme = self.theme
        return colours_uint8([*self._colors, theme.minimum, theme.foreground, theme.background])


class ScheduleRenderer(NotedTrajectoryRenderer):
    """TrajectoryRenderer whose side panel plots each path's learning rate against the step (the rate its
    scheduler set), drawn live as the paths move, instead of the loss."""

    def _build_loss_panel(self, fig: Figure, font: float, scale: float) -> None:
        theme = self.theme
        lax = fig.add_axes((0.655, 0.54, 0.325, 0.35))
        series = [np.column_stack([np.arange(len(t.lrs) + 1),
                                   np.append(t.lrs, t.lrs[-1] if len(t.lrs) else np.nan)]) for t in self.trajectories]
        values = np.concatenate([s[:, 1] for s in series])
        values = values[np.isfinite(values) & (values > 0)]
        if values.size and values.max() / values.min() > 30:
            lax.set_yscale("log")
            lax.set_ylim(values.min() / 1.5, values.max() * 1.5)
        elif values.size:
            lax.set_ylim(0, values.max() * 1.1)
        lax.set_xlim(0, max(1, self.total_steps))
        lax.set_xlabel(_("step"), color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        lax.set_ylabel(_("learning rate"), color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        lax.grid(True, color=theme.grid, linewidth=0.5 * scale, alpha=0.7)
        style_axes(lax, theme, small_font(font), grid=False)
        self.loss_axes = lax
        self._loss_series = series
        self.loss_lines = LineCollection([], colors=self._colors, linewidths=1.5 * scale, animated=True)
        lax.add_collection(self.loss_lines, autolim=False)
        heads = np.array([s[0] for s in series])
        self.loss_heads = lax.scatter(heads[:, 0], heads[:, 1], s=22 * scale**2, c=self._colors, animated=True,
                                      zorder=4)
