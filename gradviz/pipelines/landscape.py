"""The pipeline behind `gradviz landscape`: train small nets from one initial model, evaluate the loss over
a plane (or line) through the weights, and draw the paths across it.

`landscape_animation` checks every input first (names, numbers, the device, the output path), then trains
one MLP per optimizer from the same seed (so from the same initial weights), builds the plane (the
shared PCA plane of all runs by default; a filter-normalized random plane; or the line from the initial
to the trained weights), evaluates the grid in batches, projects each run's snapshots onto the plane and
writes a 2-D animation with boundaries and loss curves, a 3-D view, or the 1-D curve.
`model_landscape` does the same for a user's own model, data, loss and checkpoints, loaded by
MODULE:NAME, with no training. The tracing function itself is `gradviz.landscape` (gradviz/analysis/landscape.py); this module is one level down, so the
names do not collide.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from gradviz.render.options import RenderOptions, render_options
from gradviz.analysis.choices import METRICS, NORMS, PLANES
from gradviz.i18n import N_, _
from gradviz.limits import check_count
from gradviz.registry import InvalidArgument, Registry, check_positive, check_seed
from gradviz.render.choices import VIEWS

__all__ = ["landscape_animation", "model_landscape",
           "check_landscape_options", "check_frames_recorded", "snapshot_every"]

DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adam")


def _choice(value: Any, choices: Registry) -> str:
    return choices.lookup(str(value)).name


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
    plane = _choice(plane, PLANES)
    view = _choice(view, VIEWS)
    norm = _choice(norm, NORMS)
    metric = _choice(metric, METRICS)
    check_count("grid", grid, "grid", least=3)
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
    cache: str | os.PathLike[str] | None = None,
    hessian_scale: str = "unit",
    render: RenderOptions | None = None,
    **style: Any,
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
    how far alpha goes past 0 and 1, default 0.5). cache: a file that keeps the finished grid points (see
    gradviz.landscape). hessian_scale: for plane 'hessian', 'unit' (unit eigenvectors: the axes are raw
    distances, the default window where the quadratic model has risen 4x) or 'norm' (both eigenvectors as long
    as a `norm`-normalized random direction, the norm of the weights, and the window [-1, 1]: the same
    distances as a random plane's, so the two pictures compare).
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("landscape_animation", render, style, uses=("size", "dpi", "theme", "fps", "frames",
                             "title", "progress"), fps=12, frames=60)
    size, dpi, fps, title, progress = options.size, options.dpi, options.fps, options.title, options.progress
    from gradviz.pipelines.trajectories import write_rendered

    plane, view, norm, metric, device = check_landscape_options(plane=plane, view=view, norm=norm, metric=metric,
                                                                grid=grid, span=span, device=device)
    out, seed, optimizers = _check_animation(path, fps=fps, plane=plane, view=view, spin=spin, seed=seed,
                                             cache=cache, optimizers=optimizers, steps=steps)
    if hessian_scale not in ("unit", "norm"):
        raise InvalidArgument(f"invalid hessian_scale: {hessian_scale!r} (one of 'unit', 'norm')")
    from gradviz.analysis.evaluation import check_device

    check_device(device)  # CUDA asked for where there is none: one line, before training
    from gradviz.pipelines.boundary import train_variants

    runs = train_variants(dataset, n=n, noise=noise, hidden=hidden, activation=activation,
                          optimizers=optimizers, steps=steps, seed=seed, record_every=snapshot_every(steps),
                          grid=60)
    from gradviz.lecture import make_dataset, mlp
    from gradviz.analysis.landscape import landscape

    X, y = make_dataset(dataset, n=n, noise=noise, seed=seed)
    classes = int(y.max()) + 1
    model = mlp(2, hidden, 1 if classes == 2 else classes, activation=activation, seed=seed)
    _load(model, runs[0].snapshots[-1])
    directions: Any = plane
    from gradviz.pipelines.trajectories import start_stage

    if plane == "hessian" and hessian_scale == "norm" and norm != "none":
        from gradviz.analysis.landscape import direction_length, hessian_plane

        directions = hessian_plane(model, (X, y), seed=seed, device=device, length=direction_length(model, norm))
    start_stage(progress, "evaluating grid")
    surface, paths = landscape(model, (X, y), directions=directions, runs=runs, grid=grid, span=span, norm=norm,
                               seed=seed, device=device, metric=metric, paths=True, cache=cache, progress=progress)
    if metric == "loss":
        surface = _log_scaled(surface)
    shape = "-".join(str(s) for s in [2, *hidden, 1 if classes == 2 else classes])
    if plane == "line":
        return _write_curve(surface, runs[0], out, size=size, dpi=dpi, title=title or
                            _("{data}, MLP {shape}: {value} from the initial to the trained weights").format(
                                data=_(dataset), shape=shape, value=surface.zlabel))
    renderer = _animation_renderer(surface, paths, runs, view=view, options=options, spin=spin, steps=steps,
                                   heading=title or f"{_(dataset)}, MLP {shape}: {surface.name}")
    return write_rendered(renderer, out, fps=fps, progress=progress)


def _animation_renderer(surface: Any, paths: Any, runs: Any, *, view: str, options: RenderOptions, spin: float,
                        steps: int, heading: str) -> Any:
    """The 3-D surface with the paths riding on it, or the 2-D contours beside boundaries and loss curves."""
    size, dpi, theme, frames = options.size, options.dpi, options.theme, options.frames
    if view == "3d":
        from gradviz.render.surface3d import Surface3DRenderer

        tracks = _tracks(surface, paths)
        if len(tracks) < len(paths):
            heading += " (paths off the window)"
        return Surface3DRenderer(surface, tracks, size=size, dpi=dpi, theme=theme, frames=frames, spin=spin,
                                 title=heading, total=steps)
    from gradviz.render.landscape import LandscapeRenderer

    return LandscapeRenderer(surface, paths, runs, size=size, dpi=dpi, theme=theme, frames=frames,
                             title=options.title)


def _check_animation(path: Any, *, fps: float, plane: str, view: str, spin: Any, seed: Any, cache: Any,
                     optimizers: Iterable[Any], steps: Any) -> tuple[Path, int, tuple[Any, ...]]:
    """What landscape_animation checks before any training -> (the output path, the seed, the optimizers)."""
    from gradviz.output import check_output_path
    from gradviz.pipelines.trajectories import check_fps, check_view

    out = check_output_path(path)
    check_fps(fps, out)
    if not (isinstance(spin, (int, float)) and math.isfinite(spin)):
        raise InvalidArgument(f"invalid spin: {spin!r} (must be a finite number of degrees)")
    if plane == "line" and out.suffix.lower() != ".png":
        raise InvalidArgument(f"plane 'line' draws a 1-D curve, a still picture: write a .png, not {out.name!r}")
    if plane == "line" and view == "3d":
        raise InvalidArgument("plane 'line' draws a 1-D curve, which has no 3d view: drop --view 3d or use "
                              "--plane pca or random")
    check_view(view, spin=spin)
    seed = check_seed(seed)
    if cache is not None:  # before the training, not after it
        from gradviz.analysis.files import check_cache_path

        check_cache_path(cache)
    optimizers = tuple(optimizers)
    if len(optimizers) > 4:
        raise InvalidArgument(f"too many optimizers on one landscape: {len(optimizers)} (at most 4)")
    check_positive("steps", steps, integer=True)
    return out, seed, optimizers


def _log_scaled(surface: Any) -> Any:
    """The same Surface drawn with log colours of z (a loss, floor 0)."""
    from dataclasses import replace

    return replace(surface, log_scale=True, floor=0.0)


def _tracks(surface: Any, paths: Any) -> list[Any]:
    """The 3-D view's paths: heights on the surface's scale, with the true loss; a path far off the window (a
    Hessian plane's are) would fly across the picture, so it is drawn only where it fits."""
    from gradviz.render.surface3d import Path3D, surface_heights

    tracks = []
    for p in paths:
        if _inside(surface, p.coords):
            heights, _ = surface_heights(surface, p.surface_loss)
            true, _ = surface_heights(surface, p.loss)
            tracks.append(Path3D(p.coords, heights, p.steps, p.label, true))
    return tracks


def _inside(surface: Any, coords: Any) -> bool:
    """Whether every point of a path lies in the surface's window (with a 5% margin)."""
    (x0, x1), (y0, y1) = (surface.x[0], surface.x[-1]), (surface.y[0], surface.y[-1])
    mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    xs, ys = coords[:, 0], coords[:, 1]
    return bool(((xs >= x0 - mx) & (xs <= x1 + mx) & (ys >= y0 - my) & (ys <= y1 + my)).all())


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
                                   mark_labels=(_("initial weights"), _("trained ({optimizer})").format(
                                       optimizer=run.optimizer))), out)


def _is_spec(value: Any) -> bool:
    return isinstance(value, str)


def model_landscape(
    path: str | os.PathLike[str] | None = None,
    *,
    model: Any,
    data: Any,
    weights: Any = None,
    loss: Any = None,
    compute_loss: Any = None,
    checkpoints: Any = None,
    plane: str = "random",
    grid: int = 41,
    span: float | None = None,
    norm: str = "filter",
    view: str = "2d",
    metric: str = "loss",
    device: str = "cpu",
    cache: str | os.PathLike[str] | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    spin: float = 0.0,
    samples: int | None = None,
    precision: str = "float32",
    channels_last: bool = False,
    compile: bool = False,
    render: RenderOptions | None = None,
    **style: Any,
) -> Path | None:
    """The loss landscape of your own model on your own data, written as a picture; no training.

    model: 'MODULE:FACTORY' (or an nn.Module); data: 'MODULE:FUNCTION' returning tensors of any shape
    ((x, y), (x1, ..., y), a dict, (dict, y)) or a DataLoader of such batches, dict batches of a transformers
    model included (or those themselves); weights: a state_dict file loaded into the model first;
    loss: a name ('mse', 'cross-entropy', ...) or 'MODULE:FUNCTION' (outputs, targets) -> mean loss (default: the
    model's own .loss for dict batches, else BCE/cross-entropy as `train`); compute_loss: 'MODULE:FUNCTION' (or a
    callable) (model, batch) -> mean loss, for everything else (see gradviz.analysis.losses);
    checkpoints: a glob ('ckpt/epoch-*.pt') or a list of state_dict files, sorted by name (numbers as
    numbers): the path of that training run over the plane; with plane 'pca' their PCA plane. The origin is
    the last checkpoint unless `weights` is given. plane: 'random' (filter-normalized), 'pca' (needs
    checkpoints) or 'line' (first checkpoint -> the origin, a .png curve). view '2d' writes a .png of the
    contours; '3d' a .png, or a .gif/.mp4 with the camera turning by `spin` degrees and the path advancing.
    cache: a file keeping finished grid points (a stopped run continues). samples: every grid point on the same
    seeded random subset of this many samples, each point's standard error kept and stated (see
    gradviz.landscape). precision ('float32'; on CUDA 'tf32' or 'bf16', refused elsewhere before torch is
    imported), channels_last and compile: as gradviz.landscape takes them. Under torchrun the grid is split
    across the processes and only rank 0 writes the file (the others return None).
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("model_landscape", render, style, uses=("size", "dpi", "theme", "fps", "frames",
                             "title", "progress"), fps=12, frames=60)
    fps, progress = options.fps, options.progress
    plane, view, norm, metric, device = check_landscape_options(plane=plane, view=view, norm=norm, metric=metric,
                                                                grid=grid, span=span, device=device)
    from gradviz.analysis.choices import check_precision_name

    precision = check_precision_name(precision, device)
    out, seed, batch_size, files = _check_model_landscape(path, plane=plane, view=view, spin=spin, fps=fps, seed=seed,
                                                          batch_size=batch_size, cache=cache, weights=weights,
                                                          checkpoints=checkpoints)
    from gradviz.analysis.evaluation import check_device
    from gradviz.analysis.loading import (load_compute_loss, load_data, load_loss, load_model, load_weights,
                                          user_code_errors)

    check_device(device)
    net = load_model(model) if _is_spec(model) else model
    loss_fn = load_loss(loss) if (loss is None or _is_spec(loss)) else loss
    dataset = load_data(data) if _is_spec(data) else data
    if batch_size is not None and not isinstance(dataset, (tuple, list, dict)):  # whole tensors are split
        raise InvalidArgument(f"--batch-size {batch_size} splits (inputs, targets) tensors; data {data!r} is a "
                              f"{type(dataset).__name__}, which keeps its own batches: set batch_size in it, or "
                              "drop --batch-size")
    hook = load_compute_loss(compute_loss) if _is_spec(compute_loss) else compute_loss
    if weights is not None:
        load_weights(net, weights)
    elif files:
        load_weights(net, files[-1])
    from gradviz.analysis.landscape import landscape

    with user_code_errors(model=model, data=data, loss=loss, compute_loss=compute_loss):
        result = landscape(net, dataset, directions=plane, runs=files, grid=grid, span=span, norm=norm, seed=seed,
                           device=device, metric=metric, loss_fn=loss_fn, compute_loss=hook, paths=files is not None,
                           cache=cache, progress=progress, batch_size=batch_size, samples=samples,
                           precision=precision, channels_last=bool(channels_last), compile=bool(compile))
    surface, paths = result if files is not None else (result, [])
    if _rank() != 0:
        return None
    if metric == "loss" and bool(np.all(surface.z > 0)):
        surface = _log_scaled(surface)
    return _model_picture(surface, paths, net, out, plane=plane, view=view, metric=metric, spin=spin,
                          options=options, checkpoints=len(files or ()))


def _check_model_landscape(path: Any, *, plane: str, view: str, spin: Any, fps: float, seed: Any, batch_size: Any,
                           cache: Any, weights: Any, checkpoints: Any) -> tuple[Path, int, int | None, list[Any] | None]:
    """What model_landscape checks before torch is imported -> (output path, seed, batch size, checkpoint
    files or None)."""
    from gradviz.output import check_output_path
    from gradviz.pipelines.trajectories import check_fps, check_view

    out = check_output_path(path if path is not None else ("landscape.gif" if view == "3d" and spin else
                                                           "landscape.png"))
    animated = out.suffix.lower() != ".png"
    if animated and view != "3d":
        raise InvalidArgument(f"a landscape of your own model in 2d is a still picture: write a .png, not "
                              f"{out.name!r}, or add --view 3d for an animation")
    if plane == "line" and (animated or view == "3d"):
        raise InvalidArgument("plane 'line' draws a 1-D curve: write a .png in the 2d view")
    if plane in ("pca", "line") and checkpoints is None:
        raise InvalidArgument(f"plane {plane!r} of your own model needs checkpoints (--checkpoints 'GLOB'): the "
                              "training run that the plane is built from")
    if animated:
        check_fps(fps, out)
    check_view(view, spin=spin)
    seed = check_seed(seed)
    if batch_size is not None:
        batch_size = check_count("batch-size", batch_size, "batch-size")
    # the user's files, before torch is imported: a typo answers at once
    from gradviz.analysis.files import check_cache_path, check_weights_file, expand_checkpoints

    if cache is not None:
        check_cache_path(cache)
    if isinstance(weights, (str, os.PathLike)):
        check_weights_file(weights)
    files = None
    if checkpoints is not None:
        files = expand_checkpoints(checkpoints) if isinstance(checkpoints, (str, os.PathLike)) else list(checkpoints)
        if len(files) < 2:
            raise InvalidArgument(f"{len(files)} checkpoint(s): a path needs at least 2")
    return out, seed, batch_size, files


def _model_picture(surface: Any, paths: Any, net: Any, out: Path, *, plane: str, view: str, metric: str,
                   spin: float, options: RenderOptions, checkpoints: int) -> Path:
    """Your model's surface as a picture: a curve for a line, the 3-D surface (turning, in a GIF), or contours
    with the checkpoints' path."""
    size, dpi, theme, frames, fps = options.size, options.dpi, options.theme, options.frames, options.fps
    progress = options.progress
    n_params = sum(p.numel() for p in net.parameters())
    name = type(net).__name__
    heading = options.title or _("{name} ({n:,} parameters): {value} over a {plane}").format(
        name=name, n=n_params, value=surface.zlabel, plane=surface.name)
    if plane == "line":
        from gradviz.output import write_image
        from gradviz.render.landscape import curve_image

        return write_image(curve_image(surface, size=size, dpi=dpi, title=heading, marks=(0.0, 1.0),
                                       mark_labels=(_("first checkpoint"), _("weights"))), out)
    if view == "3d":
        from gradviz.pipelines.trajectories import write_rendered
        from gradviz.render.surface3d import Surface3DRenderer

        tracks = _tracks(surface, paths)
        renderer = Surface3DRenderer(surface, tracks, size=size, dpi=dpi, theme=theme, frames=frames, spin=spin,
                                     title=heading, word=N_("checkpoint"))
        return write_rendered(renderer, out, fps=fps, progress=progress)
    from gradviz.output import write_image
    from gradviz.render.landscape import landscape_image

    note = ""
    if paths:
        gap = max(float(np.max(np.abs(p.loss - p.surface_loss))) for p in paths)
        note = _("path: {n} checkpoints projected onto the plane; largest gap between a checkpoint's own {value} "
                 "and the surface under it: {gap:.3g}").format(n=checkpoints, value=_("loss") if metric == "loss"
                                                                else metric, gap=gap)
    return write_image(landscape_image(surface, paths, size=size, dpi=dpi, theme=theme, title=heading, note=note),
                       out)


def _rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
