"""RenderOptions: one checked carrier for the render tail of every pipeline, given whole or as keywords."""

import pytest

import gradviz
from gradviz import RenderOptions
from gradviz.registry import InvalidArgument


def test_bad_render_options_are_refused_where_they_are_built():
    with pytest.raises(InvalidArgument, match="invalid size 100x100"):
        RenderOptions(size=(100, 100))
    with pytest.raises(InvalidArgument, match="unknown theme 'drak'; did you mean 'dark'"):
        RenderOptions(theme="drak")
    with pytest.raises(InvalidArgument, match="fps"):
        RenderOptions(fps=0)
    with pytest.raises(InvalidArgument, match="progress"):
        RenderOptions(progress="bar")
    assert RenderOptions(size=[640, 360]).size == (640, 360)


def test_a_keyword_a_pipeline_has_no_use_for_is_refused_not_ignored(tmp_path):
    with pytest.raises(InvalidArgument, match=r"sweep\(\): 'fps' does not apply here \(render options it takes: "
                                              r"size, dpi, theme, report\)"):
        gradviz.sweep("rosenbrock", ["sgd"], tmp_path / "s.png", fps=10)
    with pytest.raises(InvalidArgument, match="'sise' is no argument here"):
        gradviz.trajectories("rosenbrock", ["sgd"], tmp_path / "t.gif", sise=(640, 360))
    with pytest.raises(InvalidArgument, match="render must be a RenderOptions"):
        gradviz.figure("losses", tmp_path / "f.png", render={"size": (640, 360)})
    assert list(tmp_path.iterdir()) == []


def test_render_options_given_whole_or_as_keywords_draw_the_same_bytes(tmp_path):
    whole = gradviz.figure("losses", tmp_path / "a.png", render=RenderOptions(size=(480, 270), theme="dark"))
    keywords = gradviz.figure("losses", tmp_path / "b.png", size=(480, 270), theme="dark")
    mixed = gradviz.figure("losses", tmp_path / "c.png", render=RenderOptions(size=(480, 270)), theme="dark")
    assert whole.read_bytes() == keywords.read_bytes() == mixed.read_bytes()
    assert whole.read_bytes() != gradviz.figure("losses", tmp_path / "d.png", size=(480, 270)).read_bytes()
