"""The figure of `gradviz sweep`: final f - f* (or the declared objective) against the learning rate, the
"U" curve of each optimizer, with diverged rates drawn on their own band and the best rate of each ringed."""

from __future__ import annotations

from matplotlib.figure import Figure

from gradviz.records import TuningTable
from gradviz.render.compare import new_figure, plot_lr_curve, styled

__all__ = ["sweep_figure"]


def sweep_figure(table: TuningTable, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                 theme: str = "light", start: tuple[float, float] | None = None) -> Figure:
    with styled(size, dpi, theme):
        figure = new_figure(size, dpi, theme)
        ax = figure.add_subplot()
        values = "finals" if table.objective == "final" else "scores"
        plot_lr_curve(table, values=values, ax=ax, theme=theme)
        where = f" from ({start[0]:g}, {start[1]:g})" if start is not None else ""
        what = "f - f* after the last step" if values == "finals" else f"{table.objective}: {table.objective_summary}"
        ax.set_title(f"{table.function.replace('-', ' ').capitalize()}{where}, {table.steps} steps: {what} "
                     "against the learning rate (ringed: lowest)", fontsize="medium", loc="left",
                     color=ax.xaxis.label.get_color(), wrap=True)
        figure.canvas.draw()  # lay the text out while the style is in force
    return figure
