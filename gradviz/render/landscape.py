"""Loss landscapes drawn: filled contours or a heatmap of a Surface, the 1-D interpolation curve, training
paths projected onto the plane, and the animation of several optimizers crossing one shared landscape.

The animation (`LandscapeRenderer`) has three parts. Left, the landscape with every run's projected path
advancing. Top right, each run's decision boundary at the current step. Bottom right, each run's loss
curve drawn twice: solid, the loss of the weights themselves; dashed, the surface value under the
projected point. Where the two part, the path has left the plane: the picture shows the gap rather than
pretending the path rides on the contours. Everything static is drawn once; a frame redraws the paths,
the boundary shading and the curves (the stage metaphor of render/trajectories.py).
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from gradviz.i18n import _
from gradviz.records import PathProjection, Surface, TrainingRun, format_hyperparams
from gradviz.registry import InvalidArgument
from gradviz.render.boundary import CLASS_COLOURS, boundary_lines, shade
from gradviz.render.counter import StepCounter
from gradviz.render.frames import small_font, FrameRenderer, colours_uint8, style_axes
from gradviz.render.theme import THEMES, Theme, trail_colours
from gradviz.render.trajectories import contour_levels

__all__ = ["LandscapeRenderer", "plot_landscape", "plot_curve", "curve_image", "landscape_image", "MAX_RUNS"]

MAX_RUNS = 4


def run_names(runs: Sequence[TrainingRun]) -> tuple[str | None, list[str], list[str]]:
    """(legend title, legend entries, panel and table names) that say each thing once.

    What all runs share (one optimizer, one rate) is said once, as the legend's title ('adam (lr=0.02)'),
    and the entries say what differs ('@cosine', 'constant lr'); with several optimizers the entries are
    the whole labels. The panels and the table name each run by the fewest of its optimizer, settings and
    schedule that tell the runs apart: 'sgd', 'adam' / 'adam @cosine' / 'adam lr=0.01'."""
    parts = {"optimizer": [run.optimizer for run in runs],
             "settings": [format_hyperparams(run.hyperparams, symbols=True) for run in runs],
             "schedule": [f"@{run.schedule}" if run.schedule else "" for run in runs]}
    varying = [key for key, values in parts.items() if len(set(values)) > 1]

    def named(keys: Sequence[str]) -> list[str]:
        return [" ".join(filter(None, (parts[key][i] for key in keys))) or _("constant lr") for i in range(len(runs))]

    names = [run.label for run in runs]
    for size in range(1, len(varying) + 1):
        found = next((named(keys) for keys in itertools.combinations(varying, size)
                      if len(set(named(keys))) == len(runs)), None)
        if found is not None:
            names = found
            break
    if len(runs) < 2 or not varying or "optimizer" in varying:
        return None, [run.label for run in runs], names
    shared = parts["optimizer"][0]
    if "settings" not in varying and parts["settings"][0]:
        shared += f" ({parts['settings'][0]})"
    if "schedule" not in varying and parts["schedule"][0]:
        shared += f" {parts['schedule'][0]}"
    return shared, named(varying), names


def _theme(theme: str | Theme) -> Theme:
    return theme if isinstance(theme, Theme) else THEMES.lookup(theme)


def sampling_note(surface: Surface) -> str:
    """What a surface on a subset of the data says of its own error: 'mean over 512 of 1797 samples; standard
    error median 0.012, at most 0.031'."""
    error = surface.error[np.isfinite(surface.error)] if surface.error is not None else np.zeros(0)
    told = _("mean over {used} of {total} samples").format(used=surface.samples, total=surface.total_samples)
    if not len(error):
        return told
    return _("{told}; standard error median {median:.2g}, at most {most:.2g}").format(
        told=told, median=np.median(error), most=error.max())


def _colour_label(surface: Surface, is_log: bool) -> str:
    name = surface.zlabel or _("value")
    if not is_log:
        return name
    return (_("{name} (log scale)").format(name=name) if not surface.floor
            else _("{name} (log scale above {floor:.3g})").format(name=name, floor=surface.floor))


def loss_ticks(levels: np.ndarray, floor: float | None) -> tuple[np.ndarray, list[str]]:
    """Colour-bar ticks of log colours in the loss's own units: levels are log10(z - floor); -> (tick
    positions in those levels, labels that are values of z: 1-2-5 steps per decade, or 3-6 plain steps where
    the range is under a decade)."""
    from matplotlib.ticker import LogLocator, MaxNLocator

    floor = float(floor or 0.0)
    lo, hi = 10.0 ** float(levels[0]), 10.0 ** float(levels[-1])
    values = [v for v in LogLocator(base=10, subs=(1.0, 2.0, 5.0)).tick_values(lo, hi) if lo <= v <= hi]
    if len(values) < 3:  # under a decade: plain steps of the loss itself
        values = [v for v in MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo + floor, hi + floor)
                  if lo + floor <= v <= hi + floor]
        values = [v - floor for v in values if v - floor > 0]
    positions = np.log10(np.array(values, dtype=float))
    return positions, [f"{v + floor:.3g}" for v in values]


def plot_landscape(surface: Surface, paths: Sequence[PathProjection] = (), *, ax: Any = None, kind: str = "contour",
                   theme: str | Theme = "light", colorbar: bool = True, **kwargs: Any) -> Any:
    """Filled contours (kind='contour') or a heatmap (kind='heatmap') of a 2-D Surface, with paths on it.

    Each path is a line from its start (open circle) to its end (filled circle); the origin is marked
    with a cross. kwargs go to contourf / imshow. Returns the Axes (the current one when ax is None).
    """
    import matplotlib.pyplot as plt

    if surface.is_curve:
        raise InvalidArgument("this surface is a 1-D curve: draw it with plot_curve")
    if kind not in ("contour", "heatmap"):
        raise InvalidArgument(f"unknown kind {kind!r} (valid: contour, heatmap)")
    th = _theme(theme)
    ax = ax if ax is not None else plt.gca()
    values, levels, is_log = contour_levels(surface)
    if kind == "contour":
        mappable = ax.contourf(surface.x, surface.y, values, levels=levels, cmap=kwargs.pop("cmap", th.colormap),
                               extend="both", **kwargs)
        ax.contour(surface.x, surface.y, values, levels=levels[::2], colors=th.contour_lines, linewidths=0.4,
                   alpha=0.35)
    else:
        mappable = ax.imshow(values, origin="lower", extent=surface.extent, aspect="auto",
                             cmap=kwargs.pop("cmap", th.colormap), vmin=levels[0], vmax=levels[-1], **kwargs)
    ax.plot([0], [0], marker="+", ms=10, color=th.foreground, ls="")
    for path, colour in zip(paths, trail_colours(paths, th)):
        ax.plot(path.coords[:, 0], path.coords[:, 1], color=colour, lw=1.8, label=path.label)
        ax.plot(*path.coords[0], "o", mfc="none", mec=colour, ms=7)
        ax.plot(*path.coords[-1], "o", color=colour, ms=6)
    ax.set_xlim(surface.x[0], surface.x[-1])
    ax.set_ylim(surface.y[0], surface.y[-1])
    ax.set_xlabel(surface.xlabel)
    ax.set_ylabel(surface.ylabel)
    if surface.error is not None:
        ax.text(0.01, 0.01, sampling_note(surface), transform=ax.transAxes, fontsize=small_font(), va="bottom",
                ha="left", color=th.foreground, bbox=dict(facecolor=th.background, alpha=0.7, lw=0))
    if paths:
        ax.legend(loc="best", fontsize=small_font())
    if colorbar:
        bar = ax.figure.colorbar(mappable, ax=ax, label=_colour_label(surface, is_log))
        if is_log:  # ticks that read as losses, not as their logarithms
            positions, labels = loss_ticks(levels, surface.floor)
            bar.set_ticks(positions, labels=labels)
            bar.minorticks_off()
    return ax


def plot_curve(surface: Surface, *, ax: Any = None, marks: Sequence[float] = (0.0, 1.0),
               mark_labels: Sequence[str] = ("start", "end"), **kwargs: Any) -> Any:
    """The 1-D curve z(alpha) of an interpolation Surface; `marks` draw vertical lines at the two ends."""
    import matplotlib.pyplot as plt

    if not surface.is_curve:
        raise InvalidArgument("this surface is 2-D: draw it with plot_landscape")
    ax = ax if ax is not None else plt.gca()
    kwargs.setdefault("lw", 2.2)
    line, = ax.plot(surface.x, surface.z[0], **kwargs)
    if surface.error is not None:  # a subset of the data: the band of +- 2 standard errors, and what it is
        ax.fill_between(surface.x, surface.z[0] - 2 * surface.error[0], surface.z[0] + 2 * surface.error[0],
                        color=line.get_color(), alpha=0.2, lw=0, label=_("\u00b1 2 standard errors"))
        ax.set_title(sampling_note(surface), fontsize=small_font(), loc="left")
    for value, label in zip(marks, mark_labels):
        ax.axvline(value, color="0.5", ls=":", lw=1.2)
        ax.annotate(label, (value, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                    textcoords="offset points", va="top", fontsize=small_font(), color="0.3")
    ax.set_xlim(surface.x[0], surface.x[-1])
    ax.set_xlabel(surface.xlabel)
    ax.set_ylabel(surface.zlabel)
    ax.grid(True, alpha=0.4)
    return ax


def curve_image(surface: Surface, *, size: tuple[int, int] = (960, 540), dpi: float = 100, title: str = "",
                log: bool | None = None, **kwargs: Any) -> np.ndarray:
    """The 1-D curve as an (H, W, 3) uint8 image of `size` pixels (a log y axis for a loss by default)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gradviz.render.frames import rgb_copy

    figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_curve(surface, ax=ax, **kwargs)
    ax.set_title(title, loc="left", fontsize=13)
    ax.xaxis.label.set_fontsize(13)
    ax.yaxis.label.set_fontsize(13)
    ax.tick_params(labelsize=11)
    for text in ax.texts:
        text.set_fontsize(11)
    if log if log is not None else (surface.zlabel.endswith("loss") and bool((surface.z > 0).all())):
        ax.set_yscale("log")
    figure.tight_layout()
    canvas.draw()
    return rgb_copy(np.asarray(canvas.buffer_rgba()))


def landscape_image(surface: Surface, paths: Sequence[PathProjection] = (), *, size: tuple[int, int] = (960, 540),
                    dpi: float = 100, theme: str | Theme = "light", title: str = "", note: str = "") -> np.ndarray:
    """A 2-D Surface (with paths) as an (H, W, 3) uint8 image: plot_landscape with a title and a note below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gradviz.render.frames import rgb_copy

    th = _theme(theme)
    figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, facecolor=th.background)
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_facecolor(th.background)
    plot_landscape(surface, paths, ax=ax, theme=th)
    ax.set_title(title, loc="left", fontsize=13, color=th.foreground)
    for label in (ax.xaxis.label, ax.yaxis.label):
        label.set_fontsize(13)
        label.set_color(th.foreground)
    ax.tick_params(labelsize=11, colors=th.foreground)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontsize(11)
    colorbar_axes = [a for a in figure.axes if a is not ax]
    for cax in colorbar_axes:
        cax.tick_params(labelsize=11, colors=th.foreground)
        cax.yaxis.label.set_fontsize(12)
        cax.yaxis.label.set_color(th.foreground)
    if note:
        figure.text(0.01, 0.01, note, fontsize=11, color=th.foreground, va="bottom")
    figure.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
    canvas.draw()
    return rgb_copy(np.asarray(canvas.buffer_rgba()))


class LandscapeRenderer(FrameRenderer):
    """Paths of several runs over one landscape, with boundaries and loss curves; frame(i) -> RGB array.

    surface: the shared plane's Surface. paths: one PathProjection per run (from landscape(paths=True)).
    runs: the TrainingRuns (for the decision boundaries); they must share record_steps with the paths.
    """

    def __init__(self, surface: Surface, paths: Sequence[PathProjection], runs: Sequence[TrainingRun], *,
                 size: tuple[int, int] = (960, 540), dpi: float = 100, theme: str | Theme = "light",
                 frames: int | None = None, title: str | None = None) -> None:
        self.surface, self.paths, self.runs = surface, list(paths), list(runs)
        if surface.is_curve:
            raise InvalidArgument("a 1-D curve has no paths to animate: write it as a .png")
        if not self.paths or len(self.paths) != len(self.runs):
            raise InvalidArgument("one path per run is needed")
        if len(self.runs) > MAX_RUNS:
            raise InvalidArgument(f"too many runs on one landscape: {len(self.runs)} (at most {MAX_RUNS})")
        self._configure(size=size, dpi=dpi, theme=theme, frames=frames)
        steps = self.paths[0].steps
        for path, run in zip(self.paths, self.runs):
            if not (np.array_equal(path.steps, steps) and np.array_equal(run.record_steps, steps)):
                raise InvalidArgument("runs on one landscape need the same recorded steps")
        count = len(steps) if frames is None else min(int(frames), len(steps))
        self.frame_records = np.unique(np.round(np.linspace(0, len(steps) - 1, count)).astype(int))
        self.total_steps = int(steps[-1])
        self.heading, self.entries, self.names = run_names(self.runs)
        self._build(float(dpi), title)

    @property
    def n_frames(self) -> int:
        return len(self.frame_records)

    def _build(self, dpi: float, title: str | None) -> None:
        theme = self.theme
        fig, scale, font = self._new_figure(dpi)
        self._colors = trail_colours(self.runs, theme)
        ax = self._build_contours(fig, title, font, scale)
        height = self._build_panels(fig, font, scale)
        lax = self._build_curves(fig, height, font, scale)
        handles = [Line2D([], [], color=c, lw=2.2 * scale, label=text) for c, text in zip(self._colors, self.entries)]
        legend = ax.legend(handles=handles, loc="upper right", fontsize=font * 0.85, framealpha=0.85,
                           facecolor=theme.background, edgecolor=theme.grid, labelcolor=theme.foreground,
                           title=self.heading, title_fontsize=font * 0.85)
        if self.heading:
            legend.get_title().set_color(theme.foreground)
        legend.set_zorder(7)
        text = fig.text(0.985, 0.965, "", ha="right", va="center", color=theme.foreground, fontsize=font * 1.05,
                        family="monospace", animated=True)
        # upper right, where falling loss curves rarely are, on a backdrop in case one is
        self.gap_text = lax.text(0.985, 0.97, "", ha="right", va="top", color=theme.foreground,
                                 fontsize=small_font(font), family="monospace", transform=lax.transAxes,
                                 animated=True, linespacing=1.15, zorder=8, multialignment="left",
                                 bbox=dict(boxstyle="round,pad=0.3", facecolor=theme.background, alpha=0.85,
                                           edgecolor=theme.grid, linewidth=0.6 * scale))
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, text, self.canvas.copy_from_bbox(fig.bbox), self.total_steps)
        self._background = self.counter.background


    def _build_contours(self, fig: Any, title: str | None, font: float, scale: float) -> Any:
        """The surface's filled contours with its colour bar, the centre and each run's start -> the axes."""
        theme, surface = self.theme, self.surface
        ax = fig.add_axes((0.07, 0.10, 0.42, 0.78))
        values, levels, is_log = contour_levels(surface)
        filled = ax.contourf(surface.x, surface.y, values, levels=levels, cmap=theme.colormap, extend="both")
        # which way is up: a slim colour bar marked low / high (the values are log10(loss - floor) when the
        # colours are logarithmic, which would read as a loss on tick labels)
        bar = fig.colorbar(filled, cax=fig.add_axes((0.50, 0.10, 0.011, 0.78)), ticks=[levels[0], levels[-1]])
        bar.ax.set_yticklabels([_("low"), _("high")])
        bar.ax.tick_params(colors=theme.foreground, labelsize=small_font(font), length=0, pad=2)
        bar.outline.set_edgecolor(theme.grid)
        ax.contour(surface.x, surface.y, values, levels=levels[::2], colors=theme.contour_lines,
                   linewidths=0.4 * scale, alpha=0.35)
        ax.set_xlim(surface.x[0], surface.x[-1])
        ax.set_ylim(surface.y[0], surface.y[-1])
        ax.set_xlabel(surface.xlabel, color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        ax.set_ylabel(surface.ylabel, color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        style_axes(ax, theme, small_font(font), grid=False)
        ax.plot([0], [0], marker="+", ms=12 * scale, mew=1.6 * scale, color=theme.foreground, ls="", zorder=4)
        starts = np.array([p.coords[0] for p in self.paths])
        ax.scatter(starts[:, 0], starts[:, 1], s=45 * scale**2, facecolors="none", edgecolors=self._colors,
                   linewidths=1.4 * scale, zorder=4)
        name = title if title is not None else _("{value} on the shared {plane}").format(
            value=surface.zlabel or _("loss"), plane=surface.name)
        ax.set_title(name + (" " + _("(log colours)") if is_log else ""), color=theme.foreground, fontsize=font * 1.05,
                     loc="left", pad=4)
        self.axes = ax
        self.trails = LineCollection([], colors=self._colors, linewidths=2.0 * scale, capstyle="round",
                                     animated=True, zorder=5)
        ax.add_collection(self.trails, autolim=False)
        self.heads = ax.scatter(starts[:, 0], starts[:, 1], s=60 * scale**2, c=self._colors,
                                edgecolors=theme.background, linewidths=0.9 * scale, animated=True, zorder=6)
        return ax

    def _build_panels(self, fig: Any, font: float, scale: float) -> float:
        """A small decision-boundary panel per run, top right -> their height (a share of the figure's)."""
        theme, n = self.theme, len(self.runs)
        # decision boundaries, one small panel per run
        background = np.array(to_rgb(theme.background))
        self._background_rgb = background
        classes = self.runs[0].classes
        self._class_colours = np.array([to_rgb(CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in range(classes)])
        gap, left, right = 0.012, 0.58, 0.985
        width = (right - left - gap * (n - 1)) / n
        height = min(0.34, width * self.size[0] / self.size[1])
        self.panels = []
        for index, run in enumerate(self.runs):
            pax = fig.add_axes((left + index * (width + gap), 0.90 - height, width, height))
            x, y = run.grid_x, run.grid_y
            image = pax.imshow(shade(run.probabilities[0], self._class_colours, background), origin="lower",
                               extent=(x[0], x[-1], y[0], y[-1]), interpolation="bilinear", aspect="auto",
                               animated=True)
            lines = LineCollection([], colors=theme.foreground, linewidths=1.4 * scale, animated=True)
            pax.add_collection(lines, autolim=False)
            points = pax.scatter(run.X[:, 0], run.X[:, 1], s=5 * scale**2, c=self._class_colours[run.y],
                                 edgecolors="none", animated=True)
            pax.set_xlim(x[0], x[-1])
            pax.set_ylim(y[0], y[-1])
            pax.set_xticks([])
            pax.set_yticks([])
            for spine in pax.spines.values():
                spine.set_color(self._colors[index])
                spine.set_linewidth(2.0 * scale)
            pax.set_title(self.names[index], color=self._colors[index], fontsize=font * 0.9, pad=2)
            self.panels.append((pax, image, lines, points))
        return height

    def _build_curves(self, fig: Any, height: float, font: float, scale: float) -> Any:
        """The loss curves under the panels: solid the weights' own loss, dashed the surface under the
        projected point -> the axes."""
        theme, surface = self.theme, self.surface
        # loss curves: solid = the weights' own loss, dashed = the surface under the projected point
        lax = fig.add_axes((0.62, 0.10, 0.365, 0.90 - height - 0.19))
        every = np.concatenate([np.r_[p.loss, p.surface_loss] for p in self.paths])
        finite = every[np.isfinite(every)]
        use_log = surface.log_scale and finite.size and bool((finite > 0).all())
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if use_log:
            lax.set_yscale("log")
            lax.yaxis.set_minor_formatter(NullFormatter())
            lax.set_ylim(lo / 1.5, hi * 1.5)
        else:
            pad = 0.05 * (hi - lo or 1.0)
            lax.set_ylim(lo - pad, hi + pad)
        lax.set_xlim(0, max(1, self.total_steps))
        style_axes(lax, theme, small_font(font))
        lax.set_xlabel(_("step"), color=theme.foreground, fontsize=small_font(font), labelpad=1)
        lax.set_title(_("{value}: solid = weights, dashed = on the plane").format(
                          value=surface.zlabel or _("loss")), color=theme.foreground,
                      fontsize=small_font(font), loc="left", pad=2)
        self.loss_axes = lax
        self._own = [np.column_stack([p.steps, p.loss]) for p in self.paths]
        self._flat = [np.column_stack([p.steps, p.surface_loss]) for p in self.paths]
        self.own_lines = LineCollection([], colors=self._colors, linewidths=1.7 * scale, animated=True)
        self.flat_lines = LineCollection([], colors=self._colors, linewidths=1.4 * scale, linestyles="--",
                                         animated=True)
        lax.add_collection(self.own_lines, autolim=False)
        lax.add_collection(self.flat_lines, autolim=False)
        return lax

    def _draw(self, index: int) -> int:
        record = int(self.frame_records[index])
        step = int(self.paths[0].steps[record])
        self.trails.set_segments([p.coords[: record + 1] for p in self.paths])
        self.heads.set_offsets(np.array([p.coords[record] for p in self.paths]))
        self.axes.draw_artist(self.trails)
        self.axes.draw_artist(self.heads)
        for run, (pax, image, lines, points) in zip(self.runs, self.panels):
            probabilities = run.probabilities[record]
            image.set_data(shade(probabilities, self._class_colours, self._background_rgb))
            lines.set_segments(boundary_lines(probabilities, run.grid_x, run.grid_y))
            pax.draw_artist(image)
            pax.draw_artist(lines)
            pax.draw_artist(points)
        self.own_lines.set_segments([s[: record + 1] for s in self._own])
        self.flat_lines.set_segments([s[: record + 1] for s in self._flat])
        self.loss_axes.draw_artist(self.flat_lines)
        self.loss_axes.draw_artist(self.own_lines)
        width = max(len(name) for name in self.names)
        gaps = "\n".join([f"{'':{width}}" + _("  off plane  loss: weights / plane")] + [
            f"{name:{width}}  {p.off_plane[record]:9.2g}  {p.loss[record]:13.2g} / "
            f"{p.surface_loss[record]:.2g}"
            for name, p in zip(self.names, self.paths)])
        self.gap_text.set_text(gaps)
        self.loss_axes.draw_artist(self.gap_text)
        return step

    def key_colours(self) -> np.ndarray:
        theme = self.theme
        return colours_uint8([*self._colors, *self._class_colours, theme.foreground, theme.background])
