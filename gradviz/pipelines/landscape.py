"""The pipeline behind `gradviz landscape`: train small nets from one initial model, evaluate the loss over
a plane (or line) through the weights, and draw the paths across it.

`landscape_animation` checks every input first (names, numbers, the device, the output path), then trains
one MLP per optimizer from the same seed (so from the same initial weights), builds the plane (the
shared PCA plane of all runs by default; a filter-normalized random plane; or the line from the initial
to the trained weights), evaluates the grid in batches, projects each run's snapshots onto the plane and
writes a 2-D animation with boundaries and loss curves, a 3-D view, or the 1-D curve. The tracing
function itself is `gradviz.landscape` (gradviz/nets/landscape.py); this module is one level down, so the
names do not collide.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from gradviz.registry import InvalidArgument, check_positive, normalize_name, unknown_name_message

__all__ = ["landscape_animation", "PLANES", "VIEWS", "NORM_NAMES", "METRIC_NAMES", "check_landscape_options",
           "check_frames_recorded", "snapshot_every"]

PLANES = ("pca", "random", "line")
VIEWS = ("2d", "3d")
NORM_NAMES = ("filter", "layer", "none")
METRIC_NAMES = ("loss", "accuracy")
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adam")


def _choice(kind: str, value: Any, choices: Sequence[str]) -> str:
    name = normalize_name(str(value))
    if name not in choices:
        raise InvalidArgument(unknown_name_message(kind, value, choices))
    return name


def check_device_name(device: Any) -> str:
    """'cpu', 'cuda' or 'cuda:N' without importing torch; whether CUDA exists is checked later."""
    text = str(device).strip().lower()
    if text == "cpu" or text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise InvalidArgument(f"invalid device {device!r} (valid: cpu, cuda, cuda:N)")


def snapshot_every(steps: int) -> int:
    """How often the runs keep their weights: about 100 snapshots, whatever the number of steps."""
    return max(1, steps // 100)


def check_frames_recorded(frames: int, steps: int) -> None:
    """More frames than snapshots would repeat frames: say so instead of quietly drawing fewer."""
    every = snapshot_every(steps)
    recorded = steps // every + 1 + (steps % every > 0)  # at 0, every, 2 every, ... and the last step
    if frames > recorded:
        raise InvalidArgument(f"invalid frames {frames}: {steps} steps are recorded {recorded} times (every "
                              f"{every}), so at most {recorded} frames")


def check_landscape_options(*, plane: str, view: str, norm: str, metric: str, grid: Any, span: Any,
                            device: Any) -> tuple[str, str, str, str, str]:
    """Everything about the landscape that can be checked without torch -> normalized names."""
    plane = _choice("plane", plane, PLANES)
    view = _choice("view", view, VIEWS)
    norm = _choice("norm", norm, NORM_NAMES)
    metric = _choice("metric", metric, METRIC_NAMES)
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 3:
        raise InvalidArgument(f"invalid grid: {grid!r} (must be a whole number >= 3)")
    if grid > 401:
        raise InvalidArgument(f"invalid grid: {grid!r} (at most 401 points per axis)")
    if span is not None and (isinstance(span, bool) or not isinstance(span, (int, float))
                             or not math.isfinite(span) or span <= 0):
        raise InvalidArgument(f"invalid span: {span!r} (must be a finite number > 0)")
    return plane, view, norm, metric, check_device_name(device)


def landscape_animation(
    path: str | os.PathLike[str] = "landscape.gif",
    *,
    dataset: str = "moons",
    n: int = 300,
    noise: float | None = None,
    hidden: Sequence[int] = (16, 16),
    activation: str = "relu",
    optimizers: Iterable[Any] = DEFAULT_OPTIMIZERS,
    steps: int = 300,
    plane: str = "pca",
    grid: int = 41,
    span: float | None = None,
    norm: str = "filter",
    view: str = "2d",
    metric: str = "loss",
    device: str = "cpu",
    spin: float = 0.0,
    seed: int = 0,
    fps: float = 12,
    size: tuple[int, int] = (960, 540),
    dpi: float = 100,
    theme: str = "light",
    frames: int | None = 60,
    title: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Train one MLP per optimizer from the same initial weights and draw their paths across the loss
    landscape; write a .gif, .mp4 or .png.

    plane: 'pca' (the runs' shared PCA plane, centred on the first run's final weights), 'random' (two
    random directions with `norm` normalization around the same weights; the paths are projected onto it
    and mostly lie far off it, which the picture says), or 'line' (the loss from the initial weights,
    alpha = 0, to the first run's trained weights, alpha = 1; a .png). view: '2d' (contours, boundaries,
    loss curves: solid the weights' own loss, dashed the surface value under the projected point) or '3d'
    (the surface with the paths on it; `spin` degrees of camera turn over the animation). span: the
    half-width of the plane in its units (default: the paths' extent for PCA, 1 for random; for a line,
    how far alpha goes past 0 and 1, default 0.5).
    """
    from gradviz.output import check_output_path
    from gradviz.pipelines.trajectories import check_fps, check_view, write_rendered
    from gradviz.render.frames import check_render_options
    from gradviz.render.theme import THEMES

    plane, view, norm, metric, device = check_landscape_options(plane=plane, view=view, norm=norm, metric=metric,
                                                                grid=grid, span=span, device=device)
    out = check_output_path(path)
    check_fps(fps, out)
    check_render_options(size=size, dpi=dpi, frames=frames)
    THEMES.lookup(theme)
    if not (isinstance(spin, (int, float)) and math.isfinite(spin)):
        raise InvalidArgument(f"invalid spin: {spin!r} (must be a finite number of degrees)")
    if plane == "line" and out.suffix.lower() != ".png":
        raise InvalidArgument(f"plane 'line' draws a 1-D curve, a still picture: write a .png, not {out.name!r}")
    if plane == "line" and view == "3d":
        raise InvalidArgument("plane 'line' draws a 1-D curve, which has no 3d view: drop --view 3d or use "
                              "--plane pca or random")
    check_view(view, spin=spin)
    optimizers = tuple(optimizers)
    if len(optimizers) > 4:
        raise InvalidArgument(f"too many optimizers on one landscape: {len(optimizers)} (at most 4)")
    check_positive("steps", steps, integer=True)
    every = snapshot_every(steps)

    from gradviz.nets.landscape import check_device

    check_device(device)  # CUDA asked for where there is none: one line, before training
    from gradviz.pipelines.boundary import train_variants

    runs = train_variants(dataset, n=n, noise=noise, hidden=hidden, activation=activation,
                          optimizers=optimizers, steps=steps, seed=seed, record_every=every, grid=60)
    from gradviz.nets import make_dataset, mlp
    from gradviz.nets.landscape import landscape

    X, y = make_dataset(dataset, n=n, noise=noise, seed=seed)
    classes = int(y.max()) + 1
    model = mlp(2, hidden, 1 if classes == 2 else classes, activation=activation, seed=seed)
    _load(model, runs[0].snapshots[-1])
    directions = {"pca": "pca", "random": "random", "line": "line"}[plane]
    surface, paths = landscape(model, (X, y), directions=directions, runs=runs, grid=grid, span=span, norm=norm,
                               seed=seed, device=device, metric=metric, paths=True)
    if metric == "loss":
        from gradviz.records import Surface

        surface = Surface(surface.x, surface.y, surface.z, name=surface.name, log_scale=True, floor=0.0,
                          xlabel=surface.xlabel, ylabel=surface.ylabel, zlabel=surface.zlabel,
                          explained=surface.explained)
    shape = "-".join(str(s) for s in [2, *hidden, 1 if classes == 2 else classes])
    if plane == "line":
        return _write_curve(surface, runs[0], out, size=size, dpi=dpi, title=title or
                            f"{dataset}, MLP {shape}: {surface.zlabel} from the initial to the trained weights")
    if view == "3d":
        from gradviz.render.surface3d import Path3D, Surface3DRenderer, surface_heights

        tracks = []
        for p in paths:
            heights, _ = surface_heights(surface, p.surface_loss)
            true, _ = surface_heights(surface, p.loss)
            tracks.append(Path3D(p.coords, heights, p.steps, p.label, true))
        renderer: Any = Surface3DRenderer(surface, tracks, size=size, dpi=dpi, theme=theme, frames=frames,
                                          spin=spin, title=title or f"{dataset}, MLP {shape}: {surface.name}")
    else:
        from gradviz.render.landscape import LandscapeRenderer

        renderer = LandscapeRenderer(surface, paths, runs, size=size, dpi=dpi, theme=theme, frames=frames,
                                     title=title)
    return write_rendered(renderer, out, fps=fps, progress=progress)


def _load(model: Any, flat: Any) -> None:
    import torch

    start = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(flat[start:start + p.numel()].copy()).reshape(p.shape))
            start += p.numel()


def _write_curve(surface: Any, run: Any, out: Path, *, size: tuple[int, int], dpi: float, title: str) -> Path:
    from gradviz.output import write_image
    from gradviz.render.landscape import curve_image

    return write_image(curve_image(surface, size=size, dpi=dpi, title=title, marks=(0.0, 1.0),
                                   mark_labels=("initial weights", f"trained ({run.optimizer})")), out)
