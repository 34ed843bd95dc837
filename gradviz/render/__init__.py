"""Rendering: records in, RGB frames and matplotlib figures out. Imports matplotlib, never torch.

Submodules are loaded on first use so that reading a theme name does not import matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "THEMES": "gradviz.render.theme",
    "Theme": "gradviz.render.theme",
    "TrajectoryRenderer": "gradviz.render.trajectories",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradviz.render' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
