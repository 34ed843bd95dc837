"""What every renderer shares: option checks, the RGB copy of the canvas, theming, frames on demand."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from gradviz.registry import InvalidArgument, check_positive

__all__ = ["check_render_options", "rgb_copy", "colours_uint8", "style_axes", "FrameRenderer", "text_scale",
           "fit_axes", "fit_legend", "texts_outside", "shrink_text_to_fit", "log_ticks", "SMALLEST_TEXT",
           "small_font", "drawn_texts", "balanced_wrap"]

# Text never smaller than 6 pt at 100 dpi (8.3 px), nor larger than 1.6 times a size's default (a high dpi
# makes text bigger, up to what the layout can hold).
MIN_TEXT_PX = 6 * 100 / 72
MAX_TEXT_GROWTH = 1.6
# Every figure is drawn at this dpi: an image's size is given in pixels, and the user's dpi sets only how
# large text is (text_scale). A figure at dpi 400 could not make text smaller than matplotlib's 1 point,
# 5.6 pixels there, which is too large to fit a legend into a 240x160 image.
RENDER_DPI = 100.0
# The smallest text a picture draws (legends, tick labels, captions, notes), as a share of its body text:
# 0.85 x 10 pt = 11.8 px at 960x540, readable from the back of a room, and the same share at every preset.
SMALLEST_TEXT = 0.85


def small_font(font: float | None = None) -> float:
    """Points for secondary text (legends, ticks, captions): SMALLEST_TEXT of `font`, or of matplotlib's
    current font.size where a plot function draws with the caller's style."""
    if font is None:
        from matplotlib import rcParams

        font = float(rcParams["font.size"])
    return font * SMALLEST_TEXT


def check_render_options(*, size: tuple[int, int], dpi: float, frames: int | None) -> None:
    """InvalidArgument for a size, dpi or frame count that cannot be drawn (callers check before tracing)."""
    try:
        width, height = size
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid size {size!r} (expected (width, height) in pixels)") from None
    check_positive("width", width, integer=True)
    check_positive("height", height, integer=True)
    if width < 240 or height < 160 or width > 7680 or height > 4320:
        raise InvalidArgument(f"invalid size {width}x{height} (from 240x160 to 7680x4320)")
    check_positive("dpi", dpi)
    if frames is not None:
        check_positive("frames", frames, integer=True)


def rgb_copy(rgba: np.ndarray) -> np.ndarray:
    """A contiguous RGB copy of an RGBA buffer; per-channel copies are ~4x faster than rgba[..., :3]."""
    height, width = rgba.shape[:2]
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    source, target = rgba.reshape(-1, 4), rgb.reshape(-1, 3)
    for channel in range(3):
        target[:, channel] = source[:, channel]
    return rgb


def colours_uint8(colours: list[Any]) -> np.ndarray:
    """Matplotlib colours -> (k, 3) uint8, the form the GIF palette keeps exact."""
    from matplotlib.colors import to_rgb

    return np.round(np.array([to_rgb(c) for c in colours]).reshape(-1, 3) * 255).astype(np.uint8)


def text_scale(size: tuple[int, int], dpi: float, base_font: float = 10.0) -> tuple[float, float]:
    """-> (scale, font size in points) for an image of `size` pixels drawn on a RENDER_DPI figure.

    scale multiplies line widths and marker sizes (in points) so they grow with the image: a 640x360
    gallery GIF reads like a 960x540 slide. The font is `base_font` points on 960x540, scaled with the
    image and by the user's dpi / 100 (a higher dpi makes text bigger, up to MAX_TEXT_GROWTH times, which
    the layouts can still hold), never below MIN_TEXT_PX pixels.
    """
    from gradviz.render.theme import FONT_SCALE  # a preset's type scale (use_preset), 1 by default

    width, height = size
    reference = min(width / 960, height / 540)
    pixels = base_font * 100 / 72 * reference * FONT_SCALE.get()
    pixels = max(MIN_TEXT_PX, pixels * min(dpi / 100, MAX_TEXT_GROWTH))
    return reference * 100 / RENDER_DPI, pixels * 72 / RENDER_DPI


def _undrawn_tick_labels(figure: Any) -> set[int]:
    """ids of tick labels whose tick lies outside its axis's view: matplotlib keeps them, but does not
    draw them."""
    hidden: set[int] = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = abs(hi - lo) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - span <= tick.get_loc() <= hi + span:
                    hidden.update((id(tick.label1), id(tick.label2)))
    return hidden


def drawn_texts(figure: Any) -> list[Any]:
    """Every Text of `figure` that a draw puts on the image: visible, not empty, not a tick label that
    matplotlib keeps outside its axis's view, not on hidden axes (call after figure.canvas.draw())."""
    from matplotlib.text import Text

    hidden = _undrawn_tick_labels(figure)
    out = []
    for text in figure.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
            continue
        axes = text.axes
        if axes is not None and not axes.get_visible():
            continue
        out.append(text)
    return out


def texts_outside(figure: Any, *, tolerance: float = 0.5) -> list[tuple[str, Any]]:
    """Every visible, non-empty Text of `figure` whose rendered extent leaves the figure: [(text, bbox)].

    Draws the figure first, so layouts (constrained or fitted) are final.
    """
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    out = []
    for text in drawn_texts(figure):
        box = text.get_window_extent(renderer)
        if (box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > width + tolerance
                or box.y1 > height + tolerance):
            out.append((text.get_text(), box))
    return out


def shrink_text_to_fit(figure: Any, *, minimum_px: float = 2.0) -> None:
    """The last resort: make any text that still leaves the figure smaller (down to `minimum` points)
    until it fits. Layouts should make this a no-op; it keeps the promise where they cannot."""
    from matplotlib.text import Text

    minimum = minimum_px * 72 / figure.dpi
    for _ in range(24):
        figure.canvas.draw()  # text positions (a legend's, a constrained layout's) are set when drawn
        renderer = figure.canvas.get_renderer()
        width, height = figure.bbox.width, figure.bbox.height
        hidden = _undrawn_tick_labels(figure)
        changed = False
        for text in figure.findobj(Text):
            if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
                continue
            box = text.get_window_extent(renderer)
            if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
                if text.get_fontsize() > minimum:
                    text.set_fontsize(max(minimum, text.get_fontsize() * 0.85))
                    changed = True
        if not changed:
            break
    # what is still outside at the smallest size is moved in (a label centred near an edge)
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    hidden = _undrawn_tick_labels(figure)
    for text in figure.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
            continue
        box = text.get_window_extent(renderer)
        dx = max(0.0, 1.0 - box.x0) - max(0.0, box.x1 - width + 1.0)
        dy = max(0.0, 1.0 - box.y0) - max(0.0, box.y1 - height + 1.0)
        if dx or dy:
            transform = text.get_transform()
            x, y = transform.transform(text.get_position())
            text.set_position(transform.inverted().transform((x + dx, y + dy)))


def balanced_wrap(text: Any, width_px: float) -> str:
    """The Text's words on as few lines as fit `width_px` pixels, the lines as even as can be (the longest
    as short as possible), measured in the Text's font: no word left alone on a line of its own where a
    balanced break exists. -> the wrapped string (the Text is not changed)."""
    renderer = text.figure.canvas.get_renderer()
    font = text.get_fontproperties()

    def measure(s: str) -> float:
        return renderer.get_text_width_height_descent(s, font, ismath=False)[0]

    words = text.get_text().split()
    if not words:
        return ""
    widths = [measure(word) for word in words]
    space = measure("a a") - 2 * measure("a")

    def greedy(limit: float) -> list[list[str]]:
        lines: list[list[str]] = [[]]
        used = 0.0
        for word, width in zip(words, widths):
            if lines[-1] and used + space + width > limit:
                lines.append([])
                used = 0.0
            used += (space if lines[-1] else 0.0) + width
            lines[-1].append(word)
        return lines

    count = len(greedy(max(width_px, max(widths))))
    lo, hi = max(widths), max(width_px, max(widths))  # the narrowest limit that still needs only `count` lines
    for _ in range(30):
        middle = (lo + hi) / 2
        if len(greedy(middle)) <= count:
            hi = middle
        else:
            lo = middle
    return "\n".join(" ".join(line) for line in greedy(hi))


def fit_axes(figure: Any, axes: list[Any], *, pad: float = 3.0) -> None:
    """Shrink fixed-position axes until their labels, tick labels and titles lie `pad` pixels inside
    the figure (renderers place axes by figure fractions; large text at a high dpi would leave it)."""
    width, height = figure.bbox.width, figure.bbox.height
    renderer = figure.canvas.get_renderer()
    for _ in range(4):
        moved = False
        for ax in axes:
            tight = ax.get_tightbbox(renderer)
            box = ax.get_position()
            x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
            if tight.x0 < pad:
                x0 += (pad - tight.x0) / width
            if tight.x1 > width - pad:
                x1 -= (tight.x1 - width + pad) / width
            if tight.y0 < pad:
                y0 += (pad - tight.y0) / height
            if tight.y1 > height - pad:
                y1 -= (tight.y1 - height + pad) / height
            if (x0, y0, x1, y1) != (box.x0, box.y0, box.x1, box.y1) and x1 - x0 > 0.05 and y1 - y0 > 0.05:
                ax.set_position((x0, y0, x1 - x0, y1 - y0))
                moved = True
        if not moved:
            return


def fit_legend(make: Callable[[float, bool], Any], box: tuple[float, float, float, float], fontsize: float,
               *, minimum_px: float = 2.0) -> Any:
    """A figure legend that fits the pixel box (x0, y0, x1, y1): `make(fontsize, wrap)` builds one (and
    removes the one before); long labels are wrapped first (wrap=True), then the font shrinks, down to
    `minimum_px` pixels. -> the legend."""
    x0, y0, x1, y1 = box
    minimum = None
    wrap = False
    for _ in range(24):
        legend = make(fontsize, wrap)
        minimum = minimum_px * 72 / legend.figure.dpi
        extent = legend.get_window_extent(legend.figure.canvas.get_renderer())
        if extent.width <= x1 - x0 and extent.height <= y1 - y0:
            return legend
        if not wrap and extent.width > x1 - x0:
            wrap = True
            continue
        if fontsize <= minimum:
            return legend
        factor = min((x1 - x0) / extent.width, (y1 - y0) / extent.height, 0.95)
        fontsize = max(minimum, fontsize * max(0.6, factor))
    return legend


def log_ticks(axis: Any, lo: float, hi: float) -> None:
    """Log-axis ticks with at least two labels: powers of ten, or 1-2-5 steps on a short range."""
    from matplotlib.ticker import FixedLocator, LogFormatterSciNotation, NullFormatter

    decades = [10.0**k for k in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)]
    for subs in ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)):
        ticks = [d * s for d in decades for s in subs if lo <= d * s <= hi]
        if len(ticks) >= 2:
            break
    if len(ticks) < 2:  # less than a factor of 1.5: two labels at the ends
        ticks = [lo * 1.05, hi / 1.05]
    if len(ticks) > 7:  # many decades: every other, every third, ...
        ticks = ticks[:: int(np.ceil(len(ticks) / 6))]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    axis.set_minor_formatter(NullFormatter())


def style_axes(ax: Any, theme: Any, font: float, *, grid: bool = True) -> None:
    """Theme colours for an Axes' face, ticks and spines (and a light grid)."""
    ax.set_facecolor(theme.background)
    ax.tick_params(colors=theme.foreground, labelsize=font, length=3, pad=2)
    for spine in ax.spines.values():
        spine.set_color(theme.grid)
    if grid:
        ax.grid(True, color=theme.grid, linewidth=0.5, alpha=0.7)


class FrameRenderer:
    """What the renderers share: a canvas with a blitted background, a step counter, frames on demand.

    Subclasses set `figure`, `canvas`, `counter` (a StepCounter), `frame_steps` or their own n_frames, and
    implement `_draw(index) -> step`, which draws the moving artists after the background is restored.
    """

    canvas: Any
    counter: Any
    _background: Any

    def _configure(self, *, size: tuple[int, int], dpi: float, theme: Any, frames: int | None) -> None:
        """Check the common options (before any drawing) and keep the size and theme."""
        from gradviz.render.theme import THEMES, Theme

        check_render_options(size=size, dpi=dpi, frames=frames)
        self.size = (int(size[0]), int(size[1]))
        self.theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)

    def _new_figure(self, dpi: float, base_font: float = 10.0) -> tuple[Any, float, float]:
        """A figure of self.size pixels on an Agg canvas -> (figure, scale, font size) (see text_scale)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        width, height = self.size
        scale, font = text_scale(self.size, dpi, base_font)
        self.figure = Figure(figsize=(width / RENDER_DPI, height / RENDER_DPI), dpi=RENDER_DPI,
                             facecolor=self.theme.background)
        self.canvas = FigureCanvasAgg(self.figure)
        return self.figure, scale, font

    @property
    def n_frames(self) -> int:
        return len(self.frame_steps)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return self.n_frames

    def _draw(self, index: int) -> int:
        raise NotImplementedError

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` (0 <= index < n_frames) as a new (H, W, 3) uint8 array."""
        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} out of range 0..{self.n_frames - 1}")
        self.canvas.restore_region(self._background)
        step = self._draw(index)
        rgb = rgb_copy(np.asarray(self.canvas.buffer_rgba()))
        self.counter.paste(rgb, step)
        self.step = step
        return rgb

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(self.n_frames):
            yield self.frame(index)

    def palette_sample(self) -> np.ndarray:
        """The first, middle and last frames stacked: the colours the animation will use."""
        picks = sorted({0, self.n_frames // 2, self.n_frames - 1})
        return np.concatenate([self.frame(i) for i in picks], axis=0)
