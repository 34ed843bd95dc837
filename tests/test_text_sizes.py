"""Text readable from the back row: every text artist of every picture gradviz draws, measured in pixels
at the default size (960x540) and at each preset. Nothing is smaller than SMALLEST_TEXT (0.85) of the body
text (10 pt at 960x540, scaled with the image and the preset's type), so nothing is below 11 px at
960x540, and legends are at least 0.85 of the body text."""

from __future__ import annotations

import numpy as np
import pytest

from gradviz.lecture.functions import FUNCTIONS
from gradviz.records import BasinMap, Trajectory, TuningTable
from gradviz.render.frames import SMALLEST_TEXT, drawn_texts
from gradviz.render.theme import PRESETS, use_preset

PRESET_NAMES = [None, *PRESETS]  # None: no preset, the default 960x540


def body_px(size: tuple[int, int], preset: str | None) -> float:
    """The body text in pixels: 10 pt at 960x540 and 100 dpi, scaled with the image and the preset."""
    scale = PRESETS[preset].font_scale if preset else 1.0
    return 10 * 100 / 72 * min(size[0] / 960, size[1] / 540) * scale


def small_texts(figure, preset: str | None) -> list[str]:
    """'text: px' for every drawn text below the floor (and below 11 px at any size)."""
    figure.canvas.draw()
    size = tuple(int(v) for v in figure.canvas.get_width_height())
    floor = max(11.0, SMALLEST_TEXT * body_px(size, preset)) * 0.99
    out = []
    for text in drawn_texts(figure):
        px = text.get_fontsize() * figure.dpi / 72
        if px < floor:
            out.append(f"{text.get_text()[:40]!r}: {px:.1f} px < {floor:.1f}")
    return out


def test_the_measure_finds_small_text():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.6, 5.4), dpi=100)
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.5, "body", fontsize=10)
    figure.text(0.1, 0.3, "a 7 pt legend", fontsize=7)
    assert small_texts(figure, None) == ["'a 7 pt legend': 9.7 px < 11.7"]
    assert body_px((960, 540), None) * SMALLEST_TEXT >= 11  # the rule at the default size


# -- records, made up or from tiny runs, shared by every case ----------------------------------------------

def _path(points, function, name, **hyperparams):
    points = np.asarray(points, float)
    n = len(points)
    return Trajectory(points=points, losses=FUNCTIONS[function](points), grad_norms=np.ones(n),
                      lrs=np.full(n - 1, 0.01), optimizer=name, hyperparams=hyperparams or {"lr": 0.01},
                      function=function, steps_requested=n - 1)


@pytest.fixture(scope="module")
def records():
    from gradviz.lecture import topics as lecture
    from gradviz.lecture import make_dataset, mlp, train
    from gradviz.analysis.landscape import landscape
    from gradviz.pipelines.boundary import train_variants
    from gradviz.pipelines.gradflow import run_configurations

    rosen = FUNCTIONS["rosenbrock"].surface(resolution=40)
    paths = [_path(np.linspace((-1.5, 2.0), (1.0, 1.0), 21), "rosenbrock", "sgd"),
             _path(np.linspace((-1.0, 2.5), (0.5, 0.25), 21), "rosenbrock", "adam"),
             _path(np.linspace((1.5, -0.5), (0.9, 0.8), 21), "rosenbrock", "momentum", lr=0.001, momentum=0.9)]
    data = make_dataset("moons", n=80, seed=0)
    runs = [train(mlp(2, [6], 1, seed=3), data, name, steps=12, record_every=3, grid=8) for name in ("sgd", "adam")]
    surface, projections = landscape(mlp(2, [6], 1, seed=3), data, directions="pca", runs=runs, grid=7, paths=True)
    labels = np.array([[0, 1, 0, 1]] * 4)
    basin = BasinMap(x=np.linspace(-4, 4, 4), y=np.linspace(-4, 4, 4), labels=labels, steps=np.full((4, 4), 5),
                     diverged=np.zeros((4, 4), bool), minima=[(3.0, 2.0), (-2.8, 3.1)], optimizer="momentum",
                     function="himmelblau", tol=0.1, steps_requested=50, label="momentum", f_tol=0.25)
    return {
        "paths": paths, "rosen": rosen, "runs": runs, "surface": surface, "projections": projections,
        "boundary": train_variants("moons", n=80, steps=20, grid=16, optimizers=["adam"], dropout=[0.0, 0.5],
                                   validation=0.25),
        "logs": run_configurations(["sigmoid", "relu"], ["default", "he"], depth=4, width=8, steps=4,
                                   batch_size=16)[::3],
        "table": TuningTable(optimizers=("sgd", "adam"), lrs=[[1e-3, 1e-2, 1e-1]] * 2,
                             scores=[[5.0, 0.5, np.inf], [3.0, 1.0, 0.1]], finals=[[5.0, 0.5, np.inf], [3.0, 1.0, 0.1]],
                             diverged=[[False, False, True], [False] * 3], objective="final", steps=10),
        "basins": [basin, basin],
        "lecture": {
            "draw_losses": lecture.loss_curves(),
            "draw_activations": lecture.activation_curves(),
            "draw_vanishing_bound": lecture.vanishing_bound(depths=(2, 3), width=8),
            "draw_learning_rates": lecture.learning_rates(),
            "draw_adam_bias": lecture.adam_bias(n=20),
            "draw_regularization": lecture.regularization(lambdas=6, iterations=20, n=60),
            "draw_universal_approximation": lecture.universal_approximation(widths=(1, 3), deep_widths=(2,), steps=20,
                                                                            n=40),
            "draw_adaptive": lecture.adaptive_paths(steps=20, resolution=30),
        },
        "seminar": _seminar_records(),
        "risk": _risk_records(),
        "momentum": lecture.momentum_paths(steps=20, resolution=30),
        "batch": lecture.batch_size_paths(epochs=2, resolution=30),
    }


def _trajectories(r, size):
    from gradviz.render.trajectories import TrajectoryRenderer

    return TrajectoryRenderer(r["paths"], r["rosen"], size=size, frames=2, title="Rosenbrock, a long title")


def _trajectories_3d(r, size):
    from gradviz.render.surface3d import surface_3d_renderer

    return surface_3d_renderer(r["paths"], r["rosen"], size=size, frames=2)


def _noted(r, size):
    from gradviz.render.compare import NotedTrajectoryRenderer

    return NotedTrajectoryRenderer(r["paths"], r["rosen"], size=size, frames=2,
                                   note="tuned for the final f - f* over lr in 1e-5..1 (11 rates)")


def _schedules(r, size):
    from gradviz.render.compare import ScheduleRenderer

    return ScheduleRenderer(r["paths"], r["rosen"], size=size, frames=2)


def _groups(r, size):
    from gradviz.render.compare import GroupRenderer

    return GroupRenderer([("sgd, 8 seeds", r["paths"][:2]), ("adam", r["paths"][2:])], r["rosen"], size=size,
                         frames=2, note="noise 20 on every gradient")


def _boundary(r, size):
    from gradviz.render.boundary import BoundaryRenderer

    return BoundaryRenderer(r["boundary"], size=size, frames=2, title="moons: dropout 0 against 0.5")


def _gradflow(r, size):
    from gradviz.render.gradflow import GradflowRenderer

    return GradflowRenderer(r["logs"], size=size, frames=2)


def _gradflow_view(view):
    def build(r, size):
        from gradviz.render.gradflow import summary_figure

        return summary_figure(r["logs"], view, size=size)

    return build


def _sweep(r, size):
    from gradviz.render.sweep import sweep_figure

    return sweep_figure(r["table"], size=size)


def _basins(r, size):
    from gradviz.render.basins import basins_figure

    return basins_figure(r["basins"], size=size)


def _landscape(r, size):
    from gradviz.render.landscape import LandscapeRenderer

    return LandscapeRenderer(r["surface"], r["projections"], r["runs"], size=size, frames=2)


def _seminar_records():
    from gradviz.lecture.free_lunch import no_free_lunch
    from gradviz.lecture.modes import gradient_accumulation, train_eval_modes

    return {"draw_modes": train_eval_modes(), "draw_accumulation": gradient_accumulation(),
            "draw_no_free_lunch": no_free_lunch()}


def _risk_records():
    from gradviz.lecture.augmentation import data_augmentation
    from gradviz.lecture.risk import empirical_risk

    return {"draw_empirical_risk": empirical_risk(seeds=4),
            "draw_augmentation": data_augmentation(seeds=2, steps=20, test=100)}


def _risk(draw):
    def build(r, size):
        import gradviz.render.risk as render

        return getattr(render, draw)(r["risk"][draw], size=size)

    return build


def _seminar(draw):
    def build(r, size):
        import gradviz.render.seminar as render

        return getattr(render, draw)(r["seminar"][draw], size=size)

    return build


def _lecture(draw):
    def build(r, size):
        import gradviz.render.figure as render

        return getattr(render, draw)(r["lecture"][draw], size=size)

    return build


def _momentum(r, size):
    from gradviz.render.figure import MomentumRenderer

    record = r["momentum"]
    return MomentumRenderer(record.paths, record.surface, lookahead=record.lookahead, size=size, frames=2)


def _batch(r, size):
    from gradviz.pipelines.figure import batch_size_renderer

    return batch_size_renderer(r["batch"], size=size)


PICTURES = {
    "trajectories": _trajectories, "trajectories-3d": _trajectories_3d, "tuned": _noted, "schedules": _schedules,
    "swarm": _groups, "boundary": _boundary, "gradflow-gif": _gradflow, "sweep": _sweep, "basins": _basins,
    "landscape": _landscape, "figure-momentum": _momentum, "figure-batch-size": _batch,
    **{f"gradflow-{view}": _gradflow_view(view) for view in ("summary", "profile", "heatmap", "grid", "bars",
                                                               "clipping", "ratio")},
    **{f"figure-{draw[5:]}": _lecture(draw) for draw in ("draw_losses", "draw_activations", "draw_vanishing_bound",
                                                         "draw_learning_rates", "draw_adam_bias",
                                                         "draw_regularization", "draw_universal_approximation",
                                                         "draw_adaptive")},
    **{f"figure-{draw[5:]}": _seminar(draw) for draw in ("draw_modes", "draw_accumulation", "draw_no_free_lunch")},
    **{f"figure-{draw[5:]}": _risk(draw) for draw in ("draw_empirical_risk", "draw_augmentation")},
}


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_no_text_below_the_floor_in_any_picture(records, preset):
    """Every picture at once per preset (one parametrization per preset keeps the report short)."""
    size = PRESETS[preset].size if preset else (960, 540)
    problems = {}
    with use_preset(preset):
        for name, build in PICTURES.items():
            picture = build(records, size)
            small = small_texts(getattr(picture, "figure", picture), preset)
            if small:
                problems[name] = small
    assert not problems, problems
