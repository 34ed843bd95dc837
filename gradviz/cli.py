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

from gradviz.lecture.budget import parse_budget
from gradviz.lecture.figures import FIGURES
from gradviz.lecture.functions import FUNCTIONS, parse_domain
from gradviz.lecture.grids import OBJECTIVES, parse_lrs, parse_starts
from gradviz.lecture.choices import ACTIVATIONS, INITS
from gradviz.lecture.data import DATASETS
from gradviz.lecture.optim import DEFAULT_OPTIMIZERS, OPTIMIZERS, parse_optimizer
from gradviz.registry import InvalidArgument, Registry, check_positive

__all__ = ["main", "cli"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class OptimizerType(click.ParamType):
    """-O: one grammar in every command, 'NAME[:KEY=VALUE,...]' with an lr schedule after '@'."""

    name = "NAME[:KEY=VALUE,...][@SCHEDULER[:KEY=VALUE,...]]"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            from gradviz.lecture.schedules import parse_schedule, split_schedule

            text, schedule = split_schedule(value)
            if schedule is not None:
                parse_schedule(schedule)
            name, settings = parse_optimizer(text)
            if schedule is not None and name in OPTIMIZERS and not OPTIMIZERS[name].uses_gradient:
                raise InvalidArgument(f"{value!r}: {name} is a direct method and has no learning rate to "
                                      "schedule: drop the '@...'")
            if name in OPTIMIZERS:
                OPTIMIZERS[name].check_without_import(settings)  # lr=abc, a misspelt name: before torch
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)
        return value


class ParsedType(click.ParamType):
    """A value checked by a torch-free parser of gradviz (learning-rate lists, start sets)."""

    def __init__(self, parse: Callable[[str], Any], example: str) -> None:
        self.parse, self.name = parse, example

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return self.name  # as written: 'grid:NXxNY', not click's upper case

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            self.parse(value)
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
        from gradviz.registry import normalize_name

        try:
            if self.registry is FUNCTIONS and isinstance(value, str) and normalize_name(value) not in FUNCTIONS:
                from gradviz.lecture.expressions import function_from_text

                function_from_text(value)  # an expression in x and y, checked here (no torch needed)
                return value
            self.registry.lookup(value)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)
        return normalize_name(value)


def _function(name_or_text: str, domain: Any, minimum: tuple[float, float] | None) -> Any:
    """A registry name as is; an expression as a TestFunction with its window and known minimum."""
    from gradviz.registry import normalize_name

    if normalize_name(name_or_text) in FUNCTIONS:
        if minimum is not None:
            raise InvalidArgument(f"--minimum is for functions given as expressions; {name_or_text!r} knows its "
                                  "minima")
        return name_or_text
    from gradviz.lecture.expressions import expression

    return expression(name_or_text, domain=domain, minimum=minimum)


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
        if self.integer:
            from gradviz.limits import check_at_most

            try:
                check_at_most(param.name if param is not None else "size", max(numbers), "pixels", shown=value)
            except InvalidArgument as error:
                self.fail(str(error), param, ctx)
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


def _preset_registry() -> Registry:
    from gradviz.render.theme import PRESETS

    return PRESETS


def _apply_preset(ctx: click.Context, param: Any, value: str | None) -> str | None:
    """An eager --preset fills the defaults of --size and --dpi; an explicit --size still wins."""
    if value is not None:
        preset = _preset_registry()[value]
        ctx.default_map = {**(ctx.default_map or {}), "size": f"{preset.size[0]}x{preset.size[1]}", "dpi": preset.dpi}
    return value


def preset_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--preset NAME` to a command: it sets the size and dpi defaults and, while the command runs, the
    type scale every renderer draws with. `output_options` adds it to every command that writes a picture."""
    import functools

    @functools.wraps(command)
    def run(*args: Any, preset: str | None = None, **kwargs: Any) -> Any:
        from gradviz.render.theme import use_preset

        with use_preset(preset):
            return command(*args, **kwargs)

    names = ", ".join(_preset_registry())
    return click.option("--preset", type=NameType(_preset_registry()), default=None, is_eager=True,
                        callback=_apply_preset, expose_value=True,
                        help=f"Size and type scale for a purpose: {names} (see `gradviz list presets`); "
                             "--size overrides its size.")(run)


class ProgressBar:
    """progress(done, total) as a bar on stderr, one bar per stage ('tracing adam', 'training 1/3',
    'rendering'): the pipelines announce each stage through `stage(label)`."""

    def __init__(self, label: str) -> None:
        self.label, self._bar = label, None

    def stage(self, label: str) -> None:
        self.close()
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None or self._bar.length != total:
            self.close()
            self._bar = click.progressbar(length=total, label=f"{self.label:<16}", file=sys.stderr, show_pos=True)
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _progress(quiet: bool, label: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress reporter drawing bars on stderr, only when stderr is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    bar = ProgressBar(label)
    return bar, bar.close


class _Interrupted(Exception):
    """Ctrl-C inside a command, carried past click (which would print a blank line) to main; its message
    says what was written, where that is not "no file"."""

    def __init__(self, written: str = "no file written") -> None:
        super().__init__(written)
        self.written = written


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None


class PositiveType(click.ParamType):
    """A whole number >= 1 (or >= `least`) or a finite number > 0, at most LIMITS[`limit`] where one is
    named, checked while parsing, so before torch is imported."""

    def __init__(self, integer: bool, least: int = 1, limit: str | None = None) -> None:
        self.integer, self.least, self.limit = integer, least, limit
        self.name = "INTEGER" if integer else "FLOAT"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from gradviz.limits import check_at_most

        name = param.name.replace("_", "-") if param is not None else "value"
        number = value
        if isinstance(value, str):
            try:
                number = int(value) if self.integer else float(value)
            except ValueError:
                self.fail(f"{value!r} is not a {'whole number' if self.integer else 'number'}", param, ctx)
        if self.least > 1 and isinstance(number, int) and not isinstance(number, bool) and number < self.least:
            self.fail(f"invalid {name}: {number!r} (must be a whole number >= {self.least})", param, ctx)
        try:
            number = check_positive(name, number, integer=self.integer)
            return check_at_most(name, number, self.limit) if self.limit else number
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)


# Text grows with dpi / 100 up to render.frames.MAX_TEXT_GROWTH (1.6) times, what the layouts hold, and
# never shrinks below a 6-point floor, which even an 8K frame reaches by dpi 10: past either end --dpi
# would change nothing, so it is refused rather than clamped. (A test keeps 160 equal to 100 x the growth.)
DPI_RANGE = (10.0, 160.0)


class DpiType(PositiveType):
    def __init__(self) -> None:
        super().__init__(integer=False)

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return f"{DPI_RANGE[0]:g}-{DPI_RANGE[1]:g}"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not DPI_RANGE[0] <= number <= DPI_RANGE[1]:
            self.fail(f"invalid dpi: {number:g} (from {DPI_RANGE[0]:g} to {DPI_RANGE[1]:g}: text grows with dpi up to "
                      "1.6x, what the layouts hold, and has a 6-point floor; past either end nothing changes)",
                      param, ctx)
        return number


def _given(name: str) -> bool:
    """Whether the user typed the option whose parameter is `name` (rather than leaving its default), by its
    name or by an old one (see `alias`)."""
    context = click.get_current_context()
    return (context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
            or name in context.meta.get("gradviz.given", ()))


def _refuse_tuning_options_without_tune(tune: bool, objective: str) -> None:
    """--objective and --tol choose what --tune minimises: typed without it, they would do nothing."""
    for name in ("objective", "tol"):
        if _given(name) and not tune:
            raise InvalidArgument(f"--{name} sets what --tune minimises: add --tune or drop --{name}")
    if _given("tol") and objective != "steps-to-tol":
        raise InvalidArgument(f"--tol is the tolerance of --objective steps-to-tol, not of {objective!r}: "
                              "add --objective steps-to-tol or drop --tol")


def _positive(kind: type, least: int = 1, limit: str | None = None) -> click.ParamType:
    """A count (int: >= 1, or >= `least`) or a size (float: > 0), at most LIMITS[limit] where one is named,
    refused while parsing when it is not."""
    return PositiveType(kind is int, least, limit)


def alias(old: str, new: str, param: str) -> Callable[[Callable[..., Any]], Any]:
    """A hidden old name for a renamed option (`--activations` for `--activation`): it still works, with the
    new option's type; giving both is refused. Put it above the command's own options (applied after them)."""
    import functools

    def decorate(command: Callable[..., Any]) -> Any:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.pop(f"old_{param}")
            if value is not None:
                if _given(param):
                    raise InvalidArgument(f"{old} is the old name of {new}: give {new} once")
                kwargs[param] = value
                click.get_current_context().meta.setdefault("gradviz.given", set()).add(param)
            return command(*args, **kwargs)

        target = next(p for p in getattr(command, "__click_params__", []) if p.name == param)
        return click.option(old, f"old_{param}", type=target.type, default=None, hidden=True)(run)

    return decorate


def output_options(output: str | None, output_help: str, *, fps: float | None = None, seed_help: str,
                   quiet_help: str = "No progress bar, no summary.") -> Callable[[Callable[..., Any]], Any]:
    """The options of every command that writes a picture, with the same types, checks and help, in this order
    after the command's own: [--fps,] --size, --dpi, --preset, --theme, --seed, -o/--output, -q/--quiet.

    Put `@output_options(...)` last, right above the function. `fps` is the default frame rate of an animating
    command (None: no --fps); `output` the default file (None: the command names it, so no default shown)."""
    decorators = [] if fps is None else [
        click.option("--fps", type=_positive(float), default=fps, show_default=True,
                     help="Frames per second of an animation (a GIF allows 0.0016 to 50).")]
    decorators += [
        click.option("--size", type=PairType("x", True, "WxH"), default="960x540", show_default=True,
                     help="Image size in pixels."),
        click.option("--dpi", type=DpiType(), default=100, show_default=True,
                     help=f"Dots per inch, {DPI_RANGE[0]:g} to {DPI_RANGE[1]:g}: larger makes text bigger (the size in "
                          "pixels stays)."),
        preset_option,
        click.option("--theme", type=NameType(_theme_registry()), default="light", show_default=True,
                     help="Colours: light or dark slides."),
        click.option("--seed", type=int, default=0, show_default=True, help=seed_help),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=output,
                     show_default=output is not None, help=output_help),
        click.option("-q", "--quiet", is_flag=True, help=quiet_help),
    ]

    def decorate(command: Callable[..., Any]) -> Any:
        for decorator in reversed(decorators):  # click lists the options in the order they are written above
            command = decorator(command)
        return command

    return decorate


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="gradviz", prog_name="gradviz")
def cli() -> None:
    """gradviz: see how neural networks learn, as GIFs and figures for a lecture slide.

    \b
    Start with:
      gradviz trajectories                       optimizers racing over Rosenbrock -> trajectories.gif
      gradviz trajectories -f beale -o beale.gif
      gradviz trajectories -O sgd -O adam:lr=0.05 --start -1,2.5
      gradviz list functions                     what can be drawn, with minima and windows
      gradviz list optimizers                    optimizers with their default settings
    """


@cli.command(context_settings=CONTEXT, short_help="Animate optimizers racing across a 2-D test function.")
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
@click.option("--seeds", type=_positive(int, limit="seeds"), default=1, show_default=True,
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
@click.option("--steps", type=_positive(int, limit="trace-steps"), default=200, show_default=True,
              help="Optimizer steps to take.")
@click.option("--budget", type=ParsedType(parse_budget, "evaluations:N|steps:N"), default=None,
              help="evaluations:N runs every method until it has spent N function evaluations and animates on "
                   "evaluations (fair for direct methods: -O nelder-mead -O cma-es -O adam --budget evaluations:400); "
                   "steps:N is --steps N.")
@click.option("--frames", type=_positive(int, limit="frames"), default=None,
              help="Frames in the animation, at most steps + 1 [default: one per step, at most 300].")
@click.option("--domain", type=DomainType(), default=None,
              help="Plot window, e.g. --domain=-2:2,-1:3 [default: the function's own (-3:3,-3:3 for an "
                   "expression), closed in on paths that stay in a small part of it or widened to a start "
                   "outside it].")
@click.option("--loss-panel/--no-loss-panel", default=True, show_default=True,
              help="Plot f - f* against the step beside the contours.")
@click.option("--field", type=click.Choice(["arrows", "streamlines"]), is_flag=False, flag_value="arrows",
              default=None, help="Draw the normalized negative gradient under the paths: --field (arrows) or "
                                 "--field=streamlines.")
@click.option("--view", type=click.Choice(["2d", "3d"]), default="2d", show_default=True,
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

    _refuse_tuning_options_without_tune(tune, objective)
    if budget is not None and _given("steps"):
        from gradviz.lecture.budget import parse_budget

        parse_budget(budget)  # a malformed budget is named first
        raise InvalidArgument(f"--budget {budget} sets how long each optimizer runs: drop --steps {steps}")
    # the pipeline checks the budget, noise, seeds and their combination before it imports torch
    progress, done = _progress(quiet, "rendering")
    try:
        path = run_trajectories(_function(function, domain, minimum), optimizers or DEFAULT_OPTIMIZERS, output,
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


class NumberListType(click.ParamType):
    """'0,0.1' -> (0.0, 0.1); 'a,b' for int lists too."""

    def __init__(self, convert: type, example: str) -> None:
        self.kind, self.name = convert, example

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        if text in ("", "none"):
            return ()
        try:
            numbers = tuple(self.kind(part) for part in text.split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list like {self.name}", param, ctx)
        if any(isinstance(n, float) and not math.isfinite(n) for n in numbers):
            self.fail(f"{value!r}: values must be finite", param, ctx)
        return numbers


def _at_rates(optimizers: tuple[str, ...], rates: tuple[float, ...]) -> tuple[str, ...]:
    """-O texts at each --lr rate, as boundary's --lr does: an optimizer with its own lr keeps it, and a
    schedule ('@cosine') starts from each rate."""
    from gradviz.lecture.schedules import split_schedule

    out = []
    for text in optimizers:
        optimizer, schedule = split_schedule(text)
        name, settings = parse_optimizer(optimizer)
        if "lr" in settings:
            out.append(text)
        else:
            tail = f"@{schedule}" if schedule is not None else ""
            out.extend(f"{optimizer}{',' if ':' in optimizer else ':'}lr={rate:g}{tail}" for rate in rates)
    return tuple(out)


def _check_hidden(hidden: tuple[int, ...]) -> None:
    """Hidden layer sizes of the small nets: each >= 1 and bounded, and not too many layers."""
    from gradviz.limits import check_at_most

    for units in hidden:
        if units < 1:
            raise InvalidArgument(f"invalid hidden layer size: {units} (must be a whole number >= 1)")
        check_at_most("hidden layer size", units, "hidden")
    check_at_most("number of hidden layers", len(hidden), "hidden-layers")


def _nets_registry(name: str) -> Registry:
    import importlib

    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@cli.command(context_settings=CONTEXT, short_help="Animate an MLP's decision boundary as it learns.")
@click.option("--dataset", type=NameType(DATASETS), default="moons", show_default=True,
              help="Toy data set (see `gradviz list datasets`).")
@click.option("--n", "n", type=_positive(int, limit="n"), default=300, show_default=True, help="Number of points.")
@click.option("--noise", type=float, default=None, help="Gaussian jitter of the points [default: the data set's own].")
@click.option("--classes", type=int, default=None, help="Arms of spirals or pinwheel / clusters of blobs.")
@click.option("--hidden", type=NumberListType(int, "16,16"), default="16,16", show_default=True,
              help="Hidden layer sizes; 'none' for logistic/softmax regression.")
@click.option("--activation", type=NameType(ACTIVATIONS), default="relu", show_default=True,
              help="Hidden-layer activation (see `gradviz list activations`).")
@click.option("--init", "init", type=NameType(INITS), default="default", show_default=True,
              help="Weight initialization (see `gradviz list inits`).")
@click.option("--dropout", type=NumberListType(float, "0,0.5"), default="0", show_default=True,
              help="Dropout after each hidden layer; several values for side-by-side panels.")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable for side-by-side panels: -O sgd -O momentum -O adam:lr=0.01 "
                   "-O pytorch_optimizer.Lion:lr=1e-3; an lr schedule after '@': -O sgd:lr=0.5@cosine "
                   "(see `gradviz list schedulers`). [default: -O adam]")
@click.option("--steps", type=_positive(int, limit="train-steps"), default=300, show_default=True,
              help="Training steps.")
@click.option("--lr", type=ParsedType(parse_lrs, "LR|LIST|LOW:HIGH:COUNT"), default=None,
              help="Learning rate for every optimizer without its own; several (1e-3,1e-2 or 1e-4:1e-1:4) for "
                   "side-by-side panels; with --tune, the grid searched [default: each optimizer's net default].")
@click.option("--tune", is_flag=True, help="Draw each optimizer at its best rate of a log grid (--lr, or its "
                                           "default x 10^-2..10^1) for --objective on the training loss.")
@click.option("--objective", type=NameType(OBJECTIVES), default="final", show_default=True,
              help="What --tune minimises: final training loss, auc (mean log10 loss), steps-to-tol.")
@click.option("--tol", type=float, default=1e-2, show_default=True, help="Loss tolerance of steps-to-tol.")
@click.option("--batch-size", type=_positive(int, limit="batch-size"), default=None,
              help="Mini-batch size; 1 is SGD [default: full batch].")
@click.option("--weight-decay", type=NumberListType(float, "0,0.1"), default="0", show_default=True,
              help="L2 weight decay; several values for side-by-side panels.")
@click.option("--freeze", type=str, multiple=True, metavar="LAYER,...",
              help="Comma-separated layers to freeze, e.g. fc1; repeat for side-by-side panels, 'none' for "
                   "nothing frozen: --freeze none --freeze fc1,fc2.")
@click.option("--weights", default=None, metavar="FILE",
              help="A state_dict file of the same MLP, --hidden and --activation as trained "
                   "(torch.save(model.state_dict(), FILE)), to start from: fine-tuning, where freezing a "
                   "trained layer is transfer learning.")
@click.option("--validation", type=float, default=None,
              help="Hold out this fraction of the points (e.g. 0.3) and plot validation loss and accuracy "
                   "beside training: what dropout and weight decay improve.")
@output_options("boundary.gif", "Output file: .gif, .mp4 or .png (last frame).", fps=15,
                seed_help="Seed for data, weights and batches.")
def boundary(dataset: str, n: int, noise: float | None, classes: int | None, hidden: tuple[int, ...],
             activation: str, init: str, dropout: tuple[float, ...], optimizers: tuple[str, ...], steps: int,
             lr: str | None, tune: bool, objective: str, tol: float, batch_size: int | None,
             weight_decay: tuple[float, ...], freeze: tuple[str, ...], weights: str | None,
             validation: float | None, fps: float,
             size: tuple[int, int], dpi: float, theme: str, seed: int, output: Path, quiet: bool) -> None:
    """Animate an MLP's decision boundary as it learns a 2-D toy data set.

    Several optimizers, weight decays or dropouts give side-by-side panels, all from the same initial
    weights on the same data: `gradviz boundary -O sgd -O momentum -O adam` or `--weight-decay 0,0.1`.

    \b
      gradviz boundary -O sgd --lr 0.01,0.1,1              one optimizer at three rates
      gradviz boundary -O sgd -O momentum -O adam --tune   each at its best rate for the final loss
      gradviz boundary --dropout 0,0.5 --noise 0.3 --validation 0.3   with the held-out curves
      gradviz boundary --weights moons.pt --freeze none --freeze fc1,fc2   fine-tune, frozen or not
    """
    from gradviz.pipelines.boundary import boundary as run_boundary

    _refuse_tuning_options_without_tune(tune, objective)
    # what the library checks after importing torch, checked here first so a typo fails at once
    if n < 2:
        raise InvalidArgument(f"invalid n: {n} (need at least 2 points)")
    if noise is not None:
        check_positive("noise", noise, allow_zero=True)
    from gradviz.lecture.data import check_classes

    check_classes(DATASETS.lookup(dataset), classes)
    _check_hidden(hidden)
    if batch_size is not None and batch_size > n:
        raise InvalidArgument(f"invalid batch-size: {batch_size} (more than the {n} points; leave --batch-size out "
                              "for full batches)")
    for value in dropout:
        if not 0 <= value < 1:
            raise InvalidArgument(f"invalid dropout: {value!r} (must be in [0, 1))")
    for value in weight_decay:
        check_positive("weight_decay", value, allow_zero=True)
    if tune and lr is not None:
        parse_lrs(lr, minimum=2)
    if weights is not None and not Path(weights).is_file():
        raise InvalidArgument(f"weights file {weights!r} does not exist")
    frozen = [[f.strip() for f in value.split(",") if f.strip() and f.strip() != "none"] for value in freeze]
    progress, done = _progress(quiet, "rendering")
    try:
        path = run_boundary(dataset, output, n=n, noise=noise, classes=classes, hidden=hidden,
                            activation=activation, init=init, dropout=list(dropout or (0.0,)),
                            optimizers=optimizers or ("adam",), steps=steps, lr=lr, batch_size=batch_size,
                            weight_decay=list(weight_decay or (0.0,)),
                            freeze=frozen[0] if len(frozen) == 1 else frozen, weights=weights,
                            validation=validation,
                            seed=seed, fps=fps, size=size, dpi=dpi, theme=theme, progress=progress, tune=tune,
                            objective=objective, tol=tol,
                            report=None if quiet else (lambda text: click.echo(text, err=True)))
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)


GRADFLOW_PANELS = ("summary", "profile", "heatmap", "bars", "clipping", "ratio", "grid")


class WordListType(click.ParamType):
    """'sigmoid,relu' -> ('sigmoid', 'relu'), each looked up in a registry with a 'did you mean'."""

    def __init__(self, registry_path: str, example: str) -> None:
        self.registry_path, self.name = registry_path, example

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, tuple):
            return value
        registry = _nets_registry(self.registry_path)
        words = [w.strip() for w in str(value).split(",") if w.strip()]
        if not words:
            self.fail(f"{value!r}: give at least one name", param, ctx)
        try:
            return tuple(registry.lookup(word).name for word in words)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)


@cli.command(context_settings=CONTEXT, short_help="Show vanishing and exploding gradients, layer by layer.")
@alias("--activations", "--activation", "activations")  # the names before issue 20 (plural, and a panel --view)
@alias("--inits", "--init", "inits")
@alias("--view", "--panel", "panel")
@click.option("--depth", type=_positive(int, limit="depth"), default=10, show_default=True,
              help="Linear layers in the MLP.")
@click.option("--width", type=_positive(int, limit="width"), default=64, show_default=True,
              help="Units per hidden layer.")
@click.option("--activation", "activations", type=WordListType("gradviz.lecture.choices.ACTIVATIONS", "sigmoid,relu"),
              default="sigmoid,relu", show_default=True,
              help="Activations, one panel each (see `gradviz list activations`).")
@click.option("--init", "inits", type=WordListType("gradviz.lecture.choices.INITS", "default,he"), default="default,he",
              show_default=True, help="Initialization per activation, or one for all (see `gradviz list inits`).")
@click.option("--std", type=_positive(float), default=None,
              help="Weight std for --init normal; k of N(0, k^2/n) for scaled (the other inits take none).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer as NAME[:KEY=VALUE,...], e.g. adam:lr=0.01 (see `gradviz list optimizers`), with "
                   "an optional lr schedule after '@': sgd@cosine (see `gradviz list schedulers`); one per run; "
                   "an lr given here wins over --lr [default: -O sgd].")
@click.option("--lr", type=ParsedType(parse_lrs, "LR"), default="0.1", show_default=True,
              help="Learning rate (one: the panels differ by activation).")
@click.option("--steps", type=_positive(int, limit="train-steps"), default=100, show_default=True,
              help="Training steps.")
@click.option("--step", type=int, default=None,
              help="Draw step K in a .png instead of the initialization (step 0, where the theory holds).")
@click.option("--batch-size", type=_positive(int, limit="batch-size"), default=128, show_default=True,
              help="Batch size.")
@click.option("--clip", type=_positive(float), default=None, help="Clip the total gradient norm to this value.")
@click.option("--data", default="random", show_default=True, metavar="random|DATASET|MODULE:FUNCTION",
              help="'random' (N(0, I) inputs, random labels), a data set of `gradviz list datasets`, or with "
                   "--model your own: FUNCTION() returns (inputs, targets) tensors or a DataLoader.")
@click.option("--model", "model_spec", default=None, metavar="MODULE:FACTORY",
              help="Your own model instead of the deep MLPs: FACTORY() returns an nn.Module; needs --data "
                   "MODULE:FUNCTION.")
@click.option("--loss", "loss_spec", default=None, metavar="NAME|MODULE:FUNCTION",
              help="With --model: mse, l1, cross-entropy, bce, or your own (outputs, targets) -> mean loss "
                   "[default: BCE for one output, cross-entropy for several].")
@click.option("--panel", type=click.Choice(list(GRADFLOW_PANELS)), default="summary", show_default=True,
              help="What a .png shows (a .gif always animates the profiles).")
@output_options("gradflow.gif", "Output file: .gif, .mp4 or .png.", fps=10, seed_help="Seed for weights and data.",
                quiet_help="No progress bar, no diagnosis printed.")
def gradflow(depth: int, width: int, activations: tuple[str, ...], inits: tuple[str, ...], std: float | None,
             optimizers: tuple[str, ...], lr: str, steps: int, step: int | None, batch_size: int, clip: float | None,
             data: str, model_spec: str | None, loss_spec: str | None, panel: str, fps: float, size: tuple[int, int],
             dpi: float, theme: str, seed: int, output: Path, quiet: bool) -> None:
    """Show vanishing and exploding gradients: per-layer gradient norms of deep MLPs, side by side.

    By default a 10-layer sigmoid net (PyTorch's default init) against a 10-layer ReLU net (He init), on the
    same random data: the sigmoid signal shrinks about 7x per layer, the ReLU/He one stays level. Each
    panel's diagnosis (slope per layer, first/last ratio, verdict, the theory's slope) is taken at
    initialization, before the first update, where the theory holds, and printed too; the animation
    shows how training moves the profile, and --step K draws one later step.

    \b
    Examples:
      gradviz gradflow                                          # -> gradflow.gif
      gradviz gradflow --activation relu --init scaled --std 3 -o explode.png
      gradviz gradflow --activation relu --init he -O adam:lr=0.01 --step 50 -o later.png
      gradviz gradflow --depth 20 --activation tanh,relu --init xavier,he --panel grid -o grid.png
      gradviz gradflow --model mynets:make_cnn --data mydata:loader -O adam:lr=1e-3 -o mine.png
    """
    from gradviz.limits import check_at_most
    from gradviz.pipelines.gradflow import gradflow as run_gradflow

    # before importing torch
    if model_spec is not None:
        for name, flag in (("depth", "--depth"), ("width", "--width"), ("activations", "--activation"),
                           ("inits", "--init"), ("std", "--std")):
            if _given(name):
                raise InvalidArgument(f"{flag} sets up the deep MLPs, which --model replaces: drop {flag}")
        if ":" not in data:
            raise InvalidArgument(f"--model needs your own data as --data MODULE:FUNCTION, not {data!r}")
    elif ":" in data or loss_spec is not None:
        raise InvalidArgument("--data MODULE:FUNCTION and --loss belong to your own model: add --model MODULE:FACTORY")
    elif data != "random":
        DATASETS.lookup(data)
    if len(optimizers) > 1:
        raise InvalidArgument(f"gradflow trains one optimizer, got {len(optimizers)}: "
                              f"{' '.join('-O ' + o for o in optimizers)} (run it once per optimizer)")
    optimizer = optimizers[0] if optimizers else "sgd"
    rates = parse_lrs(lr)
    if len(rates) > 1:
        raise InvalidArgument(f"invalid --lr {lr}: gradflow trains at one rate (its panels differ by activation)")
    check_at_most("parameters (depth x width^2)", depth * width * width, "parameters",
                  shown=f"{depth} x {width}^2 = {depth * width * width:,}")
    still = output.suffix.lower() == ".png"
    if step is not None and not still:
        raise InvalidArgument(f"--step {step} draws one step as a still picture: give -o NAME.png (a "
                              f"{output.suffix or 'file without extension'} animates every step)")
    if step is not None and not 0 <= step < steps:
        raise InvalidArgument(f"invalid --step {step}: --steps {steps} gives steps 0 to {steps - 1}")
    if _given("panel") and not still:
        raise InvalidArgument(f"--panel {panel} chooses what a .png shows; a {output.suffix or 'file'} always "
                              "animates the profiles: give -o NAME.png or drop --panel")
    view = panel
    progress, done = _progress(quiet, "rendering")
    try:
        path = run_gradflow(output, activations=activations, inits=inits, view=view, fps=fps, size=size, dpi=dpi,
                            theme=theme, depth=depth, width=width, std=std, optimizer=optimizer, lr=rates[0],
                            steps=steps,
                            step=step,
                            batch_size=batch_size, clip=clip, data=data, seed=seed, progress=progress,
                            model=model_spec, loss=loss_spec,
                            report=None if quiet else (lambda line: click.echo(line, err=True)))
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)


@cli.command(context_settings=CONTEXT, short_help="Draw one of the lecture's figures.")
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

    if _given("fps") and not FIGURES.lookup(name).animated:
        raise InvalidArgument(f"--fps paces an animation; figure {name!r} is a still picture: drop --fps")
    progress, done = _progress(quiet, "rendering")
    try:
        path = run_figure(name, output, size=size, dpi=dpi, theme=theme, fps=fps, seed=seed, progress=progress)
    finally:
        done()
    if not quiet:
        click.echo(f"wrote {path}", err=True)


@cli.command(context_settings=CONTEXT, short_help="Animate optimizers crossing a small net's loss landscape.")
@click.option("--dataset", type=NameType(DATASETS), default="moons", show_default=True,
              help="Toy data set (see `gradviz list datasets`).")
@click.option("--n", "n", type=_positive(int, limit="n"), default=300, show_default=True, help="Number of points.")
@click.option("--noise", type=float, default=None, help="Gaussian jitter of the points [default: the data set's own].")
@click.option("--hidden", type=NumberListType(int, "16,16"), default="16,16", show_default=True,
              help="Hidden layer sizes; 'none' for logistic regression.")
@click.option("--activation", type=NameType(ACTIVATIONS), default="relu", show_default=True,
              help="Hidden-layer activation (see `gradviz list activations`).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable (at most 4), all from the same initial weights: -O sgd -O adam:lr=0.01 "
                   "-O adam@cosine (an lr schedule after '@', see `gradviz list schedulers`) "
                   "[default: -O sgd -O momentum -O adam]")
@click.option("--lr", "lrs", type=ParsedType(parse_lrs, "LR|LIST|LOW:HIGH:COUNT"), default=None,
              help="Learning rate for every optimizer without its own; several (1e-3,1e-2) give a path per "
                   "optimizer and rate, at most 4 [default: each optimizer's net default].")
@click.option("--steps", type=_positive(int, limit="train-steps"), default=300, show_default=True,
              help="Training steps.")
@click.option("--plane", type=click.Choice(["pca", "random", "line", "hessian"]), default="pca",
              help="pca: the runs' shared PCA plane; random: two filter-normalized random directions; "
                   "line: initial -> trained weights (a 1-D curve, .png); hessian: the loss Hessian's top two "
                   "eigenvectors (unit length: the curvature along each axis is its eigenvalue) "
                   "[default: pca; with --model, random, or pca with --checkpoints].")
@click.option("--grid", type=_positive(int, least=3), default=41, show_default=True,
              help="Grid points per axis (>= 3).")
@click.option("--span", type=float, default=None,
              help="Half-width of the plane [default: the paths' extent for pca, 1 for random; "
                   "for line, how far alpha goes past 0 and 1, 0.5].")
@click.option("--norm", type=click.Choice(["filter", "layer", "none"]), default="filter", show_default=True,
              help="Normalization of random directions (filter: Li et al. 2018).")
@click.option("--view", type=click.Choice(["2d", "3d"]), default="2d", show_default=True,
              help="2d: contours + decision boundaries + loss curves; 3d: the surface in perspective.")
@click.option("--spin", type=float, default=0.0, show_default=True,
              help="With --view 3d: degrees the camera turns over the animation.")
@click.option("--metric", type=click.Choice(["loss", "accuracy"]), default="loss", show_default=True,
              help="What the surface shows: mean training loss (what training minimises) or accuracy.")
@click.option("--device", default="cpu", show_default=True, metavar="cpu|cuda|cuda:N",
              help="Where the grid is evaluated.")
@click.option("--frames", type=_positive(int, limit="frames"), default=60, show_default=True, help="Frames in the animation.")
@click.option("--model", "model_spec", default=None, metavar="MODULE:FACTORY",
              help="Your own model: FACTORY() returns an nn.Module (MODULE importable from here, or a .py path). "
                   "Replaces the toy net and its training.")
@click.option("--weights", default=None, metavar="FILE",
              help="With --model: a state_dict file to load first (torch.save(model.state_dict(), FILE)).")
@click.option("--data", "data_spec", default=None, metavar="MODULE:FUNCTION",
              help="With --model: FUNCTION() returns (inputs, targets) tensors of any shape or a DataLoader.")
@click.option("--loss", "loss_spec", default=None, metavar="NAME|MODULE:FUNCTION",
              help="With --model: mse, l1, cross-entropy, bce, or your own (outputs, targets) -> mean loss "
                   "[default: BCE for one output, cross-entropy for several].")
@click.option("--checkpoints", default=None, metavar="'GLOB'",
              help="With --model: your training run's state_dict files, sorted by name (numbers as numbers); "
                   "their path is drawn, --plane pca is their PCA plane, and the last is the origin unless "
                   "--weights is given. Quote the glob.")
@click.option("--batch-size", type=_positive(int, limit="batch-size"), default=None,
              help="With --model and tensor data: samples per evaluation batch [default: 1024].")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Keep finished grid points in FILE; run the same command again after a stop to continue.")
@output_options(None, "Output file: .gif, .mp4 or .png (last frame; the only one for --plane line) "
                "[default: landscape.gif; with --model landscape.png, or .gif for --view 3d --spin].",
                fps=12, seed_help="Seed for data, weights and directions.")
def landscape(dataset: str, n: int, noise: float | None, hidden: tuple[int, ...], activation: str,
              optimizers: tuple[str, ...], lrs: str | None, steps: int, plane: str, grid: int, span: float | None, norm: str,
              view: str, spin: float, metric: str, device: str, frames: int, model_spec: str | None,
              weights: str | None, data_spec: str | None, loss_spec: str | None, checkpoints: str | None,
              batch_size: int | None, cache: Path | None, fps: float, size: tuple[int, int], dpi: float, theme: str,
              seed: int, output: Path | None, quiet: bool) -> None:
    """Draw a loss landscape: optimizers crossing a small net's, or your own model's on your own data.

    \b
    By default: an MLP 2-16-16-1 on moons trained by sgd, momentum and adam; the loss over the plane of
    their shared PCA directions; each path advancing over it, beside the decision boundaries and the loss
    curves (solid: the weights' own loss; dashed: the surface under the projected point; where they part,
    the path is off the plane).
      gradviz landscape
      gradviz landscape --view 3d --spin 40 -o landscape-3d.gif
      gradviz landscape --plane random --norm filter --view 3d -o random-plane.png
      gradviz landscape --plane line -o interpolation.png

    \b
    Your own model (no training; a random filter-normalized plane through its weights by default):
      gradviz landscape --model mynets:make_cnn --weights cnn.pt --data mydata:test_set
      gradviz landscape --model mynets:make_cnn --data mydata:loader --checkpoints 'runs/epoch-*.pt' \\
          --plane pca --cache pca.npz -o pca.png
      torchrun --nproc-per-node 4 -m gradviz landscape --model mynets:make_cnn --data mydata:loader \\
          --device cuda --grid 51          # the grid split across 4 processes, one file written
    """
    from gradviz.pipelines.landscape import check_frames_recorded, check_landscape_options

    if _given("frames"):
        check_frames_recorded(frames, steps)
    _check_hidden(hidden)
    optimizers = optimizers or ("sgd", "momentum", "adam")
    if lrs is not None:
        optimizers = _at_rates(optimizers, parse_lrs(lrs))
    check_landscape_options(plane=plane, view=view, norm=norm, metric=metric, grid=grid, span=span, device=device)
    if _given("norm") and plane != "random":
        raise InvalidArgument(f"--norm scales the directions of a random plane, not of plane {plane!r}: "
                              "add --plane random or drop --norm")
    own = {"weights": weights, "data": data_spec, "loss": loss_spec, "checkpoints": checkpoints,
           "batch-size": batch_size}
    if model_spec is None:
        for name, value in own.items():
            if value is not None:
                raise InvalidArgument(f"--{name} belongs to your own model: add --model MODULE:FACTORY "
                                      f"(and --data MODULE:FUNCTION), or drop --{name}")
    else:
        toy = ["dataset", "n", "noise", "hidden", "activation", "optimizers", "steps"]
        typed = [name for name in toy if _given(name)]
        if typed:
            flag = {"optimizers": "-O", "n": "--n"}.get(typed[0], f"--{typed[0]}")
            raise InvalidArgument(f"{flag} sets up the toy net, which --model replaces: drop {flag}")
        if data_spec is None:
            raise InvalidArgument("--model needs --data MODULE:FUNCTION (returning (inputs, targets) or a DataLoader)")
        if not _given("plane"):
            plane = "pca" if checkpoints else "random"
    progress, done = _progress(quiet, "evaluating grid")
    try:
        if model_spec is None:
            from gradviz.pipelines.landscape import landscape_animation

            path = landscape_animation(output or Path("landscape.gif"), dataset=dataset, n=n, noise=noise,
                                       hidden=hidden, activation=activation,
                                       optimizers=optimizers, steps=steps,
                                       plane=plane, grid=grid, span=span, norm=norm, view=view, spin=spin,
                                       metric=metric, device=device, seed=seed, frames=frames, fps=fps, size=size,
                                       dpi=dpi, theme=theme, progress=progress, cache=cache)
        else:
            from gradviz.pipelines.landscape import model_landscape

            path = model_landscape(output, model=model_spec, data=data_spec, weights=weights, loss=loss_spec,
                                   checkpoints=checkpoints, plane=plane, grid=grid, span=span, norm=norm, view=view,
                                   metric=metric, device=device, cache=cache, batch_size=batch_size, seed=seed,
                                   spin=spin, fps=fps, size=size, dpi=dpi, theme=theme, frames=frames,
                                   progress=progress)
    finally:
        done()
    if not quiet and path is not None:
        click.echo(f"wrote {path}", err=True)


@cli.command(context_settings=CONTEXT, short_help="Plot final loss against learning rate: the U curve.")
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
@click.option("--steps", type=_positive(int, limit="trace-steps"), default=200, show_default=True,
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


@cli.command(context_settings=CONTEXT, short_help="Map which minimum each start reaches, per optimizer.")
@click.option("-f", "--function", "function", type=NameType(FUNCTIONS), default="himmelblau", show_default=True,
              help="Test function with known minima (see `gradviz list functions`).")
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable (at most 4, elementwise ones) [default: -O sgd -O momentum -O adam]")
@click.option("--resolution", type=_positive(int, limit="resolution"), default=200, show_default=True,
              help="Starts per side of the grid.")
@click.option("--steps", type=_positive(int, limit="trace-steps"), default=500, show_default=True,
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


LISTS = {
    "functions": "test functions for -f, with minima and windows",
    "optimizers": "optimizers for -O, with their default settings",
    "schedulers": "lr schedules for -O NAME@SCHEDULE",
    "objectives": "what --tune and sweep minimise (--objective)",
    "datasets": "toy data sets for --dataset and --data",
    "activations": "activations for --activation",
    "inits": "weight initializations for --init",
    "figures": "the lecture's figures for `gradviz figure`",
    "presets": "sizes and type scales for --preset",
    "themes": "colours for --theme",
}


@cli.command("list", context_settings=CONTEXT, short_help="List the choices of an option, or what can be listed.")
@click.argument("what", type=click.Choice(list(LISTS)), default=None, required=False)
def list_(what: str | None) -> None:
    """List functions, optimizers (with default settings), themes, datasets, activations, inits, figures,
    presets, lr schedulers or tuning objectives; alone, what can be listed."""
    if what is None:
        width = max(map(len, LISTS))
        click.echo("gradviz list WHAT, for WHAT one of:")
        for name, summary in LISTS.items():
            click.echo(f"  {name:<{width}}  {summary}")
        return
    if what == "functions":
        rows = []
        for name, fn in FUNCTIONS.items():
            (x0, x1), (y0, y1) = fn.domain
            minima = "; ".join(f"({x:.4g}, {y:.4g})" for x, y in fn.minima) or "none"
            f_min = "-inf" if fn.f_min is None else f"{fn.f_min:.6g}"
            rows.append((name, f"f*={f_min}", f"[{x0:g},{x1:g}]x[{y0:g},{y1:g}]", f"at {minima}", fn.formula))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + f"  {row[3]}   f = {row[4]}")
    elif what == "optimizers":
        from gradviz.records import format_hyperparams

        import textwrap

        width, column = max(map(len, OPTIMIZERS)), 30
        for name, spec in OPTIMIZERS.items():
            # long settings (lbfgs) wrap inside their column, so the summaries stay in one column
            cells = textwrap.wrap(format_hyperparams(spec.defaults), column, break_long_words=False) or [""]
            click.echo(f"{name:<{width}}  {cells[0]:<{column}}  {spec.summary} ({spec.reference})")
            for cell in cells[1:]:
                click.echo(f"{'':<{width}}  {cell}")
        direct = ", ".join(name for name, spec in OPTIMIZERS.items() if spec.family == "direct")
        click.echo(f"\nDirect (gradient-free) methods: {direct}. They never take a gradient and draw their\n"
                   "geometry; compare them with gradient methods by evaluations: --budget evaluations:400.")
        click.echo("\nAny other torch.optim.Optimizer class works by its dotted path, with settings as above:\n"
                   "  -O pytorch_optimizer.Lion:lr=1e-3   -O torch.optim.Rprop   -O torch_optimizer.Yogi:lr=0.01\n"
                   "It is traced as your own loop would drive it (closure, second-order backward, a (2,) point).")
    elif what == "figures":
        width = max(map(len, FIGURES))
        for name, spec in FIGURES.items():
            click.echo(f"{name:<{width}}  {'gif' if spec.animated else 'png'}  {spec.summary}")
    elif what == "presets":
        for name, preset in _preset_registry().items():
            size = f"{preset.size[0]}x{preset.size[1]}"
            click.echo(f"{name:<10} {size:<10} type x{preset.font_scale:<4g} {preset.summary}")
    elif what == "schedulers":
        from gradviz.records import format_hyperparams
        from gradviz.lecture.schedules import SCHEDULERS

        width = max(map(len, SCHEDULERS))
        for name, spec in SCHEDULERS.items():
            defaults = format_hyperparams(spec.defaults)
            click.echo(f"{name:<{width}}  {spec.target.rpartition('.')[2]:<27}  {spec.summary}"
                       + (f" [defaults: {defaults}]" if defaults else ""))
    elif what == "objectives":
        for name, objective in OBJECTIVES.items():
            click.echo(f"{name:<12}  {objective.summary}")
    elif what == "themes":
        for name, theme in _theme_registry().items():
            click.echo(f"{name:<6}  colormap {theme.colormap}, background {theme.background}")
    else:
        registry = _nets_registry({"datasets": "gradviz.lecture.data.DATASETS", "activations":
                                   "gradviz.lecture.choices.ACTIVATIONS", "inits": "gradviz.lecture.choices.INITS"}[what])
        width = max(map(len, registry))
        for name, entry in registry.items():
            click.echo(f"{name:<{width}}  {entry.summary}")


@cli.command(context_settings=CONTEXT, short_help="Regenerate the gallery from the registries.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default="gallery")
@click.option("-q", "--quiet", is_flag=True, help="Do not print each file written.")
def gallery(folder: Path, quiet: bool) -> None:
    """Regenerate the gallery (default: ./gallery) from the registries, deterministically."""
    from gradviz.gallery import build_gallery

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidArgument(f"cannot create gallery folder {str(folder)!r}: {error.strerror}") from None
    written: list[Path] = []
    try:
        for path in build_gallery(folder):
            written.append(Path(path))
            if not quiet:
                click.echo(f"wrote {path}", err=True)
    except KeyboardInterrupt:
        # each file is complete (written atomically): say which, so nobody thinks the folder untouched
        names = ", ".join(p.name for p in written[:6]) + (", ..." if len(written) > 6 else "")
        raise _Interrupted(f"{len(written)} gallery file{'s' if len(written) != 1 else ''} written to {folder}"
                           + (f" ({names}), the rest not" if written else "")) from None


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
    except (_Interrupted, KeyboardInterrupt, click.Abort) as stop:
        # On a terminal, "\r" writes over the "^C" it echoed; click's own handler adds a blank line instead.
        start = "\r" if sys.stderr.isatty() else ""
        written = stop.written if isinstance(stop, _Interrupted) else "no file written"
        click.echo(f"{start}gradviz: interrupted; {written}", err=True)
        sys.exit(130)
    sys.exit(0)
