"""`gradviz basins`: which minimum each start reaches (gradviz.pipelines.basins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gradviz.lecture.functions import FUNCTIONS
from gradviz.cli.options import CONTEXT, DomainType, NameType, OptimizerType, output_options, positive

__all__ = ["basins"]


@click.command(context_settings=CONTEXT, short_help="Map which minimum each start reaches, per optimizer.")
@click.option("-f", "--function", "function", type=NameType(FUNCTIONS), default="himmelblau", show_default=True,
              help="Test function with known minima (see `gradviz list functions`).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable (at most 4, elementwise ones) [default: -O sgd -O momentum -O adam]")
@click.option("--resolution", type=positive(int, limit="resolution"), default=200, show_default=True,
              help="Starts per side of the grid.")
@click.option("--steps", type=positive(int, limit="trace-steps"), default=500, show_default=True,
              help="Steps per start.")
@click.option("--tol", type=float, default=None, help="Distance that counts as reaching a minimum "
                                                      "[default: 1% of the window's larger side].")
@click.option("--domain", type=DomainType(), default=None, help="Window of starts [default: the function's own].")
@output_options("basins.png", "Output file (.png).", seed_help="Random seed.", quiet_help="No shares printed.")
def basins(function: str, optimizers: tuple[str, ...], resolution: int, steps: int, tol: float | None, domain: Any,
           size: tuple[int, int], dpi: float, theme: str, seed: int, output: Path, quiet: bool) -> None:
    """Map which minimum each start reaches: a basin map per optimizer, side by side.

    Every start of a resolution x resolution grid is traced, all of them as one batch; its cell takes the
    colour of the minimum it ends at, lighter the sooner it got there.

    \b
      gradviz basins                                    Himmelblau, sgd / momentum / adam, 200 x 200
      gradviz basins -f six-hump-camel -O adam:lr=0.05 --resolution 100
    """
    from gradviz.pipelines.basins import basins as run_basins

    path = run_basins(function, optimizers or ("sgd", "momentum", "adam"), output, resolution=resolution,
                      steps=steps, tol=tol, domain=domain, seed=seed, size=size, dpi=dpi, theme=theme,
                      report=None if quiet else (lambda text: click.echo(text, err=True)))
    if not quiet:
        click.echo(f"wrote {path}", err=True)
