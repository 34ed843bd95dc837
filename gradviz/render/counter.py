"""A step counter drawn by pasting pre-rendered digits: 'step  37/200' at no per-frame text cost.

Drawing a matplotlib Text costs ~3 ms, more than everything else a trajectory frame draws. The counter
uses a monospace font, right-aligned, so every label has the same width and each digit sits in a fixed
cell: `StepCounter` renders each digit in each cell once against the background, keeps its difference
from the background, and `paste` adds the differences a frame needs into its RGB array.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from gradviz.i18n import _

__all__ = ["StepCounter"]


class StepCounter:
    """Owns `text` (an animated figure Text) and the canvas background it is drawn on.

    Build it after the static scene is drawn and copied; `background` is then the copy with the static
    part of the label ('step', '/200') drawn in, which callers restore from then on.
    """

    def __init__(self, canvas: FigureCanvasAgg, text: Text, background: object, total: int,
                 word: str | None = None) -> None:
        word = _("step") if word is None else word
        self.total = total
        width = len(str(total))
        figure = canvas.figure

        def render(label: str) -> np.ndarray:
            text.set_text(label)
            canvas.restore_region(background)
            figure.draw_artist(text)
            return np.asarray(canvas.buffer_rgba())[..., :3]

        def label(cells: list[str]) -> str:
            return f"{word} {''.join(cells)}/{total}"

        blank = render(label([" "] * width))
        box = text.get_window_extent(canvas.get_renderer())
        self.extent = (box.x0, box.y0, box.x1, box.y1)  # display pixels, y up: where the label is drawn
        height = blank.shape[0]
        top, bottom = max(0, int(height - box.y1) - 2), min(height, int(np.ceil(height - box.y0)) + 2)
        left, right = max(0, int(box.x0) - 2), min(blank.shape[1], int(np.ceil(box.x1)) + 2)
        self.box = (top, bottom, left, right)
        self.blank = blank[top:bottom, left:right].astype(np.int16)
        self.deltas = np.zeros((width, 10, bottom - top, right - left, 3), dtype=np.int16)
        for cell in range(width):
            for digit in range(10):
                cells = [" "] * width
                cells[cell] = str(digit)
                crop = render(label(cells))[top:bottom, left:right].astype(np.int16)
                self.deltas[cell, digit] = crop - self.blank
        render(label([" "] * width))
        self.background = canvas.copy_from_bbox(figure.bbox)
        text.set_text("")

    def paste(self, rgb: np.ndarray, step: int) -> None:
        """Write 'step {step}/{total}' into the frame `rgb` (H, W, 3) in place."""
        digits = str(step).rjust(self.deltas.shape[0])
        patch = self.blank.copy()
        for cell, char in enumerate(digits):
            if char != " ":
                patch += self.deltas[cell, int(char)]
        top, bottom, left, right = self.box
        rgb[top:bottom, left:right] = np.clip(patch, 0, 255)
