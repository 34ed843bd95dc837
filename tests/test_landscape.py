"""Loss landscapes: directions against Li et al.'s definitions, the batched surface against a plain loop
that copies weights in (the reference scripts' way), PCA planes against constructed runs, and the
pictures and command read back."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import gradviz
from gradviz.lecture import make_dataset, mlp, train
from gradviz.analysis.landscape import Plane, evaluate, landscape, line_between, pca_directions, random_directions
from gradviz.lecture.training import loss_function
from gradviz.registry import InvalidArgument


@pytest.fixture(scope="module")
def data():
    return make_dataset("moons", n=120, seed=0)


@pytest.fixture(scope="module")
def trained(data):
    """Three runs of a 2-8-8-1 ReLU MLP from the same initial weights, and the first run's final model."""
    runs, models = [], []
    for name in ("sgd", "momentum", "adam"):
        model = mlp(2, [8, 8], 1, seed=3)
        runs.append(train(model, data, name, steps=30, record_every=3, grid=10))
        models.append(model)
    return runs, models[0]


def own_loss(model, X, y):
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        return float(loss_function(model(X), y))


def loop_surface(model, X, y, plane, a, b, metric="loss"):
    """The reference way: for each grid point copy the weights into the model and evaluate the data set."""
    probe = copy.deepcopy(model).eval()
    z = np.empty((len(b), len(a)))
    for i, bj in enumerate(b):
        for j, ai in enumerate(a):
            flat = plane.origin + ai * plane.d1 + bj * plane.d2
            start = 0
            with torch.no_grad():
                for p in probe.parameters():
                    p.copy_(flat[start:start + p.numel()].reshape(p.shape).to(p.dtype))
                    start += p.numel()
                logits = probe(X)
                if metric == "loss":
                    z[i, j] = float(loss_function(logits, y))
                else:
                    predicted = (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)
                    z[i, j] = float((predicted == y).float().mean())
    return z


def flat(tensors):
    return torch.cat([t.reshape(-1).double() for t in tensors])


# -- directions ------------------------------------------------------------------------------------------

def test_filter_normalized_directions_have_the_weights_norm_per_filter_and_zero_biases():
    model = mlp(2, [6, 5], 3, seed=1)
    d1, d2 = random_directions(model, norm="filter", seed=4)
    for d in (d1, d2):
        for tensor, weight in zip(d, model.parameters()):
            assert tensor.shape == weight.shape
            if weight.dim() == 1:
                assert torch.count_nonzero(tensor) == 0
            else:
                assert torch.allclose(tensor.norm(dim=1), weight.detach().norm(dim=1), rtol=1e-5)
                assert not torch.allclose(tensor, weight)  # a direction, not the weights themselves
    assert not torch.allclose(flat(d1), flat(d2))


def test_layer_norm_none_and_biases_kept():
    model = mlp(2, [6], 1, seed=1)
    d1, _ = random_directions(model, norm="layer", ignore_1d=False, seed=0)
    for tensor, weight in zip(d1, model.parameters()):
        assert torch.isclose(tensor.norm(), weight.detach().norm(), rtol=1e-5)
    raw, _ = random_directions(model, norm="none", ignore_1d=False, seed=0)
    generator = torch.Generator().manual_seed(0)
    expected = [torch.randn(p.shape, generator=generator, dtype=torch.float64).float() for p in model.parameters()]
    assert all(torch.equal(r, e) for r, e in zip(raw, expected))


@pytest.mark.parametrize("norm", ["filter", "layer", "none"])
def test_orthogonal_directions_are_orthogonal_and_keep_their_norms(norm):
    model = mlp(2, [16, 16], 1, seed=2)
    d1, d2 = random_directions(model, norm=norm, orthogonal=True, seed=5)
    assert abs(float(flat(d1) @ flat(d2))) < 1e-4 * float(flat(d1).norm() * flat(d2).norm())
    e1, e2 = random_directions(model, norm=norm, orthogonal=False, seed=5)
    assert abs(float(flat(e1) @ flat(e2))) > 1e-3 * float(flat(e1).norm() * flat(e2).norm())
    assert torch.equal(flat(e1), flat(d1))  # the first direction is the same draw either way
    if norm == "filter":
        for tensor, weight in zip(d2, model.parameters()):
            if weight.dim() > 1:
                assert torch.allclose(tensor.norm(dim=1), weight.detach().norm(dim=1), rtol=1e-5)


def test_unknown_norm_is_refused_not_ignored():
    with pytest.raises(InvalidArgument, match="'filtre'.*did you mean 'filter'"):
        random_directions(mlp(2, [4], 1), norm="filtre")


def test_filter_normalization_makes_the_surface_invariant_to_relu_rescaling(data):
    X, y = data
    model = mlp(2, [8, 8], 1, seed=0)
    train(model, data, "adam", steps=20, grid=10)
    scaled = copy.deepcopy(model)
    c = 4.0
    with torch.no_grad():  # (W1, b1, W2) -> (c W1, c b1, W2 / c): the same function
        scaled.fc1.weight.mul_(c)
        scaled.fc1.bias.mul_(c)
        scaled.fc2.weight.div_(c)
    assert own_loss(model, X, y) == pytest.approx(own_loss(scaled, X, y), rel=1e-5)
    same = [landscape(m, data, grid=7, span=1.0, norm="filter", seed=3).z for m in (model, scaled)]
    np.testing.assert_allclose(same[0], same[1], rtol=1e-4, atol=1e-6)
    raw = [landscape(m, data, grid=7, span=1.0, norm="none", seed=3).z for m in (model, scaled)]
    assert np.abs(raw[0] - raw[1]).max() > 0.05


# -- evaluation ------------------------------------------------------------------------------------------

def test_centre_of_the_grid_is_the_models_own_loss(data, trained):
    X, y = data
    _, model = trained
    surface = landscape(model, data, grid=9, span=0.5)
    assert surface.z.shape == (9, 9) and surface.x[4] == 0 and surface.y[4] == 0
    assert surface.z[4, 4] == pytest.approx(own_loss(model, X, y), rel=1e-6)
    assert surface.z.min() >= 0 and surface.zlabel == "mean training loss"


class Odd(nn.Module):
    """Not an MLP from gradviz.mlp: a residual block with LayerNorm, dropout and three classes."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(2, 6)
        self.norm = nn.LayerNorm(6)
        self.mix = nn.Linear(6, 6)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        h = torch.tanh(self.norm(self.inp(x)))
        return self.head(self.drop(h + torch.relu(self.mix(h))))


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
@pytest.mark.parametrize("kind", ["module", "mlp"])
def test_batched_surface_equals_the_point_by_point_loop_for_any_module(metric, kind):
    X, y = make_dataset("blobs", n=90, classes=3, seed=1)
    torch.manual_seed(0)
    model = Odd() if kind == "module" else mlp(2, [6, 5], 3, activation="tanh", dropout=0.2, seed=0)
    train(model, (X, y), "adam", steps=10, grid=10)
    plane_dirs = random_directions(model, seed=2)
    surface = landscape(model, (X, y), directions=plane_dirs, grid=5, span=0.8, metric=metric)
    plane = Plane(flat(model.parameters()), flat(plane_dirs[0]), flat(plane_dirs[1]), "given", ("a", "b"))
    expected = loop_surface(model, X, y, plane, surface.x, surface.y, metric)
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5, atol=1e-6)
    assert model.training  # the model's mode is restored


@pytest.mark.parametrize("shape", ["linear", "gelu-3-hidden", "relu-3-hidden"])
def test_plane_mlp_path_equals_the_loop_for_other_mlp_shapes(shape):
    """The MLP plane path (first layer precomputed, bias folded in, buffers reused): one layer only, module
    activations written back around the column of ones, and layers after the second, with uneven chunks."""
    X, y = make_dataset("blobs", n=60, classes=3, seed=2)
    if shape == "linear":
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 3))
    else:
        model = mlp(2, [5, 4, 6], 3, activation=shape.split("-")[0], seed=1)
    plane_dirs = random_directions(model, seed=4, ignore_1d=False)
    surface = landscape(model, (X, y), directions=plane_dirs, grid=5, span=0.8, chunk=4)
    plane = Plane(flat(model.parameters()), flat(plane_dirs[0]), flat(plane_dirs[1]), "given", ("a", "b"))
    expected = loop_surface(model, X, y, plane, surface.x, surface.y)
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5, atol=1e-6)


def test_chunked_equals_unchunked(data, trained):
    _, model = trained
    whole = landscape(model, data, grid=11, span=1.0, seed=1)
    pieces = landscape(model, data, grid=11, span=1.0, seed=1, chunk=7)
    np.testing.assert_allclose(pieces.z, whole.z, rtol=1e-6, atol=1e-7)


def test_line_runs_from_the_initial_weights_to_the_model(data, trained):
    X, y = data
    runs, model = trained
    curve = landscape(model, data, directions="line", runs=runs[0], grid=21)
    assert curve.is_curve and curve.z.shape == (1, 21)
    assert curve.x[0] == -0.5 and curve.x[-1] == 1.5
    assert curve.z[0, 5] == pytest.approx(runs[0].loss[0], rel=1e-5)  # alpha 0: the initial weights
    assert curve.z[0, 15] == pytest.approx(own_loss(model, X, y), rel=1e-5)  # alpha 1: the model
    other = line_between(runs[1].snapshots[-1], runs[2].snapshots[-1])
    between = evaluate(model, data, (other.origin + 0.5 * other.d1).numpy()[None])
    assert np.isfinite(between).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_surface_equals_cpu(data, trained):
    _, model = trained
    cpu = landscape(model, data, grid=9, span=1.0)
    gpu = landscape(model, data, grid=9, span=1.0, device="cuda")
    np.testing.assert_allclose(gpu.z, cpu.z, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kwargs, shown", [
    (dict(grid=2), "invalid grid: 2"),
    (dict(span=0.0), "invalid span: 0.0"),
    (dict(span=float("inf")), "invalid span: inf"),
    (dict(directions="sideways"), "unknown plane 'sideways'"),
    (dict(metric="f1"), "unknown metric 'f1'"),
    (dict(device="tpu"), "invalid device 'tpu'"),
    (dict(directions="pca"), "needs runs="),
])
def test_bad_landscape_arguments_name_the_value(data, trained, kwargs, shown):
    with pytest.raises(InvalidArgument, match=shown):
        landscape(trained[1], data, **kwargs)


def test_data_the_model_cannot_take_is_refused(trained):
    X = torch.randn(10, 3)
    with pytest.raises(InvalidArgument, match="3 features.*takes 2"):
        landscape(trained[1], (X, torch.zeros(10, dtype=torch.long)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_clear_error(data, trained):
    with pytest.raises(InvalidArgument, match="CUDA is not available"):
        landscape(trained[1], data, device="cuda")


# -- PCA planes ------------------------------------------------------------------------------------------

def test_pca_origin_is_the_chosen_model_and_paths_are_measured_honestly(data, trained):
    X, y = data
    runs, model = trained
    surface, paths = landscape(model, data, directions="pca", runs=runs, grid=9, paths=True)
    first = paths[0]
    np.testing.assert_allclose(first.coords[-1], 0.0, atol=1e-9)  # the final model of run 0 is the origin
    assert first.off_plane[-1] == pytest.approx(0.0, abs=1e-9)
    assert first.loss[-1] == pytest.approx(own_loss(model, X, y), rel=1e-5)
    assert first.surface_loss[-1] == pytest.approx(first.loss[-1], rel=1e-5)
    # every snapshot's own loss is the loss of its weights (index 0: the training loss before any step)
    for path, run in zip(paths, runs):
        assert path.loss[0] == pytest.approx(run.loss[0], rel=1e-5)
        np.testing.assert_array_equal(path.steps, run.record_steps)
    assert np.all(first.off_plane >= 0) and max(p.off_plane.max() for p in paths) > 0
    assert surface.explained is not None and 0 < surface.explained.sum() <= 1 + 1e-9
    assert surface.xlabel.startswith("PC1 (") and "%" in surface.ylabel


def test_a_run_inside_two_directions_lies_on_its_pca_plane():
    rng = np.random.default_rng(0)
    P = 40
    u, v = rng.normal(size=P), rng.normal(size=P)
    final = rng.normal(size=P)
    t = np.linspace(0, 1, 12)
    snapshots = final + np.outer(np.cos(3 * t) * (1 - t), u) + np.outer(np.sin(2 * t) * (1 - t), v)
    plane = pca_directions(snapshots)
    [(coords, off)] = plane.paths()
    np.testing.assert_allclose(off, 0.0, atol=1e-9)
    np.testing.assert_allclose(coords[-1], 0.0, atol=1e-12)
    assert plane.explained.sum() == pytest.approx(1.0)
    # the coordinates reproduce the snapshots exactly
    rebuilt = plane.origin.numpy() + coords[:, :1] * plane.d1.numpy() + coords[:, 1:] * plane.d2.numpy()
    np.testing.assert_allclose(rebuilt, snapshots, atol=1e-9)
    lifted = snapshots + np.outer(t * (1 - t), rng.normal(size=P))
    assert pca_directions(lifted).coordinates(lifted)[1].max() > 1e-3


def test_a_shared_pca_plane_needs_the_same_initial_weights(data):
    a = train(mlp(2, [4], 1, seed=0), data, "sgd", steps=5, grid=10)
    b = train(mlp(2, [4], 1, seed=1), data, "sgd", steps=5, grid=10)
    with pytest.raises(InvalidArgument, match="did not start from the same weights"):
        pca_directions([a, b])


# -- pictures and the command ----------------------------------------------------------------------------

def test_landscape_renderer_draws_paths_boundaries_and_the_gap(data, trained):
    from gradviz.render.landscape import LandscapeRenderer

    runs, model = trained
    surface, paths = landscape(model, data, directions="pca", runs=runs, grid=9, paths=True)
    renderer = LandscapeRenderer(surface, paths, runs, size=(480, 270), frames=4)
    frames = list(renderer)
    assert len(frames) == 4 and frames[0].shape == (270, 480, 3)
    assert not np.array_equal(frames[0], frames[-1])
    np.testing.assert_allclose(renderer.trails.get_segments()[1], paths[1].coords)
    own, on_plane = renderer.own_lines.get_segments(), renderer.flat_lines.get_segments()
    np.testing.assert_allclose(own[2][:, 1], paths[2].loss)
    np.testing.assert_allclose(on_plane[2][:, 1], paths[2].surface_loss)
    assert "off plane" in renderer.gap_text.get_text()
    # a colour bar says which way is high: 'low' at the contours' lowest level, 'high' at their highest
    bars = [ax for ax in renderer.figure.axes if [t.get_text() for t in ax.get_yticklabels()] == ["low", "high"]]
    assert len(bars) == 1
    levels = next(c for c in renderer.axes.collections if hasattr(c, "levels")).levels
    np.testing.assert_allclose(bars[0].get_yticks(), [levels[0], levels[-1]])


def test_landscape_panels_legend_and_table_say_each_thing_once(data, trained):
    from dataclasses import replace

    from gradviz.render.landscape import LandscapeRenderer

    runs, model = trained
    surface, paths = landscape(model, data, directions="pca", runs=runs, grid=5, paths=True)

    def run(index, optimizer, lr, schedule=None):
        return replace(runs[index], optimizer=optimizer, hyperparams={"lr": lr}, schedule=schedule,
                       label=f"{optimizer} (lr={lr:g})" + (f" @{schedule}" if schedule else ""))

    rates = ["lr=0.001", "lr=0.01"]
    schedules = ["constant lr", "@cosine", "@step:gamma=0.3"]
    mixed = [run(0, "sgd", 0.01), run(1, "sgd", 0.1), run(2, "adam", 0.01, "cosine")]
    cases = [  # runs -> legend title, legend entries, panel and table names
        ([run(0, "adam", 1e-3), run(1, "adam", 1e-2)], "adam", rates, rates),
        ([run(i, "adam", 0.02, s) for i, s in enumerate([None, "cosine", "step:gamma=0.3"])], "adam (lr=0.02)",
         schedules, schedules),
        (runs, "", [r.label for r in runs], ["sgd", "momentum", "adam"]),
        (mixed, "", [r.label for r in mixed], ["sgd lr=0.01", "sgd lr=0.1", "adam lr=0.01"]),
    ]
    for shown, title, entries, names in cases:
        renderer = LandscapeRenderer(surface, paths[:len(shown)], shown, size=(480, 270), frames=2)
        renderer.frame(1)
        legend = renderer.axes.get_legend()
        assert legend.get_title().get_text() == title
        assert [t.get_text() for t in legend.get_texts()] == entries
        assert [pax.get_title() for pax, *_ in renderer.panels] == names
        rows = renderer.gap_text.get_text().splitlines()[1:]
        assert [row[:len(name)] for row, name in zip(rows, names)] == names


def test_plot_functions_draw_on_the_current_axes(data, trained):
    import matplotlib.pyplot as plt

    from gradviz.render.landscape import plot_curve, plot_landscape

    runs, model = trained
    surface, paths = landscape(model, data, directions="pca", runs=runs, grid=9, paths=True)
    fig = plt.figure()
    ax = plot_landscape(surface, paths, kind="heatmap")
    assert ax is plt.gca() and ax.get_xlabel() == surface.xlabel
    np.testing.assert_allclose(ax.lines[1].get_xydata(), paths[0].coords)
    curve = landscape(model, data, directions="line", runs=runs, grid=11)
    ax2 = plot_curve(curve, ax=fig.add_subplot(2, 1, 2))
    np.testing.assert_allclose(ax2.lines[0].get_ydata(), curve.z[0])
    with pytest.raises(InvalidArgument):
        plot_landscape(curve)
    plt.close(fig)


def test_3d_view_draws_the_surface_once_with_a_fixed_camera(monkeypatch):
    from gradviz.render.surface3d import Surface3DRenderer, surface_3d_renderer

    paths = [gradviz.trace("himmelblau", name, steps=12) for name in ("sgd", "adam")]
    surface = gradviz.get_function("himmelblau").surface(resolution=40)
    renderer = surface_3d_renderer(paths, surface, size=(400, 240), frames=5)
    calls = []
    monkeypatch.setattr(renderer.canvas, "draw", lambda *a, **k: calls.append(1))
    frames = list(renderer)
    assert len(frames) == 5 and not calls  # only the paths were drawn per frame
    x, y, z = renderer.trails[1].get_data_3d()
    np.testing.assert_allclose(np.column_stack([x, y]), paths[1].points)
    np.testing.assert_allclose(z, np.log10(np.maximum(paths[1].losses, np.nanpercentile(surface.z[surface.z > 0], 0.5))))
    assert not np.array_equal(frames[0], frames[-1])
    spinning = Surface3DRenderer(surface, renderer.paths, size=(400, 240), frames=3, spin=30)
    before = spinning.axes.azim
    spinning.frame(2)
    assert spinning.axes.azim == pytest.approx(before + 30)


def test_3d_view_without_paths_has_no_step_counter_and_its_axis_labels_inside_the_figure():
    """Issue 31: a Hessian plane (its paths off the window) said 'step 300/300' with no path drawn, and its
    x-axis label ran off the bottom of the picture."""
    from gradviz.records import Surface
    from gradviz.render.surface3d import Surface3DRenderer

    x = np.linspace(-1, 1, 15)
    X, Y = np.meshgrid(x, x)
    surface = Surface(x, x, X**2 + 3 * Y**2 + 0.01, name="hessian plane", xlabel="eigenvector 1 × 7.69 (λ₁ = 1.92)",
                      ylabel="eigenvector 2 × 7.69 (λ₂ = 0.568)",
                      zlabel="mean training loss", log_scale=True, floor=0.0)
    renderer = Surface3DRenderer(surface, [], title="a plane without paths", total=300)
    frame = renderer.frame(0)
    figure, drawer = renderer.canvas.figure, renderer.canvas.get_renderer()
    assert [t.get_text() for t in figure.texts] == ["a plane without paths"]  # no 'step 300/300'
    assert frame[:40, 700:].min() > 200  # the top right corner, where the counter was, is blank
    for axis in (renderer.axes.xaxis, renderer.axes.yaxis, renderer.axes.zaxis):
        box = axis.label.get_window_extent(drawer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= figure.bbox.x1 and box.y1 <= figure.bbox.y1, axis.label


def test_landscape_animation_checks_hessian_scale_before_training(tmp_path):
    with pytest.raises(InvalidArgument, match=r"invalid hessian_scale: 'filter' \(one of 'unit', 'norm'\)"):
        gradviz.landscape_animation(tmp_path / "h.png", plane="hessian", hessian_scale="filter", view="3d")
    assert not list(tmp_path.iterdir())


def test_trajectories_3d_and_landscape_pipeline_write_files(tmp_path, read_gif):
    out = gradviz.trajectories("himmelblau", ["adam"], tmp_path / "h3d.gif", steps=10, view="3d",
                               size=(320, 200), frames=4)
    frames, _, _, size = read_gif(out)
    assert len(frames) == 4 and size == (320, 200)
    gif = gradviz.landscape_animation(tmp_path / "l.gif", n=60, hidden=(4,), optimizers=("sgd", "adam"), steps=10,
                                      grid=7, size=(480, 270), frames=3)
    frames, _, _, size = read_gif(gif)
    assert len(frames) == 3 and size == (480, 270)
    png = gradviz.landscape_animation(tmp_path / "line.png", n=60, hidden=(4,), optimizers=("sgd",), steps=10,
                                      plane="line", grid=7, size=(480, 270))
    assert png.stat().st_size > 0
    with pytest.raises(InvalidArgument, match="unknown view"):
        gradviz.trajectories("himmelblau", ["adam"], tmp_path / "x.gif", view="4d")
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("args, shown", [
    (["--plane", "sideways"], "'sideways'"),
    (["--grid", "2"], "invalid grid: 2"),
    (["--span", "-1"], "invalid span: -1.0"),
    (["--span", "inf"], "invalid span: inf"),
    (["--norm", "filtre"], "'filtre'"),
    (["--view", "4d"], "'4d'"),
    (["--metric", "f1"], "'f1'"),
    (["--device", "tpu"], "invalid device 'tpu'"),
    (["--plane", "line"], "write a .png"),
] + ([] if torch.cuda.is_available() else [(["--device", "cuda"], "CUDA is not available")]))
def test_landscape_command_bad_input_is_one_line_exit_2_no_file(tmp_path, monkeypatch, capsys, args, shown):
    from gradviz.cli import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["landscape", *args, "-o", "out.gif"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and shown in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
