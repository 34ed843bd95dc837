"""Drawing curvature: the edge of stability (sharpness against 2/lr beside the loss) and a Hessian spectrum.

Reads SharpnessRun and HessianSpectrum records only (matplotlib, no torch); the numbers come from
gradviz/analysis/curvature.py.
"""

from __future__ import annotations

import textwrap
from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from gradviz.records import HessianSpectrum, SharpnessRun
from gradviz.render.figure import COLORS, _figure, _finish
from gradviz.i18n import N_, _
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
    ax.set_xlabel(_("step"))
    ax.set_ylabel(_("sharpness: top eigenvalue of the Hessian"))
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
        for line, run in zip(left.get_lines()[::2], runs):
            line.set_label(_("lr = {lr:g}  (2/lr = {t:g})").format(lr=run.lr, t=run.threshold))
        left.set_title(_sharpness_title(runs))
        left.legend(loc="upper left")
        for index, run in enumerate(runs):
            right.semilogy(run.steps, run.loss, color=COLORS[index % len(COLORS)], lw=1.2)
        right.set_xlabel(_("step"))
        right.set_ylabel(_("training loss (MSE)"))
        finals = [float(run.loss[-1]) for run in runs]
        right.axhline(CHANCE_MSE, color=th.foreground, ls=":", lw=1)
        right.set_title(_("the loss falls, not monotonically, to {lo:.2f}-{hi:.2f}\n(dotted: {c:g}, "
                          "predicting 1/2 for both classes)").format(lo=min(finals), hi=max(finals), c=CHANCE_MSE))
        meta = runs[0].meta if runs else {}
        note = _("full-batch GD on {model}, {data}, {loss}; sharpness by {k} Lanczos steps every {every} "
                 "steps").format(model=_(meta.get("model", "a small net")), data=_(meta.get("data", "")),
                                 loss=_(meta.get("loss", "")), k=meta.get("lanczos", 20), every=meta.get("every", "?"))
        note = textwrap.fill(note, 115)
        fig.text(0.5, 0.0, note, ha="center", va="bottom", fontsize=font * 0.85)
        bottom = 0.05 * (note.count("\n") + 1)
        fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
        return _finish(fig, _("Edge of stability (Cohen et al. 2021): full-batch GD drives the sharpness to "
                              "2/lr and keeps it there"))


# the mean squared error of predicting 1/2 for both one-hot classes: what a net that learned nothing scores
CHANCE_MSE = 0.25
# the settings gradviz.analysis.curvature.edge_of_stability names in its runs' meta, translated when drawn
META_NAMES = (N_("MLP 2-64-64-2, tanh"), N_("200 spirals points"), N_("MSE on one-hot labels"), N_("a small net"))


def _sharpness_title(runs: Sequence[SharpnessRun]) -> str:
    """What the sharpness did, read from the runs: rose from below 2/lr, or started above it and was pushed
    down (a run that starts above 2/lr cannot 'rise' to it)."""
    below = [f"{r.lr:g}" for r in runs if r.sharpness[0] < r.threshold]
    above = [f"{r.lr:g}" for r in runs if r.sharpness[0] >= r.threshold]
    if not above:
        return _("sharpness rises to 2/lr (dashed), then hovers there")
    if not below:
        return _("sharpness starts above 2/lr (dashed), is pushed down to it and hovers")
    return _("sharpness (solid) meets 2/lr (dashed): rises from below for lr {below},\n"
             "is pushed down from above for lr {above}").format(below=", ".join(below), above=", ".join(above))
