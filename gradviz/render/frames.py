"""What every renderer shares: option checks, the RGB copy of the canvas, theming, frames on demand."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from gradviz.registry import InvalidArgument, check_positive

__all__ = ["check_render_options", "rgb_copy", "colours_uint8", "style_axes", "FrameRenderer"]


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
        """A figure of self.size pixels on an Agg canvas -> (figure, scale, font size): text and line
        widths scale with the image so a 640x360 gallery GIF reads like a 960x540 slide."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        width, height = self.size
        scale = min(width / 960, height / 540) * 100 / dpi
        self.figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor=self.theme.background)
        self.canvas = FigureCanvasAgg(self.figure)
        from gradviz.render.theme import FONT_SCALE

        return self.figure, scale, max(6.0, base_font * scale * FONT_SCALE.get())

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
