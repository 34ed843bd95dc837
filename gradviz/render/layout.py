"""The constrained layout every gradviz figure uses, made reproducible byte for byte across processes."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.transforms import Bbox

__all__ = ["RoundedConstrainedLayout"]


class RoundedConstrainedLayout(ConstrainedLayoutEngine):
    """Constrained layout whose axes positions are rounded to `digits` decimals of the figure.

    Why: kiwisolver's solution differs in the last bits from one process to the next (its maps are ordered
    by heap address; matplotlib#28574, nucleic/kiwi#57), and Agg rounds vertices to 1/256 pixel, so a shift
    of 1e-13 px can flip an antialiased pixel: figure-adaptive differed in 8 pixels between two builds on
    bitwise identical numbers. 1e-9 of the figure is ~1e-6 px, far below what shows."""

    def __init__(self, *, digits: int = 9, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.digits = digits

    def execute(self, fig: Figure) -> Any:
        result = super().execute(fig)
        for ax in fig.axes:
            box = ax.get_position(original=True)
            # the private setter, as the layout itself uses: set_position would take ax out of the layout
            ax._set_position(Bbox.from_extents(*(round(float(v), self.digits) for v in box.extents)))
        return result
