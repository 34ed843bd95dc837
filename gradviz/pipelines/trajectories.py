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

from gradviz.budget import parse_budget
from gradviz.functions import FUNCTIONS, TestFunction, domain_around, get_function
from gradviz.optim import DEFAULT_OPTIMIZERS, OptimizerSpec, get_optimizer, parse_optimizer
from gradviz.records import Trajectory
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["animate", "trajectories", "write_rendered", "check_fps", "check_frames", "start_stage"]

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


def check_fps(fps: float, path: Path, hold: float = 1.0) -> None:
    """A frame rate (and a last-frame hold, in seconds) the output format can store, before any work."""
    from gradviz.output import check_gif_timing

    check_positive("fps", fps)
    check_positive("hold", hold, allow_zero=True)
    if path.suffix.lower() == ".gif":
        check_gif_timing(fps, hold)


def check_frames(frames: int | None, steps: int) -> None:
    """More frames than steps + 1 would repeat frames: say so instead of quietly drawing fewer."""
    if frames is not None and frames > steps + 1:
        raise InvalidArgument(f"invalid frames {frames}: {steps} steps give at most {steps + 1} frames "
                              "(one per step and the start); use more steps or fewer frames")


def start_stage(progress: Any, label: str) -> None:
    """Tell a progress reporter that a stage ('tracing adam', 'rendering') begins; a reporter with a
    `stage(label)` method (the CLI's bar) relabels itself, a plain callable just sees its count restart."""
    stage = getattr(progress, "stage", None)
    if callable(stage):
        stage(label)


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
    view: str = "2d",
    spin: float = 0.0,
    clock: str = "steps",
) -> Path:
    """Draw trajectories over their function's contours and write a .gif, .mp4 or .png (the last frame).

    clock: "steps", or "evaluations" to run frames and the loss panel on function evaluations.

    function defaults to the one the trajectories were traced on; domain to the function's plot window
    (or, for a function without one, a window around the paths). The GIF loops forever, plays at `fps`
    and holds its last frame for `hold` seconds. field: "arrows" or "streamlines" draws the normalized
    negative gradient under the paths (once, on the static background). view='3d' draws the surface
    in 3-D with the paths on it instead (render/surface3d.py; `spin` degrees of camera turn over the
    animation, 0 for a fixed camera). Returns the path written.
    """
    from gradviz.output import check_output_path
    from gradviz.render.trajectories import TrajectoryRenderer

    records = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    if not records:
        raise InvalidArgument("nothing to draw: no trajectories given")
    path = check_output_path(path)
    check_fps(fps, path, hold)
    if function is None:
        if records[0].function not in FUNCTIONS:
            raise InvalidArgument(f"trajectories were traced on {records[0].function!r}, which is not a registered "
                                  "function: pass function=")
        function = records[0].function
    fn = get_function(function)
    window = domain or fn.domain or domain_around([t.points for t in records])
    if _check_view(view) == "3d":
        from gradviz.render.surface3d import surface_3d_renderer

        renderer = surface_3d_renderer(records, fn.surface(window, resolution=120), size=size, dpi=dpi,
                                       theme=theme, frames=frames, title=title, spin=spin)
        return write_rendered(renderer, path, fps=fps, hold=hold, progress=progress)
    renderer = TrajectoryRenderer(records, fn.surface(window), size=size, dpi=dpi, theme=theme,
                                  loss_panel=loss_panel, frames=frames, title=title, clock=clock)
    if field is not None:
        from gradviz.render.field import draw_field

        draw_field(renderer.axes, renderer.surface, style=field, color=renderer.theme.foreground)
        renderer.restage()
    return write_rendered(renderer, path, fps=fps, hold=hold, progress=progress)


def _check_view(view: str) -> str:
    if view not in ("2d", "3d"):
        raise InvalidArgument(f"unknown view {view!r} (valid: 2d, 3d)")
    return view


def write_rendered(renderer: Any, path: Path, *, fps: float, hold: float = 1.0,
                   progress: Progress | None = None) -> Path:
    """Stream a renderer's frames to `path` (.gif/.mp4), or its last frame to a .png."""
    from gradviz.output import write_animation, write_image

    start_stage(progress, "rendering")
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
    view: str = "2d",
    spin: float = 0.0,
    budget: tuple[str, int] | str | None = None,
) -> Path:
    """Trace each optimizer from the same start on `function` and animate them together.

    function: a registry name, an expression in x and y ('x**2 + 10*sin(y)'), a TestFunction or a callable.
    optimizers: names ('adam'), specs with settings ('adam:lr=0.05,betas=0.9/0.99'), dotted paths
    ('pytorch_optimizer.Lion:lr=1e-3'), (name, dict) pairs or torch.optim.Optimizer classes. Everything is
    checked before the first step is traced, and all but hyperparameter names (which need the torch class)
    before torch is imported.
    progress: progress(done, total) while each optimizer is traced and while frames are rendered.
    budget: ('evaluations', N) (or 'evaluations:N') runs every method until it has spent N evaluations of
    f and animates on evaluations, so gradient and direct methods compare fairly; ('steps', N) is `steps`.
    """
    from gradviz.output import check_output_path
    from gradviz.render.theme import THEMES
    from gradviz.render.frames import check_render_options

    from gradviz.expressions import fit_window

    fn = fit_window(get_function(function), domain)  # an expression's default start moves into the window
    check_positive("steps", steps, integer=True)
    kind, amount = parse_budget(budget) if budget is not None else ("steps", steps)
    out = check_output_path(path)
    check_fps(fps, out)
    THEMES.lookup(theme)
    check_render_options(size=size, dpi=dpi, frames=frames)
    if field is not None and field not in ("arrows", "streamlines"):
        raise InvalidArgument(f"unknown field style {field!r} (valid: arrows, streamlines)")
    _check_view(view)
    check_frames(frames, amount)  # with an evaluation budget, a frame per evaluation at most
    optimizers = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    for item in optimizers:
        if isinstance(item, str):
            parse_optimizer(item)  # names first: a typo fails without importing torch
    choices = _normalize_optimizers(optimizers)
    from gradviz.tracing import trace

    records = []
    for spec, hyperparams in choices:
        start_stage(progress, f"tracing {spec.name}")
        records.append(trace(fn, spec, start=start, steps=steps, seed=seed, progress=progress,
                             budget=(kind, amount), **hyperparams))
    return animate(records, out, function=fn, fps=fps, size=size, dpi=dpi, theme=theme, loss_panel=loss_panel,
                   frames=frames, domain=domain, progress=progress, field=field, view=view, spin=spin, clock=kind)
