"""`gradviz list WHAT`: the choices of an option, read from the registries."""

from __future__ import annotations


import click

from gradviz.lecture.figures import FIGURES
from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.grids import OBJECTIVES
from gradviz.lecture.optim import OPTIMIZERS
from gradviz.cli.options import CONTEXT, preset_registry, registry_at, theme_registry

__all__ = ["list_"]


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
    "planes": "landscape planes for --plane, with what each needs",
    "norms": "direction normalizations for --norm",
    "metrics": "what a landscape shows (--metric)",
    "losses": "named losses for --loss (or MODULE:FUNCTION)",
    "precisions": "arithmetic of your model's landscape (--precision)",
    "views": "2d or 3d (--view)",
    "panels": "what a gradflow PNG shows (--panel)",
}

# the registries of plain choices (a name and a summary each), by what `gradviz list` calls them
CHOICE_LISTS = {"planes": "gradviz.analysis.choices.PLANES", "norms": "gradviz.analysis.choices.NORMS",
                "metrics": "gradviz.analysis.choices.METRICS", "losses": "gradviz.analysis.choices.LOSSES",
                "precisions": "gradviz.analysis.choices.PRECISIONS",
                "views": "gradviz.render.choices.VIEWS", "panels": "gradviz.render.choices.PANELS"}


@click.command("list", context_settings=CONTEXT, short_help="List the choices of an option, or what can be listed.")
@click.argument("what", type=click.Choice(list(LISTS)), default=None, required=False)
def list_(what: str | None) -> None:
    """List functions, optimizers (with default settings), themes, datasets, activations, inits, figures,
    presets, lr schedulers, tuning objectives, landscape planes, norms, metrics, losses, precisions, views or
    gradflow panels; alone, what can be listed."""
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
        for name, preset in preset_registry().items():
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
        for name, theme in theme_registry().items():
            click.echo(f"{name:<6}  colormap {theme.colormap}, background {theme.background}")
    elif what in CHOICE_LISTS:
        registry = registry_at(CHOICE_LISTS[what])
        width = max(map(len, registry))
        for name, entry in registry.items():
            needs = [word for word, flag in (("runs", getattr(entry, "needs_runs", False)),
                                             ("the loss", getattr(entry, "needs_loss", False))) if flag]
            click.echo(f"{name:<{width}}  {entry.summary}" + (f" [needs {' and '.join(needs)}]" if needs else ""))
    else:
        registry = registry_at({"datasets": "gradviz.lecture.data.DATASETS", "activations":
                                   "gradviz.lecture.choices.ACTIVATIONS", "inits": "gradviz.lecture.choices.INITS"}[what])
        width = max(map(len, registry))
        for name, entry in registry.items():
            click.echo(f"{name:<{width}}  {entry.summary}")
