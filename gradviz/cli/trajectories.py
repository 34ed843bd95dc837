"""`gradviz trajectories`: optimizers racing across a 2-D test function (gradviz.pipelines.trajectories)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gradviz.render.choices import FIELD_STYLES, VIEWS
from gradviz.lecture.budget import parse_budget
from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.grids import OBJECTIVES, parse_lrs, parse_starts
from gradviz.lecture.optim import DEFAULT_OPTIMIZERS
from gradviz.registry import InvalidArgument
from gradviz.cli.options import (
    CONTEXT, DomainType, NameType, OptimizerType, PairType, ParsedType, alias, function_argument, given,
    output_options, positive, progress_reporter, refuse_tuning_options_without_tune,
)

__all__ = ["trajectories"]


@click.command(context_settings=CONTEXT, short_help="Animate optimizers racing across a 2-D test function.")
@alias("--noise", "--gradient-noise", "noise")  # --noise is the data's jitter in boundary and landscape
@click.option("-f", "--function", "function", type=NameType(FUNCTIONS), default="rosenbrock", show_default=True,
              help="Test function to descend (see `gradviz list functions`), or an expression in x and y: "
                   "-f \"x**2 + 10*sin(y)\" (+ - * / **, sin cos tan exp log sqrt abs tanh sinh cosh atan "
                   "sigmoid, pi, e).")
@click.option("--minimum", type=PairType(",", False, "X,Y"), default=None,
              help="Where an expression's minimum is, to mark it and plot f - f* [default: unknown, plot f].")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable, with optional settings: -O adam:lr=0.05 -O momentum:lr=1e-3,momentum=0.9 "
                   "(tuples with '/': betas=0.9/0.99); any optimizer class by dotted path: -O pytorch_optimizer.Lion:lr=1e-3; "
                   "a wrapper around a base optimizer: -O 'pytorch_optimizer.Lookahead:k=5,base=(adam:lr=0.01)'; "
                   "an lr schedule after '@': -O sgd:lr=0.01@cosine:T_max=200, "
                   "-O adam@warmup:total_iters=20+cosine (see `gradviz list schedulers`). "
                   f"[default: {' '.join('-O ' + n for n in DEFAULT_OPTIMIZERS)}]")
@click.option("--lr", "lrs", type=ParsedType(parse_lrs, "LIST|LOW:HIGH:COUNT"), default=None,
              help="Learning rates to draw every optimizer at: 1e-4,1e-3,1e-2 or a log range 1e-4:1e-1:7; "
                   "with --tune, the grid searched.")
@click.option("--gradient-noise", "noise", type=float, default=0.0, show_default=True,
              help="Std of Gaussian noise added to every gradient coordinate (a stand-in for mini-batch SGD).")
@click.option("--seeds", type=positive(int, limit="seeds"), default=1, show_default=True,
              help="With --gradient-noise: paths per optimizer, one per noise seed, drawn as a bundle.")
@click.option("--starts", type=ParsedType(parse_starts, "grid:NXxNY|random:N"), default=None,
              help="Many starts per optimizer, one panel each: grid:10x10 or random:100.")
@click.option("--tune", is_flag=True, help="Draw each optimizer at its best rate of a log grid (--lr, or its default "
                                           "x 10^-2..10^1) for --objective; prints the table.")
@click.option("--objective", type=NameType(OBJECTIVES), default="final", show_default=True,
              help="What --tune minimises: final (f - f* at the end), auc (mean log10(f - f*)), steps-to-tol.")
@click.option("--tol", type=float, default=1e-3, show_default=True, help="Tolerance of --objective steps-to-tol.")
@click.option("--start", type=PairType(",", False, "X,Y"), default=None,
              help="Starting point, e.g. --start=-1.5,2 [default: the function's own]")
@click.option("--steps", type=positive(int, limit="trace-steps"), default=200, show_default=True,
              help="Optimizer steps to take.")
@click.option("--budget", type=ParsedType(parse_budget, "evaluations:N|steps:N"), default=None,
              help="evaluations:N runs every method until it has spent N function evaluations and animates on "
                   "evaluations (fair for direct methods: -O nelder-mead -O cma-es -O adam --budget evaluations:400); "
                   "steps:N is --steps N.")
@click.option("--frames", type=positive(int, limit="frames"), default=None,
              help="Frames in the animation, at most steps + 1 [default: one per step, at most 300].")
@click.option("--domain", type=DomainType(), default=None,
              help="Plot window, e.g. --domain=-2:2,-1:3 [default: the function's own (-3:3,-3:3 for an "
                   "expression), closed in on paths that stay in a small part of it or widened to a start "
                   "outside it].")
@click.option("--loss-panel/--no-loss-panel", default=True, show_default=True,
              help="Plot f - f* against the step beside the contours.")
@click.option("--field", type=NameType(FIELD_STYLES), is_flag=False, flag_value="arrows",
              default=None, help="Draw the normalized negative gradient under the paths: --field (arrows) or "
                                 "--field=streamlines.")
@click.option("--view", type=NameType(VIEWS), default="2d", show_default=True,
              help="2d: contours from above; 3d: the surface in perspective with the paths riding on it.")
@click.option("--spin", type=float, default=0.0, show_default=True,
              help="With --view 3d: degrees the camera turns over the animation (0: fixed, fastest).")
@output_options("trajectories.gif", "Output file: .gif, .mp4 (needs gradviz[video]) or .png (last frame).", fps=20,
                seed_help="Random seed (same inputs, same bytes).")
def trajectories(function: str, minimum: tuple[float, float] | None, optimizers: tuple[str, ...],
                 lrs: str | None, noise: float, seeds: int, starts: str | None, tune: bool, objective: str,
                 tol: float, start: tuple[float, float] | None, steps: int, budget: str | None,
                 frames: int | None, fps: float, size: tuple[int, int], dpi: float, theme: str,
                 domain: Any, loss_panel: bool, field: str | None, view: str, spin: float, seed: int,
                 output: Path, quiet: bool) -> None:
    """Animate optimizers racing across a 2-D test function.

    Every optimizer starts from the same point; the GIF shows their trails over the function's contours,
    the minima, a legend with each optimizer's settings (and where one diverged), and f - f* per step.
    `--view 3d` draws the surface in 3-D instead (log10(f - f*) where the function has log colours):
    `gradviz trajectories -f himmelblau --view 3d --spin 60 -o himmelblau-3d.gif`.

    \b
    Your own function, as an expression in x and y (start: a fifth in from the window's top-left corner):
      gradviz trajectories -f "x**2 + 10*sin(y)" --domain=-3:3,-2:2
      gradviz trajectories -f "(x-1)**2 + 5*(y+0.5)**2" --minimum 1,-0.5 --start=-2,2

    Direct (gradient-free) methods draw their geometry too (simplex, stencil, population and its
    1- and 2-sigma ellipses, proposals); compare them with gradient methods by evaluations:

    \b
      gradviz trajectories -O nelder-mead -O cma-es -O adam --budget evaluations:400
      gradviz trajectories -f rastrigin -O cma-es -O adam -O momentum --budget evaluations:600

    \b
    Compare them the way the lecture does:
      gradviz trajectories -O sgd --lr 1e-4:1e-2:5          one optimizer at five rates
      gradviz trajectories -O sgd:lr=2e-3@cosine -O adam@warmup:total_iters=20+cosine
      gradviz trajectories -f himmelblau -O sgd --gradient-noise 20 --seeds 8
      gradviz trajectories -f himmelblau -O sgd -O adam --starts grid:10x10
      gradviz trajectories -O sgd -O momentum -O adam --tune --objective auc
    """
    from gradviz.pipelines.trajectories import trajectories as run_trajectories

    refuse_tuning_options_without_tune(tune, objective)
    if budget is not None and given("steps"):
        from gradviz.lecture.budget import parse_budget

        parse_budget(budget)  # a malformed budget is named first
        raise InvalidArgument(f"--budget {budget} sets how long each optimizer runs: drop --steps {steps}")
    # the pipeline checks the budget, noise, seeds and their combination before it imports torch
    progress, done = progress_reporter(quiet, "rendering")
    try:
        path = run_trajectories(function_argument(function, domain, minimum), optimizers or DEFAULT_OPTIMIZERS, output,
                                start=start,
                                steps=steps, seed=seed, budget=budget, fps=fps, size=size, dpi=dpi, theme=theme,
                                loss_panel=loss_panel, frames=frames, domain=domain, progress=progress,
                                field=field, view=view, spin=spin, lrs=lrs, noise=noise, seeds=seeds,
                                starts=starts, tune=tune, objective=objective, tol=tol,
                                report=None if quiet else (lambda text: click.echo(text, err=True)))
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)
