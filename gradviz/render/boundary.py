"""Decision boundaries evolving over training, side by side: one panel per run, same data, same scale.

Each panel shades the class probabilities on the grid in a few flat bands (the most likely class's
colour, stronger where the net is more confident: for two classes, p of the winner in 0.5-0.67, 0.67-0.83
and 0.83-1), draws the boundary (p = 0.5, or where the most likely class changes) and the training points. Flat bands
read like contour maps and keep a GIF small: between frames only the pixels near a moving band edge
change, and the GIF writer stores only those. A strip below plots every run's training loss and accuracy
as they grow, and, with held-out data, the validation loss and accuracy dashed beside them. The training
curves are either every step's, as the optimizer saw them (with dropout on, on its mini-batch), or, for
comparisons that dropout would skew, the recorded steps' in eval mode on the whole training set. Axes,
titles and ticks are drawn once; a frame redraws the shading, boundaries, points and curves.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from contourpy import contour_generator
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb

from gradviz.i18n import _
from gradviz.records import TrainingRun
from gradviz.registry import InvalidArgument
from gradviz.render.counter import StepCounter
from gradviz.render.theme import THEMES, Theme, trail_colours
from gradviz.render.frames import (small_font, FrameRenderer, check_render_options, colours_uint8, fit_axes,
                                   log_ticks, shrink_text_to_fit, style_axes)

__all__ = ["BoundaryRenderer", "shade", "shade_bands", "upsample", "boundary_lines", "wrap_text", "CLASS_COLOURS"]

CLASS_COLOURS = ("#2166ac", "#d6604d", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
MAX_PANELS = 8
TRAINING_CURVES = ("steps", "eval")
BANDS = 3  # confidence bands of the shading: few, so that only band edges change between frames


def shade(probabilities: np.ndarray, colours: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(gy, gx, k) probabilities -> (gy, gx, 3) floats: the class colours mixed by probability, washed
    towards the background where the net is unsure, so confident regions read strongest."""
    mixed = probabilities @ colours
    confidence = (probabilities.max(axis=-1, keepdims=True) * probabilities.shape[-1] - 1) / (probabilities.shape[-1] - 1)
    weight = 0.25 + 0.45 * np.clip(confidence, 0.0, 1.0)
    return np.clip(background + weight * (mixed - background), 0.0, 1.0)


def upsample(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """(gy, gx, k) grid values -> (height, width, k) by bilinear interpolation (grid corners on pixel
    centres at the image's edges), so bands computed from it have smooth, pixel-exact edges."""
    gy, gx = values.shape[:2]
    ys, xs = np.linspace(0, gy - 1, height), np.linspace(0, gx - 1, width)
    y0, x0 = np.minimum(ys.astype(int), gy - 2) if gy > 1 else np.zeros(height, int), \
        np.minimum(xs.astype(int), gx - 2) if gx > 1 else np.zeros(width, int)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    y1, x1 = np.minimum(y0 + 1, gy - 1), np.minimum(x0 + 1, gx - 1)
    top = values[y0][:, x0] * (1 - fx) + values[y0][:, x1] * fx
    bottom = values[y1][:, x0] * (1 - fx) + values[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def shade_bands(probabilities: np.ndarray, colours: np.ndarray, background: np.ndarray,
                bands: int = BANDS) -> np.ndarray:
    """(h, w, k) probabilities -> (h, w, 3) floats in `bands` flat bands per class: the most likely
    class's colour, washed towards the background by how unsure the net is (its confidence, 0 where the
    classes tie and 1 where one is certain, cut into `bands` equal steps)."""
    k = probabilities.shape[-1]
    winner = probabilities.argmax(axis=-1)
    confidence = (probabilities.max(axis=-1) * k - 1) / (k - 1)
    band = np.minimum((np.clip(confidence, 0.0, 1.0) * bands).astype(int), bands - 1)
    weight = 0.25 + 0.45 * (band + 0.5) / bands
    return np.clip(background + weight[..., None] * (colours[winner] - background), 0.0, 1.0)


def wrap_text(text: Any, width_px: float, renderer: Any) -> None:
    """Re-break a Text's lines at spaces so that none is wider than `width_px` pixels as drawn (a single
    word wider than that keeps a line of its own)."""
    out = []
    for paragraph in text.get_text().split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            text.set_text(trial)
            if line and text.get_window_extent(renderer).width > width_px:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    text.set_text("\n".join(out))


def boundary_lines(probabilities: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Polylines where the most likely class changes (p = 0.5 for two classes)."""
    lines: list[np.ndarray] = []
    k = probabilities.shape[-1]
    for c in range(1 if k == 2 else k):
        others = np.delete(probabilities, c, axis=-1).max(axis=-1)
        margin = probabilities[..., c] - others
        if margin.min() >= 0 or margin.max() <= 0:
            continue
        generator = contour_generator(x, y, margin)
        lines.extend(line for line in generator.lines(0.0) if len(line) > 1)
    return lines


class BoundaryRenderer(FrameRenderer):
    """Renders TrainingRuns as frames; `frame(i)` -> (H, W, 3) uint8, one frame per recorded step."""

    def __init__(self, runs: Sequence[TrainingRun], *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                 theme: str | Theme = "light", frames: int | None = None, title: str | None = None,
                 bands: int = BANDS, training_curve: str = "steps") -> None:
        """bands: confidence bands of the shading (a few keep GIFs small; 0 for the smooth shading).
        training_curve: 'steps' (the loss and accuracy of every step, in training mode, as the optimizer saw
        them) or 'eval' (at the recorded steps, in eval mode on the whole training set: dropout off)."""
        if training_curve not in TRAINING_CURVES:
            raise InvalidArgument(f"invalid training_curve: {training_curve!r} (valid: {', '.join(TRAINING_CURVES)})")
        self.training_curve = training_curve
        self.runs = list(runs)
        if not self.runs:
            raise InvalidArgument("nothing to draw: no training runs given")
        if len(self.runs) > MAX_PANELS:
            raise InvalidArgument(f"too many runs side by side: {len(self.runs)} (at most {MAX_PANELS})")
        check_render_options(size=size, dpi=dpi, frames=frames)
        steps = self.runs[0].record_steps
        if any(not np.array_equal(r.record_steps, steps) for r in self.runs):
            raise InvalidArgument("runs drawn side by side need the same recorded steps")
        self.size = (int(size[0]), int(size[1]))
        self.theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)
        count = len(steps) if frames is None else min(int(frames), len(steps))
        self.frame_records = np.unique(np.round(np.linspace(0, len(steps) - 1, count)).astype(int))
        self.total_steps = int(steps[-1])
        self.bands = int(bands)
        self.validation = any(np.isfinite(r.val_loss).any() for r in self.runs)
        self._build(float(dpi), title)

    @property
    def n_frames(self) -> int:
        return len(self.frame_records)

    def _build(self, dpi: float, title: str | None) -> None:
        fig, scale, font = self._new_figure(dpi)
        # the counter at the top right, the title left of it, wrapped to the room between; the panels start
        # below the title's last line
        text = fig.text(0.98, 0.965, f"{_('step')} {self.total_steps}/{self.total_steps}", ha="right", va="center",
                        color=self.theme.foreground, fontsize=font * 1.05, family="monospace", animated=True)
        below = self._build_title(fig, text, title, font, scale)
        self._build_panels(fig, below, font, scale)
        lax, aax = self._build_curves(fig, font, scale)
        n = len(self.runs)
        if n > 1:  # the curves' colours name the panels
            for (ax, *_rest), colour in zip(self.panels, self._colors):
                ax.title.set_color(colour)
        fit_axes(fig, [lax, aax], pad=3.0)
        shrink_text_to_fit(fig)
        text.set_text("")
        self.canvas.draw()
        self._pixels = [(max(2, int(round(ax.bbox.height))), max(2, int(round(ax.bbox.width))))
                        for ax, *_ in self.panels]
        self.counter = StepCounter(self.canvas, text, self.canvas.copy_from_bbox(fig.bbox), self.total_steps)
        self._background = self.counter.background


    def _build_title(self, fig: Any, text: Any, title: str | None, font: float, scale: float) -> float:
        """The title left of the step counter, wrapped to the room between -> the height its lines after the
        first take, as a fraction of the figure's."""
        theme = self.theme
        width, height = self.size
        below = 0.0
        self.heading = None
        if title:
            renderer = self.canvas.get_renderer()
            self.heading = heading = fig.text(0.02, 0.965, title, color=theme.foreground, fontsize=font * 1.1, va="center")
            wrap_text(heading, text.get_window_extent(renderer).x0 - 0.02 * width - 12 * scale, renderer)
            lines = heading.get_text().count("\n") + 1
            if lines > 1:
                line = heading.get_window_extent(renderer).height / lines
                heading.set_verticalalignment("top")
                heading.set_y(0.965 + line / 2 / height)
                below = (lines - 1) * line / height
        return below

    def _build_panels(self, fig: Any, below: float, font: float, scale: float) -> None:
        """One panel per run: the class probabilities as an image, the boundary, the points."""
        theme, runs = self.theme, self.runs
        width, height = self.size
        n = len(runs)
        columns = n if n <= 4 else math.ceil(n / 2)
        rows = 1 if n <= 4 else 2
        top, bottom_of_panels = 0.90 - below, 0.36
        gap = 0.02
        panel_h = (top - bottom_of_panels - 0.05 * (rows - 1)) / rows
        # no wider than 1.3 times its height in pixels, the row centred
        panel_w = min((0.96 - gap * (columns - 1)) / columns, 1.3 * panel_h * height / width)
        left = 0.5 - (columns * panel_w + gap * (columns - 1)) / 2
        background = np.array(to_rgb(theme.background))
        classes = runs[0].classes
        self._colours = np.array([to_rgb(CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in range(classes)])
        self._background_rgb = background
        self.panels = []
        for index, run in enumerate(runs):
            row, column = divmod(index, columns)
            ax = fig.add_axes((left + column * (panel_w + gap), top - (row + 1) * panel_h - row * 0.05,
                               panel_w, panel_h))
            x, y = run.grid_x, run.grid_y
            image = ax.imshow(shade(run.probabilities[0], self._colours, background), origin="lower",
                              extent=(x[0], x[-1], y[0], y[-1]), aspect="auto", animated=True,
                              interpolation="nearest" if self.bands else "bilinear")
            lines = LineCollection([], colors=theme.foreground, linewidths=1.8 * scale, animated=True)
            ax.add_collection(lines, autolim=False)
            points = ax.scatter(run.X[:, 0], run.X[:, 1], s=11 * scale**2, c=self._colours[run.y],
                                edgecolors=theme.background, linewidths=0.4 * scale, animated=True)
            ax.set_xlim(x[0], x[-1])
            ax.set_ylim(y[0], y[-1])
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(theme.grid)
            ax.set_title(run.label, color=theme.foreground, fontsize=font * (0.95 if n <= 3 else 0.8), pad=3)
            self.panels.append((ax, image, lines, points))

    def _build_curves(self, fig: Any, font: float, scale: float) -> tuple[Any, Any]:
        """The loss and accuracy axes under the panels, one coloured curve per run (dashed: validation)."""
        theme, runs = self.theme, self.runs
        self._colors = trail_colours(runs, theme)
        self.loss_axes = lax = fig.add_axes((0.07, 0.08, 0.40, 0.2))
        self.accuracy_axes = aax = fig.add_axes((0.57, 0.08, 0.40, 0.2))
        steps = np.arange(len(runs[0].loss))
        record_steps = runs[0].record_steps
        if self.training_curve == "eval":
            loss_at, losses, accuracies = record_steps, [r.train_eval_loss for r in runs], \
                [r.train_eval_accuracy for r in runs]
        else:
            loss_at, losses, accuracies = steps, [r.loss for r in runs], [r.accuracy for r in runs]
        finite = np.concatenate([v[np.isfinite(v)] for v in losses]
                                + [r.val_loss[np.isfinite(r.val_loss)] for r in runs])
        positive = finite[finite > 0]
        lo = max(float(positive.min()) if positive.size else 1e-4, 1e-6)
        hi = float(positive.max()) if positive.size else 1.0
        lax.set_yscale("log")
        lax.set_ylim(lo / 1.5, max(hi, lo * 10) * 1.5)
        log_ticks(lax.yaxis, lo / 1.5, max(hi, lo * 10) * 1.5)
        aax.set_ylim(0.0, 1.02)
        names = self._curve_names()
        for axis, name in zip((lax, aax), names):
            axis.set_xlim(0, max(1, len(steps) - 1))
            style_axes(axis, theme, small_font(font))
            axis.set_xlabel(_("step"), color=theme.foreground, fontsize=small_font(font), labelpad=1)
            axis.set_title(name, color=theme.foreground, fontsize=font * 0.85, loc="left", pad=2)
        self.loss_floor = lo  # losses below it (or zero) are drawn on it
        self._loss = [np.column_stack([loss_at, np.maximum(v, lo)]) for v in losses]
        self._accuracy = [np.column_stack([loss_at, v]) for v in accuracies]
        self.loss_lines = LineCollection([], colors=self._colors, linewidths=1.5 * scale, animated=True)
        self.accuracy_lines = LineCollection([], colors=self._colors, linewidths=1.5 * scale, animated=True)
        lax.add_collection(self.loss_lines, autolim=False)
        aax.add_collection(self.accuracy_lines, autolim=False)
        self._val_loss = [np.column_stack([record_steps, np.maximum(r.val_loss, lo)]) for r in runs]
        self._val_accuracy = [np.column_stack([record_steps, r.val_accuracy]) for r in runs]
        self.val_loss_lines = LineCollection([], colors=self._colors, linewidths=1.5 * scale, linestyles="dashed",
                                             animated=True)
        self.val_accuracy_lines = LineCollection([], colors=self._colors, linewidths=1.5 * scale,
                                                 linestyles="dashed", animated=True)
        lax.add_collection(self.val_loss_lines, autolim=False)
        aax.add_collection(self.val_accuracy_lines, autolim=False)
        return lax, aax

    def _draw(self, index: int) -> int:
        record = int(self.frame_records[index])
        step = int(self.runs[0].record_steps[record])
        for run, (ax, image, lines, points), pixels in zip(self.runs, self.panels, self._pixels):
            probabilities = run.probabilities[record]
            if self.bands:  # banded at the panel's pixel size: imshow then draws it without resampling
                image.set_data(shade_bands(upsample(probabilities, *pixels), self._colours, self._background_rgb,
                                           self.bands))
            else:
                image.set_data(shade(probabilities, self._colours, self._background_rgb))
            lines.set_segments(boundary_lines(probabilities, run.grid_x, run.grid_y))
            ax.draw_artist(image)
            ax.draw_artist(lines)
            ax.draw_artist(points)
        upto = int(np.searchsorted(self.runs[0].record_steps, step, side="right"))
        if self.training_curve == "eval":
            ends = [upto] * len(self.runs)
        else:
            ends = [min(step, len(r.loss) - 1) + 1 for r in self.runs]
        self.loss_lines.set_segments([s[:e] for s, e in zip(self._loss, ends)])
        self.accuracy_lines.set_segments([s[:e] for s, e in zip(self._accuracy, ends)])
        self.loss_axes.draw_artist(self.loss_lines)
        self.accuracy_axes.draw_artist(self.accuracy_lines)
        if self.validation:
            self.val_loss_lines.set_segments([s[:upto] for s in self._val_loss])
            self.val_accuracy_lines.set_segments([s[:upto] for s in self._val_accuracy])
            self.loss_axes.draw_artist(self.val_loss_lines)
            self.accuracy_axes.draw_artist(self.val_accuracy_lines)
        return step

    def _curve_names(self) -> tuple[str, str]:
        """The strip's two titles, saying which curve is which (solid/dashed) and how training is measured."""
        if self.validation:
            training = _("training, dropout off") if self.training_curve == "eval" else _("training")
            return (_("loss (solid: {training}; dashed: held-out)").format(training=training),
                    _("accuracy (solid: {training}; dashed: held-out)").format(training=training))
        if self.training_curve == "eval":
            return _("training loss (dropout off)"), _("training accuracy (dropout off)")
        return _("training loss"), _("training accuracy")

    def key_colours(self) -> np.ndarray:
        theme = self.theme
        return colours_uint8([*self._colors, *self._colours, theme.foreground, theme.background])
