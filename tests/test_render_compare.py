"""Comparison figures read back from their artists: the U curve's points and diverged band, basin colours,
and the group animation's frames."""

import numpy as np
from matplotlib.colors import to_rgb

from gradviz.records import BasinMap, Trajectory, TuningTable
from gradviz.render.compare import BASIN_COLOURS, GroupRenderer, plot_basin_map, plot_lr_curve


def table():
    return TuningTable(optimizers=("sgd", "adam"), lrs=[[1e-3, 1e-2, 1e-1], [1e-3, 1e-2, 1e-1]],
                       scores=[[5.0, 0.5, np.inf], [3.0, 1.0, 0.1]], finals=[[5.0, 0.5, np.inf], [3.0, 1.0, 0.1]],
                       diverged=[[False, False, True], [False, False, False]], objective="final", steps=10)


def test_the_u_curve_draws_finite_runs_as_lines_and_diverged_ones_above_them():
    t = table()
    ax = plot_lr_curve(t)
    lines = {line.get_label(): line for line in ax.get_lines()}
    sgd = lines["sgd"]
    np.testing.assert_array_equal(sgd.get_xdata(), [1e-3, 1e-2, 1e-1])
    assert np.isnan(sgd.get_ydata()[2]) and list(sgd.get_ydata()[:2]) == [5.0, 0.5]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [1e-1]
    assert crosses[0].get_ydata()[0] > 5.0  # on a band above every finite value
    assert any(text.get_text() == "diverged" for text in ax.texts)
    rings = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_markerfacecolor() == "none"]
    assert sorted(float(r.get_xdata()[0]) for r in rings) == [1e-2, 1e-1]  # sgd's and adam's lowest
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["sgd", "adam"]


def test_a_basin_map_colours_each_start_by_its_minimum_lighter_when_sooner():
    labels = np.array([[0, 1], [1, -1]])
    steps = np.array([[0, 10], [20, -1]])
    basin = BasinMap(x=[0.0, 1.0], y=[0.0, 1.0], labels=labels, steps=steps, diverged=np.zeros((2, 2), bool),
                     minima=[[0.0, 0.0], [1.0, 1.0]], optimizer="sgd", tol=0.1, steps_requested=20)
    ax = plot_basin_map(basin)
    rgb = ax.get_images()[0].get_array()
    for (i, j), k in (((0, 0), 0), ((0, 1), 1), ((1, 0), 1)):
        colour = np.array(to_rgb(BASIN_COLOURS[k]))
        strength = (1 - rgb[i, j]) / (1 - colour)  # the same fraction of the colour in every channel
        assert np.allclose(strength, strength[0], atol=1e-6)
    assert (rgb[0, 1] > rgb[1, 0]).all()  # reached after 10 steps: lighter than after 20
    np.testing.assert_allclose(basin.shares(), [0.25, 0.5, 0.25])


def test_groups_animate_with_one_legend_entry_each_and_crosses_where_paths_left():
    def path(points, diverged=None):
        points = np.array(points, dtype=float)
        return Trajectory(points=points, losses=np.zeros(len(points)), grad_norms=np.zeros(len(points)),
                          lrs=np.zeros(len(points) - 1), optimizer="sgd", diverged_at=diverged, steps_requested=4)
    from gradviz.functions import get_function

    groups = [("sgd", [path([[0, 0], [0.1, 0.1], [0.2, 0.3]]), path([[1, 1], [1.5, 1.5]], diverged=2)]),
              ("adam", [path([[-1, -1], [-0.5, -0.5], [0, 0], [0.1, 0], [0.1, 0.1]])])]
    renderer = GroupRenderer(groups, get_function("matyas").surface(((-2, 2), (-2, 2)), resolution=40),
                             size=(320, 180), frames=3)
    frames = list(renderer)
    assert len(frames) == 3 and frames[0].shape == (180, 320, 3)
    assert not np.array_equal(frames[0], frames[-1])
    texts = [t.get_text() for t in renderer.figure.legends[0].get_texts()]
    assert texts == ["sgd, 2 paths; 1 diverged (x)", "adam"]
