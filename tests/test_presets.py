"""--preset: a size and a type scale per purpose, taken by every drawing command."""

import os
import subprocess
import sys

import pytest

from gradviz.render.theme import FONT_SCALE, PRESETS, use_preset


def test_presets_are_registered_with_sizes():
    assert {"slide", "slide-4:3", "square", "doc"} <= set(PRESETS)
    assert PRESETS["slide"].size == (1920, 1080) and PRESETS["slide-4:3"].size == (1440, 1080)
    assert PRESETS["square"].size[0] == PRESETS["square"].size[1]
    assert PRESETS["slide"].font_scale > PRESETS["doc"].font_scale


def test_every_drawing_command_takes_preset():
    import gradviz.cli

    for name, command in gradviz.cli.cli.commands.items():
        if name not in ("list", "gallery"):
            assert "preset" in {p.name for p in command.params}, name


def test_use_preset_scales_the_renderers_type_and_resets():
    import gradviz
    from gradviz.render.trajectories import TrajectoryRenderer

    path = gradviz.trace("booth", "adam", steps=3)
    surface = gradviz.get_function("booth").surface(resolution=20)
    plain = TrajectoryRenderer([path], surface, size=(960, 540))
    with use_preset("slide"):
        assert FONT_SCALE.get() == PRESETS["slide"].font_scale
        big = TrajectoryRenderer([path], surface, size=(960, 540))
    assert FONT_SCALE.get() == 1.0
    ratio = big.step_text.get_fontsize() / plain.step_text.get_fontsize()
    assert ratio == pytest.approx(PRESETS["slide"].font_scale)


@pytest.mark.parametrize("preset", ["slide", "slide-4:3", "square", "doc"])
def test_no_x_tick_label_runs_into_a_y_tick_label_at_any_preset(preset):
    import gradviz
    from gradviz.render.trajectories import TrajectoryRenderer

    path = gradviz.trace("rosenbrock", "adam", steps=3)  # window y from -1: a tick on the bottom edge
    surface = gradviz.get_function("rosenbrock").surface(resolution=20)
    spec = PRESETS[preset]
    with use_preset(preset):
        renderer = TrajectoryRenderer([path], surface, size=spec.size, dpi=spec.dpi)
    renderer.frame(0)
    text_renderer = renderer.canvas.get_renderer()
    ax = renderer.axes

    def boxes(labels):
        return [t.get_window_extent(text_renderer) for t in labels if t.get_visible() and t.get_text()]

    xs, ys = boxes(ax.get_xticklabels()), boxes(ax.get_yticklabels())
    assert xs and ys
    assert not any(x.overlaps(y) for x in xs for y in ys)
    assert min(ax.get_yticks()) > surface.extent[2] - 1e-9 and ys  # the edge tick is gone, the others stay


def _cli(args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "gradviz", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_preset_sets_size_and_size_overrides_it(tmp_path):
    from PIL import Image

    for args, size in ((["--preset", "square"], (1080, 1080)), (["--preset", "slide", "--size", "640x360"], (640, 360))):
        result = _cli(["figure", "losses", *args, "-o", "p.png", "-q"], tmp_path)
        assert result.returncode == 0, result.stderr
        with Image.open(tmp_path / "p.png") as image:
            assert image.size == size
    listed = _cli(["list", "presets"], tmp_path)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(PRESETS)
    bad = _cli(["trajectories", "--preset", "slides"], tmp_path)
    assert bad.returncode == 2 and "unknown preset 'slides'; did you mean 'slide'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
