"""The pipeline behind `gradviz basins`: a basin map per optimizer (every start of a fine grid coloured
by the minimum it reaches, shaded by the steps it needs), side by side, as a PNG."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from gradviz.render.options import RenderOptions, render_options
from gradviz.limits import check_count, check_product
from gradviz.registry import InvalidArgument, check_positive

__all__ = ["basins"]


def basins(function: Any = "himmelblau", optimizers: Iterable[Any] = ("sgd", "momentum", "adam"),
           path: str | os.PathLike[str] = "basins.png", *, resolution: int = 200, steps: int = 500,
           tol: float | None = None, domain: Any = None, seed: int = 0, render: RenderOptions | None = None,
           **style: Any) -> Path:
    """Basin maps of each (elementwise) optimizer on `function` over a resolution x resolution grid of
    starts, each traced as one batch for `steps` steps; the shares of starts per minimum, none and diverged
    (adding up to 100%, as drawn) go to `report`.
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("basins", render, style, uses=("size", "dpi", "theme", "report"))
    size, dpi, theme, report = options.size, options.dpi, options.theme, options.report
    from gradviz.lecture.expressions import get_function
    from gradviz.output import check_output_path, write_image

    out = check_output_path(path, (".png",))
    fn = get_function(function)
    resolution = check_count("resolution", resolution, "resolution")
    steps = check_count("steps", steps, "trace-steps")
    optimizers = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    # each within its bound, the product not: 1000^2 starts x 100000 steps would run for days
    check_product("starts x steps", {"optimizers": len(optimizers), "resolution^2": resolution ** 2, "steps": steps},
                  "start-steps")
    if tol is not None:
        check_positive("tol", tol)
    if not fn.minima:
        raise InvalidArgument(f"function {fn.name!r} has no known minima to colour basins by")
    from gradviz.lecture.compare import basin_map, parse_runs
    from gradviz.lecture.optim import get_optimizer, parse_optimizer
    from gradviz.lecture.schedules import split_schedule

    optimizers = list(optimizers)
    if len(optimizers) > 4:
        raise InvalidArgument(f"too many basin maps side by side: {len(optimizers)} (at most 4)")
    for item in optimizers:  # checked before parse_runs, which imports torch to read the signatures
        spec = get_optimizer(parse_optimizer(split_schedule(item)[0])[0] if isinstance(item, str) else item)
        if not spec.elementwise or spec.needs_closure:
            raise InvalidArgument(f"optimizer {spec.name!r} does not act elementwise: its starts cannot be traced "
                                  "as one batch, so it has no basin map here")
    runs = parse_runs(optimizers)
    maps = [basin_map(fn, spec, resolution=resolution, domain=domain, steps=steps, tol=tol, seed=seed,
                      schedule=schedule, **hyperparams) for spec, hyperparams, schedule in runs]
    from gradviz.render.basins import basins_figure, shares_text

    if report is not None:  # the same whole percents the figure draws: each minimum, none, diverged
        for basin in maps:
            report(shares_text(basin))
    from gradviz.render.compare import figure_rgb

    return write_image(figure_rgb(basins_figure(maps, size=size, dpi=dpi, theme=theme)), out)
