"""The figure of `gradviz basins`: one basin map per optimizer, side by side on the same grid of starts,
each titled with the share of starts that reached each minimum, under one legend of minima."""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gradviz.records import BasinMap
from gradviz.render.compare import BASIN_COLOURS, DIVERGED_COLOUR, NONE_COLOUR, new_figure, plot_basin_map, styled

__all__ = ["basins_figure"]


def _share(value: float) -> str:
    return "<1%" if 0 < value < 0.005 else f"{value:.0%}"


def basins_figure(maps: Sequence[BasinMap], *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                  theme: str = "light") -> Figure:
    with styled(size, dpi, theme):
        figure = _draw(maps, size, dpi, theme)
        figure.canvas.draw()  # lay the text out while the style is in force
    return figure


def _draw(maps: Sequence[BasinMap], size: tuple[int, int], dpi: float, theme: str) -> Figure:
    figure = new_figure(size, dpi, theme)
    axes = figure.subplots(1, len(maps), squeeze=False)[0]
    for k, (ax, basin) in enumerate(zip(axes, maps)):
        plot_basin_map(basin, ax=ax, legend=False)
        ax.set_aspect("equal")
        shares = basin.shares()
        text = " ".join(_share(s) for s in shares[:-1]) + (f", none {_share(shares[-1])}" if shares[-1] else "")
        if basin.diverged.any():
            text += f", diverged {basin.diverged.mean():.0%}"
        ax.set_title("")
        ax.set_title(f"{basin.label}\nshares: {text}", fontsize="small", loc="left")
        if k:
            ax.set_ylabel("")
    first = maps[0]
    handles = [Line2D([], [], ls="", marker="s", ms=8, color=colour, label=f"({x:.2f}, {y:.2f})")
               for (x, y), colour in zip(first.minima, BASIN_COLOURS)]
    handles.append(Line2D([], [], ls="", marker="s", ms=8, color=NONE_COLOUR, label=f"no minimum within {first.tol:g}"))
    if any(b.diverged.any() for b in maps):
        handles.append(Line2D([], [], ls="", marker="s", ms=8, color=DIVERGED_COLOUR, label="diverged"))
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize="small", frameon=False)
    figure.suptitle(f"{first.function.replace('-', ' ').capitalize()}: the minimum each start reaches in "
                    f"{first.steps_requested} steps (colour) and how soon f - f* stays <= {first.f_tol:.2g} "
                    f"(lighter = sooner); {len(first.x)}x{len(first.y)} starts", fontsize="medium")
    return figure
