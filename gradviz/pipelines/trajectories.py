"""The public pipeline for trajectories: trace optimizers, draw them, write the file.

`animate` draws records that already exist; `trajectories` is the one call behind
`gradviz trajectories`: it checks every input first (names, hyperparameters, sizes, the output path), so
a mistake fails in a second with a message instead of after the tracing, then traces and animates.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from gradviz.render.options import RenderOptions, render_options
from gradviz.render.choices import FIELD_STYLES, VIEWS
from gradviz.lecture.budget import parse_budget
from gradviz.lecture.functions import FUNCTIONS, TestFunction, domain_around
from gradviz.lecture.expressions import get_function
from gradviz.lecture.optim import DEFAULT_OPTIMIZERS, parse_optimizer
from gradviz.records import Trajectory
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["animate", "trajectories", "write_rendered", "check_fps", "check_frames", "check_view", "start_stage",
           "plot_window"]

Progress = Callable[[int, int], None]


def check_fps(fps: float, path: Path, hold: float = 1.0) -> None:
    """A frame rate (and a last-frame hold, in seconds) the output format can store, before any work."""
    from gradviz.output import check_gif_timing

    check_positive("fps", fps)
    check_positive("hold", hold, allow_zero=True)
    if path.suffix.lower() == ".gif":
        check_gif_timing(fps, hold)
    elif path.suffix.lower() == ".mp4" and fps < 1 / 655.35:
        # the GIF's slowest frame bounds an MP4 too: --fps 0.001 would make 200 frames a 55-hour video
        raise InvalidArgument(f"invalid fps {fps:g}: a frame lasts at most 655.35 s; use fps >= 0.0016")


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


Window = tuple[tuple[float, float], tuple[float, float]]


def plot_window(window: Window | None, records: Sequence[Trajectory],
                minima: Sequence[Sequence[float]] = (), *, zoom: float = 0.25) -> Window:
    """The window to draw `records` in, given the function's own (None: a window around the paths).

    It always holds every start: a start outside the function's window widens it to the start and the
    paths near it, so the picture is never empty. Where every path stays in a small part of the window
    (their box, with the minimum nearest each end, covers less than `zoom` of its area) the window
    closes in on them, keeping its aspect ratio, as on Beale, whose paths fill a fifth of its window.
    Paths that leave the window are seen leaving it: they do not widen it.
    """
    if window is None:
        return domain_around([t.points for t in records])
    (x0, x1), (y0, y1) = window
    starts = np.array([t.points[0] for t in records], dtype=float)
    starts = starts[np.isfinite(starts).all(axis=1)]
    if len(starts):
        x0, x1 = min(x0, starts[:, 0].min()), max(x1, starts[:, 0].max())
        y0, y1 = min(y0, starts[:, 1].min()), max(y1, starts[:, 1].max())
    base = np.array([[x0, y0], [x1, y1]])
    span = base[1] - base[0]
    near = []  # path points that stay within one window's span of the window
    for t in records:
        points = np.asarray(t.points, dtype=float)
        points = points[np.isfinite(points).all(axis=1)]
        keep = ((points >= base[0] - span) & (points <= base[1] + span)).all(axis=1)
        near.append(points[keep])
    paths = np.concatenate(near) if near else np.empty((0, 2))
    outside = len(starts) and ((starts < np.array([window[0][0], window[1][0]])).any()
                               or (starts > np.array([window[0][1], window[1][1]])).any())
    if outside:  # widen to the start(s) and the paths near them
        return domain_around([paths, base], margin=0.05) if len(paths) else domain_around([base], margin=0.05)
    if len(paths):
        # close in on the paths and the minimum nearest each path's end
        goal = [paths]
        minima_array = np.asarray(minima, dtype=float).reshape(-1, 2)
        if len(minima_array):
            for points in near:
                if len(points):
                    goal.append(minima_array[np.argmin(((minima_array - points[-1]) ** 2).sum(axis=1))][None])
        box = np.concatenate(goal)
        blo, bhi = box.min(axis=0), box.max(axis=0)
        bspan = np.maximum(bhi - blo, 1e-9)
        if np.prod(bspan) < zoom * np.prod(span):
            bspan = np.maximum(bspan * 1.3, 0.3 * span)  # a margin; never closer than 30% of the window
            aspect = span[0] / span[1]
            if bspan[0] / bspan[1] < aspect:
                bspan[0] = bspan[1] * aspect
            else:
                bspan[1] = bspan[0] / aspect
            if (bspan >= span).any():
                return (float(x0), float(x1)), (float(y0), float(y1))
            centre = np.clip((blo + bhi) / 2, base[0] + bspan / 2, base[1] - bspan / 2)
            lo, hi = centre - bspan / 2, centre + bspan / 2
            return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))
    return (float(x0), float(x1)), (float(y0), float(y1))


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

    function defaults to the one the trajectories were traced on; domain to a window that frames the
    paths (see plot_window): the function's own, widened to a start outside it, or closed in on paths that
    stay in a small part of it. title: the picture's title (default: the function's name, or "f(x, y)"
    for an anonymous callable such as a lambda). The GIF loops forever, plays at `fps` and holds its last
    frame for `hold` seconds. field: "arrows" or "streamlines" draws the normalized negative gradient under
    the paths (once, on the static background). view='3d' draws the surface in 3-D with the paths on it
    instead (render/surface3d.py; `spin` degrees of camera turn over the animation, 0 for a fixed camera;
    the window is then the function's own). clock: "steps", or "evaluations" to run frames and the loss
    panel on function evaluations. Returns the path written.
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
    if check_view(view, field, spin) == "3d":
        from gradviz.render.surface3d import surface_3d_renderer

        window = domain or fn.domain or domain_around([t.points for t in records])
        renderer = surface_3d_renderer(records, fn.surface(window, resolution=120), size=size, dpi=dpi,
                                       theme=theme, frames=frames, title=title, spin=spin, clock=clock)
        return write_rendered(renderer, path, fps=fps, hold=hold, progress=progress)
    window = domain or plot_window(fn.domain, records, fn.minima)
    renderer = TrajectoryRenderer(records, fn.surface(window), size=size, dpi=dpi, theme=theme,
                                  loss_panel=loss_panel, frames=frames, title=title, clock=clock)
    if field is not None:
        from gradviz.render.field import draw_field

        draw_field(renderer.axes, renderer.surface, style=field, color=renderer.theme.foreground)
        renderer.restage()
    return write_rendered(renderer, path, fps=fps, hold=hold, progress=progress)


def _check_work(optimizers: int, steps: int, *, lrs: Any, seeds: int, starts: Any, tune: bool) -> None:
    """Each count within its bound, the product of paths and steps too, before any tracing: paths traced
    one at a time (optimizers x rates x seeds) cost about a millisecond a step each; starts traced as a
    batch about two microseconds a start and step."""
    from gradviz.lecture.grids import parse_lrs, parse_starts
    from gradviz.limits import check_product

    if starts is not None:
        count = parse_starts(starts).count if isinstance(starts, str) else len(np.asarray(starts).reshape(-1, 2))
        check_product("starts x steps", {"optimizers": optimizers, "starts": count, "steps": steps}, "start-steps")
    elif not tune:
        paths = optimizers * (len(parse_lrs(lrs)) if lrs is not None else 1) * max(1, int(seeds))
        check_product("steps in all", {"paths": paths, "steps": steps}, "traced-steps")


def check_view(view: str, field: str | None = None, spin: float = 0.0) -> str:
    """view '2d' or '3d'; a field drawn on the 2-D view only, a camera spin on the 3-D one only."""
    view = VIEWS.lookup(view).name
    if isinstance(spin, bool) or not isinstance(spin, (int, float)) or not math.isfinite(spin):
        raise InvalidArgument(f"invalid spin: {spin!r} (must be a finite number of degrees)")
    if view == "3d" and field is not None:
        raise InvalidArgument(f"field {field!r} is drawn on the 2d view only: drop --field or use --view 2d")
    if view == "2d" and spin:
        raise InvalidArgument(f"spin {spin!r} turns the camera of the 3d view: add --view 3d or drop --spin")
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
    loss_panel: bool = True,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    field: str | None = None,
    view: str = "2d",
    spin: float = 0.0,
    lrs: Any = None,
    noise: float = 0.0,
    seeds: int = 1,
    starts: Any = None,
    tune: bool = False,
    objective: str = "final",
    tol: float = 1e-3,
    budget: tuple[str, int] | str | None = None,
    render: RenderOptions | None = None,
    **style: Any,
) -> Path:
    """Trace each optimizer from the same start on `function` and animate them together.

    function: a registry name, an expression in x and y ('x**2 + 10*sin(y)'), a TestFunction or a callable.
    optimizers: names ('adam'), specs with settings ('adam:lr=0.05,betas=0.9/0.99'), dotted paths
    ('pytorch_optimizer.Lion:lr=1e-3'), a schedule after '@' ('sgd:lr=0.01@cosine:T_max=200', then the
    panel shows each path's learning rate instead of its loss), (name, dict) pairs or torch.optim.Optimizer
    classes. Everything is checked before the first step is traced, and all but hyperparameter names (which
    need the torch class) before torch is imported.
    progress: progress(done, total) while each optimizer is traced and while frames are rendered.
    title: the picture's title; by default the function's name ('Rosenbrock'), the name of your own
    function (`def bowl(xy): ...` is titled 'bowl'), or 'f(x, y)' for one without a name (a lambda).
    budget: ('evaluations', N) (or 'evaluations:N') runs every method until it has spent N evaluations of
    f and animates on evaluations, so gradient and direct methods compare fairly; ('steps', N) is `steps`.
    Comparisons (see gradviz.lecture.compare.compare_paths): lrs ('1e-3,1e-2' or '1e-4:1e-1:7') draws every
    optimizer at every rate; noise adds seeded Gaussian noise of that scale to every gradient, and seeds > 1
    draws a bundle of paths per optimizer; starts ('grid:10x10', 'random:100') draws a swarm per
    optimizer; tune picks each optimizer's best rate on a log grid (lrs, or its default times 10^-2..10^1)
    for `objective` ('final', 'auc', 'steps-to-tol' with tol), prints the table to `report` and writes the
    objective and grid into the figure. Comparisons run on steps, not on an evaluation budget.
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("trajectories", render, style, uses=("size", "dpi", "theme", "fps", "frames",
                             "title", "progress", "report"), fps=20)
    size, dpi, theme, fps = options.size, options.dpi, options.theme, options.fps
    frames, title, progress, report = options.frames, options.title, options.progress, options.report
    from gradviz.output import check_output_path
    from gradviz.lecture.compare import check_comparison, parse_runs
    from gradviz.lecture.expressions import fit_window
    from gradviz.lecture.grids import get_objective
    from gradviz.lecture.schedules import split_schedule

    fn = fit_window(get_function(function), domain)  # an expression's default start moves into the window
    check_positive("steps", steps, integer=True)
    if tune:
        get_objective(objective)
        check_positive("tol", tol)
    kind, amount = parse_budget(budget) if budget is not None else ("steps", steps)
    out = check_output_path(path)
    check_fps(fps, out)  # size, dpi, theme and frames: checked by RenderOptions
    if field is not None:
        field = FIELD_STYLES.lookup(field).name
    check_view(view, field, spin)
    check_frames(frames, amount)  # with an evaluation budget, a frame per evaluation at most
    optimizers = _check_names([optimizers] if isinstance(optimizers, str) else list(optimizers))
    check_comparison([(*parse_optimizer(split_schedule(item)[0]), None) for item in optimizers
                      if isinstance(item, str)], lrs=lrs, noise=noise, seeds=seeds, starts=starts, tune=tune)
    _check_work(len(optimizers), amount, lrs=lrs, seeds=seeds, starts=starts, tune=tune)
    runs = parse_runs(optimizers)
    compared = lrs is not None or noise or starts is not None or tune or seeds > 1
    plain = not compared and all(schedule is None for _, _, schedule in runs)
    if not plain and kind != "steps":
        raise InvalidArgument(f"budget {kind}:{amount}: --lr/--gradient-noise/--starts/--tune/@schedule compare on steps; "
                              "use --steps with them")
    if plain:
        records = [trace_stage(fn, spec, progress, start=start, steps=steps, seed=seed, budget=(kind, amount),
                               **hyperparams) for spec, hyperparams, _ in runs]
        return animate(records, out, function=fn, fps=fps, size=size, dpi=dpi, theme=theme, loss_panel=loss_panel,
                       frames=frames, domain=domain, title=title, progress=progress, field=field, view=view,
                       spin=spin, clock=kind)
    if view != "2d":
        raise InvalidArgument(f"view {view!r} draws plain paths only: drop --lr/--gradient-noise/--starts/--tune/@schedule "
                              "or use the 2d view")
    from gradviz.lecture.compare import compare_paths

    result = compare_paths(fn, runs, lrs=lrs, noise=noise, seeds=seeds, starts=starts,
                           tune_objective=objective if tune else None, tol=tol, start=start, steps=steps, seed=seed)
    if result["table"] is not None:
        from gradviz.pipelines.sweep import report_table

        report_table(result["table"], report)
    return _animate_comparison(result, out, fn, fps=fps, size=size, dpi=dpi, theme=theme, loss_panel=loss_panel,
                               frames=frames, domain=domain, progress=progress, field=field, title=title)


def _check_names(optimizers: list[Any]) -> list[Any]:
    """Names and schedules first: a typo fails without importing torch."""
    from gradviz.lecture.schedules import parse_schedule, split_schedule

    for item in optimizers:
        if isinstance(item, str):
            text, schedule = split_schedule(item)
            parse_optimizer(text)
            if schedule is not None:
                parse_schedule(schedule)
    return optimizers


def trace_stage(fn: TestFunction, spec: Any, progress: Progress | None, **arguments: Any) -> Trajectory:
    """gradviz.trace of one optimizer, announced as a stage of the progress bar."""
    from gradviz.lecture.tracing import trace

    start_stage(progress, f"tracing {spec.name}")
    return trace(fn, spec, progress=progress, **arguments)


def _animate_comparison(result: Mapping[str, Any], out: Path, fn: TestFunction, *, fps: float,
                        size: tuple[int, int], dpi: float, theme: str, loss_panel: bool, frames: int | None,
                        domain: Any, progress: Progress | None, field: str | None = None,
                        title: str | None = None) -> Path:
    """Draw compare_paths' result: groups as a swarm or bundle, paths with the lr panel where a schedule
    sets the rate, the note (tuning objective and grid, noise, starts) under the function's name."""
    from gradviz.render.compare import GroupRenderer, NotedTrajectoryRenderer, ScheduleRenderer

    paths = result["paths"] or [p for _, group in result["groups"] for p in group]
    window = domain or fn.domain or domain_around([t.points for t in paths])
    options = dict(size=size, dpi=dpi, theme=theme, frames=frames, note=result["note"], title=title)
    if result["groups"] is not None:
        renderer: Any = GroupRenderer(result["groups"], fn.surface(window), panels=result["kind"] == "starts",
                                      loss_panel=loss_panel, **options)
    elif any(p.schedule for p in paths):
        renderer = ScheduleRenderer(paths, fn.surface(window), **options)
    else:
        renderer = NotedTrajectoryRenderer(paths, fn.surface(window), loss_panel=loss_panel, **options)
    if field is not None:
        from gradviz.render.field import draw_field

        for axes in renderer.axes_list if hasattr(renderer, "axes_list") else [renderer.axes]:
            draw_field(axes, renderer.surface, style=field, color=renderer.theme.foreground)
        renderer.restage()
    return write_rendered(renderer, out, fps=fps, progress=progress)
