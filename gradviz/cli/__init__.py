"""The `gradviz` command line: a thin click layer that turns options into one library call each.

One module per command (trajectories.py is `gradviz trajectories`, listing.py is `gradviz list`), the option
types and output options they share in options.py. Choices come from the registries, so a new function or
optimizer appears here by itself. Importing this package (and answering --help or `gradviz list`) does not
import torch or matplotlib; the command bodies do. Every usage error is one line on stderr with exit code 2:
no traceback, no file written.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from gradviz.cli import basins, boundary, figure, gallery, gradflow, landscape, listing, sweep, trajectories
from gradviz.cli.options import CONTEXT, Group, Interrupted, interrupted_text
from gradviz.registry import InvalidArgument

__all__ = ["main", "cli"]


@click.group(cls=Group, context_settings=CONTEXT)
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

    \b
    An error is one line; where your own code (model, data, loss) raised, --traceback (anywhere on the
    line) or GRADVIZ_TRACEBACK=1 prints its whole traceback too.
    """

for _command in (trajectories.trajectories, boundary.boundary, gradflow.gradflow, figure.figure,
                 landscape.landscape, sweep.sweep, basins.basins, listing.list_, gallery.gallery):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every usage error into one line and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--traceback" in argv:  # anywhere on the line, before or after the command
        argv = [arg for arg in argv if arg != "--traceback"]
        os.environ["GRADVIZ_TRACEBACK"] = "1"
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
        if os.environ.get("GRADVIZ_TRACEBACK", "") not in ("", "0") and error.__cause__ is not None:
            traceback.print_exception(error.__cause__, file=sys.stderr)
        click.echo(f"gradviz: error: {' '.join(str(error).split())}", err=True)
        sys.exit(2)
    except (Interrupted, KeyboardInterrupt, click.Abort) as stop:
        # On a terminal, "\r" writes over the "^C" it echoed; click's own handler adds a blank line instead.
        start = "\r" if sys.stderr.isatty() else ""
        written = stop.written if isinstance(stop, Interrupted) else interrupted_text(stop)
        click.echo(f"{start}gradviz: interrupted; {written}", err=True)
        sys.exit(130)
    sys.exit(0)
