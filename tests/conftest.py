"""Shared fixtures: a headless matplotlib and a helper that reads GIFs back frame by frame."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

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
