"""Comparison figures read back from their artists: the U curve's points and diverged band, basin colours,
and the group animation's frames."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from gradviz.records import BasinMap, Trajectory, TuningTable
from gradviz.render.compare import BASIN_COLOURS, GroupRenderer, plot_basin_map, plot_lr_curve
from gradviz.render.theme import PRESETS


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
    # a diverged start (labelled -1 too) counts once, as diverged: shares and diverged add up to 1
    diverged = BasinMap(x=[0.0, 1.0], y=[0.0, 1.0], labels=labels, steps=steps, diverged=labels < 0,
                        minima=[[0.0, 0.0], [1.0, 1.0]], optimizer="sgd", tol=0.1, steps_requested=20)
    np.testing.assert_allclose(diverged.shares(), [0.25, 0.5, 0.0])
    legend = [t.get_text() for t in plot_basin_map(diverged).get_legend().get_texts()]
    assert sum(int(text.rsplit(" ", 1)[1].rstrip("%")) for text in legend) == 100, legend


def test_groups_animate_with_one_legend_entry_each_and_crosses_where_paths_left():
    def path(points, diverged=None):
        points = np.array(points, dtype=float)
        return Trajectory(points=points, losses=np.zeros(len(points)), grad_norms=np.zeros(len(points)),
                          lrs=np.zeros(len(points) - 1), optimizer="sgd", diverged_at=diverged, steps_requested=4)
    from gradviz.lecture.expressions import get_function

    groups = [("sgd", [path([[0, 0], [0.1, 0.1], [0.2, 0.3]]), path([[1, 1], [1.5, 1.5]], diverged=2)]),
              ("adam", [path([[-1, -1], [-0.5, -0.5], [0.1, 0], [0.1, 0.1], [0, 0]])])]
    renderer = GroupRenderer(groups, get_function("matyas").surface(((-2, 2), (-2, 2)), resolution=40),
                             size=(320, 180), frames=3)
    frames = list(renderer)
    assert len(frames) == 3 and frames[0].shape == (180, 320, 3)
    assert not np.array_equal(frames[0], frames[-1])
    texts = [" ".join(t.get_text().split()) for t in renderer.figure.legends[0].get_texts()]  # wrapped at 320 px
    assert texts == ["global minimum", "sgd, 2 paths; 1 diverged (x)", "adam"]
    # the contours are labelled, and every path's f - f* is drawn beside them, in its group's colour
    assert (renderer.axes.get_xlabel(), renderer.axes.get_ylabel()) == ("x", "y")
    assert renderer.loss_axes.get_ylabel() == "f - f*" and len(renderer.loss_lines.get_segments()) == 3
    np.testing.assert_allclose(renderer.loss_lines.get_segments()[2][:, 0], np.arange(5))
    np.testing.assert_allclose(renderer.loss_lines.get_colors()[:, :3],
                               [to_rgb(renderer._colors[k]) for k in (0, 0, 1)])
    # the frame is used: the legend and the f - f* panel fill the right column, so few 10 px cells of the
    # image are blank (the right 40% of the frame was empty before the panel: 48% of cells at 960x540)
    blank = [(frames[-1][i:i + 10, j:j + 10] == 255).all() for i in range(0, 180, 10) for j in range(0, 320, 10)]
    assert np.mean(blank) < 0.35, np.mean(blank)  # 0.27 now; 0.45 without the panel
    assert renderer.loss_axes.get_position().x1 > 0.9
    # the star is drawn over the trails and the crowd of current points, and shows in the last frame
    (star,) = renderer.minima_markers[0]
    assert star.get_zorder() > max(renderer.trails[0].get_zorder(), renderer.heads[0].get_zorder())
    sx, sy = renderer.axes.transData.transform((0.0, 0.0))  # Matyas's minimum, where adam's path ends
    pixel = frames[-1][renderer.size[1] - int(round(sy)), int(round(sx))]
    np.testing.assert_allclose(pixel / 255, to_rgb(renderer.theme.minimum), atol=0.08)


def _basin(labels, diverged, minima=((3.0, 2.0), (-2.8, 3.1)), tol=0.1, f_tol=0.25):
    labels = np.asarray(labels)
    n = labels.shape[1]
    return BasinMap(x=np.linspace(-4, 4, n), y=np.linspace(-4, 4, labels.shape[0]), labels=labels,
                    steps=np.where(labels >= 0, 5, -1), diverged=np.asarray(diverged, bool), minima=list(minima),
                    optimizer="momentum", function="himmelblau", tol=tol, steps_requested=50, label="momentum",
                    f_tol=f_tol)


def test_basin_shares_partition_the_starts_diverged_ones_not_also_counted_as_none():
    from gradviz.render.basins import share_parts, shares_text

    # 3 starts at minimum 0, 1 at minimum 1, 2 that reached none, 3 that diverged (labelled -1 as well)
    labels = np.array([[0, 0, 0], [1, -1, -1], [-1, -1, -1]])
    diverged = np.array([[0, 0, 0], [0, 0, 0], [1, 1, 1]], bool)
    parts = share_parts(_basin(labels, diverged))
    assert [name for name, *_ in parts] == ["(3.00, 2.00)", "(-2.80, 3.10)", "none", "diverged"]
    np.testing.assert_allclose([f for _, _, f, _ in parts], [3 / 9, 1 / 9, 2 / 9, 3 / 9])
    # largest remainder: 33.3 33.3 rounded up once (ties go to the first), 11.1, 22.2
    assert [p for *_, p in parts] == [34, 11, 22, 33] and sum(p for *_, p in parts) == 100
    assert shares_text(_basin(labels, diverged)) == \
        "momentum: (3.00, 2.00) 34%, (-2.80, 3.10) 11%, none 22%, diverged 33%"
    # nothing reached none nor diverged: those parts are left out, the minima's shares still add up to 100
    parts = share_parts(_basin(np.array([[0, 1, 1]]), np.zeros((1, 3), bool)))
    assert [(name, p) for name, _, _, p in parts] == [("(3.00, 2.00)", 33), ("(-2.80, 3.10)", 67)]


def test_the_basins_figure_draws_the_printed_shares_in_each_minimums_colour_inside_the_image(assert_text_inside):
    from gradviz.render.basins import basins_figure, share_parts
    from gradviz.render.compare import DIVERGED_COLOUR, NONE_COLOUR

    labels = np.array([[0, 0, 0, 0], [1, 1, -1, -1], [-1, -1, -1, -1], [0, 1, 0, 1]])
    diverged = np.zeros((4, 4), bool)
    diverged[2] = True
    maps = [_basin(labels, diverged), _basin(np.where(labels >= 0, 1 - labels, -1), np.zeros((4, 4), bool))]
    figure = basins_figure(maps, size=(480, 270))
    shares = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    assert len(shares) == 2
    for legend, basin in zip(shares, maps):
        parts = share_parts(basin)
        drawn = {text.get_text(): to_rgb(handle.get_color())
                 for text, handle in zip(legend.get_texts(), legend.legend_handles)}
        names = {"none": "none ", "diverged": "diverged "}
        expected = {names.get(name, "") + f"{p}%": to_rgb(colour) for name, colour, _, p in parts}
        assert drawn == expected  # the printed numbers, each square in its part's colour
    assert to_rgb(NONE_COLOUR) in drawn.values() or to_rgb(DIVERGED_COLOUR) in expected.values()
    # the figure's legend names each minimum, in the colour of its basin on the map and of its share
    key = {text.get_text(): to_rgb(handle.get_color())
           for text, handle in zip(figure.legends[0].get_texts(), figure.legends[0].legend_handles)}
    assert key["(3.00, 2.00)"] == to_rgb(BASIN_COLOURS[0]) and key["(-2.80, 3.10)"] == to_rgb(BASIN_COLOURS[1])
    # two thresholds, each said for what it is: a distance to the minima, a level of f - f*
    title = figure._suptitle.get_text().replace("\n", " ")
    assert "within distance 0.1 of" in title and "f - f* stayed \u2264 0.25" in title
    assert "none: ended farther than 0.1 from every minimum" in key
    assert_text_inside(figure)


@pytest.mark.parametrize("preset", ["slide", "slide-4:3", "square", "doc"])
def test_the_basins_figure_stays_inside_the_image_at_every_preset(preset, assert_text_inside):
    from gradviz.render.basins import basins_figure
    from gradviz.render.theme import PRESETS, use_preset

    labels = np.array([[0, 1, 2, 3]] * 4)
    maps = [_basin(labels, np.zeros((4, 4), bool), minima=((3.0, 2.0), (-2.8, 3.1), (-3.8, -3.3), (3.6, -1.8)))] * 3
    with use_preset(preset):
        # half the preset's dpi: the same layout in inches and type in points, a quarter of the pixels
        figure = basins_figure(maps, size=PRESETS.lookup(preset).size, dpi=PRESETS.lookup(preset).dpi / 2)
    assert_text_inside(figure)
    width = figure.bbox.width
    for ax in figure.axes:  # the maps and their share legends too (the right map used to touch the edge)
        box = ax.get_tightbbox(figure.canvas.get_renderer())
        assert box.x0 >= 1 and box.x1 <= width - 1, (preset, box)


def test_the_sweep_figure_of_an_expression_says_f_keeps_its_case_and_floors_underflowed_values():
    from gradviz.render.sweep import FINAL_FLOOR, sweep_figure

    finals = [[6.4, 2e-3, 1.4e-173, 6.5], [6.0, 3e-4, 2e-11, 1e-9]]
    t = TuningTable(optimizers=("sgd", "momentum"), lrs=[[1e-3, 1e-2, 1e-1, 1.0]] * 2, scores=finals, finals=finals,
                    diverged=np.zeros((2, 4), bool), objective="final", function="f = x**2+y**2", steps=200)
    ax = sweep_figure(t, size=(480, 270), known_minimum=False).axes[0]
    assert ax.get_ylabel() == "f after 200 steps"  # no f* is known: the values are f itself
    assert ax.get_title(loc="left").startswith("f = x**2+y**2, 200 steps: f after the last step")
    sgd = next(line for line in ax.get_lines() if line.get_label() == "sgd")
    np.testing.assert_allclose(sgd.get_ydata(), [6.4, 2e-3, FINAL_FLOOR, 6.5])  # 1.4e-173 drawn at the floor
    low, high = ax.get_ylim()
    assert low > 1e-14 and high < 1e4  # not 1e-173 .. 1e19: the other curves keep their decades
    assert any(text.get_text() == "values below 1e-12 drawn at 1e-12 (dotted)" for text in ax.texts)
    # with a known minimum it says f - f*; nothing below the floor, so nothing moved and no note
    ax = sweep_figure(table(), size=(480, 270)).axes[0]
    assert ax.get_ylabel() == "f - f* after 10 steps" and not any("drawn at" in t.get_text() for t in ax.texts)


@pytest.mark.parametrize("preset", [None, "gallery", *PRESETS])
def test_the_basins_title_breaks_into_even_lines_that_fit(preset):
    from gradviz.render.basins import basins_figure
    from gradviz.render.theme import use_preset

    size = {None: (960, 540), "gallery": (1280, 540)}.get(preset) or PRESETS[preset].size
    labels = np.zeros((200, 200), int)  # the gallery's 200x200 starts: its title, word for word
    maps = [_basin(labels, np.zeros_like(labels, bool), minima=((3.0, 2.0),), f_tol=0.11)] * 3
    with use_preset(preset if preset in PRESETS else None):
        figure = basins_figure(maps, size=size)
    title = figure._suptitle
    whole = title.get_text().replace("\n", " ")

    def width(text):
        probe = figure.text(0, 0, text, fontproperties=title.get_fontproperties())
        extent = probe.get_window_extent(figure.canvas.get_renderer()).width
        probe.remove()
        return extent

    lines = [width(line) for line in title.get_text().split("\n")]
    assert max(lines) <= 0.95 * size[0] + 1  # every line fits
    assert len(lines) == (1 if width(whole) <= 0.95 * size[0] else 2), title.get_text()  # as few as fit
    assert min(lines) >= 0.6 * max(lines), title.get_text()  # even: no word alone on its own line
