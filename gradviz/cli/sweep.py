"""`gradviz sweep`: final loss against learning rate, the U curve (gradviz.pipelines.sweep)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.grids import OBJECTIVES, parse_lrs
from gradviz.registry import InvalidArgument
from gradviz.cli.options import (
    CONTEXT, NameType, OptimizerType, PairType, ParsedType, alias, output_options, positive,
)

__all__ = ["sweep"]


@click.command(context_settings=CONTEXT, short_help="Plot final loss against learning rate: the U curve.")
@alias("--noise", "--gradient-noise", "noise")
@click.option("-f", "--function", "function", type=NameType(FUNCTIONS), default="rosenbrock", show_default=True,
              help="Test function (see `gradviz list functions`).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable, settings but no lr (the rates come from --lr) [default: -O sgd -O momentum "
                   "-O adam]")
@click.option("--lr", "lrs", type=ParsedType(lambda text: parse_lrs(text, minimum=2), "LIST|LOW:HIGH:COUNT"),
              default="1e-5:10:13", show_default=True,
              help="Learning rates: a list or a log range, at least two; a best rate on the grid's edge is warned "
                   "about.")
@click.option("--objective", type=NameType(OBJECTIVES), default="final", show_default=True,
              help="What to plot against the rate: final f - f*, auc, steps-to-tol.")
@click.option("--tol", type=float, default=None, help="Tolerance of --objective steps-to-tol only [default: 1e-3].")
@click.option("--gradient-noise", "noise", type=float, default=0.0, show_default=True,
              help="Std of Gaussian noise added to every gradient coordinate.")
@click.option("--start", type=PairType(",", False, "X,Y"), default=None, help="Start [default: the function's own].")
@click.option("--steps", type=positive(int, limit="trace-steps"), default=200, show_default=True,
              help="Steps per run.")
@output_options("sweep.png", "Output file (.png).", seed_help="Random seed.", quiet_help="No table printed.")
def sweep(function: str, optimizers: tuple[str, ...], lrs: str, objective: str, tol: float, noise: float,
          start: tuple[float, float] | None, steps: int, size: tuple[int, int], dpi: float, theme: str, seed: int,
          output: Path, quiet: bool) -> None:
    """Plot final loss against learning rate (the "U" curve) for one or more optimizers.

    Too small a rate crawls, too large diverges (drawn as crosses on their own band); the best rate of each
    optimizer is ringed and the table is printed.

    \b
      gradviz sweep -O sgd -O momentum -O adam --lr 1e-5:10:13 -o ucurve.png
      gradviz sweep -f himmelblau -O adam --lr 1e-3,1e-2,1e-1,1 --objective auc
    """
    from gradviz.pipelines.sweep import sweep as run_sweep

    if not (math.isfinite(noise) and noise >= 0):
        raise InvalidArgument(f"invalid noise: {noise} (must be a finite number >= 0)")
    path = run_sweep(function, optimizers or ("sgd", "momentum", "adam"), output, lrs=lrs, steps=steps,
                     objective=objective, tol=tol, start=start, seed=seed, noise=noise, size=size, dpi=dpi,
                     theme=theme, report=None if quiet else (lambda text: click.echo(text, err=True)))
    if not quiet:
        click.echo(f"wrote {path}", err=True)
