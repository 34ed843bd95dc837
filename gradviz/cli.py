"""The `gradviz` command line: a thin click layer that turns options into one library call each.

Choices come from the registries, so a new function or optimizer appears here by itself. Importing this
module (and answering --help or `gradviz list`) does not import torch or matplotlib; the command bodies do.
Every usage error is one line on stderr with exit code 2: no traceback, no file written.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Callable

import click

from gradviz.functions import FUNCTIONS, parse_domain
from gradviz.optim import DEFAULT_OPTIMIZERS, OPTIMIZERS, parse_optimizer
from gradviz.registry import InvalidArgument, Registry

__all__ = ["main", "cli"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class OptimizerType(click.ParamType):
    name = "NAME[:KEY=VALUE,...]"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parse_optimizer(value)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)
        return value


class NameType(click.ParamType):
    """A registry name, looked up with a 'did you mean' on typos (click.Choice lists but cannot suggest)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.name = registry.kind.upper()

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return f"[{'|'.join(self.registry)}]" if len(self.registry) <= 6 else self.name

    def shell_complete(self, ctx: Any, param: Any, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in self.registry if n.startswith(incomplete)]

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            self.registry.lookup(value)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)
        from gradviz.registry import normalize_name

        return normalize_name(value)


class PairType(click.ParamType):
    """'X,Y' (floats) or 'WxH' (whole numbers > 0)."""

    def __init__(self, separator: str, integer: bool, example: str) -> None:
        self.separator, self.integer, self.example = separator, integer, example
        self.name = example

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, tuple):
            return value
        parts = str(value).lower().replace(" ", "").split(self.separator)
        try:
            if len(parts) != 2:
                raise ValueError
            numbers = tuple(int(p) if self.integer else float(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r} is not of the form {self.example}", param, ctx)
        if not all(math.isfinite(n) for n in numbers) or (self.integer and min(numbers) <= 0):
            self.fail(f"{value!r}: values must be finite" + (" and > 0" if self.integer else ""), param, ctx)
        return numbers


class DomainType(click.ParamType):
    name = "X0:X1,Y0:Y1"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return parse_domain(value)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)


def _theme_registry() -> Registry:
    from gradviz.render.theme import THEMES

    return THEMES


def _progress(quiet: bool, label: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress callback drawing a bar on stderr, only when stderr is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            state["bar"].__enter__()
        state["bar"].update(done - state["bar"].pos)

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return update, close


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="gradviz", prog_name="gradviz")
def cli() -> None:
    """gradviz: see how neural networks learn, as GIFs and figures for a lecture slide.

    \b
    Start with:
      gradviz trajectories                       optimizers racing over Rosenbrock -> trajectories.gif
      gradviz trajectories -f beale -o beale.gif
      gradviz trajectories -O sgd -O adam:lr=0.05 --start -1,2.5
      gradviz list functions | optimizers        what can be drawn, with defaults
    """


@cli.command(context_settings=CONTEXT)
@click.option("-f", "--function", "function", type=NameType(FUNCTIONS), default="rosenbrock", show_default=True,
              help="Test function to descend (see `gradviz list functions`).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable, with optional settings: -O adam:lr=0.05 -O momentum:lr=1e-3,momentum=0.9 "
                   "(tuples with '/': betas=0.9/0.99). "
                   f"[default: {' '.join('-O ' + n for n in DEFAULT_OPTIMIZERS)}]")
@click.option("--start", type=PairType(",", False, "X,Y"), default=None,
              help="Starting point, e.g. --start=-1.5,2 [default: the function's own]")
@click.option("--steps", type=int, default=200, show_default=True, help="Optimizer steps to take.")
@click.option("--frames", type=int, default=None, help="Frames in the animation [default: one per step, at most 300].")
@click.option("--fps", type=float, default=20, show_default=True, help="Frames per second (a GIF allows up to 50).")
@click.option("--size", type=PairType("x", True, "WxH"), default="960x540", show_default=True,
              help="Image size in pixels.")
@click.option("--dpi", type=float, default=100, show_default=True, help="Dots per inch: larger makes text bigger.")
@click.option("--theme", type=NameType(_theme_registry()), default="light", show_default=True,
              help="Colours: light or dark slides.")
@click.option("--domain", type=DomainType(), default=None,
              help="Plot window, e.g. --domain=-2:2,-1:3 [default: the function's own].")
@click.option("--loss-panel/--no-loss-panel", default=True, show_default=True,
              help="Plot f - f* against the step beside the contours.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same inputs, same bytes).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="trajectories.gif",
              show_default=True, help="Output file: .gif, .mp4 (needs gradviz[video]) or .png (last frame).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no summary.")
def trajectories(function: str, optimizers: tuple[str, ...], start: tuple[float, float] | None, steps: int,
                 frames: int | None, fps: float, size: tuple[int, int], dpi: float, theme: str,
                 domain: Any, loss_panel: bool, seed: int, output: Path, quiet: bool) -> None:
    """Animate optimizers racing across a 2-D test function.

    Every optimizer starts from the same point; the GIF shows their trails over the function's contours,
    the minima, a legend with each optimizer's settings (and where one diverged), and f - f* per step.
    """
    import gradviz.animation as animation

    progress, done = _progress(quiet, "rendering")
    try:
        path = animation.trajectories(function, optimizers or DEFAULT_OPTIMIZERS, output, start=start,
                                      steps=steps, seed=seed, fps=fps, size=size, dpi=dpi, theme=theme,
                                      loss_panel=loss_panel, frames=frames, domain=domain, progress=progress)
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)


@cli.command("list", context_settings=CONTEXT)
@click.argument("what", type=click.Choice(["functions", "optimizers", "themes"]), default="functions")
def list_(what: str) -> None:
    """List test functions, optimizers (with default settings) or themes."""
    if what == "functions":
        width = max(map(len, FUNCTIONS))
        for name, fn in FUNCTIONS.items():
            (x0, x1), (y0, y1) = fn.domain
            minima = "; ".join(f"({x:.4g}, {y:.4g})" for x, y in fn.minima) or "none"
            f_min = "-inf" if fn.f_min is None else f"{fn.f_min:.6g}"
            click.echo(f"{name:<{width}}  f* = {f_min:<9} at {minima}   window [{x0:g},{x1:g}]x[{y0:g},{y1:g}]"
                       f"   f = {fn.formula}")
    elif what == "optimizers":
        from gradviz.records import format_hyperparams

        width = max(map(len, OPTIMIZERS))
        for name, spec in OPTIMIZERS.items():
            click.echo(f"{name:<{width}}  {format_hyperparams(spec.defaults):<30}  {spec.summary} ({spec.reference})")
    else:
        for name, theme in _theme_registry().items():
            click.echo(f"{name:<6}  colormap {theme.colormap}, background {theme.background}")


@cli.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default="gallery")
@click.option("-q", "--quiet", is_flag=True, help="Do not print each file written.")
def gallery(folder: Path, quiet: bool) -> None:
    """Regenerate the gallery (default: ./gallery) from the registries, deterministically."""
    from gradviz.gallery import build_gallery

    folder.mkdir(parents=True, exist_ok=True)
    for path in build_gallery(folder):
        if not quiet:
            click.echo(f"wrote {path}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every usage error into one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="gradviz", standalone_mode=False)
    except click.exceptions.Exit as stop:
        sys.exit(stop.exit_code)
    except click.ClickException as error:
        message = " ".join(error.format_message().split())
        prefix = f"{error.ctx.command_path}: " if getattr(error, "ctx", None) is not None else "gradviz: "
        click.echo(f"{prefix}error: {message}", err=True)
        sys.exit(error.exit_code)
    except InvalidArgument as error:
        click.echo(f"gradviz: error: {' '.join(str(error).split())}", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, click.Abort):
        click.echo("gradviz: interrupted; no file written", err=True)
        sys.exit(130)
    sys.exit(0)
