"""The pipeline behind `gradviz sweep`: every optimizer at every learning rate of a grid, scored, drawn as
the final-loss-versus-learning-rate "U" curve (too small crawls, too large diverges)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from gradviz.render.options import RenderOptions, render_options
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["sweep", "report_table", "DEFAULT_LRS"]

# half-decade steps from 1e-5 to 10: wide enough that Adam's best rate on the default Rosenbrock run (1)
# lies inside the grid, not on its edge
DEFAULT_LRS = "1e-5:10:13"


def report_table(table: Any, report: Callable[[str], None] | None) -> None:
    """Send a tuning table to `report`, then a warning for every optimizer whose best rate is the grid's
    smallest or largest: the best may lie beyond it, and a tuned picture would be drawn at the edge."""
    if report is None:
        return
    report(table.format())
    for label, lrs, best in zip(table.labels, table.lrs, table.best):
        if best < 0 or len(lrs) < 2 or 0 < best < len(lrs) - 1:
            continue
        side, beyond = ("largest", "above") if best == len(lrs) - 1 else ("smallest", "below")
        report(f"warning: {label}'s best rate {float(lrs[best]):g} is the grid's {side}: the best may lie {beyond} "
               "it; widen --lr")


def sweep(function: Any = "rosenbrock", optimizers: Iterable[Any] = ("sgd", "momentum", "adam"),
          path: str | os.PathLike[str] = "sweep.png", *, lrs: Any = DEFAULT_LRS, steps: int = 200,
          objective: str = "final", tol: float | None = None, start: Sequence[float] | None = None, seed: int = 0,
          noise: float = 0.0, render: RenderOptions | None = None, **style: Any) -> Path:
    """Trace each optimizer at each rate of `lrs` (a list or 'LOW:HIGH:COUNT', at least 2) and write the U
    curve as a PNG: f - f* (f where f* is unknown) after `steps` (objective 'final') or the objective
    against the rate. `tol` belongs to objective 'steps-to-tol' (default 1e-3) and is refused with any
    other. The table goes to `report`.
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("sweep", render, style, uses=("size", "dpi", "theme", "report"))
    size, dpi, theme, report = options.size, options.dpi, options.theme, options.report
    from gradviz.lecture.expressions import get_function
    from gradviz.lecture.grids import get_objective, parse_lrs
    from gradviz.output import check_output_path, write_image

    out = check_output_path(path, (".png",))
    fn = get_function(function)
    parse_lrs(lrs, minimum=2)
    chosen = get_objective(objective)
    if tol is not None and chosen.name != "steps-to-tol":
        raise InvalidArgument(f"tol {tol!r} applies only to objective 'steps-to-tol', not {chosen.name!r}: "
                              "leave tol out or choose objective steps-to-tol")
    tol = 1e-3 if tol is None else check_positive("tol", tol)
    from gradviz.lecture.compare import check_has_learning_rate, parse_runs, tune

    runs = parse_runs(optimizers)
    for spec, hyperparams, _ in runs:
        check_has_learning_rate(spec)
        if "lr" in hyperparams:
            raise InvalidArgument(f"{spec.name}: a swept optimizer takes its rates from --lr, not lr=")
    table = tune(fn, runs, lrs=lrs, objective=objective, tol=tol, start=start, steps=steps, seed=seed, noise=noise)
    report_table(table, report)
    from gradviz.render.compare import figure_rgb
    from gradviz.render.sweep import sweep_figure

    shown = tuple(start) if start is not None else fn.start
    figure = sweep_figure(table, size=size, dpi=dpi, theme=theme, start=shown, known_minimum=fn.f_min is not None)
    return write_image(figure_rgb(figure), out)
