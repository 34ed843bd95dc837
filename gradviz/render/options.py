"""RenderOptions: the render tail every drawing pipeline shares (size, dpi, theme, frame rate, frames,
title, progress and report callbacks), checked in one place.

A pipeline takes `render=RenderOptions(...)` or the same names as keywords (`size=(640, 360), theme="dark"`,
what a notebook writes), and says which of them it uses: a keyword that a command has no use for (fps for a
still picture) is refused in one line rather than ignored. Neither torch nor matplotlib is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Iterable

from gradviz.registry import InvalidArgument, check_positive

__all__ = ["RenderOptions", "render_options", "split_style"]

Progress = Callable[[int, int], None]



@dataclass(frozen=True)
class RenderOptions:
    """size: (width, height) in pixels, 240x160 to 7680x4320. dpi: text grows with it (the pixel size stays).
    theme: a name of gradviz.THEMES. fps: frames per second of an animation (None: the command's default).
    frames: frames in an animation (None: the command's default). title: the picture's title (None: the
    command's own). progress(done, total): called as work advances. report(line): each line a command prints
    (tables, diagnoses); None prints nothing."""

    size: tuple[int, int] = (960, 540)
    dpi: float = 100
    theme: str = "light"
    fps: float | None = None
    frames: int | None = None
    title: str | None = None
    progress: Progress | None = None
    report: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        from gradviz.render.frames import check_render_options
        from gradviz.render.theme import THEMES

        size = self.size
        if isinstance(size, list):
            size = tuple(size)
            object.__setattr__(self, "size", size)
        check_render_options(size=size, dpi=self.dpi, frames=self.frames)
        object.__setattr__(self, "theme", THEMES.lookup(self.theme).name)
        if self.fps is not None:
            check_positive("fps", self.fps)
        if self.title is not None and not isinstance(self.title, str):
            raise InvalidArgument(f"invalid title: {self.title!r} (a string)")
        for name in ("progress", "report"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise InvalidArgument(f"invalid {name}: {value!r} (a callable, or None)")


_NAMES = tuple(f.name for f in fields(RenderOptions))


def split_style(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the render options out of a pipeline's other keywords (`**training`), in place."""
    return {key: kwargs.pop(key) for key in list(kwargs) if key in _NAMES}


def render_options(command: str, render: RenderOptions | None, style: dict[str, Any], *, uses: Iterable[str],
                   **defaults: Any) -> RenderOptions:
    """The RenderOptions of one call of pipeline `command`: `render` (or the defaults) with the keywords in
    `style` on top, then `defaults` for the fields still None. A keyword that is no render option, or one
    that `command` does not use, is refused with the ones it takes."""
    uses = tuple(uses)
    for key in style:
        if key not in uses:
            what = "is no argument" if key not in _NAMES else "does not apply"
            raise InvalidArgument(f"{command}(): {key!r} {what} here (render options it takes: {', '.join(uses)})")
    if render is not None and not isinstance(render, RenderOptions):
        raise InvalidArgument(f"{command}(): render must be a RenderOptions, not {type(render).__name__}")
    options = replace(render, **style) if render is not None else RenderOptions(**style)
    fill = {key: value for key, value in defaults.items() if getattr(options, key) is None}
    return replace(options, **fill) if fill else options
