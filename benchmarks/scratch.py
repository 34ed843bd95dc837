"""Where the benchmarks write their GIFs: a temporary folder removed at the end, or --keep DIR to look at them."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def add_keep_option(parser) -> None:
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="write the GIFs into DIR and keep them (default: a temporary folder, removed)")


@contextmanager
def scratch_folder(keep: str | None, prefix: str) -> Iterator[Path]:
    if keep:
        folder = Path(keep)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        print(f"files kept in {folder}")
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield Path(folder)
