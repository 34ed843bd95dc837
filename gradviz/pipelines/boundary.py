"""The decision-boundary pipeline behind `gradviz boundary`: data, model, training variants, animation.

Variants are every combination of the optimizers, weight decays and dropouts asked for; each starts from
the same initial weights (one seed builds every model) on the same data, so side-by-side panels differ
only in what the lecture is contrasting.
"""

from __future__ import annotations

import copy
import itertools
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from gradviz.registry import InvalidArgument, check_positive

__all__ = ["boundary", "train_variants", "check_validation"]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_validation(validation: float | None) -> None:
    """InvalidArgument unless validation is None or a fraction strictly between 0 and 1 (checked before
    torch is imported)."""
    if validation is None:
        return
    if isinstance(validation, bool) or not isinstance(validation, (int, float)) or not 0 < validation < 1:
        raise InvalidArgument(f"invalid validation fraction: {validation!r} (must be between 0 and 1, e.g. 0.3)")


def train_variants(
    dataset: str = "moons",
    *,
    n: int = 300,
    noise: float | None = None,
    classes: int | None = None,
    hidden: Sequence[int] = (16, 16),
    activation: str = "relu",
    init: str = "default",
    dropout: float | Sequence[float] = 0.0,
    optimizers: Iterable[Any] = ("adam",),
    steps: int = 300,
    lr: float | None = None,
    batch_size: int | None = None,
    weight_decay: float | Sequence[float] = 0.0,
    freeze: Sequence[str] = (),
    seed: int = 0,
    record_every: int | None = None,
    grid: int = 80,
    validation: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Train one MLP per combination of optimizer x weight_decay x dropout; -> list of TrainingRuns.

    validation: a fraction of the points (0 < fraction < 1) held out, the same points for every variant;
    the runs then record validation loss and accuracy, which is what dropout and weight decay improve.
    """
    from gradviz.pipelines.trajectories import _normalize_optimizers, start_stage
    from gradviz.nets import make_dataset, mlp, train
    from gradviz.records import format_hyperparams

    check_validation(validation)
    X, y = make_dataset(dataset, n=n, noise=noise, seed=seed, classes=classes)
    k = int(y.max()) + 1
    held_out = None
    if validation is not None:
        from gradviz.nets.data import train_val_split

        (X, y), held_out = train_val_split(X, y, fraction=validation, seed=seed)
    out_features = 1 if k == 2 else k
    choices = _normalize_optimizers(optimizers)
    decays, dropouts = _as_list(weight_decay), _as_list(dropout)
    for value in decays:
        check_positive("weight_decay", value, allow_zero=True)
    steps = check_positive("steps", steps, integer=True)
    every = record_every or max(1, steps // 100)
    variants = list(itertools.product(choices, decays, dropouts))
    if len(variants) > 8:
        raise InvalidArgument(f"too many variants side by side: {len(variants)} (at most 8)")
    # check every model and setting before the first step is taken
    models = [mlp(2, hidden, out_features, activation=activation, init=init, dropout=d, seed=seed)
              for _, _, d in variants]
    if freeze:
        from gradviz.nets.training import freeze_layers

        freeze_layers(copy.deepcopy(models[0]), freeze)  # unknown names raise here, listing the valid ones
    runs = []
    for index, (((spec, hyperparams), decay, drop), model) in enumerate(zip(variants, models)):
        settings = {**hyperparams}
        shown = {"lr": settings.get("lr", lr if lr is not None else spec.net_lr), **settings}
        label = f"{spec.name} ({format_hyperparams(shown, symbols=True)})"
        if len(decays) > 1 or decay:
            label += f", wd={decay:g}"
        if len(dropouts) > 1 or drop:
            label += f", dropout={drop:g}"
        if freeze:
            label += f", frozen: {'+'.join(freeze)}"
        run_lr = settings.pop("lr", lr)
        start_stage(progress, f"training {index + 1}/{len(variants)}")
        runs.append(train(model, (X, y), spec, steps=steps, lr=run_lr, batch_size=batch_size,
                          weight_decay=decay, freeze=freeze, seed=seed, record_every=every, grid=grid,
                          validation=held_out, label=label, progress=progress, **settings))
    return runs


def boundary(
    dataset: str = "moons",
    path: str | os.PathLike[str] = "boundary.gif",
    *,
    fps: float = 15,
    size: tuple[int, int] = (960, 540),
    dpi: float = 100,
    theme: str = "light",
    frames: int | None = None,
    title: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    **training: Any,
) -> Path:
    """Train the variants (see train_variants) and animate their decision boundaries side by side."""
    from gradviz.pipelines.trajectories import check_fps, write_rendered
    from gradviz.output import check_output_path
    from gradviz.render.frames import check_render_options
    from gradviz.render.theme import THEMES

    out = check_output_path(path)
    check_validation(training.get("validation"))
    check_fps(fps, out)
    check_render_options(size=size, dpi=dpi, frames=frames)
    THEMES.lookup(theme)
    if frames is not None:  # one frame per recorded step at most: say so rather than draw fewer
        steps = check_positive("steps", training.get("steps", 300), integer=True)
        every = training.get("record_every") or max(1, steps // 100)
        recorded = len(range(0, steps + 1, every)) + (1 if steps % every else 0)
        if frames > recorded:
            raise InvalidArgument(f"invalid frames {frames}: {steps} steps recorded every {every} give at most "
                                  f"{recorded} frames; use fewer frames or a smaller record_every")
    runs = train_variants(dataset, progress=progress, **training)
    from gradviz.render.boundary import BoundaryRenderer

    if title is None:
        hidden = training.get("hidden", (16, 16))
        shape = "-".join(str(s) for s in [2, *hidden])
        title = (f"{dataset}: " + (f"MLP {shape}, {training.get('activation', 'relu')}" if list(hidden)
                                   else "logistic regression"))
    renderer = BoundaryRenderer(runs, size=size, dpi=dpi, theme=theme, frames=frames, title=title)
    return write_rendered(renderer, out, fps=fps, progress=progress)
