"""Gradient-flow figures and animations from GradientLogs (matplotlib only).

Plot functions follow seaborn's shape: they take `ax=None`, draw on it (or on pyplot's current Axes), pass
`**kwargs` to the one matplotlib call they wrap, and return the Axes. Layers are always in depth order
(input first) and norms on log axes: vanishing and exploding are straight lines there.
"""

from __future__ import annotations

import warnings

from typing import Any, Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from gradviz.render.choices import PANELS
from gradviz.analysis.diagnosis import depth_profile, diagnose, step_index, step_phrase
from gradviz.i18n import _
from gradviz.records import GradientLog
from gradviz.registry import InvalidArgument
from gradviz.render.counter import StepCounter
from gradviz.render.frames import (small_font, FrameRenderer, check_render_options, colours_uint8, fit_axes,
                                   shrink_text_to_fit, style_axes, text_scale, RENDER_DPI)
from gradviz.render.layout import RoundedConstrainedLayout
from gradviz.render.theme import Theme

__all__ = ["plot_depth_profile", "plot_heatmap", "plot_bars", "plot_clipping", "plot_update_ratio", "plot_grid",
           "summary_figure", "GradflowRenderer", "caveat"]

SIGNAL_COLOUR, WEIGHT_COLOUR, THEORY_COLOUR = "#d62728", "#1f77b4", "#555555"
LOSS_COLOURS = ("#e69f00", "#009e73", "#cc79a7", "#8c564b", "#7f7f7f")


def _axes(ax: Axes | None) -> Axes:
    """ax, or pyplot's current Axes (as seaborn does), so a notebook shows the plot inline."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


FEW_LAYERS = 12  # up to this many, every layer is named on the axis; past it, module blocks are
LABEL_CHARACTERS = 22  # a longer name keeps its end ('…attention.self.query'): the end says what the layer is


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARACTERS else "\u2026" + name[-(LABEL_CHARACTERS - 1):]


def layer_blocks(names: Sequence[str]) -> list[tuple[int, str]]:
    """The module blocks of a network's layer names, in depth order: [(index of the block's first layer,
    its short name)]. A block is the name up to its first number that has more after it ('layer3.1' of
    'layer3.1.conv2', 'encoder.layer.0' of a BERT layer, 'h.0' of GPT-2's), else its parent module
    ('bert.embeddings', 'block0' of 'block0.3'), else the name itself; its short name keeps the number and the part before it ('layer.0') or the last part
    ('embeddings')."""
    blocks: list[tuple[int, str]] = []
    last = None
    for index, name in enumerate(names):
        parts = name.split(".")
        # a number with more after it: 'layer3.1' of 'layer3.1.conv2'; a trailing one indexes the layer itself
        cut = next((k for k, part in enumerate(parts[:-1]) if part.isdigit()), None)
        key = parts[:cut + 1] if cut is not None else parts[:-1] if len(parts) > 1 else parts
        if key != last:
            short = ".".join(key[-2:]) if key[-1].isdigit() and len(key) > 1 else key[-1]
            blocks.append((index, short))
            last = key
    return blocks


def _layer_ticks(ax: Axes, log: GradientLog, axis: str = "x", fontsize: float | None = None) -> None:
    """Layer names on the depth axis, readable at any depth: every name for a few layers; past FEW_LAYERS, a
    minor tick per layer, light separators between module blocks, and each block named where it starts when
    that is far enough from the last name shown (the distance from the axis's length in pixels and the font),
    so that 20 or 300 layers never overlap at 960x540."""
    names = list(log.names)
    font = fontsize if fontsize is not None else small_font()
    positions = range(1, len(names) + 1)
    along = ax.xaxis if axis == "x" else ax.yaxis
    label = _("layer (input → output)") if axis == "x" else _("layer (input at top)")
    if len(names) <= FEW_LAYERS:
        along.set_ticks(list(positions))
        rotate = axis == "x" and len(names) > 6
        along.set_ticklabels([_short(n) for n in names], fontsize=font, rotation=45 if rotate else 0,
                             ha="right" if rotate else ("center" if axis == "x" else "right"),
                             rotation_mode="anchor" if rotate else "default")
    else:
        blocks = layer_blocks(names)
        marks = blocks if len(blocks) >= 3 else [(i, _short(n)) for i, n in enumerate(names)]
        room = ax.get_window_extent().width if axis == "x" else ax.get_window_extent().height
        pixels = font * ax.figure.dpi / 72
        # 45-degree labels need about 2 font heights of axis each, horizontal ones a line's height: in layers,
        # at this axis length; a block is named only that far past the last one named
        gap = pixels * (2.0 if axis == "x" else 1.4) / max(0.85 * room / len(names), 1e-9)
        shown: list[tuple[int, str]] = []
        for start, text in marks:
            if not shown or start - shown[-1][0] >= gap:
                shown.append((start, text))
        along.set_ticks([i + 1 for i, _ in shown])
        along.set_ticklabels([text for _, text in shown], fontsize=font, rotation=45 if axis == "x" else 0,
                             ha="right", rotation_mode="anchor" if axis == "x" else "default")
        grouped = 3 <= len(blocks) <= len(names) / 2  # blocks of several layers: worth a separator each
        if len(names) <= 100:
            along.set_ticks(list(positions), minor=True)
        if grouped:
            separate = ax.axvline if axis == "x" else ax.axhline
            for start, _name in blocks[1:]:
                separate(start + 0.5, color="#999999", lw=0.5, alpha=0.5, zorder=0)
        if axis == "x":
            label = (_("{n} layers, input → output (module blocks named)") if grouped
                     else _("{n} layers, input → output (some named)")).format(n=len(names))
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)


def _positive(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def plot_depth_profile(log: GradientLog, *, step: int | None = None, ax: Axes | None = None, theory: bool = True,
                       **kwargs: Any) -> Axes:
    """Gradient norm per layer on a log axis: backward signal ||dL/dz|| and weight gradient ||dL/dW||.

    step: the training step (default: the first recorded, the initialization, where the theory holds; the
    legend says which). theory: the expected per-layer factor from the log's meta, drawn dashed from the
    last layer back. kwargs go to the signal line's plot call.
    """
    ax = _axes(ax)
    depth = np.arange(1, len(log.names) + 1)
    signal = _positive(depth_profile(log, "signal", step=step))
    weight = _positive(depth_profile(log, "weight", step=step))
    ax.plot(depth, signal, marker="o", color=kwargs.pop("color", SIGNAL_COLOUR), label=_("backward signal ||dL/dz||"),
            **kwargs)
    ax.plot(depth, weight, marker="s", ls="--", color=WEIGHT_COLOUR, lw=1.2, label=_("weight gradient ||dL/dW||"))
    factor = log.meta.get("factor")
    if theory and factor and np.isfinite(signal[-1]):
        expected = signal[-1] * float(factor) ** (depth[-1] - depth)
        ax.plot(depth, expected, ls=(0, (4, 3)), color=THEORY_COLOUR, lw=1.2,
                label=(_("theory: x{factor:.2g} per layer") if log.steps[step_index(log, step)] == 0
                       else _("theory (for init): x{factor:.2g} per layer")).format(factor=float(factor)))
    missing = [i for i, name in enumerate(log.names) if not log.has_gradient[name].any()]
    for i in missing:
        ax.annotate(_("no gradient"), (depth[i], 0.02), xycoords=("data", "axes fraction"), ha="center",
                    fontsize=small_font(), color=THEORY_COLOUR, rotation=90)
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(NullFormatter())
    _layer_ticks(ax, log)
    ax.set_ylabel(_("gradient norm"))
    ax.grid(True, which="major", alpha=0.3)
    if len(log.names) > FEW_LAYERS:  # a deep net's points fill the axes: the legend goes beside them
        ax.legend(fontsize=small_font(), frameon=False, title=step_phrase(log, step), title_fontsize=small_font(),
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=small_font(), frameon=False, title=step_phrase(log, step), title_fontsize=small_font())
    return ax


def plot_heatmap(log: GradientLog, *, quantity: str = "signal", ax: Axes | None = None, colorbar: bool = True,
                 mark: int | None = None, **kwargs: Any) -> Axes:
    """Layers x steps image of log10 norms, depth order top to bottom; mark: a step to outline (the one a
    profile beside it shows). kwargs go to imshow."""
    ax = _axes(ax)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log10(_positive(log.matrix(quantity)))
    from matplotlib import colormaps

    cmap = colormaps[kwargs.pop("cmap", "magma")].with_extremes(bad="#c8c8c8")  # grey: non-finite or no gradient
    steps = log.steps
    half = (float(steps[1] - steps[0]) if len(steps) > 1 else 1.0) / 2
    image = ax.imshow(values, aspect="auto", interpolation="nearest", origin="upper",
                      extent=(steps[0] - half, steps[-1] + half, len(log.names) + 0.5, 0.5) if len(steps) else None,
                      cmap=cmap, **kwargs)
    if mark is not None and len(steps):
        at = float(steps[step_index(log, mark)])
        ax.axvspan(at - half, at + half, fill=False, edgecolor="#1f77b4", lw=1.5)
    _layer_ticks(ax, log, axis="y")
    ax.set_xlabel(_("step"))
    if colorbar:
        # two short lines: one long label ran past the figure's edge beside a short colourbar
        ax.figure.colorbar(image, ax=ax,
                           label=_("log10 {quantity} norm\n(grey: none or non-finite)").format(quantity=_(quantity)))
    return ax


def plot_bars(log: GradientLog, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The classic per-layer bars: mean and max weight-gradient norm over steps (log axis)."""
    ax = _axes(ax)
    depth = np.arange(1, len(log.names) + 1)
    matrix = _positive(log.matrix("weight"))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN layer (no gradient) has no mean
        mean, peak = np.nanmean(matrix, axis=1), np.nanmax(matrix, axis=1)
    ax.bar(depth, peak, color="#9ecae1", label=_("max over steps"), width=0.8)
    ax.bar(depth, mean, color=WEIGHT_COLOUR, label=_("mean over steps"), width=0.5, **kwargs)
    ax.set_yscale("log")
    _layer_ticks(ax, log)
    ax.set_ylabel("||dL/dW||")
    ax.legend(fontsize=small_font(), frameon=False)
    return ax


def plot_clipping(log: GradientLog, *, threshold: float | None = None, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Total gradient norm before and after clipping against the step, with the threshold."""
    ax = _axes(ax)
    threshold = threshold if threshold is not None else log.meta.get("clip")
    ax.plot(log.steps, log.total_norm, color=SIGNAL_COLOUR, label=_("before clipping"), **kwargs)
    ax.plot(log.steps, log.total_norm_clipped, color=WEIGHT_COLOUR, ls="--", label=_("after (what the optimizer saw)"))
    if threshold:
        ax.axhline(threshold, color=THEORY_COLOUR, ls=":", label=_("threshold {threshold:g}").format(threshold=threshold))
    ax.set_yscale("log")
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("total gradient norm"))
    ax.legend(fontsize=small_font(), frameon=False)
    return ax


def plot_update_ratio(log: GradientLog, *, ax: Axes | None = None, band: tuple[float, float] = (3e-4, 3e-3),
                      **kwargs: Any) -> Axes:
    """||update|| / ||W|| per layer against the step, with the usual ~1e-3 reference band."""
    ax = _axes(ax)
    ax.axhspan(*band, color="#2ca02c", alpha=0.12, label=_("~1e-3: a healthy learning rate"))
    colours = _depth_colours(len(log.names))
    named = len(log.names) <= 4  # more layers: the colour runs from the first to the last, and only they are named
    for index, (name, colour) in enumerate(zip(log.names, colours)):
        label = name if named or index in (0, len(log.names) - 1) else None
        if not named and index == 0:
            label = _("{name} (input end)").format(name=name)
        ax.plot(log.steps, _positive(log.update_ratios[name]), color=colour, lw=1.0, label=label, **kwargs)
    ax.set_yscale("log")
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("update / weight"))
    ax.legend(fontsize=small_font(), frameon=False)
    return ax


def _depth_colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(1, n - 1)) for i in range(n)]


def _shared_limits(logs: Sequence[GradientLog], step: int | None = None) -> tuple[float, float]:
    values = np.concatenate([np.concatenate([_positive(depth_profile(log, q, step=step)) for q in ("signal", "weight")])
                             for log in logs])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 1e-3, 1.0
    return float(values.min()) / 3, float(values.max()) * 3


SCALE_FREE = ("adam", "adamw", "rmsprop", "adagrad", "adadelta", "adabelief")  # steps ~ lr whatever |g|


def caveat(log: GradientLog, step: int | None = None) -> str:
    """What a verdict does not say on its own: a ReLU net under PyTorch's default init (not He's), and, past
    the initialization, an optimizer whose steps do not depend on the gradient's scale ('' when neither)."""
    notes = []
    if log.meta.get("activation") == "relu" and log.meta.get("init") == "default":
        notes.append(_("PyTorch's default init, not He's"))
    optimizer = str(log.meta.get("optimizer", ""))
    if step and optimizer in SCALE_FREE:
        notes.append(_("{optimizer}'s steps do not depend on the gradient's scale").format(optimizer=optimizer))
    return "; ".join(notes)


def plot_grid(logs: Sequence[GradientLog], *, columns: int | None = None, figure: Figure | None = None,
              step: int | None = None) -> Figure:
    """Small multiples of depth profiles (one per log) on one shared log scale, each with its diagnosis, at
    `step` (default: initialization)."""
    if not logs:
        raise InvalidArgument("nothing to draw: no gradient logs given")
    columns = columns or (len(logs) if len(logs) <= 5 else 4)
    rows = int(np.ceil(len(logs) / columns))
    if figure is None:  # a pyplot figure, so a notebook shows it inline
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(4.0 * columns, 3.4 * rows), dpi=100, layout="constrained")
    axes = figure.subplots(rows, columns, sharey=True, squeeze=False).ravel()
    low, high = _shared_limits(logs, step)
    for ax, log in zip(axes, logs):
        plot_depth_profile(log, ax=ax, step=step)
        ax.set_ylim(low, high)
        verdict = diagnose(log, step=step)
        detail = _(", first/last {ratio:.2g}").format(ratio=verdict.ratio) if verdict.layers >= 2 else ""
        note = caveat(log, step)
        ax.set_title(f"{log.label}\n{_(verdict.verdict)}{detail}" + (f"\n({note})" if note else ""), fontsize="medium")
        if ax is not axes[0]:
            ax.get_legend().remove()
    for ax in axes[len(logs):]:
        ax.set_visible(False)
    return figure


def summary_figure(logs: Sequence[GradientLog], view: str = "summary", *, size: tuple[int, int] = (960, 540),
                   dpi: float = 100, step: int | None = None) -> Figure:
    """One figure for the CLI's PNG output: a column per log of the chosen view (summary: profile over
    heatmap, with the diagnosis). Profiles and diagnoses are taken at `step` (default: initialization)."""
    view = PANELS.lookup(view).name
    check_render_options(size=size, dpi=dpi, frames=None)
    import matplotlib

    # text sized for the image (as the animations do), so a high dpi or a small size keeps it inside
    _, font = text_scale(size, dpi)
    with matplotlib.rc_context({"font.size": font}):
        figure = _summary_figure(logs, view, size=size, step=step)
    shrink_text_to_fit(figure)
    return figure


def _summary_figure(logs: Sequence[GradientLog], view: str, *, size: tuple[int, int], step: int | None) -> Figure:
    figure = Figure(figsize=(size[0] / RENDER_DPI, size[1] / RENDER_DPI), dpi=RENDER_DPI,
                    layout=RoundedConstrainedLayout())
    FigureCanvasAgg(figure)
    if view == "grid":
        return plot_grid(logs, figure=figure, step=step)
    rows = 2 if view == "summary" else 1
    axes = figure.subplots(rows, len(logs), squeeze=False)
    low, high = _shared_limits(logs, step)
    with np.errstate(divide="ignore", invalid="ignore"):  # one colour scale for every heatmap: comparable
        levels = np.concatenate([np.log10(_positive(log.matrix("signal"))).ravel() for log in logs])
    levels = levels[np.isfinite(levels)]
    shared = dict(vmin=float(levels.min()), vmax=float(levels.max())) if levels.size else {}
    captions: list[tuple[Any, list[str], Any]] = []
    for column, log in enumerate(logs):
        top = axes[0, column]
        verdict = diagnose(log, step=step)
        if view in ("summary", "profile"):
            plot_depth_profile(log, ax=top, step=step)
            top.set_ylim(low, high)
        elif view == "heatmap":
            plot_heatmap(log, ax=top, colorbar=column == len(logs) - 1, **shared)
        elif view == "bars":
            plot_bars(log, ax=top)
        elif view == "clipping":
            plot_clipping(log, ax=top)
        elif view == "ratio":
            plot_update_ratio(log, ax=top)
        note = caveat(log, step)
        top.set_title(f"{log.label}: {_(verdict.verdict)} {verdict.where}" + (f"\n({note})" if note else ""),
                      fontsize="medium")
        if view == "summary":  # the numbers under the verdict, as large as the tick labels
            plot_heatmap(log, ax=axes[1, column], colorbar=column == len(logs) - 1, mark=verdict.step, **shared)
            caption = axes[1, column].set_title("", fontsize=matplotlib.rcParams["font.size"] * CAPTION)
            captions.append((caption, _caption_variants(verdict), axes[1, column]))
    if captions:  # the longest caption that fits its column: shortened, never overlapping its neighbour
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        for text, variants, ax in captions:
            _fit_caption(text, variants, ax.bbox.width * 1.1, renderer)
    return figure


CAPTION = 0.85  # captions and subtitles relative to the figure's font: 11-12 px at 960x540


def _caption_variants(verdict: Any) -> list[str]:
    """The diagnosis's numbers as captions, longest first, for a panel whose title holds the verdict:
    the caller keeps the first that fits its width. Every variant has the same number of lines."""
    extra = []
    if verdict.nonfinite_steps:
        extra.append(_("non-finite from step {step}").format(step=verdict.first_nonfinite))
    if verdict.no_gradient:
        extra.append(_("no gradient: {layers}").format(layers=", ".join(verdict.no_gradient)))
    if verdict.layers < 2 or verdict.verdict == "two layers":
        head = ([_("one hop: too few layers for a trend"), _("one hop: no trend")] if verdict.verdict == "two layers"
                else [_("too few layers to fit a slope"), _("too few layers")] if verdict.verdict == "one layer"
                else [""])
        if verdict.verdict == "two layers":
            head = [_("first/last {ratio:.2g}, {what}").format(ratio=verdict.ratio, what=h) for h in head]
    else:
        theory = (_(" (theory {slope:+.2f})").format(slope=np.log10(verdict.theory)) if verdict.theory is not None
                  else "")
        numbers = _("first/last {ratio:.2g}, {slope:+.2f}").format(ratio=verdict.ratio, slope=verdict.slope)
        head = [_("signal {numbers} decades/layer{theory}").format(numbers=numbers, theory=theory),
                _("{numbers} decades/layer{theory}").format(numbers=numbers, theory=theory),
                _("{numbers}/layer{theory}").format(numbers=numbers, theory=theory),
                _("{numbers}/layer").format(numbers=numbers)]
    tail = "; ".join(extra)
    lines = [h for h in head if h]
    if tail:
        if not lines:
            return [tail, tail.split(";")[0]]
        return [f"{h}\n{t}" for h in lines for t in (tail, tail.split(";")[0])][:6]
    return lines or [""]


def _fit_caption(text: Any, variants: list[str], width: float, renderer: Any) -> None:
    """Give `text` the first of `variants` no wider than `width` display pixels (else the shortest)."""
    for variant in variants:
        text.set_text(variant)
        if text.get_window_extent(renderer).width <= width:
            return


def _short_verdict(verdict: Any) -> str:
    """The printed diagnosis's numbers in one short line (the title holds the verdict)."""
    return _caption_variants(verdict)[0]


def _classes(logs: Sequence[GradientLog]) -> int | None:
    classes = {log.meta.get("classes") for log in logs}
    return classes.pop() if len(classes) == 1 and None not in classes else None


def _chance_loss(logs: Sequence[GradientLog]) -> float | None:
    """ln(classes): the cross-entropy of guessing, which random labels never get below."""
    classes = _classes(logs)
    return float(np.log(classes)) if classes and all(log.meta.get("data") == "random" for log in logs) else None


def _loss_title(logs: Sequence[GradientLog]) -> str:
    if all(log.meta.get("data") == "random" for log in logs) and logs[0].meta:
        return _("training loss (random labels: nothing to learn, the loss stays near chance)")
    return _("training loss")


def _trained_steps(log: GradientLog) -> int:
    """How many steps `log`'s run trained: meta['steps'] when recorded (gradflow_experiment), else one
    recording interval past the last recorded step."""
    if log.meta.get("steps") is not None:
        return int(log.meta["steps"])
    interval = int(log.steps[-1] - log.steps[-2]) if len(log.steps) > 1 else 1
    return int(log.steps[-1]) + max(interval, 1)


class GradflowRenderer(FrameRenderer):
    """Per-layer norms as training proceeds, one panel per log, side by side on one fixed log scale.

    Frames stream like the trajectory renderer's: axes, theory lines, titles and legends are drawn once;
    a frame draws the two depth profiles of its step and the loss so far. The verdicts and the theory line
    are those of the initialization (step 0, before the first update), where the theory holds; the frames
    show how training moves the profile away from it.
    """

    def __init__(self, logs: Sequence[GradientLog], *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                 theme: str | Theme = "light", frames: int | None = None) -> None:
        self.logs = list(logs)
        if not self.logs:
            raise InvalidArgument("nothing to draw: no gradient logs given")
        self._configure(size=size, dpi=dpi, theme=theme, frames=frames)
        steps = min(len(log.steps) for log in self.logs)
        if steps == 0:
            raise InvalidArgument("the gradient logs hold no steps")
        # the counter reads 'step k/N' as the trajectories' does: k updates taken of the N trained. A log's
        # step k holds the gradients computed after k updates, so --steps 100 records steps 0-99 and the
        # last frame says 'step 99/100': the 100th update is taken but leaves no gradient to show
        self.total_steps = max(_trained_steps(log) for log in self.logs)
        count = min(steps, frames or min(steps, 150))
        self.frame_steps = np.unique(np.round(np.linspace(0, steps - 1, count)).astype(int))
        self._build(float(dpi))

    def _build(self, dpi: float) -> None:
        theme = self.theme
        fig, scale, font = self._new_figure(dpi)
        n = len(self.logs)
        matrices = [np.concatenate([_positive(log.matrix("signal")), _positive(log.matrix("weight"))]) for log in self.logs]
        finite = np.concatenate([m[np.isfinite(m)] for m in matrices])
        low, high = (float(finite.min()) / 3, float(finite.max()) * 3) if finite.size else (1e-3, 1.0)
        low = max(low, high * 1e-30)
        self._low = low
        gap, left = 0.07, 0.08
        panel_w = (0.97 - left - gap * (n - 1)) / n
        self.panels = []
        subtitles: list[tuple[Any, list[str], Axes]] = []
        for index, log in enumerate(self.logs):
            ax = fig.add_axes((left + index * (panel_w + gap), 0.40, panel_w, 0.47))
            depth = np.arange(1, len(log.names) + 1)
            ax.set_yscale("log")
            ax.set_ylim(low, high)
            ax.set_xlim(0.5, len(log.names) + 0.5)
            _layer_ticks(ax, log, fontsize=small_font(font))
            ax.set_xlabel("")
            ax.yaxis.set_minor_formatter(NullFormatter())
            style_axes(ax, theme, small_font(font))
            verdict = diagnose(log)
            variants = _caption_variants(verdict)
            lines = variants[0].count("\n") + 1
            ax.set_title(_("{label}: {verdict} at init").format(label=log.label, verdict=_(verdict.verdict)), color=theme.foreground, fontsize=font * 1.05,
                         pad=4 + font * CAPTION * 1.25 * lines)
            subtitle = ax.text(0.5, 1.015, variants[0], transform=ax.transAxes, fontsize=font * CAPTION,
                               color=theme.foreground, ha="center", va="bottom", linespacing=1.1)
            subtitles.append((subtitle, variants, ax))
            factor = log.meta.get("factor")
            signal = depth_profile(log, "signal")
            if factor and np.isfinite(signal[-1]) and signal[-1] > 0:
                ax.plot(depth, signal[-1] * float(factor) ** (depth[-1] - depth), ls=(0, (4, 3)), color=THEORY_COLOUR,
                        lw=1.1 * scale, label=_("theory x{factor:.2g}/layer, from init").format(factor=float(factor)))
            ax.plot([], [], color=SIGNAL_COLOUR, marker="o", lw=2 * scale, label=_("signal ||dL/dz||"))
            ax.plot([], [], color=WEIGHT_COLOUR, marker="s", ls="--", lw=1.4 * scale, label=_("weight grad ||dL/dW||"))
            if index == 0:
                ax.set_ylabel(_("gradient norm (log)"), color=theme.foreground, fontsize=font * 0.9)
            if index == 0 and max(len(other.names) for other in self.logs) > FEW_LAYERS:
                # a deep net's points run across the whole panel: the key goes in the header, off the data
                handles, labels = ax.get_legend_handles_labels()
                fig.legend(handles, labels, fontsize=small_font(font), frameon=False, loc="center",
                           bbox_to_anchor=(0.56, 0.965), ncol=len(handles), labelcolor=theme.foreground,
                           handlelength=1.6, columnspacing=1.0)
            elif index == 0:
                ax.legend(fontsize=small_font(font), frameon=False, loc="upper left", labelcolor=theme.foreground)
            lines = LineCollection([], colors=[SIGNAL_COLOUR, WEIGHT_COLOUR], linewidths=[2 * scale, 1.4 * scale],
                                   linestyles=["solid", "dashed"], animated=True)
            ax.add_collection(lines, autolim=False)
            markers = (ax.scatter([], [], s=22 * scale**2, marker="o", color=SIGNAL_COLOUR, animated=True, zorder=4),
                       ax.scatter([], [], s=20 * scale**2, marker="s", color=WEIGHT_COLOUR, animated=True, zorder=4))
            self.panels.append((ax, lines, markers))
        self.loss_axes = lax = fig.add_axes((left, 0.08, 0.97 - left, 0.17))
        losses = [log.losses for log in self.logs]
        finite_losses = np.concatenate([l[np.isfinite(l)] for l in losses])
        chance = _chance_loss(self.logs)
        lax.set_xlim(0, max(int(log.steps[-1]) for log in self.logs) or 1)
        if finite_losses.size:
            lo, hi = float(finite_losses.min()), float(finite_losses.max())
            if chance is not None:
                lo, hi = min(lo, chance), max(hi, chance)
            if lo > 0 and hi / lo > 100:  # a loss that explodes: a log axis keeps the start readable
                lax.set_yscale("log")
                lax.set_ylim(lo / 2, hi * 2)
            else:
                lax.set_ylim(lo - 0.05 * (hi - lo or 1), hi + 0.05 * (hi - lo or 1))
        lax.set_xlabel(_("step"), color=theme.foreground, fontsize=font * 0.85, labelpad=1)
        lax.set_title(_loss_title(self.logs), loc="left", color=theme.foreground, fontsize=font * 0.9, pad=2)
        style_axes(lax, theme, small_font(font))
        # not the red and blue of the signal and weight-gradient lines above: a colour means one thing
        self._loss_colours = [LOSS_COLOURS[i % len(LOSS_COLOURS)] for i in range(n)]
        self._loss_series = [np.column_stack([log.steps, l]) for log, l in zip(self.logs, losses)]
        for log, colour in zip(self.logs, self._loss_colours):  # legend entries; the lines are drawn per frame
            lax.plot([], [], color=colour, lw=1.6 * scale, label=log.label)
        if chance is not None:
            lax.axhline(chance, color=THEORY_COLOUR, ls=":", lw=1.0 * scale, label=_("chance: ln {classes}").format(classes=_classes(self.logs)))
        lax.legend(fontsize=small_font(font), frameon=False, loc="center right", labelcolor=theme.foreground,
                   ncol=n + (chance is not None))
        self.loss_lines = LineCollection([], colors=self._loss_colours, linewidths=1.6 * scale, animated=True)
        lax.add_collection(self.loss_lines, autolim=False)
        for (ax, _lines, _markers), colour in zip(self.panels, self._loss_colours):
            ax.title.set_color(colour)
        text = fig.text(0.985, 0.965, "", ha="right", va="center", color=theme.foreground, fontsize=font * 1.05,
                        family="monospace", animated=True)
        fig.text(0.015, 0.965, _("gradient flow through depth"), color=theme.foreground, fontsize=font * 1.15,
                 va="center")
        last = int(self.frame_steps[-1])  # the last recorded step: the counter ends at its total
        text.set_text(f"{_('step')} {last}/{last}")
        fit_axes(fig, [ax for ax, _, _ in self.panels] + [lax], pad=3.0)
        renderer = self.canvas.get_renderer()
        for subtitle, variants, ax in subtitles:  # the longest that fits over its panel, never into the next
            _fit_caption(subtitle, variants, ax.bbox.width + gap * fig.bbox.width * 0.8, renderer)
        shrink_text_to_fit(fig)
        text.set_text("")
        self.canvas.draw()
        self.counter = StepCounter(self.canvas, text, self.canvas.copy_from_bbox(fig.bbox), last)
        self._background = self.counter.background

    def _draw(self, index: int) -> int:
        column = int(self.frame_steps[index])
        for log, (ax, lines, markers) in zip(self.logs, self.panels):
            depth = np.arange(1, len(log.names) + 1, dtype=float)
            signal = _positive(log.matrix("signal")[:, column])
            weight = _positive(log.matrix("weight")[:, column])
            lines.set_segments([np.column_stack([depth, signal]), np.column_stack([depth, weight])])
            for scatter, values in zip(markers, (signal, weight)):
                points = np.column_stack([depth, values])
                scatter.set_offsets(points[np.isfinite(points).all(axis=1)])
                ax.draw_artist(scatter)
            ax.draw_artist(lines)
        self.loss_lines.set_segments([s[: column + 1] for s in self._loss_series])
        self.loss_axes.draw_artist(self.loss_lines)
        return int(self.logs[0].steps[column])

    def key_colours(self) -> np.ndarray:
        return colours_uint8([SIGNAL_COLOUR, WEIGHT_COLOUR, THEORY_COLOUR, *self._loss_colours,
                              self.theme.foreground, self.theme.background])
