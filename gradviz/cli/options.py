"""What every command shares: option types checked while parsing (before torch is imported), the
output options, progress bars and the Ctrl-C carrier. Every command module under gradviz/cli/ builds on these."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Callable

import click

from gradviz.lecture.choices import ACTIVATIONS
from gradviz.lecture.data import DATASETS
from gradviz.lecture.functions import FUNCTIONS, parse_domain
from gradviz.lecture.optim import OPTIMIZERS, parse_optimizer
from gradviz.registry import InvalidArgument, Registry, check_positive

__all__ = ["loss_options", "CONTEXT", "DPI_RANGE", "DomainType", "DpiType", "Group", "Interrupted", "NameType",
           "NumberListType", "OptimizerType", "toy_net_options", "PairType", "ParsedType", "PositiveType", "ProgressBar",
           "WordListType", "alias", "at_rates", "check_hidden", "function_argument", "given",
           "output_options", "positive", "preset_option", "preset_registry", "progress_reporter",
           "refuse_tuning_options_without_tune", "registry_at", "theme_registry"]

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


def function_argument(name_or_text: str, domain: Any, minimum: tuple[float, float] | None) -> Any:
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


def theme_registry() -> Registry:
    from gradviz.render.theme import THEMES

    return THEMES


def preset_registry() -> Registry:
    from gradviz.render.theme import PRESETS

    return PRESETS


def _apply_preset(ctx: click.Context, param: Any, value: str | None) -> str | None:
    """An eager --preset fills the defaults of --size and --dpi; an explicit --size still wins."""
    if value is not None:
        preset = preset_registry()[value]
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

    names = ", ".join(preset_registry())
    return click.option("--preset", type=NameType(preset_registry()), default=None, is_eager=True,
                        callback=_apply_preset, expose_value=True,
                        help=f"Size and type scale for a purpose: {names} (see `gradviz list presets`); "
                             "--size overrides its size.")(run)


def language_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--lang en|ru` to a command: while it runs, every renderer draws its titles, labels and legends
    in that language (gradviz/i18n.py; English is the default and the source strings)."""
    import functools

    from gradviz.i18n import LANGUAGES

    @functools.wraps(command)
    def run(*args: Any, lang: str = "en", **kwargs: Any) -> Any:
        from gradviz.i18n import use_language

        with use_language(lang):
            return command(*args, **kwargs)

    return click.option("--lang", type=NameType(LANGUAGES), default="en", show_default=True,
                        help="Language of the picture's text: en, or ru (the lecture's own terms).")(run)


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


def progress_reporter(quiet: bool, label: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress reporter drawing bars on stderr, only when stderr is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    bar = ProgressBar(label)
    return bar, bar.close


class Interrupted(Exception):
    """Ctrl-C inside a command, carried past click (which would print a blank line) to main; its message
    says what was written, where that is not "no file"."""

    def __init__(self, written: str = "no file written") -> None:
        super().__init__(written)
        self.written = written


def interrupted_text(stop: BaseException) -> str:
    """What an interrupt leaves behind: nothing, or (a cached grid's GridInterrupted) the points kept."""
    kept = getattr(stop, "kept", None)
    return f"no picture written; {kept}" if kept else "no file written"


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as stop:
            raise Interrupted(interrupted_text(stop)) from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            refuse_repeated_options(command, rest)
        return name, command, rest


def refuse_repeated_options(command: click.Command, args: list[str]) -> None:
    """An option that takes one value given twice (-f 'x**2' -f 'y**2'): click would keep the last silently."""
    single: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option) and not param.multiple and not param.count and not param.is_flag:
            for name in param.opts + param.secondary_opts:
                single[name] = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
    seen: dict[str, list[str]] = {}
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            break
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if name in single:
            option = single[name]
            if not eq:
                value = args[index + 1] if index + 1 < len(args) else ""
                index += 1
            seen.setdefault(option, []).append(f"{name} {value!r}")
        index += 1
    for option, typed in seen.items():
        if len(typed) > 1:
            raise InvalidArgument(f"{option} is given {len(typed)} times ({' '.join(typed[:3])}): it takes one "
                                  "value, give it once")


class SeedType(click.ParamType):
    """A seed, 0 to 2**32 - 1 (gradviz.registry.check_seed, the library's own check), before torch."""

    name = "INTEGER"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from gradviz.registry import check_seed

        try:
            return check_seed(int(value) if isinstance(value, str) and value.strip().lstrip("-").isdigit() else value)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)


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


def given(name: str) -> bool:
    """Whether the user typed the option whose parameter is `name` (rather than leaving its default), by its
    name or by an old one (see `alias`)."""
    context = click.get_current_context()
    return (context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
            or name in context.meta.get("gradviz.given", ()))


def refuse_tuning_options_without_tune(tune: bool, objective: str) -> None:
    """--objective and --tol choose what --tune minimises: typed without it, they would do nothing."""
    for name in ("objective", "tol"):
        if given(name) and not tune:
            raise InvalidArgument(f"--{name} sets what --tune minimises: add --tune or drop --{name}")
    if given("tol") and objective != "steps-to-tol":
        raise InvalidArgument(f"--tol is the tolerance of --objective steps-to-tol, not of {objective!r}: "
                              "add --objective steps-to-tol or drop --tol")


def positive(kind: type, least: int = 1, limit: str | None = None) -> click.ParamType:
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
                if given(param):
                    raise InvalidArgument(f"{old} is the old name of {new}: give {new} once")
                kwargs[param] = value
                click.get_current_context().meta.setdefault("gradviz.given", set()).add(param)
            return command(*args, **kwargs)

        target = next(p for p in getattr(command, "__click_params__", []) if p.name == param)
        return click.option(old, f"old_{param}", type=target.type, default=None, hidden=True)(run)

    return decorate


def loss_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--loss and --compute-loss, the same in every command that takes your own model (--model), the named losses
    read from gradviz.analysis.choices.LOSSES."""
    from gradviz.analysis.choices import LOSSES

    names = ", ".join(name for name in LOSSES if name != "default")
    command = click.option("--compute-loss", "compute_loss_spec", default=None, metavar="MODULE:FUNCTION",
                           help="With --model: your own FUNCTION(model, batch) -> mean loss, for any batch and output "
                                "(instead of --loss).")(command)
    return click.option("--loss", "loss_spec", default=None, metavar="NAME|MODULE:FUNCTION",
                        help=f"With --model: {names}, or your own (outputs, targets) -> mean loss [default: a dict "
                             "batch's own .loss (transformers), else BCE for one output, cross-entropy for "
                             "several].")(command)


def toy_net_options(*, classes: bool) -> Callable[[Callable[..., Any]], Any]:
    """The toy data set and the small net's shape, the same in every command that trains one: --dataset, --n,
    --noise, [--classes,] --hidden, --activation."""
    decorators = [
        click.option("--dataset", type=NameType(DATASETS), default="moons", show_default=True,
                     help="Toy data set (see `gradviz list datasets`)."),
        click.option("--n", "n", type=positive(int, limit="n"), default=300, show_default=True,
                     help="Number of points."),
        click.option("--noise", type=float, default=None,
                     help="Gaussian jitter of the points [default: the data set's own]."),
    ]
    if classes:
        decorators.append(click.option("--classes", type=int, default=None,
                                       help="Arms of spirals or pinwheel / clusters of blobs."))
    decorators += [
        click.option("--hidden", type=NumberListType(int, "16,16"), default="16,16", show_default=True,
                     help="Hidden layer sizes; 'none' for logistic regression" + (
                         " (softmax with more classes)." if classes else ".")),
        click.option("--activation", type=NameType(ACTIVATIONS), default="relu", show_default=True,
                     help="Hidden-layer activation (see `gradviz list activations`)."),
    ]

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def output_options(output: str | None, output_help: str, *, fps: float | None = None, seed_help: str,
                   quiet_help: str = "No progress bar, no summary.") -> Callable[[Callable[..., Any]], Any]:
    """The options of every command that writes a picture, with the same types, checks and help, in this order
    after the command's own: [--fps,] --size, --dpi, --preset, --lang, --theme, --seed, -o/--output, -q/--quiet.

    Put `@output_options(...)` last, right above the function. `fps` is the default frame rate of an animating
    command (None: no --fps); `output` the default file (None: the command names it, so no default shown)."""
    decorators = [] if fps is None else [
        click.option("--fps", type=positive(float), default=fps, show_default=True,
                     help="Frames per second of an animation (a GIF allows 0.0016 to 50).")]
    decorators += [
        click.option("--size", type=PairType("x", True, "WxH"), default="960x540", show_default=True,
                     help="Image size in pixels."),
        click.option("--dpi", type=DpiType(), default=100, show_default=True,
                     help=f"Dots per inch, {DPI_RANGE[0]:g} to {DPI_RANGE[1]:g}: larger makes text bigger (the size in "
                          "pixels stays)."),
        preset_option,
        language_option,
        click.option("--theme", type=NameType(theme_registry()), default="light", show_default=True,
                     help="Colours: light or dark slides."),
        click.option("--seed", type=SeedType(), default=0, show_default=True, help=seed_help),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=output,
                     show_default=output is not None, help=output_help),
        click.option("-q", "--quiet", is_flag=True, help=quiet_help),
    ]

    def decorate(command: Callable[..., Any]) -> Any:
        for decorator in reversed(decorators):  # click lists the options in the order they are written above
            command = decorator(command)
        return command

    return decorate



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


def at_rates(optimizers: tuple[str, ...], rates: tuple[float, ...]) -> tuple[str, ...]:
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


def check_hidden(hidden: tuple[int, ...]) -> None:
    """Hidden layer sizes of the small nets: each >= 1 and bounded, and not too many layers."""
    from gradviz.limits import check_at_most

    if not hidden:
        raise InvalidArgument("invalid hidden: '' (no hidden layers; give the layer sizes, such as 16,16)")
    for units in hidden:
        if units < 1:
            raise InvalidArgument(f"invalid hidden layer size: {units} (must be a whole number >= 1)")
        check_at_most("hidden layer size", units, "hidden")
    check_at_most("number of hidden layers", len(hidden), "hidden-layers")


def registry_at(name: str) -> Registry:
    import importlib

    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


class WordListType(click.ParamType):
    """'sigmoid,relu' -> ('sigmoid', 'relu'), each looked up in a registry with a 'did you mean'."""

    def __init__(self, registry_path: str, example: str) -> None:
        self.registry_path, self.name = registry_path, example

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, tuple):
            return value
        registry = registry_at(self.registry_path)
        words = [w.strip() for w in str(value).split(",") if w.strip()]
        if not words:
            self.fail(f"{value!r}: give at least one name", param, ctx)
        try:
            return tuple(registry.lookup(word).name for word in words)
        except InvalidArgument as error:
            self.fail(str(error), param, ctx)


