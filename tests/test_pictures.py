"""What a viewer sees: text inside the image at every size and dpi, trails told apart, the loss panel,
the plot window, titles, boundary GIF sizes and validation curves."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from gradviz.lecture.functions import FUNCTIONS
from gradviz.lecture.expressions import get_function
from gradviz.pipelines.trajectories import plot_window
from gradviz.records import Trajectory
from gradviz.render.frames import text_scale, texts_outside
from gradviz.render.theme import THEMES
from gradviz.render.trajectories import DASHES, TrajectoryRenderer, surface_title

# sizes and dpis the options allow, extremes included: (width, height, dpi)
SIZES = [(240, 160, 100, True), (240, 160, 400, True), (960, 540, 200, True), (640, 360, 300, True),
         (1280, 720, 72, True), (7680, 160, 100, True), (240, 1200, 150, True), (960, 540, 200, False),
         (240, 160, 100, False)]


@pytest.fixture(scope="module")
def saddle_runs():
    """Six paths labelled as the default optimizers on the monkey saddle, three diverged: the longest
    legend labels (made up here, no tracing needed)."""
    settings = [("sgd", {"lr": 0.05}, 32), ("momentum", {"lr": 0.05, "momentum": 0.9}, 19),
                ("nesterov", {"lr": 0.05, "momentum": 0.9}, 18), ("rmsprop", {"lr": 0.003}, None),
                ("adam", {"lr": 0.03}, None), ("adagrad", {"lr": 0.15}, None)]
    runs = []
    for i, (name, hyperparams, diverged) in enumerate(settings):
        n = diverged or 41
        points = np.linspace((1.5, 0.05), (1.5 - 0.6 * i, 0.3 * i - 1.2), n)
        runs.append(Trajectory(points=points, losses=FUNCTIONS["monkey-saddle"](points), grad_norms=np.ones(n),
                               lrs=np.full(n - 1, 0.1), optimizer=name, hyperparams=hyperparams,
                               function="monkey-saddle", diverged_at=diverged, steps_requested=40))
    return runs


@pytest.fixture(scope="module")
def saddle_surface():
    return FUNCTIONS["monkey-saddle"].surface(resolution=40)


def test_the_check_finds_text_outside_the_image():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2), dpi=100)
    FigureCanvasAgg(figure)
    figure.text(0.9, 0.5, "a label that runs past the right edge")
    figure.text(0.1, 0.5, "inside")
    assert [text for text, _ in texts_outside(figure)] == ["a label that runs past the right edge"]


@pytest.mark.parametrize("width,height,dpi,loss_panel", SIZES)
def test_trajectory_text_inside_at_every_size(saddle_runs, saddle_surface, assert_text_inside, width, height, dpi,
                                              loss_panel):
    renderer = TrajectoryRenderer(saddle_runs, saddle_surface, size=(width, height), dpi=dpi, frames=2,
                                  loss_panel=loss_panel)
    assert_text_inside(renderer)
    # the long entries are all there, whole ("diverged at step 19", not "step 1")
    labels = " ".join(t.get_text().replace("\n", "") for t in renderer.legend.get_texts())
    for run in saddle_runs:
        assert run.label.split(" diverged")[0] in labels
        if run.diverged_at is not None:
            assert f"diverged at step {run.diverged_at}" in labels


def test_default_size_legend_is_readable(saddle_runs, saddle_surface):
    renderer = TrajectoryRenderer(saddle_runs, saddle_surface, frames=2)
    sizes = {t.get_fontsize() for t in renderer.legend.get_texts()}
    _, font = text_scale((960, 540), 100)
    assert min(sizes) >= 0.8 * font  # wrapped, not shrunk to nothing


@pytest.mark.parametrize("width,height,dpi", [(240, 160, 100), (960, 540, 200), (640, 360, 300), (7680, 160, 100)])
def test_boundary_text_inside(training_runs, assert_text_inside, width, height, dpi):
    from gradviz.render.boundary import BoundaryRenderer

    renderer = BoundaryRenderer(training_runs, size=(width, height), dpi=dpi, frames=2, title="moons: a long title")
    assert_text_inside(renderer)


@pytest.fixture(scope="module")
def gradient_logs():
    from gradviz.pipelines.gradflow import run_configurations

    return run_configurations(["relu"], ["scaled", "he"], std=3.0, depth=5, width=16, steps=6, batch_size=16)


@pytest.mark.parametrize("width,height,dpi", [(960, 540, 100), (960, 540, 200), (240, 160, 100)])
def test_gradflow_text_inside(gradient_logs, assert_text_inside, width, height, dpi):
    from gradviz.render.gradflow import GradflowRenderer, summary_figure

    assert_text_inside(GradflowRenderer(gradient_logs, size=(width, height), dpi=dpi, frames=2))
    # the PNG: `gradviz gradflow --activations relu --inits scaled --std 3 -o explode.png` clipped its
    # colourbar label
    assert_text_inside(summary_figure(gradient_logs[:1], "summary", size=(width, height), dpi=dpi))
    assert_text_inside(summary_figure(gradient_logs, "heatmap", size=(width, height), dpi=dpi))


# -- colours -----------------------------------------------------------------------------------------------

def _lab(rgb):
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


# Vienot, Brettel & Mollon 1999: dichromat simulation in linear RGB
_SIMULATE = {
    "protanopia": np.array([[0.11238, 0.88762, 0.0], [0.11238, 0.88762, 0.0], [0.00401, -0.00401, 1.0]]),
    "deuteranopia": np.array([[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]]),
}


def _simulate(rgb, kind):
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(linear @ _SIMULATE[kind].T, 0, 1)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("vision", ["normal", "protanopia", "deuteranopia"])
def test_default_trails_are_distinct_for_colour_blind_viewers_too(theme, vision):
    from gradviz.lecture.optim import DEFAULT_OPTIMIZERS

    from gradviz.render.theme import trail_colours

    colours = np.array([to_rgb(c) for c in trail_colours(DEFAULT_OPTIMIZERS, theme)])
    if vision != "normal":
        colours = _simulate(colours, vision)
    lab = _lab(colours)
    distance = np.sqrt(((lab[:, None] - lab[None]) ** 2).sum(-1))
    # CIELAB distance of the closest pair: the old light palette had 8.4 (orange and green for protanopes)
    # and 9.2 (red and green for deuteranopes); Okabe-Ito keeps 17 or more
    assert distance[np.triu_indices(len(lab), 1)].min() > 15


def test_trails_differ_in_marker_dash_and_width_too(saddle_runs, saddle_surface):
    renderer = TrajectoryRenderer(saddle_runs, saddle_surface, size=(480, 270), frames=2)
    n = len(saddle_runs)
    assert len(set(renderer._markers)) == n and len(set(map(str, renderer._dashes))) == n
    assert np.all(np.diff(renderer._widths) < 0)  # earlier trails wider: later ones run inside them
    handles = renderer.legend.legend_handles
    assert [h.get_marker() for h in handles[-n:]] == renderer._markers


def _count_colour(frame, colour, tolerance=30):
    target = np.round(np.array(to_rgb(colour)) * 255)
    return int((np.abs(frame.astype(int) - target).max(axis=-1) < tolerance).sum())


def test_three_trails_on_one_path_all_stay_visible():
    """`-O sgd -O adam -O momentum` on Rosenbrock: paths that coincide must not hide one another."""
    points = np.linspace((-1.5, 2.0), (1.0, 1.0), 41)
    runs = [Trajectory(points=points, losses=FUNCTIONS["rosenbrock"](points), grad_norms=np.ones(41),
                       lrs=np.full(40, 0.1), optimizer=name, hyperparams={"lr": 0.1}, function="rosenbrock")
            for name in ("sgd", "adam", "momentum")]
    renderer = TrajectoryRenderer(runs, FUNCTIONS["rosenbrock"].surface(resolution=60), loss_panel=False)
    frame = renderer.frame(renderer.n_frames - 1)
    left, bottom, right, top = renderer.axes.bbox.extents
    inside = frame[int(540 - top) + 2: int(540 - bottom) - 2, int(left) + 2: int(right) - 2]
    counts = [_count_colour(inside, colour) for colour in renderer._colors]
    assert min(counts) > 40, counts


# -- loss panel ------------------------------------------------------------------------------------------

def _visible_tick_labels(axis):
    lo, hi = sorted(axis.axes.get_ylim())
    return [t for t in axis.get_major_ticks() if lo <= t.get_loc() <= hi and t.label1.get_text()]


def _path(points, function="rosenbrock", name="sgd", losses=None):
    points = np.asarray(points, dtype=float)
    losses = FUNCTIONS[function](points) if losses is None else np.asarray(losses, dtype=float)
    return Trajectory(points=points, losses=losses, grad_norms=np.ones(len(points)),
                      lrs=np.full(len(points) - 1, 0.1), optimizer=name, hyperparams={"lr": 0.1}, function=function)


def test_loss_panel_never_shows_a_single_tick_label():
    # f - f* from 5.3 to 5.6: inside one decade, where powers of ten alone give one label at most
    points = np.linspace((-1.3, 1.7), (-1.25, 1.6), 30)
    renderer = TrajectoryRenderer([_path(points)], FUNCTIONS["rosenbrock"].surface(resolution=40),
                                  size=(480, 270), frames=2)
    renderer.canvas.draw()
    assert len(_visible_tick_labels(renderer.loss_axes.yaxis)) >= 2


def test_loss_panel_says_where_it_clamps():
    points = np.linspace((-1.5, 2.0), (1.0, 1.0), 30)
    losses = FUNCTIONS["rosenbrock"](points)
    losses[-5:] = 0.0  # the minimum reached exactly: f - f* = 0 cannot be drawn on a log axis
    renderer = TrajectoryRenderer([_path(points, losses=losses)], FUNCTIONS["rosenbrock"].surface(resolution=40),
                                  size=(480, 270), frames=2)
    assert renderer.loss_clamp == 1e-12 and "drawn at 1e-12" in renderer.loss_axes.get_title(loc="right")
    short = np.linspace((-1.5, 2.0), (0.9, 0.8), 30)  # stops short of the minimum: nothing clamped
    far = TrajectoryRenderer([_path(short)], FUNCTIONS["rosenbrock"].surface(resolution=40), size=(480, 270),
                             frames=2)
    assert far.loss_clamp is None and not far.loss_axes.get_title(loc="right")


def test_minima_label_is_plural_minima():
    surface = FUNCTIONS["himmelblau"].surface(resolution=30)
    renderer = TrajectoryRenderer([_path([(0.0, 0.0), (1.0, 1.0)], "himmelblau")], surface, size=(480, 270))
    labels = [t.get_text() for t in renderer.legend.get_texts()]
    assert "global minima" in labels and "global minimums" not in labels


def test_a_point_on_the_minimum_and_the_star_both_show():
    # issue 21: a point that has arrived (CMA-ES on Rastrigin) hid under the star; now the point is drawn
    # over the star's fill and the star's outline, in its own colour, over the point
    minimum = FUNCTIONS["beale"].minima[0]
    points = np.linspace((1.0, 1.5), minimum, 20)
    renderer = TrajectoryRenderer([_path(points, "beale")], FUNCTIONS["beale"].surface(((0, 4), (-1, 2)),
                                                                                      resolution=40),
                                  loss_panel=False)  # at the default 960x540
    frame = renderer.frame(renderer.n_frames - 1).astype(int)
    x, y = renderer.axes.transData.transform(minimum)
    row, column = int(round(540 - y)), int(round(x))
    point = np.round(np.array(to_rgb(renderer._colors[0])) * 255)
    star = np.round(np.array(to_rgb(THEMES["light"].minimum)) * 255)
    np.testing.assert_allclose(frame[row, column], point, atol=12)  # the point, in the middle
    around = frame[row - 12:row + 13, column - 12:column + 13]
    assert (np.abs(around - star).max(axis=2) < 40).sum() >= 20  # the star's colour, around it


# -- the window ------------------------------------------------------------------------------------------

def test_beale_window_frames_the_paths(saddle_runs):
    from gradviz.lecture.tracing import trace

    beale = FUNCTIONS["beale"]
    runs = [trace("beale", name, steps=200) for name in ("sgd", "momentum", "adam")]
    (x0, x1), (y0, y1) = plot_window(beale.domain, runs, beale.minima)
    (bx0, bx1), (by0, by1) = beale.domain
    assert (x1 - x0) * (y1 - y0) < 0.35 * (bx1 - bx0) * (by1 - by0)  # closer in
    for run in runs:
        assert (run.points[:, 0] >= x0).all() and (run.points[:, 0] <= x1).all()
        assert (run.points[:, 1] >= y0).all() and (run.points[:, 1] <= y1).all()
    assert x0 <= 3.0 <= x1 and y0 <= 0.5 <= y1  # the minimum is in view
    assert np.isclose((x1 - x0) / (y1 - y0), (bx1 - bx0) / (by1 - by0))  # same aspect ratio


def test_window_stays_the_functions_where_paths_spread():
    rosenbrock = FUNCTIONS["rosenbrock"]
    runs = [_path(np.linspace((-1.5, 2.0), (1.0, 1.0), 10)), _path(np.linspace((-1.5, 2.0), (1.8, -0.5), 10))]
    assert plot_window(rosenbrock.domain, runs, rosenbrock.minima) == rosenbrock.domain


def test_start_outside_the_window_widens_it(saddle_surface, tmp_path):
    from gradviz.lecture.tracing import trace

    saddle = FUNCTIONS["monkey-saddle"]
    runs = [trace("monkey-saddle", "adam", start=(100.0, 100.0), steps=20)]
    (x0, x1), (y0, y1) = plot_window(saddle.domain, runs, saddle.minima)
    assert x0 <= -2 and x1 >= 100 and y0 <= -2 and y1 >= 100
    assert (runs[0].points[:, 0] <= x1).all() and (runs[0].points[:, 1] <= y1).all()


# -- titles ----------------------------------------------------------------------------------------------

def test_titles_of_custom_functions():
    def my_bowl(xy):
        return (xy**2).sum(-1)

    assert get_function(lambda xy: (xy**2).sum(-1)).name == "f(x, y)"
    assert get_function(my_bowl).name == "my_bowl"
    assert surface_title("my_bowl") == "my_bowl" and surface_title("f(x, y)") == "f(x, y)"
    assert surface_title("six-hump-camel") == "Six hump camel"


def test_lambda_is_not_titled_lambda(tmp_path):
    import gradviz

    records = [gradviz.trace(lambda xy: (xy**2).sum(-1), "adam", start=(1.0, 1.0), steps=5)]
    fn = get_function(lambda xy: (xy**2).sum(-1))
    renderer = TrajectoryRenderer(records, fn.surface(((-2, 2), (-2, 2)), resolution=20), size=(480, 270))
    assert renderer.axes.get_title(loc="left") == "f(x, y)"
    titled = TrajectoryRenderer(records, fn.surface(((-2, 2), (-2, 2)), resolution=20), size=(480, 270),
                                title="a bowl")
    assert titled.axes.get_title(loc="left").startswith("a bowl")


# -- boundary: shading bands, GIF size, validation -------------------------------------------------------

@pytest.fixture(scope="module")
def training_runs():
    from gradviz.pipelines.boundary import train_variants

    return train_variants("moons", n=80, steps=20, grid=16, optimizers=["adam"], dropout=[0.0, 0.5],
                          validation=0.25)


def test_bands_are_few_flat_colours():
    from gradviz.render.boundary import CLASS_COLOURS, shade_bands, upsample

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 6, 3)) * 3
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    big = upsample(p, 50, 40)
    assert big.shape == (50, 40, 3)
    np.testing.assert_allclose(big[0, 0], p[0, 0]) and np.testing.assert_allclose(big[-1, -1], p[-1, -1])
    np.testing.assert_allclose(big.sum(-1), 1.0)
    colours = np.array([to_rgb(c) for c in CLASS_COLOURS[:3]])
    shaded = shade_bands(big, colours, np.ones(3), bands=5)
    assert len(np.unique(shaded.reshape(-1, 3), axis=0)) <= 3 * 5
    # the winning class's colour, strongest where it is surest
    winner = big.argmax(-1)
    for c in range(3):
        mask = winner == c
        if mask.any():
            direction = colours[c] - 1.0
            assert (((shaded[mask] - 1.0) @ direction) > 0).all()


def test_validation_curves_are_drawn_beside_training(training_runs, tmp_path):
    from gradviz.render.boundary import BoundaryRenderer

    assert all(np.isfinite(run.val_loss).all() and np.isfinite(run.val_accuracy).all() for run in training_runs)
    assert len(training_runs[0].X) == 60  # a quarter of the 80 points held out
    renderer = BoundaryRenderer(training_runs, size=(640, 360), frames=3)
    renderer.frame(renderer.n_frames - 1)
    segments = renderer.val_loss_lines.get_segments()
    assert len(segments) == len(training_runs)
    np.testing.assert_allclose(segments[1][:, 1], np.maximum(training_runs[1].val_loss, renderer.loss_floor))
    np.testing.assert_array_equal(segments[1][:, 0], training_runs[1].record_steps)
    np.testing.assert_allclose(renderer.val_accuracy_lines.get_segments()[0][:, 1], training_runs[0].val_accuracy)
    assert "dashed: held-out" in renderer.loss_axes.get_title(loc="left")
    # training curves as the optimizer saw them: every step's, dropout on
    np.testing.assert_allclose(renderer.loss_lines.get_segments()[1][:, 1],
                               np.maximum(training_runs[1].loss, renderer.loss_floor))
    assert "dropout off" not in renderer.loss_axes.get_title(loc="left")


def test_dropout_comparisons_draw_the_training_loss_with_dropout_off(training_runs):
    from gradviz.render.boundary import BoundaryRenderer

    renderer = BoundaryRenderer(training_runs, size=(640, 360), frames=3, training_curve="eval")
    renderer.frame(1)  # part way: the curves end at the frame's step
    step = training_runs[0].record_steps[renderer.frame_records[1]]
    for segment, run in zip(renderer.loss_lines.get_segments(), training_runs):
        shown = run.record_steps <= step
        np.testing.assert_array_equal(segment[:, 0], run.record_steps[shown])
        np.testing.assert_allclose(segment[:, 1], np.maximum(run.train_eval_loss[shown], renderer.loss_floor))
    renderer.frame(renderer.n_frames - 1)
    np.testing.assert_allclose(renderer.accuracy_lines.get_segments()[1][:, 1], training_runs[1].train_eval_accuracy)
    assert renderer.loss_axes.get_title(loc="left") == "loss (solid: training, dropout off; dashed: held-out)"
    with pytest.raises(Exception, match="invalid training_curve: 'mean'"):
        BoundaryRenderer(training_runs, training_curve="mean")


@pytest.mark.parametrize("title", ["moons: MLP 2-16-16, relu\nTuned, not a verdict: each lr is the best of 7 "
                                   "log-spaced rates from 1/100x to 10x each default, for final training loss "
                                   "(300 steps)", "one line"])
def test_a_long_title_wraps_left_of_the_step_counter_and_above_the_panels(training_runs, title):
    """`boundary --tune`'s last frame: its note ran into 'step 300/300' and down into the panel titles."""
    from gradviz.render.boundary import BoundaryRenderer

    renderer = BoundaryRenderer(training_runs, frames=2, title=title)
    renderer.frame(renderer.n_frames - 1)
    drawn = renderer.canvas.get_renderer()
    box = renderer.heading.get_window_extent(drawn)
    x0, _, _, _ = renderer.counter.extent
    assert box.x1 < x0
    assert renderer.heading.get_text().replace("\n", " ") == title.replace("\n", " ")
    lines = renderer.heading.get_text().count("\n") + 1
    assert lines == (3 if "Tuned" in title else 1)
    for ax, *_ in renderer.panels:
        assert ax.title.get_window_extent(drawn).y1 < box.y0


def test_validation_fraction_is_checked_before_training(tmp_path):
    from gradviz.pipelines.boundary import boundary
    from gradviz.registry import InvalidArgument

    with pytest.raises(InvalidArgument, match="validation fraction: 1.5"):
        boundary("moons", tmp_path / "b.gif", validation=1.5, steps=3)
    assert not (tmp_path / "b.gif").exists()


def test_banded_boundary_gif_is_small(training_runs, tmp_path):
    """Between frames only band edges move, so frames after the first cost little (a smooth shading
    changes every pixel of every panel in every frame)."""
    from gradviz.output import write_animation
    from gradviz.render.boundary import BANDS, BoundaryRenderer

    sizes = {}
    for bands in (0, BANDS):
        renderer = BoundaryRenderer(training_runs, size=(480, 270), bands=bands)
        path = write_animation(iter(renderer), tmp_path / f"b{bands}.gif", n_frames=renderer.n_frames, fps=10,
                               palette_sample=renderer.palette_sample(), key_colours=renderer.key_colours())
        sizes[bands] = path.stat().st_size
    assert sizes[BANDS] < 0.6 * sizes[0], sizes


def test_cli_validation_option(tmp_path):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "gradviz", "boundary", *args, "-o", str(tmp_path / "v.gif")],
                              capture_output=True, text=True, timeout=300)

    bad = run("--validation", "1.5", "--steps", "3")
    assert bad.returncode == 2 and "invalid validation fraction: 1.5" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "v.gif").exists()
    good = run("--validation", "0.3", "--steps", "4", "--n", "40", "--size", "320x180", "-q")
    assert good.returncode == 0, good.stderr
