"""Trajectory animations: optimizers racing over a function's contours, one RGB frame at a time.

`TrajectoryRenderer` follows a stage metaphor: everything that never moves (filled contours, minima,
starts, legend, axes, title) is drawn once and kept as a pixel copy; `frame(i)` restores that copy and
draws only the moving artists on top: all trails as one LineCollection, all current points as one
scatter, the same pair in the loss panel, and the step counter. That is what makes a 200-frame GIF take
about a second instead of a minute (see benchmarks/render.py). Frames are produced on demand, so a writer
can stream them.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import AutoLocator
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gradviz.records import Surface, Trajectory
from gradviz.registry import InvalidArgument
from gradviz.render.counter import StepCounter
from gradviz.render.frames import (small_font, FrameRenderer, check_render_options, colours_uint8, fit_axes, fit_legend,
                                   log_ticks, shrink_text_to_fit, style_axes)
from gradviz.render.geometry import FADE_FRAMES, GeometryLayer
from gradviz.i18n import N_, _
from gradviz.render.theme import Theme, trail_colours

__all__ = ["TrajectoryRenderer", "ContourStage", "contour_levels", "contour_view", "loss_axis", "minima_stars",
           "draw_in_order", "check_render_options"]

MAX_DEFAULT_FRAMES = 300
# Trail i is drawn with DASHES[i]: where trails run together the earlier, wider ones show through the gaps.
DASHES = ("solid", (0, (4, 1.6)), (0, (1.2, 1.4)), (0, (5, 1.5, 1.2, 1.5)), (0, (2.5, 1.5)),
          (0, (6, 1.5, 1.2, 1.5, 1.2, 1.5)), (0, (1, 2.5)), (0, (8, 2)))
LOSS_CLAMP = 1e-12  # f - f* below this is drawn at this value on the log axis (float64 noise, or exactly 0)


class _AboveTheCorner(AutoLocator):
    """The usual ticks, less one on the bottom edge: its label ran into the first x label at slide sizes."""

    def __call__(self) -> list[float]:
        lo, hi = sorted(self.axis.get_view_interval())
        return [t for t in super().__call__() if t > lo + 1e-9 * (hi - lo)]


def clock_total(trajectories: Sequence[Trajectory], clock: str) -> int:
    """Where the frames' clock ends: the longest run asked for, in steps or (clock 'evaluations') in
    function evaluations; the 2-D and 3-D views share it."""
    if clock not in ("steps", "evaluations"):
        raise InvalidArgument(f"invalid clock {clock!r} (valid: steps, evaluations)")
    if clock == "evaluations":
        return max([t.evaluations_requested or t.evaluations_spent for t in trajectories] or [0])
    return max([t.steps_requested or t.steps for t in trajectories] or [0])


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


def surface_title(name: str) -> str:
    """A registry name ('six-hump-camel') -> 'Six hump camel'; a user's function name stays as written."""
    if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
        return name.replace("-", " ").capitalize()
    return name or "f(x, y)"


def contour_colormap(theme: Theme) -> object:
    """The theme's colormap, cut to its `colormap_range`."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    lo, hi = theme.colormap_range
    return ListedColormap(colormaps[theme.colormap](np.linspace(lo, hi, 256)), name=f"{theme.name}-contours")


def marker_paths(markers: Sequence[str]) -> list[object]:
    """Marker names -> paths for one scatter that draws point i with marker i (sizes stay the scatter's)."""
    from matplotlib.markers import MarkerStyle

    paths = []
    for marker in markers:
        style = MarkerStyle(marker)
        paths.append(style.get_path().transformed(style.get_transform()))
    return paths


def contour_view(ax: Any, surface: Surface, theme: Theme, font: float, scale: float, *,
                 ylabel: bool = True) -> bool:
    """Draw the surface's filled contours on `ax` over exactly its extent, with x and y labelled (y only
    where `ylabel`) -> whether the colours are log10(f - f*)."""
    values, levels, is_log = contour_levels(surface)
    ax.contourf(surface.x, surface.y, values, levels=levels, cmap=contour_colormap(theme), extend="both")
    ax.contour(surface.x, surface.y, values, levels=levels[::2], colors=theme.contour_lines,
               linewidths=0.4 * scale, alpha=0.35)
    x0, x1, y0, y1 = surface.extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x", color=theme.foreground, fontsize=font, labelpad=1)
    if ylabel:
        ax.set_ylabel("y", color=theme.foreground, fontsize=font, labelpad=1)
    style_axes(ax, theme, font * 0.85, grid=False)
    # no y label at the bottom corner, where it ran into the first x label at slide sizes ('-1.0-2.0')
    ax.yaxis.set_major_locator(_AboveTheCorner())
    return is_log


# Moving artists of a contour view, bottom to top (blitted in this order, whatever else is drawn): the
# trails, the minima's stars, the current points, and the stars' outlines, so that a star stays in sight
# under a crowd of points and a point that has arrived on its star still shows (the outline crosses it
# with a thin line only).
TRAIL_Z, MINIMUM_Z, HEAD_Z, OUTLINE_Z = 5.0, 5.5, 6.0, 6.5


def minima_stars(ax: Any, surface: Surface, theme: Theme, size: float, *, over_points: bool = False) -> list[Any]:
    """The surface's minima as animated scatters: filled stars (zorder MINIMUM_Z, above the trails and
    below the current points) and their outlines (OUTLINE_Z, above the points); [] where the surface knows
    none. over_points: one filled star above the points instead, for a crowd of points (a bundle, a
    swarm) whose spread around the minimum is the message, not any one point."""
    if not len(surface.minima):
        return []
    x, y = surface.minima[:, 0], surface.minima[:, 1]
    fill = ax.scatter(x, y, marker="*", s=size, c=theme.minimum, edgecolors=theme.foreground, linewidths=0.7,
                      zorder=OUTLINE_Z if over_points else MINIMUM_Z, animated=True)
    if over_points:
        return [fill]
    # the outline: a line in the star's colour bordered in the foreground's, so the star keeps its colour
    # where a point covers its middle (widths grow with the star: 2.2 and 1 pt at 960x540)
    width = np.sqrt(size / 170)
    border = ax.scatter(x, y, marker="*", s=size, facecolors="none", edgecolors=theme.foreground,
                        linewidths=2.2 * width, zorder=OUTLINE_Z, animated=True)
    outline = ax.scatter(x, y, marker="*", s=size, facecolors="none", edgecolors=theme.minimum,
                         linewidths=1.0 * width, zorder=OUTLINE_Z + 0.01, animated=True)
    return [fill, border, outline]


def draw_in_order(ax: Any, artists: Sequence[Any]) -> None:
    """Blit the moving artists (None skipped) onto `ax` in the order of their zorder, as a full draw would."""
    for artist in sorted((a for a in artists if a is not None), key=lambda a: a.get_zorder()):
        ax.draw_artist(artist)


def trail_widths(count: int, width: float) -> np.ndarray:
    """Line widths for `count` trails, widest first: where trails overlap, each later (narrower) trail
    runs inside the earlier ones, which show as a border on both sides."""
    if count <= 1:
        return np.full(count, width)
    return width * np.linspace(2.0, 0.8, count)


def _wrap_label(label: str) -> str:
    """A long legend label on two lines: before 'diverged', else after its last ', ' or ': '."""
    diverged = " " + _(" diverged at step {step}").split()[0]  # ' diverged', in the current language
    if diverged in label:
        return label.replace(diverged, "\n" + diverged, 1)
    if len(label) > 24:
        cut = max(label.rfind(", "), label.rfind(": "))
        if cut > 8:
            return label[:cut + 1] + "\n " + label[cut + 2:]
    return label


def loss_axis(lax: Any, losses: Sequence[np.ndarray], floor: float | None, theme: Theme, font: float,
              scale: float) -> tuple[list[np.ndarray], float | None, Any]:
    """Set up a loss panel's y axis for these loss series -> (the series as drawn, the clamp or None, the
    clamp's note or None): f - f* on a log axis where the floor is known and nothing lies below it, else f.

    A diverging path would stretch the axis to 1e100: it is capped at 100x the highest starting value.
    f - f* of exactly 0 (the minimum reached) or below LOSS_CLAMP is drawn at the clamp, not at the
    smallest positive value, where the curve would seem to stop short, and a dotted line says so.
    """
    series = [np.asarray(y, dtype=float) - floor if floor is not None else np.array(y, dtype=float) for y in losses]
    finite = np.concatenate([s[np.isfinite(s)] for s in series])
    use_log = finite.size > 0 and floor is not None and bool((finite >= 0).all())
    starts = np.array([s[0] for s in series if len(s) and np.isfinite(s[0])])
    cap = float(np.abs(starts).max()) * 100 if starts.size else np.inf
    clamp, note = None, None
    if use_log:
        positive = finite[finite > 0]
        if (finite <= 0).any() or not positive.size or positive.min() < LOSS_CLAMP:
            tiny = LOSS_CLAMP
        else:
            tiny = float(positive.min())
        series = [np.maximum(s, tiny) for s in series]
        lax.set_yscale("log")
        lo, hi = tiny, float(min(max(finite.max(), tiny * 10), max(cap, tiny * 10)))
        lax.set_ylim(lo / 2, hi * 2)
        log_ticks(lax.yaxis, lo / 2, hi * 2)
        lax.set_ylabel("f - f*", color=theme.foreground, fontsize=font * 0.9, labelpad=1)
        if (finite < tiny).any():
            clamp = tiny
            lax.axhline(tiny, color=theme.foreground, lw=0.6 * scale, ls=(0, (2, 2)), alpha=0.6)
            note = lax.set_title(_("values below {v:.0e} drawn at {v:.0e} (dotted)").format(v=tiny), loc="right",
                                 fontsize=small_font(font), color=theme.foreground, pad=3)
    else:
        lo, hi = (float(max(finite.min(), -cap)), float(min(finite.max(), cap))) if finite.size else (-1.0, 1.0)
        pad = 0.05 * (hi - lo or 1.0)
        lax.set_ylim(lo - pad, hi + pad)
        lax.set_ylabel("f", color=theme.foreground, fontsize=font * 0.9, labelpad=1)
    return series, clamp, note


# the counter's words and units, translated where they are drawn
CLOCK_WORDS = (N_("step"), N_("evals"), N_("samples"), N_("evaluations"))


def translated_label(trajectory: Any) -> str:
    """The trajectory's legend label with its name in the current language where the catalog has it (the
    lecture's 'full-batch GD'; registry names such as 'adam' stay as they are typed)."""
    label, name = trajectory.label, trajectory.optimizer
    if trajectory.diverged_at is not None and label.endswith(f" diverged at step {trajectory.diverged_at}"):
        label = label[:label.rindex(" diverged at step ")] + _(" diverged at step {step}").format(
            step=trajectory.diverged_at)
    return _(name) + label[len(name):] if label.startswith(name) else label


class ContourStage(FrameRenderer):
    """What a view over a function's contours shares: the stage's layout (the contour axes on the left,
    a panel top right, the legend under it, the step counter over the contour axes' right end).

    Subclasses set figure, canvas, size, theme, axes, loss_axes (or None), title, step_text, total_steps.
    """

    _clock_word = "step"
    title: Any
    step_text: Any

    def _layout(self, handles: list[Line2D], font: float) -> None:
        """Fit every text inside the image: axes shrink until their labels fit, the step counter follows
        the contour axes, and the legend fills the space left (wrapping, then shrinking, long labels)."""
        fig, ax, lax = self.figure, self.axes, self.loss_axes
        width, height = self.size
        pad = 3.0
        self.step_text.set_text(f"{_(self._clock_word)} {self.total_steps}/{self.total_steps}")
        fit_axes(fig, [ax] + ([lax] if lax is not None else []), pad=pad)
        renderer = self.canvas.get_renderer()
        box = ax.get_position()
        counter = self.step_text.get_window_extent(renderer)
        # the counter sits over the right end of the contour axes, clear of the figure's top
        top = min(box.y1 * height + counter.height * 0.5 + 4, height - pad - counter.height / 2)
        self.step_text.set_position((box.x1, top / height))
        # the title (drawn left) must end before the counter (drawn right) begins
        # (down to the smallest text size: a title that still does not fit is wrapped onto two lines)
        title = self.title
        for _round in range(8):
            if title.get_window_extent(renderer).x1 < box.x1 * width - counter.width - 8:
                break
            if title.get_fontsize() * 0.9 < small_font(font):
                words = title.get_text().split(" ")
                if len(words) > 1 and "\n" not in title.get_text():
                    half = max(1, len(words) // 2)
                    title.set_text(" ".join(words[:half]) + "\n" + " ".join(words[half:]))
                    continue
                break
            title.set_fontsize(title.get_fontsize() * 0.9)
        self.step_text.set_text("")
        left = (lax.get_position().x0 - 0.02) * width if lax is not None else (box.x1 + 0.07) * width
        if lax is not None:
            legend_top = lax.get_tightbbox(renderer).y0 - 10
        else:
            legend_top = 0.89 * height
        # a note printed in the right column (what was tuned, the noise) stays below the legend
        note = getattr(self, "note_text", None)
        bottom = note.get_window_extent(renderer).y1 + 8 if note is not None else pad
        legend_box = (left, bottom, width - pad, legend_top)
        theme = self.theme
        state: dict[str, object] = {}

        def make(fontsize: float, wrap: bool) -> object:
            if "legend" in state:
                state["legend"].remove()  # type: ignore[union-attr]
            labels = [h.get_label() for h in handles]
            if wrap:
                labels = [_wrap_label(label) for label in labels]
            legend = fig.legend(handles=handles, labels=labels, loc="upper left",
                                bbox_to_anchor=(left / width, legend_top / height), frameon=False,
                                fontsize=fontsize, labelcolor=theme.foreground, handlelength=1.8,
                                borderaxespad=0.0)
            legend.set_in_layout(False)
            state["legend"] = legend
            return legend

        self.legend = fit_legend(make, legend_box, font * 0.9)
        shrink_text_to_fit(fig)


class TrajectoryRenderer(ContourStage):
    """Draws trajectories over a surface; `frame(i)` returns frame i as an (H, W, 3) uint8 array.

    trajectories: records from `trace`. surface: the function sampled on a grid (its extent is the view).
    size: (width, height) in pixels; dpi scales text and lines. frames: how many frames (default: one per
    step, at most 300, spread evenly over the steps). loss_panel: plot f - f* (or f) against the step.
    clock: "steps", or "evaluations" to run the frames, the counter and the loss panel's x axis on
    function evaluations (each record at the last point it reached within that many), so methods that
    spend different numbers of evaluations per step appear side by side fairly; the legend then says how
    many each spent. unit: what the evaluations clock counts, in the legend, counter and axis label
    ("samples" for mini-batches compared by the data they read). Direct methods' geometry and evaluated points are drawn by a GeometryLayer.
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
        unit: str = "evaluations",
    ) -> None:
        self.trajectories = list(trajectories)
        self.unit = unit
        if not self.trajectories:
            raise InvalidArgument("nothing to draw: no trajectories given")
        self.total_steps = clock_total(self.trajectories, clock)
        self._configure(size=size, dpi=dpi, theme=theme, frames=frames)
        self.surface = surface
        self.clock = clock
        if frames is None:
            frames = min(self.total_steps + 1, MAX_DEFAULT_FRAMES)
        self.frame_steps = np.unique(np.round(np.linspace(0, self.total_steps, int(frames))).astype(int))
        self._colors = trail_colours(self.trajectories, self.theme)
        self._markers = [self.theme.markers[i % len(self.theme.markers)] for i in range(len(self.trajectories))]
        self._dashes = [DASHES[i % len(DASHES)] for i in range(len(self.trajectories))]
        self._build(float(dpi), loss_panel, title)

    @property
    def _clock_word(self) -> str:
        """The step counter's word: 'step', 'evals', or the unit ('samples')."""
        if self.clock != "evaluations":
            return "step"
        return "evals" if self.unit == "evaluations" else self.unit

    # -- the stage: drawn once --------------------------------------------------------------------------

    def _build(self, dpi: float, loss_panel: bool, title: str | None) -> None:
        theme, surface = self.theme, self.surface
        fig, scale, font = self._new_figure(dpi)

        ax = fig.add_axes((0.065, 0.09, 0.50, 0.80))
        is_log = contour_view(ax, surface, theme, font, scale)
        x0, x1, y0, y1 = surface.extent
        handles = []
        # the minima are drawn in every frame above the trails, which would otherwise bury them, and below
        # the current points: a method that has arrived sits on its star (the star is larger, so it shows
        # around the point)
        in_view = [m for m in surface.minima if x0 <= m[0] <= x1 and y0 <= m[1] <= y1]
        self.minima_markers = minima_stars(ax, surface, theme, 170 * scale**2)
        if self.minima_markers:
            handles.append(Line2D([], [], ls="", marker="*", ms=11 * scale, color=theme.minimum,
                                  markeredgecolor=theme.foreground, markeredgewidth=0.7,
                                  label=_("global minima") if len(in_view) > 1 else _("global minimum")))
        starts = np.array([t.points[0] for t in self.trajectories])
        ax.scatter(starts[:, 0], starts[:, 1], s=45 * scale**2, facecolors="none", edgecolors=self._colors,
                   linewidths=1.4 * scale, zorder=4)
        self._widths = trail_widths(len(self.trajectories), 1.9 * scale)
        for trajectory, color, marker, dashes in zip(self.trajectories, self._colors, self._markers, self._dashes):
            label = translated_label(trajectory)
            if self.clock == "evaluations":
                label += f", {trajectory.evaluations_spent} {_(self.unit)}"
            handles.append(Line2D([], [], color=color, lw=2.2 * scale, marker=marker, ms=5.5 * scale, ls=dashes,
                                  markeredgecolor=theme.background, markeredgewidth=0.6 * scale, label=label))
        name = title if title is not None else surface_title(surface.name)
        self.title = ax.set_title(name + (" " + _("(log colours)") if is_log else ""), color=theme.foreground,
                                  fontsize=font * 1.15, loc="left", pad=4)

        self.axes = ax
        # Trails that run together (several optimizers down one valley) stay visible: earlier trails are
        # wider and solid, later ones narrower and dashed, so the ones below show at the sides and through
        # the gaps.
        self.trails = LineCollection([], colors=self._colors, linewidths=self._widths, linestyles=self._dashes,
                                     capstyle="butt", joinstyle="round", animated=True, zorder=TRAIL_Z)
        ax.add_collection(self.trails, autolim=False)
        self.heads = ax.scatter(starts[:, 0], starts[:, 1], s=60 * scale**2, c=self._colors,
                                edgecolors=theme.background, linewidths=0.9 * scale, animated=True, zorder=HEAD_Z)
        self.heads.set_paths(marker_paths(self._markers))
        self.geometry = GeometryLayer(ax, self.trajectories, self._colors, scale)

        self.loss_axes = None
        if loss_panel:
            self._build_loss_panel(fig, font, scale)
        # top right of the contour axes: the changing pixels of a frame stay in one compact rectangle
        self.step_text = fig.text(0.565, 0.915, "", ha="right", va="center", color=theme.foreground,
                                  fontsize=font * 1.1, family="monospace", animated=True)
        self._layout(handles, font)
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, self.step_text, self.canvas.copy_from_bbox(fig.bbox),
                                   self.total_steps, word=_(self._clock_word))
        self._background = self.counter.background

    def restage(self) -> None:
        """Copy the static background again after drawing more on it (a gradient field, other labels)."""
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, self.step_text, self.canvas.copy_from_bbox(self.figure.bbox),
                                   self.total_steps, word=_(self._clock_word))
        self._background = self.counter.background

    def _build_loss_panel(self, fig: Figure, font: float, scale: float) -> None:
        theme, surface = self.theme, self.surface
        lax = fig.add_axes((0.655, 0.54, 0.325, 0.35))
        series, self.loss_clamp, note = loss_axis(lax, [t.losses for t in self.trajectories], surface.floor, theme,
                                                  font, scale)
        if note is not None:
            self.loss_clamp_note = note
        lax.set_xlim(0, max(1, self.total_steps))
        lax.set_xlabel(_(self.unit if self.clock == "evaluations" else "step"), color=theme.foreground,
                       fontsize=font * 0.9, labelpad=1)
        lax.grid(True, color=theme.grid, linewidth=0.5 * scale, alpha=0.7)
        self._style(lax, font)
        self.loss_axes = lax
        self._loss_series = [np.column_stack([t.evaluations if self.clock == "evaluations" else np.arange(len(s)), s])
                             for t, s in zip(self.trajectories, series)]
        self.loss_lines = LineCollection([], colors=self._colors, linewidths=self._widths * 0.8,
                                         linestyles=self._dashes, animated=True)
        lax.add_collection(self.loss_lines, autolim=False)
        heads = np.array([s[0] for s in self._loss_series])
        self.loss_heads = lax.scatter(heads[:, 0], heads[:, 1], s=24 * scale**2, c=self._colors, animated=True,
                                      zorder=4)
        self.loss_heads.set_paths(marker_paths(self._markers))

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
        draw_in_order(self.axes, [self.trails, self.heads, *self.minima_markers])
        if self.geometry.active:
            self.geometry.draw_shapes(ends)
        if self.loss_axes is not None:
            self.loss_lines.set_segments([s[: end + 1] for s, end in zip(self._loss_series, ends)])
            self.loss_heads.set_offsets(np.array([s[end] for s, end in zip(self._loss_series, ends)]))
            self.loss_axes.draw_artist(self.loss_lines)
            self.loss_axes.draw_artist(self.loss_heads)
        return step

    def _repr_html_(self) -> str:
        """In a notebook the renderer shows itself as its animation: an inline GIF at 15 fps."""
        import base64
        import tempfile
        from pathlib import Path

        from gradviz.output import write_animation

        with tempfile.TemporaryDirectory() as folder:
            path = write_animation(iter(self), Path(folder) / "animation.gif", n_frames=self.n_frames, fps=15,
                                   palette_sample=self.palette_sample(), key_colours=self.key_colours())
            data = base64.b64encode(path.read_bytes()).decode("ascii")
        width, height = self.size
        return f'<img src="data:image/gif;base64,{data}" width="{width}" height="{height}"/>'

    def key_colours(self) -> np.ndarray:
        """(k, 3) uint8: the colours of trails, markers and text, which a palette must keep exact."""
        theme = self.theme
        return colours_uint8([*self._colors, theme.minimum, theme.foreground, theme.background, theme.grid])

