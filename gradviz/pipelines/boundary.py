"""The decision-boundary pipeline behind `gradviz boundary`: data, model, training variants, animation.

Variants are every combination of the optimizers, weight decays, dropouts and frozen-layer choices asked
for; each starts from the same initial weights (one seed builds every model, or `weights` loads trained
ones into each: fine-tuning, the transfer-learning setting where freezing a trained layer means
something) on the same data, so side-by-side panels differ only in what the lecture is contrasting.
"""

from __future__ import annotations

import copy
import itertools
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from gradviz.i18n import _
from gradviz.render.options import RenderOptions, render_options, split_style
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["boundary", "train_variants", "check_validation", "tune_rates", "freeze_choices"]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_validation(validation: float | None) -> None:
    """InvalidArgument unless validation is None or a fraction strictly between 0 and 1 (checked before
    torch is imported)."""
    if validation is None:
        return
    if isinstance(validation, bool) or not isinstance(validation, (int, float)) or not 0 < validation < 1:
        raise InvalidArgument(f"invalid validation fraction: {validation!r} (must be between 0 and 1, e.g. 0.3)")


def freeze_choices(freeze: Any) -> list[list[str]]:
    """The frozen-layer settings of the panels: a list of layer names is one setting for every panel
    (['fc1']); a list of such lists is one panel each ([[], ['fc1', 'fc2']]: unfrozen beside frozen)."""
    items = list(freeze or ())
    if all(isinstance(item, str) for item in items):
        return [items]
    if not all(isinstance(item, (list, tuple)) and all(isinstance(n, str) for n in item) for item in items):
        raise InvalidArgument(f"invalid freeze: {freeze!r} (layer names, e.g. ['fc1'], or one list of them "
                              "per panel, e.g. [[], ['fc1', 'fc2']])")
    return [list(item) for item in items]


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
    lr: float | Sequence[float] | str | None = None,
    batch_size: int | None = None,
    weight_decay: float | Sequence[float] = 0.0,
    freeze: Sequence[str] | Sequence[Sequence[str]] = (),
    weights: Any = None,
    seed: int = 0,
    record_every: int | None = None,
    grid: int = 80,
    validation: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Train one MLP per combination of optimizer x learning rate x weight_decay x dropout x frozen layers;
    -> TrainingRuns.

    optimizers: names, 'NAME:KEY=VALUE,...' texts with an optional lr schedule after '@'
    ('sgd:lr=0.1@cosine', as `gradviz trajectories -O` takes them), (name, settings[, schedule]) tuples
    or classes. lr: one rate, several ('1e-3,1e-2', a list, or a log range '1e-4:1e-1:7') for side-by-side panels,
    or None for each optimizer's net default (an optimizer's own lr= wins over both).
    validation: a fraction of the points (0 < fraction < 1) held out, the same points for every variant;
    the runs then record validation loss and accuracy, which is what dropout and weight decay improve.
    freeze: layer names frozen in every panel, or one list per panel (see freeze_choices).
    weights: a state_dict (a file's path or a dict, e.g. from a model trained on another task) loaded into
    every model before training, checked against its layers and shapes first (the activation is not in
    a state_dict: give the one the weights were trained with).
    """
    from gradviz.lecture.compare import parse_runs
    from gradviz.lecture import make_dataset, mlp, train
    from gradviz.pipelines.trajectories import start_stage

    check_validation(validation)
    X, y = make_dataset(dataset, n=n, noise=noise, seed=seed, classes=classes)
    k = int(y.max()) + 1
    held_out = None
    if validation is not None:
        from gradviz.lecture.data import train_val_split

        (X, y), held_out = train_val_split(X, y, fraction=validation, seed=seed)
    out_features = 1 if k == 2 else k
    choices = parse_runs(optimizers)
    rates = _rates(lr, False)
    decays, dropouts, frozen = _as_list(weight_decay), _as_list(dropout), freeze_choices(freeze)
    for value in decays:
        check_positive("weight_decay", value, allow_zero=True)
    steps = check_positive("steps", steps, integer=True)
    every = record_every or max(1, steps // 100)
    variants = [((spec, {"lr": rate, **hyperparams} if rate is not None else hyperparams, schedule), decay, drop,
                 layers)
                for (spec, hyperparams, schedule), rate, decay, drop, layers
                in itertools.product(choices, rates, decays, dropouts, frozen)]
    if len(variants) > 8:
        raise InvalidArgument(f"too many variants side by side: {len(variants)} (at most 8)")
    models = [mlp(2, hidden, out_features, activation=activation, init=init, dropout=d, seed=seed)
              for _, _, d, _ in variants]
    _prepare(variants, models, weights=weights, frozen=frozen, steps=steps)
    runs = []
    for index, (((spec, hyperparams, schedule), decay, drop, layers), model) in enumerate(zip(variants, models)):
        settings = {**hyperparams}
        label = _variant_label(spec, settings, schedule, decay, drop, layers,
                               axes=(len(decays) > 1, len(dropouts) > 1, len(frozen) > 1))
        run_lr = settings.pop("lr", None)
        start_stage(progress, f"training {index + 1}/{len(variants)}")
        runs.append(train(model, (X, y), spec, steps=steps, lr=run_lr, schedule=schedule, batch_size=batch_size,
                          weight_decay=decay, freeze=layers, seed=seed, record_every=every, grid=grid,
                          validation=held_out, label=label, progress=progress, **settings))
    return runs


def _prepare(variants: list[Any], models: list[Any], *, weights: Any, frozen: list[list[str]], steps: int) -> None:
    """Check every model and setting before the first step is taken: load `weights` into every model (a bad
    file or a misfit names itself), try each set of frozen layers (unknown names list the valid ones) and
    build each schedule once (one that torch refuses, onecycle without momentum, fails before any training)."""
    from gradviz.lecture.schedules import build_scheduler
    from gradviz.lecture.training import freeze_layers

    if weights is not None:
        from gradviz.analysis.loading import read_state_dict

        state = read_state_dict(weights, models[0])
        for model in models:
            model.load_state_dict(state)
    for layers in frozen:
        freeze_layers(copy.deepcopy(models[0]), layers)
    for ((spec, hyperparams, schedule), _, _, _), model in zip(variants, models):
        if schedule is not None:  # on a throwaway optimizer, since a scheduler sets its optimizer's rates
            build_scheduler(spec.build(model.parameters(), **{"lr": spec.net_lr, **hyperparams}), schedule,
                            steps=steps)


def _variant_label(spec: Any, settings: dict[str, Any], schedule: Any, decay: float, drop: float,
                   layers: Sequence[str], *, axes: tuple[bool, bool, bool]) -> str:
    """'adam (lr=0.01) @cosine, wd=0.1, dropout=0.5, frozen: fc1': the settings that tell a panel from its
    neighbours; axes says whether weight decay, dropout and freezing vary across the panels."""
    from gradviz.records import format_hyperparams

    decays_vary, dropouts_vary, frozen_varies = axes
    label = f"{spec.name} ({format_hyperparams(shown_settings(spec, settings), symbols=True)})"
    if schedule is not None:
        label += f" @{schedule.describe()}"
    if decays_vary or decay:
        label += f", wd={decay:g}"
    if dropouts_vary or drop:
        label += _(", dropout={drop:g}").format(drop=drop)
    if layers:
        label += _(", frozen: {layers}").format(layers="+".join(layers))
    elif frozen_varies:
        label += _(", nothing frozen")
    return label


def _rates(lr: Any, tune: bool) -> list[Any]:
    """The learning rates of the variants: [None] for each optimizer's default, else checked rates."""
    from gradviz.lecture.grids import parse_lrs

    if lr is None:
        return [None]
    return list(parse_lrs(lr, minimum=2 if tune else 1))


def tune_rates(dataset: str = "moons", optimizers: Iterable[Any] = ("sgd", "momentum", "adam"), *,
               lr: Any = None, objective: str = "final", tol: float = 1e-2, n: int = 300, noise: float | None = None,
               classes: int | None = None, hidden: Sequence[int] = (16, 16), activation: str = "relu",
               init: str = "default", steps: int = 300, batch_size: int | None = None, seed: int = 0,
               **_: Any) -> Any:
    """Train each optimizer at every rate of a log grid (lr: a list or 'LOW:HIGH:COUNT', at least 2; default
    its net default times 10^-2..10^1 in 7 steps), all from the same initial weights, and score the
    training loss by `objective` ('final', 'auc': mean log10 loss, 'steps-to-tol': steps until loss <= tol).
    -> TuningTable (best per optimizer in .best_lrs)."""
    import numpy as np

    from gradviz.lecture.compare import parse_runs
    from gradviz.lecture.grids import DEFAULT_GRID_NOTE, default_grid, get_objective, parse_lrs
    from gradviz.lecture import make_dataset, mlp, train
    from gradviz.records import TuningTable, format_hyperparams

    chosen = get_objective(objective)
    check_positive("tol", tol)
    steps = check_positive("steps", steps, integer=True)
    shared = list(parse_lrs(lr, minimum=2)) if lr is not None else None
    choices = parse_runs(optimizers)
    X, y = make_dataset(dataset, n=n, noise=noise, seed=seed, classes=classes)
    out_features = 1 if int(y.max()) + 1 == 2 else int(y.max()) + 1
    grids, scores, finals, diverged = [], [], [], []
    for spec, hyperparams, schedule in choices:
        if "lr" in hyperparams:
            raise InvalidArgument(f"{spec.name}: a tuned optimizer takes its rates from the grid, not lr=")
        grid = shared or list(default_grid(spec.net_lr))
        row_scores, row_finals, row_gone = [], [], []
        for rate in grid:
            model = mlp(2, hidden, out_features, activation=activation, init=init, seed=seed)
            run = train(model, (X, y), spec, steps=steps, lr=rate, schedule=schedule, batch_size=batch_size,
                        seed=seed, record_every=steps, grid=2, **hyperparams)
            gone = run.diverged_at is not None or not np.isfinite(run.loss).all()
            row_gone.append(gone)
            row_finals.append(np.inf if gone else float(run.loss[-1]))
            row_scores.append(np.inf if gone else chosen.score(np.asarray(run.loss), tol))
        grids.append(grid)
        scores.append(row_scores)
        finals.append(row_finals)
        diverged.append(row_gone)
    labels = tuple(spec.name + (f" ({format_hyperparams(h, symbols=True)})" if h else "")
                   + (f" @{s.describe()}" if s else "") for spec, h, s in choices)
    return TuningTable(optimizers=tuple(spec.name for spec, _, _ in choices), lrs=np.array(grids), scores=scores,
                       finals=finals, diverged=diverged, objective=chosen.name,
                       objective_summary=chosen.summary.replace("f - f*", "training loss"),
                       function=f"{dataset} training loss", steps=steps, labels=labels,
                       objective_short=chosen.short.replace("f - f*", "training loss"),
                       grid_note="" if shared else DEFAULT_GRID_NOTE)


def boundary(
    dataset: str = "moons",
    path: str | os.PathLike[str] = "boundary.gif",
    *,
    tune: bool = False,
    objective: str = "final",
    tol: float = 1e-2,
    render: RenderOptions | None = None,
    **training: Any,
) -> Path:
    """Train the variants (see train_variants) and animate their decision boundaries side by side.

    tune: first pick each optimizer's rate on a log grid (see tune_rates; `lr` is then the grid), report
    the table, and draw each optimizer at its best rate with the objective and grid in the title.
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("boundary", render, split_style(training), uses=("size", "dpi", "theme", "fps",
                             "frames", "title", "progress", "report"), fps=15)
    size, dpi, theme, fps = options.size, options.dpi, options.theme, options.fps
    frames, title, progress, report = options.frames, options.title, options.progress, options.report
    from gradviz.pipelines.trajectories import check_fps, write_rendered
    from gradviz.output import check_output_path

    out = check_output_path(path)
    check_validation(training.get("validation"))
    check_fps(fps, out)
    if frames is not None:  # one frame per recorded step at most: say so rather than draw fewer
        steps = check_positive("steps", training.get("steps", 300), integer=True)
        every = training.get("record_every") or max(1, steps // 100)
        recorded = len(range(0, steps + 1, every)) + (1 if steps % every else 0)
        if frames > recorded:
            raise InvalidArgument(f"invalid frames {frames}: {steps} steps recorded every {every} give at most "
                                  f"{recorded} frames; use fewer frames or a smaller record_every")
    note = None
    if tune and training.get("weights") is not None:
        raise InvalidArgument("tune picks rates by training from the initial weights, not from loaded weights: "
                              "drop tune or weights")
    if tune:
        from gradviz.lecture.grids import get_objective

        get_objective(objective)
        table = tune_rates(dataset, **{**training, "objective": objective, "tol": tol})
        from gradviz.pipelines.sweep import report_table

        report_table(table, report)
        from gradviz.lecture.compare import parse_runs, tuning_note_text

        tuned = []
        for (spec, hyperparams, schedule), best, label in zip(parse_runs(training.get("optimizers", ("adam",))),
                                                             table.best_lrs, table.labels):
            if best != best:  # NaN: every candidate diverged
                raise InvalidArgument(f"{label}: no rate of the grid scored finitely for {objective}; widen the grid")
            tuned.append((spec, {**hyperparams, "lr": float(best)}, schedule))
        training = {**training, "optimizers": tuned, "lr": None}
        note = tuning_note_text(table)
    runs = train_variants(dataset, progress=progress, **training)
    from gradviz.render.boundary import BoundaryRenderer

    if title is None:
        hidden = training.get("hidden", (16, 16))
        shape = "-".join(str(s) for s in [2, *hidden])
        title = (f"{_(dataset)}: " + (f"MLP {shape}, {_(training.get('activation', 'relu'))}" if list(hidden)
                                      else _("logistic regression")))
    if note:
        title = f"{title}\n{note}"
    # with dropout on, a step's loss is that of a thinned net: compare nets as they are used, dropout off
    dropped = any(value > 0 for value in _as_list(training.get("dropout", 0.0)))
    renderer = BoundaryRenderer(runs, size=size, dpi=dpi, theme=theme, frames=frames, title=title,
                                training_curve="eval" if dropped else "steps")
    return write_rendered(renderer, out, fps=fps, progress=progress)


def shown_settings(spec: Any, hyperparams: dict[str, Any]) -> dict[str, Any]:
    """The settings a run's label shows: lr (the net's default where none was given), the momentum the
    optimizer runs with even when it is its registry default (seminar 3 and 5 use mu = 0.9 without saying
    so), then the given ones."""
    shown = {"lr": hyperparams.get("lr", spec.net_lr)}
    if "momentum" in spec.defaults:
        shown["momentum"] = spec.defaults["momentum"]
    return {**shown, **hyperparams}
