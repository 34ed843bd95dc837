"""Your own model and data: landscapes of a CNN on images, through a DataLoader, with a regression loss, the
model left as found, a resumable cache, PCA as the reference code fits it, checkpoints, and the CLI's loaders.

Every surface is compared with a point-by-point loop written here: copy the weights of a grid point into a
copy of the model, run the whole data set in eval mode, take the mean loss."""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from gradviz.analysis.evaluation import choose_strategy
from gradviz.analysis.landscape import landscape, pca_directions, random_directions
from gradviz.registry import InvalidArgument

import reference


def make_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.3), nn.Flatten(), nn.Linear(64, 3))


@pytest.fixture(scope="module")
def images():
    generator = torch.Generator().manual_seed(1)
    X = torch.randn(96, 1, 8, 8, generator=generator)
    y = torch.randint(0, 3, (96,), generator=generator)
    return X, y


@pytest.fixture
def cnn(images):
    model = make_cnn()
    model.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics that are not BatchNorm's initial 0 and 1
            model(images[0] * 2 + 1)
    return model


def loop_surface(model, X, y, d1, d2, a, b, loss=nn.functional.cross_entropy):
    """The reference on whole tensors: one grid point at a time, weights copied into a copy of the model, eval mode."""
    return reference.loop_surface(model, [(X, y)], d1, d2, a, b, lambda net, batch: loss(net(batch[0]), batch[1]))


def test_cnn_with_batchnorm_on_images_equals_the_loop(cnn, images):
    X, y = images
    d1, d2 = random_directions(cnn, seed=3)
    surface = landscape(cnn, (X, y), directions=(d1, d2), grid=5, span=0.6)
    assert choose_strategy(cnn) == "points"
    expected = loop_surface(cnn, X, y, d1, d2, surface.x, surface.y)
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5, atol=1e-6)
    assert surface.z[2, 2] == pytest.approx(float(nn.functional.cross_entropy(copy.deepcopy(cnn).eval()(X), y).detach()),
                                            rel=1e-6)


def test_a_dataloader_and_a_list_of_batches_give_the_mean_over_all_samples(cnn, images):
    X, y = images
    whole = landscape(cnn, (X, y), grid=3, span=0.5)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=25)  # 25, 25, 25, 21
    through_loader = landscape(cnn, loader, grid=3, span=0.5)
    batches = [(X[i:i + 40], y[i:i + 40]) for i in range(0, 96, 40)]  # 40, 40, 16
    through_list = landscape(cnn, batches, grid=3, span=0.5)
    np.testing.assert_allclose(through_loader.z, whole.z, rtol=1e-6)
    np.testing.assert_allclose(through_list.z, whole.z, rtol=1e-6)
    small_batches = landscape(cnn, (X, y), grid=3, span=0.5, batch_size=7)
    np.testing.assert_allclose(small_batches.z, whole.z, rtol=1e-6)


@pytest.mark.parametrize("strategy", ["mlp", "vmap", "points"])
def test_regression_with_an_mse_loss_fn_equals_the_loop(strategy):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    X, Y = torch.randn(50, 3), torch.randn(50, 2)
    d1, d2 = random_directions(model, seed=1)
    surface = landscape(model, (X, Y), directions=(d1, d2), grid=4, span=0.7, loss_fn=nn.MSELoss(),
                        strategy=strategy)
    expected = loop_surface(model, X, Y, d1, d2, surface.x, surface.y, loss=nn.MSELoss())
    np.testing.assert_allclose(surface.z, expected, rtol=1e-5)
    assert surface.zlabel == "mean loss"


def test_the_model_is_left_exactly_as_found(cnn, images):
    cnn[1].eval()  # a submodule in another mode than its parent: both flags must come back
    state = {k: v.clone() for k, v in cnn.state_dict().items()}
    modes = [m.training for m in cnn.modules()]
    landscape(cnn, images, grid=3, span=1.0, metric="accuracy")
    assert [m.training for m in cnn.modules()] == modes
    for key, value in cnn.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_a_metric_and_a_loss_that_return_no_single_number_are_refused(cnn, images):
    with pytest.raises(InvalidArgument, match="reduction='none'"):
        landscape(cnn, images, grid=3, loss_fn=nn.CrossEntropyLoss(reduction="none"))
    with pytest.raises(InvalidArgument, match="not one number"):
        landscape(cnn, images, grid=3, loss_fn=lambda out, y: nn.functional.cross_entropy(out, y, reduction="none"))
    with pytest.raises(InvalidArgument, match="one-shot iterator"):
        landscape(cnn, iter([images]), grid=3)
    with pytest.raises(InvalidArgument, match="unknown loss 'mse2'"):
        landscape(cnn, images, grid=3, loss_fn="mse2")


def test_an_interrupted_cached_run_resumes_to_the_same_surface(cnn, images, tmp_path):
    calls = []

    def counted(outputs, targets):
        calls.append(1)
        return nn.functional.cross_entropy(outputs, targets)

    whole = landscape(cnn, images, grid=5, span=0.5, loss_fn=counted, chunk=4)
    checks = 2  # batch 0's checks before the grid: the loss, and the loss on the batch given twice
    assert len(calls) == checks + 25  # one batch: one call per point
    cache = tmp_path / "grid.npz"

    def stop_after_two_chunks(done, total):
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        landscape(cnn, images, grid=5, span=0.5, loss_fn=counted, chunk=4, cache=cache, progress=stop_after_two_chunks)
    calls.clear()
    resumed = landscape(cnn, images, grid=5, span=0.5, loss_fn=counted, chunk=4, cache=cache)
    assert len(calls) == checks + 25 - 8  # only the points the first run did not finish
    np.testing.assert_array_equal(resumed.z, whole.z)
    calls.clear()
    again = landscape(cnn, images, grid=5, span=0.5, loss_fn=counted, chunk=4, cache=cache)
    assert len(calls) == checks and np.array_equal(again.z, whole.z)
    with pytest.raises(InvalidArgument, match="made for another directions"):
        landscape(cnn, images, grid=5, span=0.5, loss_fn=counted, seed=1, cache=cache)
    with pytest.raises(InvalidArgument, match="made for another grid or span"):
        landscape(cnn, images, grid=5, span=0.4, loss_fn=counted, cache=cache)
    with pytest.raises(InvalidArgument, match="made for another data"):
        landscape(cnn, (images[0][:90], images[1][:90]), grid=5, span=0.5, loss_fn=counted, cache=cache)
    other = make_cnn(seed=5)
    with pytest.raises(InvalidArgument, match="made for another weights"):
        landscape(other, images, grid=5, span=0.5, loss_fn=counted, cache=cache)


def test_pca_ratios_and_directions_are_those_of_a_centred_pca():
    sklearn = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.normal(size=(15, 40)) * np.linspace(2, 0.1, 40), axis=0)  # a drifting "run"
    plane = pca_directions(steps)
    delta = steps - steps[-1]
    pca = sklearn.PCA(n_components=2).fit(delta)
    np.testing.assert_allclose(plane.explained, pca.explained_variance_ratio_, rtol=1e-9)
    for mine, theirs in zip((plane.d1, plane.d2), pca.components_):
        assert abs(float(mine.numpy() @ theirs)) == pytest.approx(1.0, abs=1e-9)
    coords, _ = plane.coordinates(steps)
    np.testing.assert_allclose(coords[-1], 0.0, atol=1e-12)  # the final weights at the origin, uncentred
    np.testing.assert_allclose(coords[:, 0], delta @ plane.d1.numpy(), atol=1e-9)


def test_checkpoint_files_give_the_plane_of_their_flat_weights(cnn, images, tmp_path):
    snapshots, files = [], []
    optimizer = torch.optim.SGD(cnn.parameters(), lr=0.1)
    for epoch in range(4):
        loss = nn.functional.cross_entropy(cnn(images[0]), images[1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path = tmp_path / f"epoch-{epoch * 5}.pt"  # epoch-5 must sort before epoch-10
        wrapped = {"model_state_dict": cnn.state_dict(), "epoch": epoch}
        torch.save(wrapped if epoch % 2 else {f"module.{k}": v for k, v in cnn.state_dict().items()}, path)
        files.append(str(path))
        snapshots.append(torch.cat([p.detach().reshape(-1) for p in cnn.parameters()]).double().numpy())
    from gradviz.analysis.loading import expand_checkpoints

    assert expand_checkpoints(str(tmp_path / "epoch-*.pt")) == files
    from_files = pca_directions(files, model=cnn)
    from_arrays = pca_directions(np.stack(snapshots))
    np.testing.assert_allclose(from_files.explained, from_arrays.explained)
    np.testing.assert_allclose(from_files.d1.numpy(), from_arrays.d1.numpy())
    surface, paths = landscape(cnn, images, directions="pca", runs=files, grid=3, paths=True)
    assert len(paths) == 1 and paths[0].coords.shape == (4, 2)
    np.testing.assert_allclose(paths[0].coords[-1], 0.0, atol=1e-9)
    with pytest.raises(InvalidArgument, match="does not fit the model"):
        pca_directions(files, model=make_cnn().append(nn.Linear(3, 2)))


TORCHRUN_SCRIPT = """
import sys, numpy as np, torch
from torch import nn
import torch.distributed as dist
from gradviz.analysis.landscape import landscape
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 2))
X, y = torch.randn(40, 1, 8, 8), torch.randint(0, 2, (40,))
surface = landscape(model, (X, y), grid=5, span=0.5, chunk=3)
assert dist.is_initialized() and dist.get_world_size() == 2
np.save(sys.argv[1] + f"/rank{dist.get_rank()}.npy", surface.z)
"""


def test_two_gloo_processes_under_torchrun_equal_one_process(tmp_path):
    script = tmp_path / "surface.py"
    script.write_text(TORCHRUN_SCRIPT)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             str(script), str(tmp_path)], capture_output=True, text=True, timeout=180,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[:3000]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 2))
    X, y = torch.randn(40, 1, 8, 8), torch.randint(0, 2, (40,))
    single = landscape(model, (X, y), grid=5, span=0.5, chunk=3, distributed=False)
    for rank in (0, 1):
        np.testing.assert_allclose(np.load(tmp_path / f"rank{rank}.npy"), single.z, rtol=1e-6)


USER_MODULE = """
import torch
from torch import nn

def make_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 36, 2))

def images():
    g = torch.Generator().manual_seed(0)
    return torch.randn(30, 1, 6, 6, generator=g), torch.randint(0, 2, (30,), generator=g)

def loader():
    X, y = images()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=8)

def targets_as_float(outputs, targets):
    return nn.functional.mse_loss(outputs[:, 0], targets.float())
"""


def _gradviz(args, cwd, command="landscape"):
    return subprocess.run([sys.executable, "-m", "gradviz", command, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=240)


def test_the_cli_loads_your_model_data_weights_and_checkpoints(tmp_path):
    from PIL import Image

    (tmp_path / "mine.py").write_text(USER_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        import mine
    finally:
        sys.path.remove(str(tmp_path))
    model = mine.make_cnn()
    X, y = mine.images()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    for epoch in range(3):
        loss = nn.functional.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        torch.save(model.state_dict(), tmp_path / f"epoch-{epoch}.pt")
    common = ["--model", "mine:make_cnn", "--grid", "5", "-q"]
    result = _gradviz([*common, "--weights", "epoch-2.pt", "--data", "mine:images", "-o", "w.png"], tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "w.png") as image:
        assert image.size == (960, 540)
    result = _gradviz([*common, "--data", "mine:loader", "--checkpoints", "epoch-*.pt", "--loss",
                       "mine:targets_as_float", "--cache", "c.npz", "-o", "p.png"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p.png").stat().st_size > 10_000 and (tmp_path / "c.npz").exists()
    bad = [
        (["--model", "mine:make_cnnn", "--data", "mine:images"], "has no attribute 'make_cnnn'"),
        (["--model", "mine:make_cnn", "--data", "mien:images"], "no module named 'mien'"),
        (["--model", "mine:make_cnn", "--data", "mine:images", "--weights", "nope.pt"], "does not exist"),
        (["--model", "mine:make_cnn", "--data", "mine:images", "--weights", "mine.py"], "not a torch state_dict"),
        (["--model", "mine:make_cnn", "--data", "mine:images", "--loss", "mse2"], "unknown loss 'mse2'"),
        (["--model", "mine:make_cnn", "--data", "mine:images", "--hidden", "4"], "--hidden sets up the toy net"),
        (["--data", "mine:images"], "--data belongs to your own model"),
        (["--model", "mine:make_cnn", "--data", "mine:images", "--checkpoints", "none-*.pt"], "match 0 file(s)"),
    ]
    for args, message in bad:
        result = _gradviz([*args, "-o", "bad.png"], tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert not (tmp_path / "bad.png").exists()
    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "other.pt")
    result = _gradviz(["--model", "mine:make_cnn", "--data", "mine:images", "--weights", "other.pt", "-o", "bad.png"],
                      tmp_path)
    assert result.returncode == 2 and "does not fit the model: missing 0.weight" in result.stderr, result.stderr
    result = _gradviz(["--model", "mine:make_cnn", "--data", "mine:loader", "--steps", "6", "-q", "-o", "g.png"],
                      tmp_path, command="gradflow")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.png").exists()


def test_gradflow_of_your_own_model_is_its_plain_training_loop(images):
    from gradviz.analysis.gradients import gradflow_model

    X, y = images
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=40)  # 40, 40, 16
    mine, plain = make_cnn(), make_cnn()
    log = gradflow_model(mine, loader, optimizer="sgd:momentum=0.9", lr=0.05, steps=5)
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.05, momentum=0.9)
    losses, first_grad = [], None
    torch.manual_seed(0)  # gradflow_model seeds torch's generator (dropout) with seed=0
    plain.train()
    while len(losses) < 5:  # the loader read again and again, as a user's epochs read it (each pass draws a seed)
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(plain(xb), yb)
            loss.backward()
            if first_grad is None:
                first_grad = float(plain[0].weight.grad.norm())
            losses.append(float(loss.detach()))
            optimizer.step()
            if len(losses) == 5:
                break
    np.testing.assert_allclose(log.losses, losses, rtol=1e-6)
    assert log.grad_norms["0"][0] == pytest.approx(first_grad, rel=1e-6)
    for a, b in zip(mine.parameters(), plain.parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cnn_surface_on_cuda_equals_the_cpu_one(cnn, images, tmp_path):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*images), batch_size=32)
    cpu = landscape(cnn, loader, grid=5, span=0.5)
    gpu = landscape(cnn.cuda(), loader, grid=5, span=0.5, device="cuda", cache=tmp_path / "c.npz")
    np.testing.assert_allclose(gpu.z, cpu.z, atol=1e-4)
    regressor = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    X, Y = torch.randn(40, 3), torch.randn(40, 1)
    cpu = landscape(regressor, (X, Y), grid=5, loss_fn=nn.MSELoss())
    gpu = landscape(regressor.cuda(), (X, Y), grid=5, loss_fn=nn.MSELoss(), device="cuda")
    np.testing.assert_allclose(gpu.z, cpu.z, atol=1e-4)


# -- the point path at the forward pass's cost: one reusable weight vector, the same numbers as the loop ------

class _Block(nn.Module):
    """A residual block as ResNet writes it: conv-BN-ReLU-conv-BN plus a 1x1 shortcut, in eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.short = nn.Sequential(nn.Conv2d(1, 4, 1, bias=False), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        h = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + self.short(x))
        return self.head(h.mean((2, 3)))


class _Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed, self.lstm, self.head = nn.Embedding(11, 4), nn.LSTM(4, 5, batch_first=True), nn.Linear(5, 3)

    def forward(self, ids):
        return self.head(self.lstm(self.embed(ids))[0][:, -1])


def _warmed(model, X):
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(X)
    return model.eval()


@pytest.mark.parametrize("kind", ["residual-bn", "float64", "lstm"])
def test_the_point_path_equals_the_loop_on_residual_float64_and_recurrent_models(kind, images):
    X, y = images
    torch.manual_seed(2)
    if kind == "residual-bn":
        model = _warmed(_Block(), X * 1.5 + 0.5)
    elif kind == "float64":
        model, X = _warmed(make_cnn(1).double(), X.double() * 1.5 + 0.5), X.double()
    else:
        X = torch.randint(0, 11, (40, 6), generator=torch.Generator().manual_seed(3))
        y, model = y[:40], _Recurrent()
    assert choose_strategy(model) == "points"
    d1, d2 = random_directions(model, seed=5)
    # batches of 25: several batches and a short last one, read once per chunk of 4 points
    surface = landscape(model, (X, y), directions=(d1, d2), grid=3, span=0.7, batch_size=25, chunk=4)
    expected = loop_surface(model, X, y, d1, d2, surface.x, surface.y)
    tight = kind == "float64"
    np.testing.assert_allclose(surface.z, expected, rtol=1e-12 if tight else 1e-5, atol=1e-12 if tight else 1e-6)


def test_channels_last_equals_the_plain_point_path(cnn, images):
    d1, d2 = random_directions(cnn, seed=3)
    plain = landscape(cnn, images, directions=(d1, d2), grid=3, span=0.6)
    other = landscape(cnn, images, directions=(d1, d2), grid=3, span=0.6, channels_last=True)
    np.testing.assert_allclose(other.z, plain.z, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss_fn", [None, "mse-onehot", "callable"])
def test_samples_n_uses_one_seeded_subset_and_its_standard_error_is_the_numpy_one(cnn, images, loss_fn):
    X, y = images
    d1, d2 = random_directions(cnn, seed=3)
    fn = None
    if loss_fn == "callable":
        fn = lambda out, t: nn.functional.cross_entropy(out, t)  # noqa: E731  (per-sample form unknown)
    elif loss_fn == "mse-onehot":
        y = nn.functional.one_hot(y, 3).double()
        fn = "mse"
    surface = landscape(cnn, (X, y), directions=(d1, d2), grid=3, span=0.6, samples=40, seed=4, loss_fn=fn)
    again = landscape(cnn, (X, y), directions=(d1, d2), grid=3, span=0.6, samples=40, seed=4, loss_fn=fn)
    np.testing.assert_array_equal(surface.z, again.z)
    assert (surface.samples, surface.total_samples) == (40, 96)
    chosen = torch.randperm(96, generator=torch.Generator().manual_seed(4))[:40].sort().values
    net = copy.deepcopy(cnn).eval()
    base = [p.detach().clone() for p in net.parameters()]
    for i, bj in enumerate(surface.y):
        for j, ai in enumerate(surface.x):
            with torch.no_grad():
                for p, w, u, v in zip(net.parameters(), base, d1, d2):
                    p.copy_(w + ai * u + bj * v)
                out = net(X[chosen])
            if loss_fn == "callable":  # 16 batches of ceil(40 / 16) = 3 samples: the error of their means
                values = np.array([float(nn.functional.cross_entropy(out[k:k + 3], y[chosen][k:k + 3]))
                                   for k in range(0, 40, 3)])
                sizes = np.array([len(range(k, min(k + 3, 40))) for k in range(0, 40, 3)])
                mean = float((values * sizes).sum() / 40)
                spread = float((values ** 2 * sizes).sum() / 40 - mean ** 2) * len(values) / (len(values) - 1)
                error = np.sqrt(spread / len(values))
            else:
                if loss_fn == "mse-onehot":
                    each = ((out.double() - y[chosen]) ** 2).mean(1).numpy()
                else:
                    each = nn.functional.cross_entropy(out, y[chosen], reduction="none").numpy()
                mean, error = each.mean(), each.std(ddof=1) / np.sqrt(len(each))
            assert surface.z[i, j] == pytest.approx(mean, rel=1e-5)
            assert surface.error[i, j] == pytest.approx(error, rel=1e-4)


def test_the_figure_states_the_subset_and_its_error(cnn, images):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gradviz.render.landscape import plot_landscape

    surface = landscape(cnn, images, grid=3, span=0.6, samples=30)
    fig, ax = plt.subplots()
    plot_landscape(surface, ax=ax)
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert any(t.startswith("mean over 30 of 96 samples; standard error median") for t in texts)


class _Scaled(nn.Module):
    """Its first convolution reads 2 x, not the input itself: no shortcut may be taken."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.head = nn.Conv2d(1, 3, 3), nn.Linear(3 * 36, 3)

    def forward(self, x):
        return self.head(torch.relu(self.conv(2 * x)).flatten(1))


class _Tied(nn.Module):
    """Its first Linear layer's weight is used again later: no shortcut may be taken."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.Linear(64, 64), nn.Linear(64, 64)
        self.second.weight = self.first.weight
        self.head = nn.Linear(64, 3)
        self.norm = nn.LayerNorm(64)

    def forward(self, x):
        return self.head(self.second(torch.tanh(self.norm(self.first(x.flatten(1))))))


@pytest.mark.parametrize("kind", ["cnn", "residual-bn", "scaled", "tied"])
def test_the_first_layer_once_per_batch_equals_the_plain_path(kind, cnn, images):
    from gradviz.analysis.landscape import _evaluator

    X, y = images
    torch.manual_seed(1)
    model = {"cnn": lambda: cnn, "residual-bn": lambda: _warmed(_Block(), X), "scaled": _Scaled,
             "tied": lambda: nn.Sequential(nn.Flatten(), _Tied())}[kind]()
    # biases and norms in the directions too: the bias's part of the first layer is carried as well
    d1, d2 = random_directions(model, seed=6, ignore_1d=False)
    common = dict(directions=(d1, d2), grid=3, span=0.8, batch_size=40, strategy="points")
    fast = landscape(model, (X, y), first_layer=True, **common)
    plain = landscape(model, (X, y), first_layer=False, **common)
    np.testing.assert_allclose(fast.z, plain.z, rtol=1e-5, atol=1e-6)
    evaluator = _evaluator(model, (X, y), device="cpu", metric="loss", loss_fn=None, chunk=None)
    found = evaluator._first_layer(X)
    assert (found is not None) == (kind in ("cnn", "residual-bn"))
    if found is not None:
        assert found[0] is (model[0] if kind == "cnn" else model.conv1)


def test_precision_is_checked_where_the_evaluator_is_built(cnn, images):
    with pytest.raises(InvalidArgument, match="unknown precision|invalid precision|precision"):
        landscape(cnn, images, grid=3, precision="fp8")
    with pytest.raises(InvalidArgument, match="needs a float32 model on a CUDA device"):
        landscape(cnn, images, grid=3, precision="bf16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_a_lower_precision_cuda_surface_is_near_the_float32_one(cnn, images, precision):
    d1, d2 = random_directions(cnn, seed=3)
    exact = landscape(cnn, images, directions=(d1, d2), grid=3, span=0.6, device="cuda")
    fast = landscape(cnn, images, directions=(d1, d2), grid=3, span=0.6, device="cuda", precision=precision)
    np.testing.assert_allclose(fast.z, exact.z, rtol=3e-2 if precision == "bf16" else 5e-3)


# -- the fast paths on the other batch forms: several inputs, (dict, y), a compute_loss -------------------------

class _Pair(nn.Module):
    """Two inputs, an image and a side vector, taken by position or by name; its first layer is a convolution
    on the image."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(4)
        self.conv, self.side, self.head = nn.Conv2d(1, 4, 3), nn.Linear(2, 4), nn.Linear(4, 3)

    def forward(self, image, side):
        return self.head(torch.relu(self.conv(image)).mean((2, 3)) + self.side(side))


def _pair_loss(net, batch):
    """A compute_loss: the batch as the data gave it, and a weight penalty (it must see the point's weights)."""
    image, side, y = batch
    return nn.functional.cross_entropy(net(image, side), y) + 0.1 * net.side.weight.square().sum()


def _doubled_loss(net, batch):
    """A compute_loss that calls the model on 2 x: a first layer computed on x once per batch would be wrong."""
    return nn.functional.cross_entropy(net(2 * batch[0]), batch[1])


@pytest.mark.parametrize("form", ["x1-x2-y", "dict-y", "compute_loss", "compute_loss-one-input"])
def test_the_point_path_with_its_options_on_other_batch_forms_equals_the_loop(form, cnn, images):
    from gradviz.analysis.landscape import _evaluator

    X, y = images
    side = torch.randn(96, 2, generator=torch.Generator().manual_seed(5))
    model, options = (cnn, {"compute_loss": _doubled_loss}) if form == "compute_loss-one-input" else (_Pair(), {})
    data = {"x1-x2-y": (X, side, y), "dict-y": ({"image": X, "side": side}, y)}.get(form, (X, side, y))
    if form == "compute_loss":
        options = {"compute_loss": _pair_loss}
    elif form == "compute_loss-one-input":
        data = (X, y)
    d1, d2 = random_directions(model, seed=6, ignore_1d=False)
    # every option of the point path asked for: the first layer only where one input goes to the model itself
    fast = landscape(model, data, directions=(d1, d2), grid=3, span=0.8, batch_size=40, strategy="points",
                     first_layer=True, channels_last=True, **options)
    assert not _evaluator(model, data, device="cpu", metric="loss", loss_fn=None, chunk=None,
                          **options).first.one_input
    batches = [tuple(t[i:i + 40] for t in (X, side, y)) for i in range(0, 96, 40)]  # 40, 40, 16
    if form == "compute_loss-one-input":
        batches = [(X[i:i + 40], y[i:i + 40]) for i in range(0, 96, 40)]
    loss_of = options.get("compute_loss") or (lambda net, b: nn.functional.cross_entropy(net(b[0], b[1]), b[2]))
    np.testing.assert_allclose(fast.z, reference.loop_surface(model, batches, d1, d2, fast.x, fast.y, loss_of), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("form", ["x1-x2-y", "compute_loss"])
def test_samples_n_on_other_batch_forms_has_the_numpy_standard_error(form, images):
    X, y = images
    side = torch.randn(96, 2, generator=torch.Generator().manual_seed(5))
    options = {"compute_loss": _pair_loss} if form == "compute_loss" else {}
    surface = landscape(_Pair(), (X, side, y), grid=3, span=0.6, samples=40, seed=4, strategy="points", **options)
    assert (surface.samples, surface.total_samples) == (40, 96)
    chosen = torch.randperm(96, generator=torch.Generator().manual_seed(4))[:40].sort().values
    net = _Pair().eval()
    with torch.no_grad():
        if form == "compute_loss":  # batch means of ceil(40 / 16) = 3 samples: the error of their means
            values = np.array([float(_pair_loss(net, (X[chosen][k:k + 3], side[chosen][k:k + 3], y[chosen][k:k + 3])))
                               for k in range(0, 40, 3)])
            sizes = np.array([min(k + 3, 40) - k for k in range(0, 40, 3)])
            mean = float((values * sizes).sum() / 40)
            spread = float((values ** 2 * sizes).sum() / 40 - mean ** 2) * len(values) / (len(values) - 1)
            error = np.sqrt(spread / len(values))
        else:
            each = nn.functional.cross_entropy(net(X[chosen], side[chosen]), y[chosen], reduction="none").numpy()
            mean, error = each.mean(), each.std(ddof=1) / np.sqrt(len(each))
    assert surface.z[1, 1] == pytest.approx(mean, rel=1e-5)  # the centre: the model's own weights
    assert surface.error[1, 1] == pytest.approx(error, rel=1e-4)


def test_the_cli_draws_your_model_on_a_subset_with_its_standard_error(tmp_path):
    from clirunner import run_cli

    (tmp_path / "subnets.py").write_text("import torch\nfrom torch import nn\ndef make():\n    torch.manual_seed(0)\n"
                                         "    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))\n")
    (tmp_path / "subdata.py").write_text("import torch\ndef data():\n    g = torch.Generator().manual_seed(1)\n"
                                         "    return torch.randn(200, 3, generator=g), torch.randint(0, 2, (200,), "
                                         "generator=g)\n")
    model, data = f"{tmp_path / 'subnets.py'}:make", f"{tmp_path / 'subdata.py'}:data"
    ok, zero, toy = run_cli([["landscape", "--model", model, "--data", data, "--samples", "32", "--grid", "5",
                              "-o", "s.png"],
                             ["landscape", "--model", model, "--data", data, "--samples", "0", "-o", "s.png"],
                             ["landscape", "--samples", "32", "-o", "s.png"]], tmp_path)
    assert ok["code"] in (0, None) and ok["files"] == ["s.png"], ok["stderr"]
    assert zero["code"] == 2 and "invalid samples: 0" in zero["stderr"] and zero["files"] == []
    assert toy["code"] == 2 and "--samples belongs to your own model" in toy["stderr"] and toy["files"] == []


def test_the_cli_takes_precision_channels_last_and_compile_for_your_model(tmp_path):
    from clirunner import run_cli

    (tmp_path / "pnets.py").write_text("import torch\nfrom torch import nn\ndef make():\n    torch.manual_seed(0)\n"
                                       "    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), "
                                       "nn.Linear(8, 2))\n")
    (tmp_path / "pdata.py").write_text("import torch\ndef data():\n    g = torch.Generator().manual_seed(1)\n"
                                       "    return torch.randn(16, 1, 4, 4, generator=g), torch.randint(0, 2, (16,), "
                                       "generator=g)\n")
    model, data = f"{tmp_path / 'pnets.py'}:make", f"{tmp_path / 'pdata.py'}:data"
    base = ["landscape", "--model", model, "--data", data, "--grid", "3"]
    ok, cuda_only, typo, toy = run_cli([
        base + ["--precision", "float32", "--channels-last", "-o", "p.png"],
        base + ["--precision", "bf16", "-o", "q.png"],
        base + ["--precision", "float16", "-o", "q.png"],
        ["landscape", "--channels-last", "-o", "q.png"]], tmp_path)
    assert ok["code"] in (0, None) and ok["files"] == ["p.png"], ok["stderr"]
    assert cuda_only["code"] == 2 and cuda_only["files"] == []
    lines = [line for line in cuda_only["stderr"].splitlines() if line.strip()]
    assert "--precision bf16 needs a CUDA device" in lines[-1], cuda_only["stderr"]
    assert typo["code"] == 2 and "float16" in typo["stderr"] and typo["files"] == []
    assert toy["code"] == 2 and "--channels-last belongs to your own model" in toy["stderr"] and toy["files"] == []


def test_model_landscape_passes_channels_last_and_refuses_cuda_precisions_on_cpu(tmp_path, monkeypatch):
    import gradviz.analysis.landscape as analysis_landscape
    from gradviz.pipelines.landscape import model_landscape

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    X, y = torch.randn(16, 1, 4, 4), torch.randint(0, 2, (16,))
    with pytest.raises(InvalidArgument, match="precision 'tf32' needs a CUDA device"):
        model_landscape(tmp_path / "x.png", model=net, data=(X, y), grid=3, precision="tf32")
    seen = {}
    original = analysis_landscape.landscape

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(analysis_landscape, "landscape", spy)
    model_landscape(tmp_path / "y.png", model=net, data=(X, y), grid=3, channels_last=True)
    assert (seen["precision"], seen["channels_last"], seen["compile"]) == ("float32", True, False)
