"""The figure of `gradviz basins`: one basin map per optimizer, side by side on the same grid of starts,
each with the share of starts that reached each minimum (in that minimum's colour), under one legend that
names the minima by their coordinates.

The shares are a partition of the starts: each minimum, then 'none' (finite but farther than tol from
every minimum) and 'diverged' (left the finite numbers); `share_parts` gives them to the figure and to the
printed table alike, so both say the same whole percents, which add up to 100."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gradviz.i18n import _
from gradviz.records import BasinMap
from gradviz.render.compare import (BASIN_COLOURS, DIVERGED_COLOUR, NONE_COLOUR, new_figure, plot_basin_map,
                                    share_parts, styled)
from gradviz.render.frames import balanced_wrap, small_font
from gradviz.render.trajectories import surface_title

__all__ = ["basins_figure", "share_parts", "shares_text"]


def _percent(fraction: float, percent: int) -> str:
    return "<1%" if percent == 0 and fraction > 0 else f"{percent}%"


def shares_text(basin: BasinMap) -> str:
    """'sgd (lr=0.001): (1.00, 1.00) 6%, none 79%, diverged 15%': the printed line, the figure's numbers."""
    return f"{basin.label}: " + ", ".join(f"{name} {_percent(f, p)}" for name, _, f, p in share_parts(basin))


def basins_figure(maps: Sequence[BasinMap], *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                  theme: str = "light") -> Figure:
    with styled(size, dpi, theme):
        figure = _draw(maps, size, dpi, theme)
        figure.canvas.draw()  # lay the text out while the style is in force
    return figure


def _shares_legend(ax: Axes, parts: list[tuple[str, str, float, int]], font: float, columns: int) -> None:
    """The shares as a legend of squares in the map's colours, `columns` wide, the rows evened out and read
    left to right (matplotlib fills a legend column by column)."""
    handles = [Line2D([], [], ls="", marker="s", ms=font * 0.9, color=colour, mec="#555555", mew=0.4,
                      label=(_(name) + " " if name in ("none", "diverged") else "") + _percent(f, p))
               for name, colour, f, p in parts]
    rows = -(-len(handles) // columns)
    columns = -(-len(handles) // rows)
    order = [i * columns + j for j in range(columns) for i in range(rows) if i * columns + j < len(handles)]
    ax.legend(handles=[handles[k] for k in order], loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=columns,
              frameon=False, handlelength=0.8, handletextpad=0.4, columnspacing=1.0, borderaxespad=0,
              borderpad=0, title=_("share of starts:"), title_fontsize=small_font())


def _draw(maps: Sequence[BasinMap], size: tuple[int, int], dpi: float, theme: str) -> Figure:
    figure = new_figure(size, dpi, theme)
    font = float(rcParams["font.size"])
    pad = 0.5 * font / 72  # inches: keep the last panel's axis and labels off the image's edges
    figure.get_layout_engine().set(w_pad=pad, h_pad=pad)
    # a row of maps over a row of flat, blank axes that each hold their map's shares legend, so the layout
    # makes room for the legends under the x labels
    grid = figure.add_gridspec(2, len(maps), height_ratios=(1, 1e-3))
    axes = [figure.add_subplot(grid[0, k]) for k in range(len(maps))]
    hosts = [figure.add_subplot(grid[1, k]) for k in range(len(maps))]
    panel = size[0] / len(maps)
    for k, (ax, host, basin) in enumerate(zip(axes, hosts, maps)):
        plot_basin_map(basin, ax=ax, legend=False)
        ax.set_aspect("equal")
        ax.set_anchor("S")  # down on its shares, the spare height above
        ax.set_title("")
        label = ax.set_title(basin.label, fontsize=small_font(font), loc="left", pad=2)
        label.set_text(balanced_wrap(label, panel * 0.9))
        if k:
            ax.set_ylabel("")
        host.axis("off")
        # the shares under the map, each square in its minimum's colour (the legend below names them)
        _shares_legend(host, share_parts(basin), font, len(share_parts(basin)))
    # a legend wider than its column is drawn again with fewer columns (measured out of the layout, so a
    # legend too wide at first cannot squeeze the maps)
    columns = [len(host.get_legend().legend_handles) for host in hosts]
    for _attempt in range(8):
        for host in hosts:
            host.get_legend().set_in_layout(False)
        figure.canvas.draw()
        wide = [k for k, host in enumerate(hosts) if columns[k] > 1
                and host.get_legend().get_window_extent().width > host.get_window_extent().width * 0.98]
        for k in wide:
            columns[k] -= 1
            _shares_legend(hosts[k], share_parts(maps[k]), font, columns[k])
        if not wide:
            break
    for host in hosts:
        host.get_legend().set_in_layout(True)
    first = maps[0]
    handles = [Line2D([], [], ls="", marker="s", ms=font * 0.8, color=colour,
                      label=f"({x:.2f}, {y:.2f})") for (x, y), colour in zip(first.minima, BASIN_COLOURS)]
    handles.append(Line2D([], [], ls="", marker="s", ms=font * 0.8, color=NONE_COLOUR,
                          label=_("none: ended farther than {tol:g} from every minimum").format(tol=first.tol)))
    if any(b.diverged.any() for b in maps):
        handles.append(Line2D([], [], ls="", marker="s", ms=font * 0.8, color=DIVERGED_COLOUR, label=_("diverged")))
    chars = sum(len(h.get_label()) + 4 for h in handles)
    rows = max(1, int(np.ceil(chars * 0.55 * font * dpi / 72 / (size[0] * 0.95))))
    figure.legend(handles=handles, loc="outside lower center", ncol=-(-len(handles) // rows), fontsize=small_font(),
                  frameon=False, handletextpad=0.3, columnspacing=1.2)
    name = surface_title(first.function)
    title = _("{name}, {nx}x{ny} starts, {steps} steps: colour = the minimum a start ends within distance {tol:g} "
              "of; lighter = the sooner f - f* stayed \u2264 {f_tol:.2g}").format(
        name=name, nx=len(first.x), ny=len(first.y), steps=first.steps_requested, tol=first.tol, f_tol=first.f_tol)
    # on as few lines as fit, evenly broken (a word alone on the last line read as a stray)
    suptitle = figure.suptitle(title, fontsize="large")
    suptitle.set_text(balanced_wrap(suptitle, size[0] * 0.95))
    return figure
