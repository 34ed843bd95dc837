"""Shared fixtures: a headless matplotlib and a helper that reads GIFs back frame by frame."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# Every subprocess a test starts (`python -m gradviz`, torchrun, the CLI runner) imports the tree under test,
# whatever gradviz is installed in the environment.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["PYTHONPATH"] = os.pathsep.join([_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])

import numpy as np
import pytest


@pytest.fixture
def read_gif():
    """Read a GIF back: (list of RGB frames, list of durations in ms, loop count, size)."""
    from PIL import Image, ImageSequence

    def read(path):
        with Image.open(path) as image:
            loop = image.info.get("loop")
            size = image.size
            frames, durations = [], []
            for frame in ImageSequence.Iterator(image):
                durations.append(frame.info.get("duration"))
                frames.append(np.asarray(frame.convert("RGB")))
        return frames, durations, loop, size

    return read


@pytest.fixture
def assert_text_inside():
    """Check that every text of a figure (and a renderer's step counter) lies inside the image.

    Call it with a matplotlib Figure, or with a renderer (anything with .figure and maybe .counter).
    """
    from gradviz.render.frames import texts_outside

    def check(target):
        figure = getattr(target, "figure", target)
        outside = texts_outside(figure)
        width, height = figure.bbox.width, figure.bbox.height
        assert not outside, f"text outside the {width:.0f}x{height:.0f} image: " + "; ".join(
            f"{text!r} at x {box.x0:.1f}..{box.x1:.1f}, y {box.y0:.1f}..{box.y1:.1f}" for text, box in outside)
        counter = getattr(target, "counter", None)
        if counter is not None:
            x0, y0, x1, y1 = counter.extent
            assert x0 >= -0.5 and y0 >= -0.5 and x1 <= width + 0.5 and y1 <= height + 0.5, counter.extent

    return check
