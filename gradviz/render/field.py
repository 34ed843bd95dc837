"""The gradient field under a trajectory animation: normalized -grad f as arrows or streamlines.

The field is computed from the surface's own samples with numpy's second-order central differences (exact
for quadratics), so drawing it needs no torch; it is drawn once on the static background of the renderer,
so it costs nothing per frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradviz.render.choices import FIELD_STYLES
from gradviz.records import Surface
from gradviz.registry import InvalidArgument

__all__ = ["descent_directions", "draw_field"]



def descent_directions(surface: Surface) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) of shape z.shape: -grad f / |grad f| on the surface grid (NaN where f or grad f is not finite
    or the gradient vanishes)."""
    z = np.where(np.isfinite(surface.z), surface.z, np.nan)
    if len(surface.x) < 3 or len(surface.y) < 3:
        raise InvalidArgument("a gradient field needs a surface of at least 3 x 3 points")
    with np.errstate(all="ignore"):
        dz_dy, dz_dx = np.gradient(z, surface.y, surface.x, edge_order=2)
        norm = np.hypot(dz_dx, dz_dy)
        norm = np.where(norm > 0, norm, np.nan)
        return -dz_dx / norm, -dz_dy / norm


def draw_field(ax: Any, surface: Surface, *, style: str = "arrows", color: str = "#222222", arrows: int = 18,
               scale: float = 1.0) -> Any:
    """Draw the normalized descent directions on `ax` under everything else; returns the artist.

    arrows: about this many arrows along the longer side (style "arrows"); streamlines use the full grid.
    """
    style = FIELD_STYLES.lookup(style).name
    u, v = descent_directions(surface)
    if style == "streamlines":
        finite = np.isfinite(u) & np.isfinite(v)
        stream = ax.streamplot(surface.x, surface.y, np.where(finite, u, 0.0), np.where(finite, v, 0.0),
                               color=color, density=1.1, linewidth=0.6 * scale, arrowsize=0.8 * scale, zorder=2)
        stream.lines.set_alpha(0.45)
        stream.arrows.set_alpha(0.45)
        return stream
    step = max(1, int(round(max(len(surface.x), len(surface.y)) / arrows)))
    rows, cols = np.arange(step // 2, len(surface.y), step), np.arange(step // 2, len(surface.x), step)
    gx, gy = np.meshgrid(surface.x[cols], surface.y[rows])
    spacing = step * min(np.ptp(surface.x) / (len(surface.x) - 1), np.ptp(surface.y) / (len(surface.y) - 1))
    uu, vv = u[np.ix_(rows, cols)], v[np.ix_(rows, cols)]
    return ax.quiver(gx, gy, uu * spacing * 0.7, vv * spacing * 0.7, angles="xy", scale_units="xy", scale=1.0,
                     color=color, alpha=0.45, width=0.0025 * scale, headwidth=4, headlength=4.5, zorder=2)
