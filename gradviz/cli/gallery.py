"""`gradviz gallery`: rebuild gallery/ from the registries (gradviz.gallery)."""

from __future__ import annotations

from pathlib import Path

import click

from gradviz.registry import InvalidArgument
from gradviz.cli.options import CONTEXT, Interrupted

__all__ = ["gallery"]


@click.command(context_settings=CONTEXT, short_help="Regenerate the gallery from the registries.")
@click.argument("folder", type=click.Path(file_okay=False), default="gallery")
@click.option("--only", multiple=True, metavar="PATTERN",
              help="Build only the files matching this name or glob, relative to FOLDER (repeatable): "
                   "--only 'figure-*.png' --only 'ru/*'.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print each file written.")
def gallery(folder: str, only: tuple[str, ...], quiet: bool) -> None:
    """Regenerate the gallery (default: ./gallery) from the registries, deterministically."""
    from gradviz.gallery import build_gallery, check_gallery_folder

    folder = check_gallery_folder(folder)  # '' would be the current folder: refused, not filled

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidArgument(f"cannot create gallery folder {str(folder)!r}: {error.strerror}") from None
    written: list[Path] = []
    try:
        for path in build_gallery(folder, only=only):
            written.append(Path(path))
            if not quiet:
                click.echo(f"wrote {path}", err=True)
    except KeyboardInterrupt:
        # each file is complete (written atomically): say which, so nobody thinks the folder untouched
        names = ", ".join(p.name for p in written[:6]) + (", ..." if len(written) > 6 else "")
        raise Interrupted(f"{len(written)} gallery file{'s' if len(written) != 1 else ''} written to {folder}"
                           + (f" ({names}), the rest not" if written else "")) from None
