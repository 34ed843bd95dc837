"""One colour per optimizer: the palette is keyed by name, so Adam is the same colour in every renderer and
whichever subset of optimizers a file draws (issue 31: Adam was yellow, green or light blue)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_hex

from gradviz.lecture.functions import FUNCTIONS
from gradviz.records import PathProjection, Trajectory, TuningTable
from gradviz.render.theme import OPTIMIZER_COLOURS, optimizer_colour, optimizer_name, trail_colours


def _runs(names):
    points = np.linspace((1.0, 1.0), (0.1, 0.1), 6)
    return [Trajectory(points=points, losses=FUNCTIONS["saddle"](points), grad_norms=np.ones(6),
                       lrs=np.full(5, 0.1), optimizer=name, hyperparams={"lr": 0.1}, function="saddle")
            for name in names]


def test_every_registered_optimizer_has_its_own_colour():
    from gradviz.lecture.optim import OPTIMIZERS

    assert set(OPTIMIZERS) <= set(OPTIMIZER_COLOURS)
    assert len(set(OPTIMIZER_COLOURS.values())) == len(OPTIMIZER_COLOURS)


def test_a_colour_does_not_depend_on_the_subset_or_the_order():
    assert trail_colours(["sgd", "momentum", "adam"]) == ["#d55e00", "#0072b2", "#009e73"]  # furthest apart
    assert trail_colours(["adam"]) == ["#009e73"]
    assert trail_colours(["adam", "sgd"]) == ["#009e73", "#d55e00"]


def test_names_are_read_from_labels_runs_and_specs():
    assert optimizer_name("adam (lr=0.1)") == "adam"
    assert optimizer_name("momentum:lr=2") == "momentum"
    assert optimizer_name("sgd@cosine") == "sgd"
    assert optimizer_name(_runs(["rmsprop"])[0]) == "rmsprop"


def test_copies_of_one_optimizer_get_shades_of_its_colour_and_unknown_names_no_palette_colour():
    shades = trail_colours(["sgd", "sgd", "sgd"])
    assert shades[0] == "#d55e00" and len(set(shades)) == 3
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in shades])
    assert (rgb[:, 0] >= rgb[:, 2]).all()  # still a red-orange, darker or lighter
    mine = trail_colours(["my-optimizer", "sgd"])
    assert mine[1] == "#d55e00" and mine[0] not in OPTIMIZER_COLOURS.values()


def test_dark_theme_keeps_the_key_but_lightens_the_darkest():
    assert optimizer_colour("adam", "dark") == "#009e73"
    assert optimizer_colour("adadelta", "dark") == "#e8e8e8"  # black on a dark slide would vanish


def test_trajectory_and_landscape_and_tuning_renderers_use_the_palette():
    from gradviz.render.landscape import plot_landscape
    from gradviz.render.trajectories import TrajectoryRenderer
    from gradviz.render.compare import plot_lr_curve

    surface = FUNCTIONS["saddle"].surface(resolution=20)
    for names in (["sgd", "adam"], ["adam"], ["adam", "momentum", "sgd"]):
        renderer = TrajectoryRenderer(_runs(names), surface, size=(320, 180), frames=2)
        colours = [to_hex(c) for c in renderer.trails.get_colors()]
        assert colours[names.index("adam")] == "#009e73"
    path = PathProjection(np.arange(3), np.zeros((3, 2)), np.zeros(3), np.ones(3), np.ones(3), label="adam (lr=0.01)")
    ax = plot_landscape(surface, [path])
    assert "#009e73" in {to_hex(line.get_color()) for line in ax.lines}
    table = TuningTable(optimizers=("sgd", "adam"), lrs=np.array([[0.1, 1.0]] * 2), scores=np.ones((2, 2)),
                        finals=np.ones((2, 2)), diverged=np.zeros((2, 2), bool), objective="final")
    ax = plot_lr_curve(table)
    assert [to_hex(line.get_color()) for line in ax.lines if line.get_label() in ("sgd", "adam")] == \
        ["#d55e00", "#009e73"]
