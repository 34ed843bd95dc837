"""--field: the normalized negative gradient drawn once under the paths."""

import numpy as np
import pytest

import gradviz
from gradviz.registry import InvalidArgument
from gradviz.render.field import descent_directions, draw_field


def test_descent_directions_are_the_normalized_negative_gradient():
    f = gradviz.expression("x**2 + 3*y**2 - x*y")
    s = f.surface(((-2.0, 1.0), (-1.0, 2.0)), resolution=31)
    u, v = descent_directions(s)
    gx, gy = np.meshgrid(s.x, s.y)
    du, dv = -(2 * gx - gy), -(6 * gy - gx)
    norm = np.hypot(du, dv)
    ok = norm > 1e-9
    norm = np.where(ok, norm, 1.0)
    assert np.allclose(u[ok], (du / norm)[ok]) and np.allclose(v[ok], (dv / norm)[ok])
    assert np.allclose(np.hypot(u, v)[ok], 1.0)


@pytest.fixture(scope="module")
def race():
    paths = [gradviz.trace("booth", name, steps=15) for name in ("sgd", "adam")]
    return paths, gradviz.get_function("booth").surface(resolution=60)


@pytest.mark.parametrize("style", ["arrows", "streamlines"])
def test_field_is_drawn_on_the_static_background_only(race, style):
    from gradviz.render.trajectories import TrajectoryRenderer

    paths, surface = race
    plain = TrajectoryRenderer(paths, surface, size=(480, 270), frames=5)
    withf = TrajectoryRenderer(paths, surface, size=(480, 270), frames=5)
    artist = draw_field(withf.axes, surface, style=style, color=withf.theme.foreground)
    withf.restage()
    if style == "arrows":
        assert np.allclose(np.hypot(artist.U, artist.V)[np.isfinite(artist.U)],
                           np.nanmax(np.hypot(artist.U, artist.V)))  # all one length: directions only
    for i in (0, 4):
        a, b = plain.frame(i), withf.frame(i)
        changed = np.any(a != b, axis=-1)
        assert changed.any()
        # the field never covers the moving heads: the pixel at each current point is the same
        heads = withf.axes.transData.transform([t.points[min(int(withf.frame_steps[i]), t.steps)] for t in paths])
        for hx, hy in heads:
            row, col = 270 - int(round(hy)), int(round(hx))
            assert not changed[row, col]


def test_unknown_field_style_fails_before_tracing(tmp_path):
    with pytest.raises(InvalidArgument, match="unknown field style 'dots'"):
        gradviz.trajectories("booth", ["sgd"], tmp_path / "x.png", field="dots")
    assert list(tmp_path.iterdir()) == []
