"""The lecture's figures: their numbers against formulas, plain loops and torch's own state; their drawings
readable (title, labels, legend, all text inside the figure)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from gradviz.lecture import topics as lecture
from gradviz.lecture.figures import FIGURES

LECTURE_FIGURES = {"losses", "activations", "vanishing-bound", "learning-rates", "batch-size", "momentum",
                   "adam-bias", "adaptive", "regularization", "universal-approximation", "empirical-risk",
                   "data-augmentation"}


def test_registry_holds_the_lecture_figures_and_lists_without_torch_or_matplotlib():
    assert LECTURE_FIGURES <= set(FIGURES)
    assert {n for n, s in FIGURES.items() if s.animated} == {"batch-size", "momentum"}
    code = ("import sys, gradviz.lecture.figures as f; assert f.FIGURES; "
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


def test_vanishing_bound_holds_for_the_sigmoid_factors_not_for_the_gradient_of_large_weights():
    c = lecture.vanishing_bound(depths=(2, 4, 6), width=16)
    assert np.allclose(c.curves["bound"], 0.25 ** c.x)
    layers = c.extra["layers"]
    assert list(layers) == [1, 3, 5]
    for key, product in c.extra["product"].items():
        assert (product <= 0.25**layers).all(), key  # each sigma' <= 1/4: the bound is on this product
    assert (c.extra["ratio"]["default"] < 0.25**layers).all()  # small weights: the gradient is under it too
    large = c.extra["ratio"]["scaled 4"]
    assert (large > 0.25**layers).all() and large[-1] > 10 * 0.25 ** layers[-1]  # large weights: far above it
    assert (np.diff(np.log(c.extra["ratio"]["default"])) < 0).all()


def test_signal_ratio_and_sigmoid_product_against_autograd():
    import torch

    from gradviz.lecture.deepnets import deep_mlp, random_data

    product, ratio = lecture.signal_through_sigmoids(3, width=8, batch_size=16, seed=1)
    model = deep_mlp(3, 8, activation="sigmoid", seed=1).double()  # Linear, Sigmoid, Linear, Sigmoid, Linear
    X, y = random_data(16, 8, 10, seed=2)
    z1 = model[0](X.double())
    z2 = model[2](torch.sigmoid(z1))
    z3 = model[4](torch.sigmoid(z2))
    g1, g3 = torch.autograd.grad(torch.nn.functional.cross_entropy(z3, y), [z1, z3])
    assert ratio == pytest.approx(float(g1.norm() / g3.norm()))
    s1, s2 = torch.sigmoid(z1.detach()), torch.sigmoid(z2.detach())
    assert product == pytest.approx(float((s1 * (1 - s1)).mean() * (s2 * (1 - s2)).mean()))


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


def test_learning_rate_panels_show_every_drawn_point_inside_their_axes():
    from gradviz.render.figure import draw_learning_rates

    fig = draw_learning_rates(lecture.learning_rates())
    drawn = 0
    for ax in fig.axes:
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.get_lines():
            if line.get_marker() in ("o", "*"):  # the paths' points and the minimum
                xy = line.get_xydata()
                assert ((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)).all(), \
                    (ax.get_title(), line.get_label())
                drawn += len(xy)
    assert drawn > 4 * 7  # the diverging 1-D panel shows all its 7 points, not 3
    top = [ax for ax in fig.axes if "diverging" in ax.get_title()][0]
    assert len(top.get_lines()[1].get_xydata()) == 7
    title = fig._suptitle.get_text().replace("\n", " ")
    assert "2/a_max" in title and "largest curvature" in title


@pytest.fixture(scope="module")
def batch():
    return lecture.batch_size_paths(epochs=3, resolution=40)


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
    for k in range(1, 4):
        w = w - 0.5 * -np.mean((y / (1 + np.exp(y * (X @ w))))[:, None] * X, axis=0)
        assert np.allclose(full.points[k], w)
    assert [p.hyperparams["batch"] for p in batch.paths] == [64, 8, 1]
    assert not np.allclose(batch.paths[2].points, full.points[:1])


def test_batch_size_paths_read_the_same_samples_and_the_animation_counts_samples(batch):
    # the same work for every batch size: 3 epochs of 64 samples = 3 full-batch steps, 24 of 8, 192 of 1
    assert [p.steps for p in batch.paths] == [3, 24, 192]
    for path in batch.paths:
        size = path.hyperparams["batch"]
        assert np.array_equal(path.evaluations, np.arange(path.steps + 1) * size)
        assert path.evaluations_spent == 3 * 64
    from gradviz.pipelines.figure import batch_size_renderer

    renderer = batch_size_renderer(batch, size=(480, 270), frames=4)
    assert renderer.loss_axes.get_xlabel() == "samples" and renderer.loss_axes.get_xlim()[1] == 192
    assert all("192 samples" in t.get_text() for t in renderer.legend.get_texts()[1:])
    series = renderer._loss_series
    assert np.array_equal(series[2][:, 0], np.arange(193)) and np.array_equal(series[0][:, 0], [0, 64, 128, 192])


def test_momentum_paths_are_torch_sgd_at_one_lr_and_mu_and_nesterov_looks_ahead():
    record = lecture.momentum_paths(steps=30, resolution=30)
    paths = record.paths
    a = np.array([1.0, 25.0])
    settings = dict(lecture.MOMENTUM_RUNS)
    assert settings["momentum"] == settings["nesterov"]  # heavy ball and Nesterov at the same (lr, mu)
    assert settings["sgd"]["lr"] == settings["momentum"]["lr"]
    lr, mu = settings["momentum"]["lr"], settings["momentum"]["momentum"]
    for path, name in zip(paths, ("sgd", "momentum", "nesterov")):
        x, v = np.array([-4.0, 1.5]), np.zeros(2)
        m = 0.0 if name == "sgd" else mu
        ahead, before = x.copy(), x.copy()  # Sutskever's form: the gradient at x + mu (x - x_prev)
        for k in range(1, 31):
            if name == "nesterov":
                ahead = x + mu * (x - before)
                assert np.allclose(record.lookahead[k - 1], ahead), k
                before, x = x, ahead - lr * a * ahead
            else:
                v = m * v + a * x if k > 1 else a * x
                x = x - lr * v
            assert np.allclose(path.points[k], x), (name, k)
    # the swing across the ravine: heavy ball's y keeps a larger amplitude than Nesterov's at the same settings
    late = slice(8, 20)
    assert np.abs(paths[1].points[late, 1]).max() > 3 * np.abs(paths[2].points[late, 1]).max()
    from gradviz.render.figure import MomentumRenderer

    renderer = MomentumRenderer(paths, record.surface, lookahead=record.lookahead, size=(480, 270), frames=31)
    heads, arrows = renderer.arrow_vectors(10)
    assert np.allclose(arrows[0], 0)  # GD has no momentum term
    assert np.allclose(heads[2] + arrows[2], record.lookahead[10])  # Nesterov's arrow ends at its look-ahead
    for index in range(31):  # no arrow leaves the panel
        heads, arrows = renderer.arrow_vectors(index)
        tips = heads + arrows
        (x0, x1), (y0, y1) = renderer.axes.get_xlim(), renderer.axes.get_ylim()
        assert ((tips[:, 0] >= x0) & (tips[:, 0] <= x1) & (tips[:, 1] >= y0) & (tips[:, 1] <= y1)).all()
    assert renderer.frame(10).shape == (270, 480, 3)


def test_arrows_inside_shortens_only_what_leaves():
    from gradviz.render.figure import arrows_inside

    out = arrows_inside(np.array([[0.0, 0.0], [0.5, 0.5]]), np.array([[0.2, 0.1], [2.0, 0.0]]), (-1, 1, -1, 1),
                        margin=0.0)
    assert np.allclose(out, [[0.2, 0.1], [0.5, 0.0]])


def test_adam_curves_are_torch_state_and_the_bias_correction():
    import torch

    r = lecture.adam_bias(n=50)
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
    # beta^t is a power: without the correction the step is (1 - b1^t) / sqrt(1 - b2^t) lr (3.16 lr at t = 1)
    assert np.allclose(r.step_uncorrected, (1 - b1**r.t) / np.sqrt(1 - b2**r.t), rtol=1e-6)
    assert r.step_uncorrected[0] == pytest.approx(0.1 / math.sqrt(1e-3), rel=1e-6)
    assert np.allclose(r.step_adam, 1.0, rtol=1e-6)  # with it, exactly lr
    # RMSprop (no correction, alpha 0.99): its first step is lr / sqrt(0.01) = 10 lr, then lr / sqrt(1 - 0.99^t)
    assert r.step_rmsprop[0] == pytest.approx(10.0, rel=1e-6)
    assert np.allclose(r.step_rmsprop, 1 / np.sqrt(1 - 0.99**r.t), rtol=1e-5)
    from gradviz.render.figure import draw_adam_bias

    fig = draw_adam_bias(r)
    assert "power" in fig._suptitle.get_text()
    assert any("10 × lr" in text.get_text() for ax in fig.axes for text in ax.texts)


def test_adaptive_methods_converge_inside_the_window_with_a_step_size_per_coordinate():
    r = lecture.adaptive_paths(steps=100, resolution=30)
    assert set(r.names) == {"sgd", "adagrad", "adadelta", "rmsprop", "adabelief", "adam"}
    (x0, x1), (y0, y1) = (r.surface.x[0], r.surface.x[-1]), (r.surface.y[0], r.surface.y[-1])
    a = np.array(r.curvatures)
    for name in r.names:
        points, losses = r.points[name], r.losses[name]
        assert np.allclose(losses, 0.5 * (points**2 * a).sum(axis=1))
        assert losses[-1] < 1e-3 * losses[0], name  # each at settings where it works
        assert ((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)).all()
    assert np.allclose(r.rates["sgd"], r.lrs["sgd"])  # GD: one lr for both coordinates
    for name in ("adagrad", "adadelta", "rmsprop", "adabelief", "adam"):
        rates = r.rates[name]
        assert (rates[:, 0] > 3 * rates[:, 1]).mean() > 0.9, name  # the flat coordinate gets the larger step
    # Adagrad's first step size is lr / |g_i|: every coordinate moves by lr
    g0 = a * np.array([-4.0, 1.5])
    assert np.allclose(r.rates["adagrad"][0], r.lrs["adagrad"] / np.abs(g0), rtol=1e-6)
    assert np.allclose(np.abs(r.points["adagrad"][1] - r.points["adagrad"][0]), r.lrs["adagrad"], rtol=1e-6)


def test_adaptive_figure_layout_is_rounded_so_every_build_draws_the_same_pixels():
    """kiwisolver's layout differs in the last bits between processes; the axes positions are rounded to
    1e-9 of the figure after every layout pass and stay in the layout (set_position would take them out)."""
    from gradviz.render.figure import draw_adaptive
    from gradviz.render.layout import RoundedConstrainedLayout

    fig = draw_adaptive(lecture.adaptive_paths(steps=20, resolution=30))
    assert isinstance(fig.get_layout_engine(), RoundedConstrainedLayout)
    fig.canvas.draw()
    for ax in fig.axes:
        extents = tuple(ax.get_position(original=True).extents)
        assert extents == tuple(round(v, 9) for v in extents) and ax.get_in_layout()
    assert fig.axes[1].get_position().x0 > fig.axes[0].get_position().x1  # still laid out side by side


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


@pytest.mark.parametrize("preset", [None, "slide"])
def test_regularization_figure_keeps_contours_whole_panels_off_the_edge_and_names_lambda_max(reg, preset):
    from gradviz.render.figure import draw_regularization
    from gradviz.render.frames import drawn_texts
    from gradviz.render.theme import PRESETS, use_preset

    size = PRESETS[preset].size if preset else (960, 540)
    with use_preset(preset):
        fig = draw_regularization(reg, size=size)
    fig.canvas.draw()
    ball, l1, l2 = fig.axes
    # every loss contour is a closed curve inside the view: none cut off at the panel's edge
    (x0, x1), (y0, y1) = ball.get_xlim(), ball.get_ylim()
    contours = [path for collection in ball.collections if hasattr(collection, "levels")
                for path in collection.get_paths() if len(path.vertices)]
    assert len(contours) >= 5
    for path in contours:
        v = path.vertices
        assert x0 < v[:, 0].min() and v[:, 0].max() < x1 and y0 < v[:, 1].min() and v[:, 1].max() < y1
    # the last panel's frame and tick labels stay a few pixels off the image's right edge
    font_px = fig.legends[0].get_texts()[0].get_fontsize() / 0.85 * fig.dpi / 72
    assert l2.get_tightbbox().x1 <= size[0] - 0.4 * font_px
    # the lambda_max line is named beside it and in the legend, and its label crosses no other text
    line = [ln for ln in l1.get_lines() if ln.get_linestyle() == "--"]
    assert line and line[0].get_xdata()[0] == reg.lambda_max
    assert any("lambda_{max}" in t.get_text() for t in fig.legends[0].get_texts())
    (label,) = [t for t in l1.texts if "lambda_{max}" in t.get_text()]
    box = label.get_window_extent()
    assert l1.get_window_extent().contains(box.x0, box.y0) and l1.get_window_extent().contains(box.x1, box.y1)
    for other in drawn_texts(fig):
        assert other is label or not box.overlaps(other.get_window_extent()), other.get_text()
    # no legend over the paths' curves: the weights' colours are in the figure's legend
    assert l1.get_legend() is None and l2.get_legend() is None
    assert [t.get_text() for t in fig.legends[0].get_texts()][-5:] == [f"w{j}" for j in range(1, 6)]


def test_universal_approximation_target_is_continuous_and_the_max_error_falls_with_width():
    r = lecture.universal_approximation(widths=(1, 4, 16), deep_widths=(3,), steps=400, n=80, seeds=1)
    assert np.allclose(r.target, np.sin(2 * r.x) + 0.5 * np.abs(r.x - 0.5), atol=1e-6)
    fine = np.linspace(-3, 3, 100001)
    assert np.abs(np.diff(lecture.ua_target(fine))).max() < 1e-3  # no jump: continuous
    errors = [r.max_errors[w] for w in (1, 4, 16)]
    assert errors[0] > errors[1] > errors[2]
    for w in (1, 4, 16):
        inside = np.abs(r.x) <= r.inner  # the ends (x = ±3) are left out: a fit's edge effect there
        assert r.max_errors[w] == pytest.approx(np.abs(r.fits[w] - r.target)[inside].max(), rel=1e-5)
        assert r.edge_errors[w] >= r.max_errors[w]
        assert r.params[w] == 3 * w + 1
    assert r.deep[3][0] == 3 + 3 + 9 + 3 + 3 + 1


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
    assert fig.legends or any(ax.get_legend() is not None for ax in fig.axes)
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
        "draw_adam_bias": lecture.adam_bias(n=20),
        "draw_adaptive": lecture.adaptive_paths(steps=20, resolution=30),
        "draw_regularization": reg,
        "draw_universal_approximation": lecture.universal_approximation(widths=(1, 3), deep_widths=(2,), steps=50,
                                                                        n=60),
    }


@pytest.mark.parametrize("draw", ["draw_losses", "draw_activations", "draw_vanishing_bound", "draw_learning_rates",
                                  "draw_adam_bias", "draw_adaptive", "draw_regularization",
                                  "draw_universal_approximation"])
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


def test_gradflow_titles_say_what_the_verdict_does_not():
    from gradviz.pipelines.gradflow import run_configurations
    from gradviz.render.gradflow import caveat, summary_figure

    relu_default, relu_he = run_configurations(["relu"], ["default", "he"], depth=3, width=8, steps=3,
                                               batch_size=8, optimizer="adam:lr=0.01")
    assert caveat(relu_default) == "PyTorch's default init, not He's" and caveat(relu_he) == ""
    assert caveat(relu_he, 2) == "adam's steps do not depend on the gradient's scale"
    figure = summary_figure([relu_he], "profile", step=2)
    assert "adam's steps do not depend" in figure.axes[0].get_title()


def test_a_figure_called_in_a_notebook_displays_itself():
    import base64
    import io

    from PIL import Image

    from gradviz.render.figure import MomentumRenderer

    record = lecture.momentum_paths(steps=4, resolution=20)
    html = MomentumRenderer(record.paths, record.surface, lookahead=record.lookahead, size=(320, 180),
                            frames=3)._repr_html_()
    assert html.startswith('<img src="data:image/gif;base64,')
    with Image.open(io.BytesIO(base64.b64decode(html.split(",", 1)[1].split('"')[0]))) as gif:
        assert gif.size == (320, 180) and gif.n_frames == 3


def test_gradflow_gif_colours_mean_one_thing_and_its_counter_ends_at_its_total():
    from matplotlib.colors import to_rgb

    from gradviz.pipelines.gradflow import run_configurations
    from gradviz.render.gradflow import SIGNAL_COLOUR, WEIGHT_COLOUR, GradflowRenderer

    logs = run_configurations(["sigmoid", "relu"], ["default", "he"], depth=3, width=8, steps=5, batch_size=8)
    renderer = GradflowRenderer(logs, size=(480, 270), frames=5)
    used = {to_rgb(c) for c in renderer._loss_colours}
    assert not used & {to_rgb(SIGNAL_COLOUR), to_rgb(WEIGHT_COLOUR)}
    assert renderer.counter.total == int(renderer.frame_steps[-1]) == 4


def test_3d_paths_differ_in_marker_not_only_in_colour():
    from gradviz.lecture.functions import FUNCTIONS
    from gradviz.records import Trajectory
    from gradviz.render.surface3d import surface_3d_renderer

    points = np.linspace((-3.0, -3.0), (3.0, 2.0), 6)
    paths = [Trajectory(points=points + 0.1 * i, losses=FUNCTIONS["himmelblau"](points + 0.1 * i),
                        grad_norms=np.ones(6), lrs=np.full(5, 0.01), optimizer=name, hyperparams={"lr": 0.01},
                        function="himmelblau", steps_requested=5) for i, name in enumerate(("sgd", "momentum", "adam"))]
    renderer = surface_3d_renderer(paths, FUNCTIONS["himmelblau"].surface(resolution=20), size=(480, 270))
    markers = [head.get_marker() for head in renderer.heads]
    assert len(set(markers)) == 3
    assert [h.get_marker() for h in renderer.figure.legends[0].legend_handles] == markers
