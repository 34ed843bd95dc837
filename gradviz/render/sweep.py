"""The figure of `gradviz sweep`: final f - f* (or the declared objective) against the learning rate, the
"U" curve of each optimizer, with diverged rates drawn on their own band and the best rate of each ringed.

Final values are drawn between a floor and a ceiling (said on the figure when any is moved there): a run
that underflows to 1e-173 would otherwise stretch the log axis over 180 decades and flatten every other
curve, and one that blows up without leaving the finite numbers would do the same upwards."""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.figure import Figure

from gradviz.i18n import _
from gradviz.records import TuningTable
from gradviz.render.compare import new_figure, plot_lr_curve, styled
from gradviz.render.frames import small_font
from gradviz.render.theme import THEMES
from gradviz.render.trajectories import LOSS_CLAMP, surface_title

__all__ = ["sweep_figure", "FINAL_FLOOR", "FINAL_CEILING"]

FINAL_FLOOR = LOSS_CLAMP  # final values below this are drawn at it (as in the trajectory figures' loss panel)
FINAL_CEILING = 1e12  # finite final values above this are drawn at it


def _clipped(table: TuningTable) -> tuple[TuningTable, list[str]]:
    """The table with its finite, positive final values held between FINAL_FLOOR and FINAL_CEILING (on a
    log axis: with any value <= 0 the axis is linear and nothing is moved), and a note per bound used."""
    finals = table.finals
    shown = np.isfinite(finals) & ~table.diverged
    if not shown.any() or (finals[shown] <= 0).any():
        return table, []
    notes = []
    if (finals[shown] < FINAL_FLOOR).any():
        notes.append(_("values below {v:.0e} drawn at {v:.0e} (dotted)").format(v=FINAL_FLOOR))
    if (finals[shown] > FINAL_CEILING).any():
        notes.append(_("values above {v:.0e} drawn at {v:.0e} (dotted)").format(v=FINAL_CEILING))
    clipped = np.where(shown, np.clip(finals, FINAL_FLOOR, FINAL_CEILING), finals)
    return dataclasses.replace(table, finals=clipped), notes


def sweep_figure(table: TuningTable, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                 theme: str = "light", start: tuple[float, float] | None = None,
                 known_minimum: bool = True) -> Figure:
    """known_minimum=False: the function has no known f*, so the values are f itself and say so."""
    with styled(size, dpi, theme):
        figure = new_figure(size, dpi, theme)
        ax = figure.add_subplot()
        values = "finals" if table.objective == "final" else "scores"
        notes: list[str] = []
        if values == "finals":
            table, notes = _clipped(table)
        plot_lr_curve(table, values=values, ax=ax, theme=theme)
        gap = "f - f*" if known_minimum else "f"
        if values == "finals":
            ax.set_ylabel(_("{gap} after {steps} steps").format(gap=gap, steps=table.steps))
        colour = THEMES.lookup(theme).foreground
        for k, note in enumerate(notes):
            below = _("values below {v:.0e} drawn at {v:.0e} (dotted)").format(v=FINAL_FLOOR)
            level = FINAL_FLOOR if note == below else FINAL_CEILING
            ax.axhline(level, color=colour, lw=0.6, ls=(0, (2, 2)), alpha=0.6, zorder=0)
            # at the left, where the smallest rates still crawl high above the floor
            ax.annotate(note, (0.01, level), xycoords=("axes fraction", "data"), ha="left",
                        va="bottom" if level == FINAL_FLOOR else "top", fontsize=small_font(), color=colour)
        where = _(" from ({x:g}, {y:g})").format(x=start[0], y=start[1]) if start is not None else ""
        what = (_("{gap} after the last step").format(gap=gap) if values == "finals"
                else f"{table.objective}: {_(table.objective_summary)}")
        ax.set_title(_("{function}{where}, {steps} steps: {what} against the learning rate (ringed: lowest)").format(
                     function=surface_title(table.function), where=where, steps=table.steps, what=what),
                     fontsize="medium", loc="left",
                     color=ax.xaxis.label.get_color(), wrap=True)
        figure.canvas.draw()  # lay the text out while the style is in force
    return figure
