"""Drawing curvature: the edge of stability (sharpness against 2/lr beside the loss) and a Hessian spectrum.

Reads SharpnessRun and HessianSpectrum records only (matplotlib, no torch); the numbers come from
gradviz/analysis/curvature.py.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from gradviz.records import HessianSpectrum, SharpnessRun
from gradviz.render.figure import COLORS, _figure, _finish
from gradviz.render.theme import Theme

__all__ = ["draw_edge_of_stability", "plot_sharpness", "plot_spectrum"]


def plot_sharpness(runs: Sequence[SharpnessRun], *, ax: Any = None, **kwargs: Any) -> Any:
    """Each run's sharpness against the step (solid) and its 2/lr (dashed, same colour). Returns the Axes."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    for index, run in enumerate(runs):
        colour = COLORS[index % len(COLORS)]
        ax.plot(run.sharpness_steps, run.sharpness, color=colour, label=run.label, **kwargs)
        ax.axhline(run.threshold, color=colour, ls="--", lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("sharpness: top eigenvalue of the Hessian")
    return ax


def plot_spectrum(spectrum: HessianSpectrum, *, ax: Any = None, **kwargs: Any) -> Any:
    """The eigenvalue density (log axis) with the top eigenvalues marked. Returns the Axes."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    if not len(spectrum.density):
        raise ValueError("this spectrum has no density: compute it with hessian(..., density=True)")
    ax.semilogy(spectrum.density_grid, np.maximum(spectrum.density, 1e-12), **kwargs)
    for value in spectrum.eigenvalues:
        ax.axvline(value, color="0.5", ls=":", lw=1)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    return ax


def draw_edge_of_stability(runs: Sequence[SharpnessRun], *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                           theme: str | Theme = "light", font_scale: float = 1.0) -> Figure:
    """Left: the sharpness of each full-batch GD run rising to its 2/lr and hovering there. Right: the loss."""
    fig, font, th, style = _figure(size, dpi, theme, font_scale)
    with style:
        left, right = fig.subplots(1, 2, width_ratios=(1.25, 1))
        plot_sharpness(runs, ax=left)
        top = max(float(np.nanmax(r.sharpness)) for r in runs)
        left.set_ylim(0, 1.15 * max(top, max(r.threshold for r in runs)))
        left.set_title("sharpness rises to 2/lr (dashed), then hovers there")
        left.legend(loc="upper left")
        for index, run in enumerate(runs):
            right.semilogy(run.steps, run.loss, color=COLORS[index % len(COLORS)], lw=1.2)
        right.set_xlabel("step")
        right.set_ylabel("training loss (MSE)")
        right.set_title("while the loss keeps falling, not monotonically")
        meta = runs[0].meta if runs else {}
        note = (f"full-batch GD on {meta.get('model', 'a small net')}, {meta.get('data', '')}, "
                f"{meta.get('loss', '')}; sharpness by {meta.get('lanczos', 20)} Lanczos steps every "
                f"{meta.get('every', '?')} steps")
        fig.text(0.5, 0.0, note, ha="center", va="bottom", fontsize=font * 0.85)
        fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
        return _finish(fig, "Edge of stability (Cohen et al. 2021): GD is stable where sharpness < 2/lr")
