"""The gallery: one GIF per showcase function with the default optimizers, rebuilt from the registries.

`gradviz gallery` calls `build_gallery`; the same seed and versions give the same bytes, so a rebuild
that changes nothing shows no diff in git.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from gradviz.functions import FUNCTIONS

__all__ = ["build_gallery", "GALLERY_SIZE"]

GALLERY_SIZE = (640, 360)


def build_gallery(folder: str | Path = "gallery", *, seed: int = 0) -> Iterator[Path]:
    """Write gallery files into `folder`, yielding each path as it is written."""
    from gradviz.animation import trajectories

    folder = Path(folder)
    for name, function in FUNCTIONS.items():
        if function.showcase:
            yield trajectories(name, path=folder / f"trajectories-{name}.gif", size=GALLERY_SIZE, dpi=67,
                               steps=200, frames=100, fps=15, seed=seed)
    yield trajectories("rosenbrock", path=folder / "trajectories-rosenbrock.png", seed=seed)
