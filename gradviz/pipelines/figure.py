"""The pipeline behind `gradviz figure NAME`: compute one lecture figure, draw it, write it.

The numbers come from gradviz/lecture/topics.py (formulas and real torch runs), the drawing from
gradviz/render/figure.py. Static figures are written as PNG; animated ones (`batch-size`, `momentum`) as
GIF or MP4, or their last frame as PNG. Every option is checked before any computing starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from gradviz.render.options import RenderOptions, render_options
from gradviz.i18n import _
from gradviz.lecture.figures import FIGURES
from gradviz.registry import check_positive

__all__ = ["figure", "build_figure", "batch_size_renderer"]

Progress = Callable[[int, int], None]


def _static(compute: Callable[..., Any], draw: str) -> Callable[..., Any]:
    def build(*, size: tuple[int, int], dpi: float, theme: str, font_scale: float, seed: int) -> Any:
        import gradviz.render.figure as render

        return getattr(render, draw)(compute(seed), size=size, dpi=dpi, theme=theme, font_scale=font_scale)

    return build


def _drawn(compute: Callable[..., Any], draw: str, module: str = "seminar") -> Callable[..., Any]:
    """A static figure drawn by gradviz/render/seminar.py (or another render module of that name)."""
    def build(*, size: tuple[int, int], dpi: float, theme: str, font_scale: float, seed: int) -> Any:
        import importlib

        render = importlib.import_module(f"gradviz.render.{module}")
        return getattr(render, draw)(compute(seed), size=size, dpi=dpi, theme=theme, font_scale=font_scale)

    return build


def batch_size_renderer(record: Any, *, size: tuple[int, int] = (960, 540), dpi: float = 100,
                        theme: str = "light", frames: int = 120) -> Any:
    """The batch-size figure's renderer: the paths over the empirical risk, clocked by samples read (the
    same work for every batch size), the loss panel against samples too."""
    from gradviz.render.trajectories import TrajectoryRenderer

    renderer = TrajectoryRenderer(record.paths, record.surface, size=size, dpi=dpi, theme=theme, frames=frames,
                                  title=_("Log-loss risk, equal samples read"),
                                  clock="evaluations", unit="samples")
    renderer.axes.set_xlabel(_("weight w₁"))
    renderer.axes.set_ylabel(_("weight w₂"))
    renderer.restage()
    return renderer


def _batch_size(*, size: tuple[int, int], dpi: float, theme: str, font_scale: float, seed: int) -> Any:
    from gradviz.lecture.topics import batch_size_paths

    return batch_size_renderer(batch_size_paths(seed=seed), size=size, dpi=dpi, theme=theme)


def _momentum(*, size: tuple[int, int], dpi: float, theme: str, font_scale: float, seed: int) -> Any:
    from gradviz.lecture.topics import MOMENTUM_LR, MOMENTUM_MU, momentum_paths
    from gradviz.render.figure import MomentumRenderer

    record = momentum_paths()
    return MomentumRenderer(record.paths, record.surface, lookahead=record.lookahead, size=size, dpi=dpi,
                            theme=theme, title=_("Ravine (x² + 25y²)/2, lr = {lr:g}/25, μ = {mu:g}").format(
                                lr=MOMENTUM_LR * 25, mu=MOMENTUM_MU))


def _edge_of_stability(*, size: tuple[int, int], dpi: float, theme: str, font_scale: float, seed: int) -> Any:
    from gradviz.analysis.curvature import edge_of_stability
    from gradviz.render.curvature import draw_edge_of_stability

    return draw_edge_of_stability(edge_of_stability(seed=seed), size=size, dpi=dpi, theme=theme,
                                  font_scale=font_scale)


def _builders() -> dict[str, Callable[..., Any]]:
    from gradviz.lecture import augmentation, free_lunch, modes, risk
    from gradviz.lecture import topics as lecture

    return {
        "losses": _static(lambda seed: lecture.loss_curves(), "draw_losses"),
        "activations": _static(lambda seed: lecture.activation_curves(), "draw_activations"),
        "vanishing-bound": _static(lambda seed: lecture.vanishing_bound(seed=seed), "draw_vanishing_bound"),
        "edge-of-stability": _edge_of_stability,
        "learning-rates": _static(lambda seed: lecture.learning_rates(), "draw_learning_rates"),
        "adam-bias": _static(lambda seed: lecture.adam_bias(), "draw_adam_bias"),
        "adaptive": _static(lambda seed: lecture.adaptive_paths(), "draw_adaptive"),
        "regularization": _static(lambda seed: lecture.regularization(seed=seed), "draw_regularization"),
        "universal-approximation": _static(lambda seed: lecture.universal_approximation(seed=seed),
                                           "draw_universal_approximation"),
        "train-eval-no-grad": _drawn(lambda seed: modes.train_eval_modes(seed=seed), "draw_modes"),
        "gradient-accumulation": _drawn(lambda seed: modes.gradient_accumulation(seed=seed), "draw_accumulation"),
        "no-free-lunch": _drawn(lambda seed: free_lunch.no_free_lunch(), "draw_no_free_lunch"),
        "empirical-risk": _drawn(lambda seed: risk.empirical_risk(seed=seed), "draw_empirical_risk", "risk"),
        "data-augmentation": _drawn(lambda seed: augmentation.data_augmentation(seed=seed), "draw_augmentation",
                                    "risk"),
        "batch-size": _batch_size,
        "momentum": _momentum,
    }


def build_figure(name: str, *, size: tuple[int, int] = (960, 540), dpi: float = 100, theme: str = "light",
                 font_scale: float = 1.0, seed: int = 0) -> Any:
    """FIGURES[name]'s content: a matplotlib Figure (static) or a frame renderer (animated)."""
    from gradviz.render.frames import check_render_options
    from gradviz.render.theme import THEMES

    spec = FIGURES.lookup(name)
    check_render_options(size=size, dpi=dpi, frames=None)
    THEMES.lookup(theme)
    check_positive("font_scale", font_scale)
    builders = _builders()
    if set(builders) != set(FIGURES):  # a registry entry without a builder is a bug here, not bad input
        raise RuntimeError(f"figures without a builder: {sorted(set(FIGURES) ^ set(builders))}")
    return builders[spec.name](size=size, dpi=dpi, theme=theme, font_scale=font_scale, seed=seed)


def figure(name: str, path: str | os.PathLike[str] | None = None, *, font_scale: float = 1.0, seed: int = 0,
           render: RenderOptions | None = None, **style: Any) -> Path:
    """Draw the lecture figure `name` (see `gradviz.FIGURES`) into `path` (default: NAME.png, or NAME.gif
    for an animated one) and return the path. Static figures write PNG only.
    render: a RenderOptions for the picture (size, dpi, theme, fps, frames, title, progress, report), or
    the same names as keywords; the ones this pipeline has no use for are refused.
    """
    options = render_options("figure", render, style, uses=("size", "dpi", "theme", "fps", "progress"), fps=15)
    size, dpi, theme, fps = options.size, options.dpi, options.theme, options.fps
    progress = options.progress
    from gradviz.output import check_output_path, write_image
    from gradviz.pipelines.trajectories import check_fps, write_rendered

    spec = FIGURES.lookup(name)
    out = check_output_path(path if path is not None else f"{spec.name}{spec.suffix}",
                            (".gif", ".mp4", ".png") if spec.animated else (".png",))
    check_fps(fps, out)
    content = build_figure(spec.name, size=size, dpi=dpi, theme=theme, font_scale=font_scale, seed=seed)
    if spec.animated:
        return write_rendered(content, out, fps=fps, progress=progress)
    from gradviz.render.figure import rgb_of

    written = write_image(rgb_of(content), out)
    if progress is not None:
        progress(1, 1)
    return written
