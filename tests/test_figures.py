"""The lecture's figures: their numbers against formulas, plain loops and torch's own state; their drawings
readable (title, labels, legend, all text inside the figure)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from gradviz import lecture
from gradviz.figures import FIGURES

LECTURE_FIGURES = {"losses", "activations", "vanishing-bound", "learning-rates", "batch-size", "momentum",
                   "adam-bias", "regularization", "universal-approximation"}


def test_registry_holds_the_lecture_figures_and_lists_without_torch_or_matplotlib():
    assert LECTURE_FIGURES <= set(FIGURES)
    assert {n for n, s in FIGURES.items() if s.animated} == {"batch-size", "momentum"}
    code = ("import sys, gradviz.figures as f; assert f.FIGURES; "
            "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- numbers ------------------------------------------------------------------------------------------------

def test_losses_are_the_formulas_and_bound_the_0_1_loss():
    c = lecture.loss_curves()
    m = c.x
    assert np.allclose(c.curves["logistic / ln 2"], np.log1p(np.exp(-m)) / np.log(2))
    assert np.allclose(c.curves["hinge"], np.maximum(0, 1 - m))
    assert np.allclose(c.curves["exponential"], np.exp(-m))
    assert np.array_equal(c.curves["0-1"], (m <= 0).astype(float))
    for name in ("hinge", "logistic / ln 2", "squared", "exponential"):
        assert (c.curves[name] >= c.curves["0-1"] - 1e-12).all(), name
    assert np.allclose(c.extra["nll"], -np.log(c.extra["p"]))


def test_activation_derivatives_peak_and_saturation():
    c = lecture.activation_curves()
    x, ds = c.x, c.curves["sigmoid'"]
    s = 1 / (1 + np.exp(-x))
    assert np.allclose(ds, s * (1 - s))
    assert ds.max() == pytest.approx(0.25) and x[ds.argmax()] == pytest.approx(0, abs=1e-9)
    assert np.allclose(c.curves["tanh'"], 1 - np.tanh(x) ** 2) and c.curves["tanh'"].max() == pytest.approx(1)
    assert set(np.unique(c.curves["ReLU'"][np.abs(x) > 1e-9])) == {0.0, 1.0}
    edge = c.extra["saturated"]
    assert edge == pytest.approx(4.59, abs=0.01)
    sig = 1 / (1 + np.exp(-edge))
    assert sig * (1 - sig) == pytest.approx(0.01)
    assert (ds[np.abs(x) > edge] < 0.01).all() and (ds[np.abs(x) < edge] > 0.01).all()


def test_vanishing_bound_is_quarter_power_and_the_deep_sigmoid_mlp_stays_below_it():
    c = lecture.vanishing_bound(depths=(2, 4), width=16)
    assert np.allclose(c.curves["bound"], 0.25 ** c.x)
    assert list(c.extra["layers"]) == [1, 3]
    measured = c.extra["measured"]
    assert (measured < 0.25 ** c.extra["layers"]).all()
    assert (np.diff(np.log(measured)) < 0).all()


def test_learning_rates_follow_the_closed_form():
    r = lecture.learning_rates(steps=10)
    k = np.arange(11)
    for c, path in zip(r.factors, r.paths_1d):
        assert np.allclose(path, 2.0 * (1 - c) ** k)
    assert list(r.names) == ["too small", "right", "oscillating", "diverging"]
    final = r.losses_2d[:, -1]
    assert final[3] > r.losses_2d[3, 0] and (final[:3] < r.losses_2d[:3, 0]).all()
    assert (np.sign(r.paths_1d[2, 1:6]) == [-1, 1, -1, 1, -1]).all()  # oscillating
    a1, a2 = r.curvatures_2d
    assert np.allclose(r.paths_2d[0, :, 1], 1.0 * (1 - 0.1) ** k)  # y: lr * a2 = 0.1
    assert np.allclose(r.paths_2d[0, :, 0], -2.0 * (1 - 0.1 * a1 / a2) ** k)


@pytest.fixture(scope="module")
def batch():
    return lecture.batch_size_paths(steps=20, resolution=40)


def test_batch_size_surface_is_the_exact_risk_and_full_batch_is_plain_gd(batch):
    X, y, s = batch.X, batch.y, batch.surface
    for i, j in ((0, 0), (17, 23), (39, 5)):
        w = np.array([s.x[j], s.y[i]])
        assert s.z[i, j] == pytest.approx(np.mean(np.log1p(np.exp(-y * (X @ w)))))
    w_star = s.minima[0]
    gradient = -np.mean((y / (1 + np.exp(y * (X @ w_star))))[:, None] * X, axis=0)
    assert np.abs(gradient).max() < 1e-10
    full = batch.paths[0]
    w = np.array(full.points[0])
    for k in range(1, 6):
        w = w - 0.5 * -np.mean((y / (1 + np.exp(y * (X @ w))))[:, None] * X, axis=0)
        assert np.allclose(full.points[k], w)
    assert [p.hyperparams["batch"] for p in batch.paths] == [64, 8, 1]
    assert not np.allclose(batch.paths[2].points, full.points)


def test_momentum_paths_are_torch_sgd_and_velocities_are_the_steps():
    surface, paths = lecture.momentum_paths(steps=30, resolution=30)
    a = np.array([1.0, 25.0])
    for path, (name, hp) in zip(paths, lecture.MOMENTUM_RUNS):
        x, v = np.array([-4.0, 1.5]), np.zeros(2)
        mu, nesterov = hp.get("momentum", 0.0), name == "nesterov"
        for k in range(1, 31):
            g = a * x
            v = mu * v + g if k > 1 else g
            x = x - hp["lr"] * (g + mu * v if nesterov else v)
            assert np.allclose(path.points[k], x), (name, k)
    sgd_y = paths[0].points[1:15, 1]
    assert (np.sign(sgd_y[1:]) != np.sign(sgd_y[:-1])).all()  # GD zig-zags across the ravine
    from gradviz.render.figure import MomentumRenderer

    renderer = MomentumRenderer(paths, surface, size=(480, 270), frames=31)
    heads, velocity = renderer.velocities(10)
    assert np.allclose(velocity, [p.points[10] - p.points[9] for p in paths])
    assert renderer.frame(10).shape == (270, 480, 3)


def test_adam_curves_are_torch_state_and_the_bias_correction():
    import torch

    r = lecture.adam_bias(n=20, quadratic_steps=5)
    b1, b2 = r.betas
    assert np.allclose(r.m, (1 - b1 ** r.t) * r.gradient) and r.m[0] == pytest.approx(0.1)
    assert np.allclose(r.v, (1 - b2 ** r.t) * r.gradient**2) and r.v[0] == pytest.approx(1e-3)
    assert np.allclose(r.m_hat, r.gradient) and np.allclose(r.v_hat, r.gradient**2)
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)  # an independent torch.optim.Adam
    adam = torch.optim.Adam([w], betas=(0.9, 0.999), eps=1e-8)
    for t in range(3):
        adam.zero_grad()
        w.sum().backward()
        adam.step()
        assert adam.state[w]["exp_avg"].item() == pytest.approx(r.m[t])
        assert adam.state[w]["exp_avg_sq"].item() == pytest.approx(r.v[t])
    # first steps: Adagrad and Adam move each coordinate by lr whatever its curvature; RMSprop by lr/sqrt(1-alpha)
    assert np.allclose(r.steps["Adagrad"][0], r.lr) and np.allclose(r.steps["Adam"][0], r.lr, rtol=1e-6)
    assert np.allclose(r.steps["RMSprop"][0], r.lr / math.sqrt(0.01), rtol=1e-6)


@pytest.fixture(scope="module")
def reg():
    return lecture.regularization(lambdas=8, iterations=150, n=120)


def test_l1_optimum_lies_on_an_axis_and_both_optima_beat_the_boundary(reg):
    A, c, t = reg.A, reg.center, reg.radius
    w1, w2 = reg.l1_optimum, reg.l2_optimum
    assert np.abs(w1).sum() == pytest.approx(t) and min(np.abs(w1)) < 1e-12  # a corner: w2 = 0
    assert np.linalg.norm(w2) == pytest.approx(t) and min(np.abs(w2)) > 0.1
    loss = lambda w: 0.5 * np.einsum("...i,ij,...j->...", w - c, A, w - c)  # noqa: E731
    angle = np.linspace(0, 2 * np.pi, 20001)
    circle = t * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    diamond = circle / np.abs(circle).sum(axis=1, keepdims=True) * t
    assert loss(w1) <= loss(diamond).min() + 1e-12
    assert loss(w2) <= loss(circle).min() + 1e-12


def test_regularization_paths_l1_exact_zeros_l2_none(reg):
    import torch

    assert np.all(reg.path_l1[reg.lambdas >= reg.lambda_max] == 0)
    assert np.any(reg.path_l1[reg.lambdas < reg.lambda_max / 2] != 0)
    assert np.all(reg.path_l2 != 0)
    norms = np.linalg.norm(reg.path_l2, axis=1)
    assert (np.diff(norms) > 0).all()  # lambdas go down: the L2 weights grow
    X, y = lecture._path_data(120, 0)
    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(X @ w, y).backward()
    assert reg.lambda_max == pytest.approx(float(w.grad.abs().max()))


def test_universal_approximation_improves_with_width():
    r = lecture.universal_approximation(widths=(1, 10), steps=300, n=80)
    assert r.errors[10] < r.errors[1] / 5
    assert np.allclose(r.target, np.sin(2 * r.x) + 0.5 * (r.x > 0.5), atol=1e-6)


# -- drawings -----------------------------------------------------------------------------------------------

def _text_inside(fig):
    """Every drawn text lies inside the figure: titles, labels, legends one by one; tick labels (of which
    matplotlib keeps some that it does not draw) through the tight bounding box of what was drawn."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox

    def inside(extent):
        return (extent.x0 >= box.x0 - 1 and extent.y0 >= box.y0 - 1 and extent.x1 <= box.x1 + 1
                and extent.y1 <= box.y1 + 1)

    ticks = {id(label) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in axis.get_major_ticks() + axis.get_minor_ticks() for label in (tick.label1, tick.label2)}
    for text in fig.findobj(Text):
        if id(text) not in ticks and text.get_visible() and text.get_text().strip():
            assert inside(text.get_window_extent(renderer)), text.get_text()
    assert inside(fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans))


def _readable(fig):
    assert fig._suptitle is not None and fig._suptitle.get_text()
    assert any(ax.get_legend() is not None for ax in fig.axes)
    for ax in fig.axes:
        assert ax.get_xlabel(), ax.get_title()
    assert any(ax.get_ylabel() for ax in fig.axes)
    _text_inside(fig)


@pytest.fixture(scope="module")
def static_records(reg):
    return {
        "draw_losses": lecture.loss_curves(),
        "draw_activations": lecture.activation_curves(),
        "draw_vanishing_bound": lecture.vanishing_bound(depths=(2, 3), width=16),
        "draw_learning_rates": lecture.learning_rates(),
        "draw_adam_bias": lecture.adam_bias(n=20, quadratic_steps=20),
        "draw_regularization": reg,
        "draw_universal_approximation": lecture.universal_approximation(widths=(1, 3), steps=50, n=60),
    }


@pytest.mark.parametrize("draw", ["draw_losses", "draw_activations", "draw_vanishing_bound", "draw_learning_rates",
                                  "draw_adam_bias", "draw_regularization", "draw_universal_approximation"])
def test_static_figures_are_readable_slides(static_records, draw):
    import gradviz.render.figure as render

    from gradviz.render.theme import PRESETS, use_preset

    preset = PRESETS["slide-4:3"]  # the narrowest shape with the largest type: the hardest to fit
    with use_preset(preset):
        fig = getattr(render, draw)(static_records[draw], size=preset.size, dpi=preset.dpi)
    assert tuple(fig.canvas.get_width_height()) == preset.size
    _readable(fig)


def test_drawn_curves_are_the_records(static_records):
    from gradviz.render.figure import draw_activations, draw_losses

    c = static_records["draw_losses"]
    lines = {line.get_label(): line for line in draw_losses(c).axes[0].get_lines()}
    for name, y in c.curves.items():
        assert np.array_equal(lines[name].get_ydata(), y)
    a = static_records["draw_activations"]
    right = draw_activations(a).axes[1]
    marker = [line for line in right.get_lines() if line.get_label().startswith("max")][0]
    assert list(marker.get_xydata()[0]) == [0, 0.25]


def test_figure_pipeline_writes_png_and_rejects_bad_input(tmp_path):
    from PIL import Image

    from gradviz.pipelines.figure import figure
    from gradviz.registry import InvalidArgument

    path = figure("losses", tmp_path / "l.png", size=(640, 360), theme="dark")
    with Image.open(path) as image:
        assert image.size == (640, 360)
    with pytest.raises(InvalidArgument, match="did you mean 'losses'"):
        figure("loses", tmp_path / "x.png")
    with pytest.raises(InvalidArgument, match="extension"):
        figure("losses", tmp_path / "x.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.png"]


def _cli(args, cwd):
    import os

    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "gradviz", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_figure_and_list_figures(tmp_path):
    result = _cli(["figure", "activations", "--size", "640x360"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "activations.png").exists() and "wrote activations.png" in result.stderr
    listed = _cli(["list", "figures"], tmp_path)
    assert listed.returncode == 0 and [line.split()[0] for line in listed.stdout.splitlines()] == list(FIGURES)


@pytest.mark.parametrize("args, shown", [
    (["figure", "activation"], "unknown figure 'activation'; did you mean 'activations'"),
    (["figure", "losses", "-o", "l.gif"], "'.gif'"),
    (["figure", "momentum", "--size", "10x10"], "10x10"),
])
def test_cli_figure_bad_input_is_one_line_exit_2_no_file(tmp_path, args, shown):
    result = _cli(args, tmp_path)
    assert result.returncode == 2 and shown in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
