"""Colour themes for slides (light for projectors in lit rooms, dark for dark slide decks), and presets: a
size and type scale per purpose (`slide`, `slide-4:3`, `square`, `doc`). Imports no matplotlib, so the CLI
can list both."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from gradviz.registry import Registry

__all__ = ["Theme", "THEMES", "Preset", "PRESETS", "use_preset", "FONT_SCALE", "OPTIMIZER_COLOURS",
           "optimizer_colour", "trail_colours", "optimizer_name"]


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


# -- one colour per optimizer --------------------------------------------------------------------------------

# Every renderer colours a trail, a curve or a panel by its optimizer's name, so Adam is the same green in
# every file whichever subset is drawn. The six defaults take the six Okabe-Ito hues of the trails above,
# the pairs drawn together most often (SGD and Adam, SGD, momentum and Adam) in the hues furthest apart:
# vermillion, blue, green; the rest are Paul Tol's muted palette, then greys.
OPTIMIZER_COLOURS: dict[str, str] = {
    "sgd": "#d55e00", "momentum": "#0072b2", "adam": "#009e73", "nesterov": "#cc79a7", "rmsprop": "#e69f00",
    "adagrad": "#56b4e9", "adadelta": "#000000", "adamw": "#8c5a00", "nadam": "#ddcc77", "radam": "#999933",
    "adamax": "#aa4499", "adabelief": "#882255", "lbfgs": "#332288", "nelder-mead": "#117733",
    "pattern-search": "#44aa99", "random-search": "#888888", "pure-random": "#b0b0b0", "cma-es": "#661100",
    "simulated-annealing": "#6699cc",
}

# for optimizers outside the palette (a user's own): Paul Tol's vibrant scheme
UNLISTED_COLOURS = ("#ee3377", "#33bbee", "#009988", "#ee7733", "#0077bb", "#cc3311", "#bbbbbb")


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)


def _mix(colour: str, towards: str, share: float) -> str:
    a, b = _rgb(colour), _rgb(towards)
    return _hex([x + share * (y - x) for x, y in zip(a, b)])


def _luminance(colour: str) -> float:
    r, g, b = _rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def optimizer_name(item: Any) -> str:
    """The registry name of what a trail, run or label draws: its `optimizer` attribute, or the first word
    of its label ('adam (lr=0.1)' -> 'adam'), or the string itself."""
    name = getattr(item, "optimizer", None)
    if not isinstance(name, str):
        name = item if isinstance(item, str) else getattr(item, "label", "")
    name = name.strip().split(" ")[0].split("(")[0].split(":")[0].split("@")[0]
    return name.lower()


def optimizer_colour(name: str, theme: "str | Theme" = "light") -> str | None:
    """The optimizer's colour in `theme` (None for a name outside the palette). On a dark background the
    darkest colours are lightened (black becomes the foreground) so every trail stays visible."""
    theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)
    colour = OPTIMIZER_COLOURS.get(optimizer_name(name))
    if colour is not None and _luminance(theme.background) < 0.5:
        if colour == "#000000":
            return theme.foreground
        if _luminance(colour) < 0.25:
            return _mix(colour, "#ffffff", 0.45)
    return colour


def trail_colours(items: Sequence[Any], theme: "str | Theme" = "light") -> list[str]:
    """One colour per item (trajectory, run, label or name), by optimizer: the palette's colour for a known
    name; where one optimizer appears several times (an lr sweep, weight decay on and off) its copies get
    shades of that colour, alternately darker and lighter; a name outside the palette gets a theme trail
    colour no other item uses."""
    theme = theme if isinstance(theme, Theme) else THEMES.lookup(theme)
    names = [optimizer_name(item) for item in items]
    base = {name: optimizer_colour(name, theme) for name in names}
    used = {c for c in base.values() if c is not None}
    spare = iter([c for c in UNLISTED_COLOURS if c not in used] + list(UNLISTED_COLOURS) * len(names))
    for name in dict.fromkeys(names):
        if base[name] is None:
            base[name] = next(spare)
    counts = {name: names.count(name) for name in names}
    seen: dict[str, int] = {}
    colours = []
    for name in names:
        k = seen[name] = seen.get(name, -1) + 1
        colour = base[name]
        if counts[name] > 1 and k:
            # copies: darker, lighter, darker still, ... (never all the way to black or white)
            share = 0.3 * ((k + 1) // 2) / max(1, (counts[name]) // 2) + 0.15
            dark = k % 2 == 1
            colour = _mix(colour, "#000000" if dark else "#ffffff", min(share, 0.6))
        colours.append(colour)
    return colours


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
