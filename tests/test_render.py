import numpy as np
import pytest

from gradviz.lecture.functions import FUNCTIONS
from gradviz.records import Trajectory
from gradviz.registry import InvalidArgument
from gradviz.render.trajectories import TrajectoryRenderer, contour_levels


def straight_path(steps, end=(1.0, 1.0), start=(-1.5, 2.0), name="sgd", diverged_at=None):
    points = np.linspace(start, end, steps + 1)
    losses = FUNCTIONS["rosenbrock"](points)
    return Trajectory(points=points, losses=losses, grad_norms=np.ones(steps + 1), lrs=np.full(steps, 0.1),
                      optimizer=name, hyperparams={"lr": 0.1}, function="rosenbrock", diverged_at=diverged_at,
                      steps_requested=20)


@pytest.fixture(scope="module")
def renderer():
    paths = [straight_path(20), straight_path(10, end=(0.0, 0.0), name="adam", diverged_at=11)]
    return TrajectoryRenderer(paths, FUNCTIONS["rosenbrock"].surface(resolution=60), size=(480, 270))


def test_frame_shape_and_count(renderer):
    assert renderer.n_frames == 21
    frame = renderer.frame(5)
    assert frame.shape == (270, 480, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous


def test_trails_and_heads_follow_the_records(renderer):
    renderer.frame(7)
    segments = renderer.trails.get_segments()
    np.testing.assert_allclose(segments[0], renderer.trajectories[0].points[:8])
    np.testing.assert_allclose(renderer.heads.get_offsets(), [renderer.trajectories[0].points[7],
                                                              renderer.trajectories[1].points[7]])
    renderer.frame(20)  # the shorter (diverged) path stops at its last finite point
    np.testing.assert_allclose(renderer.trails.get_segments()[1], renderer.trajectories[1].points)
    assert renderer.step == 20


def test_step_counter_pixels_match_matplotlib_text(renderer):
    frame = renderer.frame(17)
    renderer.step_text.set_text("step 17/20")
    renderer.canvas.restore_region(renderer._background)
    renderer.figure.draw_artist(renderer.step_text)
    truth = np.asarray(renderer.canvas.buffer_rgba())[..., :3]
    renderer.step_text.set_text("")
    top, bottom, left, right = renderer.counter.box
    difference = np.abs(frame[top:bottom, left:right].astype(int) - truth[top:bottom, left:right].astype(int))
    # 'step' and '/20' are in the background already, so the reference draws them twice: compare the digits
    digits = (renderer.counter.blank == 255).all(axis=2)
    assert difference[digits].max() <= 8 and difference[digits].mean() < 0.5
    assert (difference[digits].sum(axis=-1) == 0).mean() > 0.9
    assert (frame[top:bottom, left:right] != renderer.frame(18)[top:bottom, left:right]).any()


def test_loss_panel_plots_f_minus_f_star_on_a_log_axis(renderer):
    renderer.frame(4)
    assert renderer.loss_axes.get_yscale() == "log"
    line = renderer.loss_lines.get_segments()[0]
    np.testing.assert_allclose(line[:, 1], renderer.trajectories[0].losses[:5] - 0.0)
    np.testing.assert_array_equal(line[:, 0], np.arange(5))


def test_legend_names_settings_and_divergence(renderer):
    texts = [t.get_text() for t in renderer.figure.legends[0].get_texts()]
    assert texts == ["global minimum", "sgd (lr=0.1)", "adam (lr=0.1) diverged at step 11"]


def test_frames_differ_only_where_things_move(renderer):
    first, later = renderer.frame(0), renderer.frame(10)
    changed = (first != later).any(axis=2)
    assert 0 < changed.mean() < 0.2  # the contours (most pixels) are the same background
    np.testing.assert_array_equal(renderer.frame(10), later)  # random access is repeatable


def test_frames_subsample_long_runs():
    renderer = TrajectoryRenderer([straight_path(20)], FUNCTIONS["rosenbrock"].surface(resolution=30),
                                  size=(320, 180), frames=5, loss_panel=False)
    assert list(renderer.frame_steps) == [0, 5, 10, 15, 20] and renderer.loss_axes is None


def test_dark_theme_has_a_dark_background():
    renderer = TrajectoryRenderer([straight_path(5)], FUNCTIONS["rosenbrock"].surface(resolution=30),
                                  size=(320, 180), theme="dark")
    corner = renderer.frame(0)[2, 2]
    assert corner.max() < 40


def test_log_levels_cover_decades_and_linear_for_saddles():
    values, levels, is_log = contour_levels(FUNCTIONS["rosenbrock"].surface(resolution=50))
    assert is_log and levels[-1] - levels[0] > 3
    _, levels, is_log = contour_levels(FUNCTIONS["saddle"].surface(resolution=50))
    assert not is_log and levels[0] < 0 < levels[-1]


@pytest.mark.parametrize("kwargs, message", [(dict(size=(100, 50)), "size"), (dict(size=(640.5, 360)), "width"),
                                             (dict(dpi=0), "dpi"), (dict(frames=0), "frames"),
                                             (dict(theme="neon"), "did you mean|valid")])
def test_bad_options(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        TrajectoryRenderer([straight_path(5)], FUNCTIONS["rosenbrock"].surface(resolution=20), **kwargs)


def test_a_point_that_arrives_on_the_minimum_shows_over_its_star(renderer):
    from matplotlib.colors import to_rgb

    # per frame: the trails, then the stars' fill, then the current points, then the stars' outline
    fill, *outline = renderer.minima_markers
    assert renderer.trails.get_zorder() < fill.get_zorder() < renderer.heads.get_zorder()
    assert outline and min(a.get_zorder() for a in outline) > renderer.heads.get_zorder()
    x, y = renderer.axes.transData.transform((1.0, 1.0))  # Rosenbrock's minimum, where sgd's path ends
    row, column = renderer.size[1] - int(round(y)), int(round(x))
    on_the_way, arrived = renderer.frame(10)[row, column] / 255, renderer.frame(20)[row, column] / 255
    np.testing.assert_allclose(on_the_way, to_rgb(renderer.theme.minimum), atol=0.08)  # the star, over the contours
    np.testing.assert_allclose(arrived, to_rgb(renderer._colors[0]), atol=0.08)  # sgd's marker, over the star
