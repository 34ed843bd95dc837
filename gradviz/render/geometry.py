"""The moving geometry of direct (gradient-free) methods, drawn over a trajectory animation.

`GeometryLayer` owns the animated artists for what a direct method's record keeps beside its path: the
Nelder-Mead simplex as a triangle, the pattern search's stencil, the CMA-ES population with its mean and
1- and 2-sigma ellipses of sigma^2 C, the proposals of random search and annealing, and every evaluated
point, fading over the few frames after it was evaluated. It is built once on the contour axes (nothing
is drawn then); per frame the renderer calls `draw_points(history)` before the trails (evaluated points
lie under the paths) and `draw_shapes(current)` after the heads (a small simplex is not hidden by a head). Records without geometry add nothing.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from gradviz.records import Trajectory

__all__ = ["GeometryLayer", "ellipse", "FADE_FRAMES"]

FADE_FRAMES = 4  # an evaluated point stays visible this many frames, fading out
_CIRCLE = np.linspace(0.0, 2.0 * np.pi, 49)


def ellipse(mean: np.ndarray, covariance: np.ndarray, k: float = 1.0) -> np.ndarray:
    """(49, 2) points of the k-sigma ellipse {x: (x - m)^T C^-1 (x - m) = k^2}, closed."""
    values, vectors = np.linalg.eigh(np.asarray(covariance, dtype=float))
    radii = k * np.sqrt(np.maximum(values, 0.0))
    circle = np.stack([np.cos(_CIRCLE), np.sin(_CIRCLE)], axis=1)
    return np.asarray(mean, dtype=float) + (circle * radii) @ vectors.T


class GeometryLayer:
    """Animated artists for each record's geometry and evaluated points.

    history (given to `draw_points`): for the current frame and the FADE_FRAMES - 1 before it, the point index
    each record has reached (-1 before the first frame). Evaluations made by the steps between two
    consecutive entries are drawn with the opacity of the older one.
    """

    def __init__(self, ax: Any, trajectories: Sequence[Trajectory], colours: Sequence[Any], scale: float,
                 *, zorder: float = 4.5) -> None:
        self.ax = ax
        self.trajectories = list(trajectories)
        self.colours = [to_rgba(c) for c in colours]
        self.artists: list[tuple[int, str, Line2D]] = []  # (record, geometry key, artist)
        self.faces: list[tuple[int, Polygon]] = []  # translucent simplices, so a thin triangle still shows
        line = 1.3 * scale
        for index, (record, colour) in enumerate(zip(self.trajectories, self.colours)):
            geometry = record.geometry

            def add(key: str, **style: Any) -> None:
                artist = Line2D([], [], color=colour, animated=True, zorder=zorder, **style)
                ax.add_line(artist)
                self.artists.append((index, key, artist))

            if "simplex" in geometry:
                face = Polygon(np.zeros((3, 2)), closed=True, facecolor=colour, edgecolor="none", alpha=0.3,
                               animated=True, zorder=zorder - 0.05)
                ax.add_patch(face)
                self.faces.append((index, face))
                add("simplex", lw=line, alpha=0.95)
            if "stencil" in geometry:
                add("stencil", ls="", marker="P", ms=5.5 * scale, alpha=0.9, markeredgecolor="white",
                    markeredgewidth=0.4 * scale)
            if "covariance" in geometry and "mean" in geometry:
                add("sigma-1", lw=line, alpha=0.95)
                add("sigma-2", lw=0.9 * line, ls=(0, (3, 2)), alpha=0.8)
                add("mean", ls="", marker="x", ms=6 * scale, mew=1.6 * scale)
            if "population" in geometry:
                add("population", ls="", marker="o", ms=5 * scale, mfc="none", mew=1.1 * scale)
            if "proposal" in geometry:
                add("proposal", ls="", marker="X", ms=6 * scale, alpha=0.85, markeredgecolor="white",
                    markeredgewidth=0.4 * scale)
        self.evaluated = ax.scatter(np.zeros(0), np.zeros(0), s=9 * scale**2, linewidths=0, animated=True,
                                    zorder=zorder - 0.1)
        self.active = bool(self.artists) or any(len(t.evaluated) for t in self.trajectories)

    def _data(self, record: Trajectory, key: str, k: int) -> np.ndarray:
        geometry = record.geometry
        if key == "simplex":
            return np.vstack([geometry["simplex"][k], geometry["simplex"][k][:1]])
        if key in ("sigma-1", "sigma-2"):
            return ellipse(geometry["mean"][k], geometry["covariance"][k], 1.0 if key == "sigma-1" else 2.0)
        return np.asarray(geometry[key][k], dtype=float).reshape(-1, 2)

    def draw_shapes(self, current: Sequence[int]) -> None:
        """Set and blit each record's geometry at point index current[i] (drawn over the paths' heads)."""
        for index, face in self.faces:
            if current[index] >= 0:
                face.set_xy(self.trajectories[index].geometry["simplex"][current[index]])
                self.ax.draw_artist(face)
        for index, key, artist in self.artists:
            k = current[index]
            data = self._data(self.trajectories[index], key, max(k, 0)) if k >= 0 else np.zeros((0, 2))
            finite = data[np.isfinite(data).all(axis=1)] if key != "simplex" else data
            artist.set_data(finite[:, 0], finite[:, 1])
            self.ax.draw_artist(artist)

    def draw_points(self, history: Sequence[Sequence[int]]) -> None:
        """Set and blit the evaluated points of the last frames, fading with age (drawn under the paths)."""
        points, colours = [], []
        for index, record in enumerate(self.trajectories):
            if not len(record.evaluated):
                continue
            for age in range(len(history) - 1):
                newer, older = history[age][index], history[age + 1][index]
                if newer <= older:
                    continue
                mask = (record.evaluated_at > older) & (record.evaluated_at <= newer)
                if mask.any():
                    points.append(record.evaluated[mask])
                    r, g, b, _ = self.colours[index]
                    alpha = 0.85 * (1.0 - age / len(history))
                    colours.append(np.tile([r, g, b, alpha], (int(mask.sum()), 1)))
        if points:
            self.evaluated.set_offsets(np.vstack(points))
            self.evaluated.set_facecolors(np.vstack(colours))
            self.ax.draw_artist(self.evaluated)
