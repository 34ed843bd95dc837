"""`gradviz figure NAME`: one of the lecture's figures (gradviz.pipelines.figure)."""

from __future__ import annotations

from pathlib import Path

import click

from gradviz.lecture.figures import FIGURES
from gradviz.registry import InvalidArgument
from gradviz.cli.options import CONTEXT, NameType, given, output_options, progress_reporter

__all__ = ["figure"]


@click.command(context_settings=CONTEXT, short_help="Draw one of the lecture's figures.")
@click.argument("name", type=NameType(FIGURES), metavar="NAME")
@output_options(None, "Output file [default: NAME.png, or NAME.gif for an animated figure; those also take .mp4].",
                fps=15, seed_help="Seed for data and weights.", quiet_help="Do not print the file written.")
def figure(name: str, size: tuple[int, int], dpi: float, theme: str, fps: float, seed: int, output: Path | None,
           quiet: bool) -> None:
    """Draw one of the lecture's figures (see `gradviz list figures`).

    \b
    Examples:
      gradviz figure activations                 sigmoid' <= 1/4 and the saturated region -> activations.png
      gradviz figure momentum -o ravine.gif      GD's zig-zag against momentum and Nesterov, animated
      gradviz figure regularization --theme dark
    """
    from gradviz.lecture.figures import FIGURES
    from gradviz.pipelines.figure import figure as run_figure

    if given("fps") and not FIGURES.lookup(name).animated:
        raise InvalidArgument(f"--fps paces an animation; figure {name!r} is a still picture: drop --fps")
    progress, done = progress_reporter(quiet, "rendering")
    try:
        path = run_figure(name, output, size=size, dpi=dpi, theme=theme, fps=fps, seed=seed, progress=progress)
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)
