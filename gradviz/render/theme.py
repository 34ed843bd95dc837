"""Colour themes for slides (light for projectors in lit rooms, dark for dark slide decks), and presets: a
size and type scale per purpose (`slide`, `slide-4:3`, `square`, `doc`). Imports no matplotlib, so the CLI
can list both."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from gradviz.registry import Registry

__all__ = ["Theme", "THEMES", "Preset", "PRESETS", "use_preset", "FONT_SCALE"]


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    grid: str
    colormap: str
    contour_lines: str
    minimum: str
    trails: tuple[str, ...]
    # one marker per trail (with the colour, the shape tells optimizers apart without colour vision)
    markers: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "p")
    colormap_range: tuple[float, float] = (0.0, 1.0)  # the part of `colormap` the contours use


# Trails use the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"): its hues stay distinct
# for the common colour-vision deficiencies. The contours are grey so no trail hue is lost in them.
THEMES: Registry = Registry("theme")
THEMES.register("light", Theme(
    name="light", background="#ffffff", foreground="#222222", grid="#d0d0d0", colormap="Greys_r",
    colormap_range=(0.3, 1.0), contour_lines="#333333", minimum="#ffd700",
    trails=("#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"),
))
THEMES.register("dark", Theme(
    name="dark", background="#0f1117", foreground="#e8e8e8", grid="#3a3d46", colormap="Greys_r",
    colormap_range=(0.0, 0.5), contour_lines="#000000", minimum="#ffd700",
    trails=("#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#ffffff", "#d55e00", "#f0e442", "#0072b2"),
))


# -- presets: a size and a type scale made for a purpose -----------------------------------------------------

@dataclass(frozen=True)
class Preset:
    """An output purpose: image size in pixels, dpi, and how much larger than usual the text is drawn
    (1.0: 10 pt at 960x540, the same share of the picture at any size)."""

    name: str
    size: tuple[int, int]
    dpi: float
    font_scale: float
    summary: str


PRESETS: Registry = Registry("preset")
for _preset in (
    Preset("slide", (1920, 1080), 100, 1.4, "16:9 full-HD slide, type large enough for the back of a room"),
    Preset("slide-4:3", (1440, 1080), 100, 1.4, "4:3 slide for older projectors, large type"),
    Preset("square", (1080, 1080), 100, 1.2, "square, for posts and two-column slides"),
    Preset("doc", (960, 540), 100, 1.0, "a figure in a document or notebook, normal type"),
):
    PRESETS.register(_preset.name, _preset)
del _preset

# The type scale in effect while a command draws (set by `use_preset`; renderers multiply their fonts by it).
FONT_SCALE: ContextVar[float] = ContextVar("gradviz_font_scale", default=1.0)


@contextmanager
def use_preset(name: str | Preset | None) -> Iterator[Preset | None]:
    """Within the block, renderers draw text at the preset's type scale. None: no change."""
    preset = name if isinstance(name, Preset) or name is None else PRESETS.lookup(name)
    if preset is None:
        yield None
        return
    token = FONT_SCALE.set(preset.font_scale)
    try:
        yield preset
    finally:
        FONT_SCALE.reset(token)
