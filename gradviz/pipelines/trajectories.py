"""The public pipeline for trajectories: trace optimizers, draw them, write the file.

`animate` draws records that already exist; `trajectories` is the one call behind
`gradviz trajectories`: it checks every input first (names, hyperparameters, sizes, the output path), so
a mistake fails in a second with a message instead of after the tracing, then traces and animates.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from gradviz.functions import FUNCTIONS, TestFunction, domain_around, get_function
from gradviz.optim import DEFAULT_OPTIMIZERS, OptimizerSpec, get_optimizer, parse_optimizer
from gradviz.records import Trajectory
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["animate", "trajectories", "write_rendered", "check_fps"]

Progress = Callable[[int, int], None]


def _normalize_optimizers(optimizers: Iterable[Any]) -> list[tuple[OptimizerSpec, dict[str, Any]]]:
    """'adam:lr=0.1', ('adam', {'lr': 0.1}), 'adam' or an Optimizer class -> (spec, checked hyperparams)."""
    out = []
    for item in optimizers:
        if isinstance(item, str):
            name, hyperparams = parse_optimizer(item)
            spec = get_optimizer(name)
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            spec, hyperparams = get_optimizer(item[0]), dict(item[1])
        else:
            spec, hyperparams = get_optimizer(item), {}
        spec.resolve(hyperparams)  # unknown names and bad learning rates fail here, before any work
        out.append((spec, hyperparams))
    if not out:
        raise InvalidArgument("no optimizers given")
    return out


def check_fps(fps: float, path: Path) -> None:
    check_positive("fps", fps)
    if path.suffix.lower() == ".gif" and fps > 50:
        raise InvalidArgument(f"invalid fps {fps:g} for a GIF: frames shorter than 20 ms play wrongly "
                              "(use fps <= 50)")


def _with_progress(frames: Iterable[np.ndarray], total: int, progress: Progress | None) -> Iterator[np.ndarray]:
    for done, frame in enumerate(frames, start=1):
        yield frame
        if progress is not None:
            progress(done, total)


def animate(
    trajectories: Trajectory | Sequence[Trajectory],
    path: str | os.PathLike[str] = "trajectories.gif",
    *,
    function: str | TestFunction | Callable[[Any], Any] | None = None,
    fps: float = 20,
    size: tuple[int, int] = (960, 540),
    dpi: float = 100,
    theme: str = "light",
    loss_panel: bool = True,
    frames: int | None = None,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    title: str | None = None,
    hold: float = 1.0,
    progress: Progress | None = None,
    field: str | None = None,
) -> Path:
    """Draw trajectories over their function's contours and write a .gif, .mp4 or .png (the last frame).

    function defaults to the one the trajectories were traced on; domain to the function's plot window
    (or, for a function without one, a window around the paths). The GIF loops forever, plays at `fps`
    and holds its last frame for `hold` seconds. field: "arrows" or "streamlines" draws the normalized
    negative gradient under the paths (once, on the static background). Returns the path written.
    """
    from gradviz.output import check_output_path
    from gradviz.render.trajectories import TrajectoryRenderer

    records = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    if not records:
        raise InvalidArgument("nothing to draw: no trajectories given")
    path = check_output_path(path)
    check_fps(fps, path)
    if function is None:
        if records[0].function not in FUNCTIONS:
            raise InvalidArgument(f"trajectories were traced on {records[0].function!r}, which is not a registered "
                                  "function: pass function=")
        function = records[0].function
    fn = get_function(function)
    window = domain or fn.domain or domain_around([t.points for t in records])
    renderer = TrajectoryRenderer(records, fn.surface(window), size=size, dpi=dpi, theme=theme,
                                  loss_panel=loss_panel, frames=frames, title=title)
    if field is not None:
        from gradviz.render.field import draw_field

        draw_field(renderer.axes, renderer.surface, style=field, color=renderer.theme.foreground)
        renderer.restage()
    return write_rendered(renderer, path, fps=fps, hold=hold, progress=progress)


def write_rendered(renderer: Any, path: Path, *, fps: float, hold: float = 1.0,
                   progress: Progress | None = None) -> Path:
    """Stream a renderer's frames to `path` (.gif/.mp4), or its last frame to a .png."""
    from gradviz.output import write_animation, write_image

    if path.suffix.lower() == ".png":
        written = write_image(renderer.frame(renderer.n_frames - 1), path)
        if progress is not None:
            progress(1, 1)
        return written
    total = renderer.n_frames
    return write_animation(_with_progress(renderer, total, progress), path, n_frames=total, fps=fps,
                           palette_sample=renderer.palette_sample(), key_colours=renderer.key_colours(),
                           hold_last=hold)


def trajectories(
    function: str | TestFunction | Callable[[Any], Any] = "rosenbrock",
    optimizers: Iterable[Any] = DEFAULT_OPTIMIZERS,
    path: str | os.PathLike[str] = "trajectories.gif",
    *,
    start: Sequence[float] | None = None,
    steps: int = 200,
    seed: int = 0,
    fps: float = 20,
    size: tuple[int, int] = (960, 540),
    dpi: float = 100,
    theme: str = "light",
    loss_panel: bool = True,
    frames: int | None = None,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    progress: Progress | None = None,
    field: str | None = None,
) -> Path:
    """Trace each optimizer from the same start on `function` and animate them together.

    function: a registry name, an expression in x and y ('x**2 + 10*sin(y)'), a TestFunction or a callable.
    optimizers: names ('adam'), specs with settings ('adam:lr=0.05,betas=0.9/0.99'), (name, dict) pairs
    or torch.optim.Optimizer classes. Everything is checked before the first step is traced.
    """
    from gradviz.output import check_output_path
    from gradviz.render.theme import THEMES
    from gradviz.render.frames import check_render_options

    from gradviz.expressions import fit_window

    fn = fit_window(get_function(function), domain)  # an expression's default start moves into the window
    choices = _normalize_optimizers(optimizers)
    check_positive("steps", steps, integer=True)
    out = check_output_path(path)
    check_fps(fps, out)
    THEMES.lookup(theme)
    check_render_options(size=size, dpi=dpi, frames=frames)
    if field is not None and field not in ("arrows", "streamlines"):
        raise InvalidArgument(f"unknown field style {field!r} (valid: arrows, streamlines)")
    from gradviz.tracing import trace

    records = [trace(fn, spec, start=start, steps=steps, seed=seed, **hyperparams) for spec, hyperparams in choices]
    return animate(records, out, function=fn, fps=fps, size=size, dpi=dpi, theme=theme, loss_panel=loss_panel,
                   frames=frames, domain=domain, progress=progress, field=field)
