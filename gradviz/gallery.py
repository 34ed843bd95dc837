"""The gallery and the seminar sequence, rebuilt from the registries by `gradviz gallery`.

One trajectory GIF per showcase function with the default optimizers, the decision-boundary GIFs, the
PyTorch seminar of the lecture as a numbered sequence, the gradient-flow GIF and figures, the
lecture's own figures (gradviz.FIGURES) and the loss landscapes. The same seed and versions give the same
bytes, so a rebuild that changes nothing shows no diff in git.

What "the same" needs: torch's CPU results depend on its thread count and on the instruction set its
kernels use (AVX2 or AVX-512), and the pictures on the versions of numpy, matplotlib, contourpy and Pillow.
So the gallery is traced and trained on one thread with AVX2 kernels where the CPU allows (ATEN_CPU_CAPABILITY,
unless set), and VERSIONS.txt beside the files records the versions that drew them (a pip constraints file).
"""

from __future__ import annotations

import os
import platform
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from gradviz.lecture.figures import FIGURES
from gradviz.lecture.functions import FUNCTIONS
from gradviz.registry import InvalidArgument

__all__ = ["build_gallery", "SEMINAR", "Pretrained", "build_seminar", "build_figures", "build_landscapes", "GALLERY_SIZE",
           "write_versions", "build_comparisons", "DIRECT", "build_direct"]

# the distributions whose versions change the gallery's bytes
DRAWN_BY = ("torch", "numpy", "matplotlib", "contourpy", "pillow", "imageio", "kiwisolver", "fonttools")

GALLERY_SIZE = (960, 540)  # the default size: the README shows what a user gets

@dataclass(frozen=True)
class Pretrained:
    """Weights trained first, on another task, by gradviz.train: what a fine-tuning step of the seminar
    starts from. Its points are drawn with the gallery's seed + 1, so they are not the fine-tuning ones."""

    dataset: str
    noise: float
    hidden: tuple[int, ...]
    optimizer: str = "adam"
    steps: int = 300
    n: int = 300

    def state_dict(self, seed: int = 0) -> dict[str, Any]:
        from gradviz.lecture import make_dataset, mlp, train

        model = mlp(2, self.hidden, 1, seed=seed + 1)
        data = make_dataset(self.dataset, n=self.n, noise=self.noise, seed=seed + 1)
        train(model, data, self.optimizer, steps=self.steps, seed=seed + 1, record_every=self.steps, grid=2)
        return model.state_dict()


# The seminar, step by step: (file stem, what it shows, arguments of gradviz.boundary; a Pretrained as
# weights is trained first).
SEMINAR: list[tuple[str, str, dict[str, Any]]] = [
    ("seminar-1-logistic-linear", "logistic regression (SGD, lr 0.1) draws a line and separates linear data",
     dict(dataset="linear", hidden=(), optimizers=["sgd:lr=0.1"], steps=200)),
    ("seminar-2-logistic-moons", "the same model on moons: a line cannot follow the curve",
     dict(dataset="moons", hidden=(), optimizers=["sgd:lr=0.1"], steps=200)),
    ("seminar-3-sigmoid-mlp", "nn.Sequential 2-5-5-1 with sigmoids, SGD lr 2 with momentum 0.9, as in the seminar",
     dict(dataset="moons", hidden=(5, 5), activation="sigmoid", optimizers=["momentum:lr=2"], steps=600)),
    ("seminar-4-three-classes", "3 curved arms: 2-5-5-3 with sigmoids, cross-entropy, SGD lr 0.1; a plateau, then bent "
     "boundaries",
     dict(dataset="pinwheel", classes=3, hidden=(5, 5), activation="sigmoid", optimizers=["sgd:lr=0.1"],
          steps=5000)),
    ("seminar-5-momentum", "the linear model, SGD lr 0.01 against SGD lr 0.01 with momentum 0.9",
     dict(dataset="moons", hidden=(), optimizers=["sgd:lr=0.01", "momentum:lr=0.01"], steps=300)),
    ("seminar-6-weight-decay", "SGD with weight_decay 0.1 is L2: smaller weights, a smoother boundary; "
     "held-out curves dashed",
     dict(dataset="moons", noise=0.3, hidden=(64, 64), optimizers=["sgd:lr=0.1"], weight_decay=[0.0, 0.1],
          steps=400, validation=0.3)),
    ("seminar-7-dropout", "nn.Dropout p = 0, 0.2 and 0.5 (the default) on noisy moons: without it the held-out "
     "(dashed) loss climbs as the training loss falls",
     dict(dataset="moons", noise=0.3, hidden=(64, 64), optimizers=["adam"], dropout=[0.0, 0.2, 0.5], steps=400,
          validation=0.3)),
    ("seminar-8-fine-tuning-frozen", "a net trained on clean moons (Adam, 300 steps), fine-tuned on noisy ones: with "
     "fc1 and fc2 frozen only the output layer learns, and the held-out (dashed) loss stays low",
     dict(dataset="moons", noise=0.3, hidden=(16, 16), optimizers=["adam"], freeze=[[], ["fc1", "fc2"]],
          weights=Pretrained("moons", noise=0.1, hidden=(16, 16)), steps=300, validation=0.5)),
]


def build_seminar(folder: str | Path, *, suffix: str = ".gif", size: tuple[int, int] = GALLERY_SIZE,
                  seed: int = 0) -> Iterator[Path]:
    """Write the seminar sequence into `folder`, yielding each path as it is written."""
    from gradviz.pipelines.boundary import boundary

    for stem, caption, arguments in SEMINAR:
        if isinstance(arguments.get("weights"), Pretrained):
            arguments = {**arguments, "weights": arguments["weights"].state_dict(seed)}
        yield boundary(path=Path(folder) / f"{stem}{suffix}", size=size, fps=10, frames=40, seed=seed,
                       title=caption, **arguments)


def build_figures(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """Write every lecture figure of FIGURES into `folder` as figure-NAME.png (or .gif when animated)."""
    from gradviz.pipelines.figure import figure

    for name, spec in FIGURES.items():
        yield figure(name, Path(folder) / f"figure-{name}{spec.suffix}", seed=seed,
                     **(dict(size=GALLERY_SIZE) if spec.animated else {}))


def write_versions(folder: str | Path) -> Path:
    """Write VERSIONS.txt: the versions and settings that drew the gallery, as a pip constraints file."""
    lines = ["# The gallery's bytes depend on these versions: pip install -c gallery/VERSIONS.txt -e .",
             f"# python {platform.python_version()}, {platform.machine()}"]
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        lines.append(f"# torch CPU kernels: {torch.backends.cpu.get_cpu_capability()}, "
                     f"{torch.get_num_threads()} thread(s)")
    for name in DRAWN_BY:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    path = Path(folder) / "VERSIONS.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def _reproducible_torch() -> Iterator[None]:
    """One thread and, unless chosen already, AVX2 kernels: results that do not depend on the core count
    or on whether this CPU generation has AVX-512. Restores the thread count after."""
    os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")  # read when torch first dispatches
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def build_comparisons(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """The lecture's comparisons: an lr sweep, the U curve, schedules, noisy gradients, a swarm of starts,
    basin maps and a tuned comparison (with its objective and grid in the picture)."""
    from gradviz.pipelines.basins import basins
    from gradviz.pipelines.sweep import sweep
    from gradviz.pipelines.trajectories import trajectories

    folder = Path(folder)
    small = dict(size=GALLERY_SIZE, seed=seed)
    yield trajectories("rosenbrock", ["momentum"], folder / "compare-lr-sweep.gif", lrs="1e-4,3e-4,1e-3,3e-3",
                       steps=200, frames=50, fps=12, **small)
    yield sweep("rosenbrock", ["sgd", "momentum", "adam"], folder / "compare-u-curve.png", lrs="1e-5:10:13", steps=200,
                seed=seed)
    yield trajectories("rosenbrock", ["momentum:lr=1e-3", "momentum:lr=1e-3@cosine",
                                      "momentum:lr=1e-3@step:step_size=50",
                                      "adam:lr=0.3@warmup:total_iters=20+cosine"],
                       folder / "compare-schedules.gif", steps=200, frames=50, fps=12, **small)
    yield trajectories("himmelblau", ["sgd:lr=0.005", "adam:lr=0.1"], folder / "compare-noise-bundle.gif", noise=20.0,
                       seeds=8, steps=150, frames=50, fps=12, **small)
    yield trajectories("himmelblau", ["sgd", "momentum", "adam"], folder / "compare-swarm.gif", starts="grid:10x10",
                       steps=100, frames=40, fps=10, **small)
    yield basins("himmelblau", ["sgd", "momentum", "adam"], folder / "compare-basins.png", resolution=200, steps=500,
                 size=(1280, 540), seed=seed)
    yield trajectories("rosenbrock", ["sgd", "momentum", "adam"], folder / "compare-tuned.gif", tune=True,
                       lrs="1e-5:10:13", steps=200, frames=50, fps=12, **small)


# Direct (gradient-free) methods beside gradient ones, compared by function evaluations.
DIRECT: list[tuple[str, str, dict[str, Any]]] = [
    ("direct-rosenbrock", "Rosenbrock: Nelder-Mead's simplex, CMA-ES's population, Adam",
     dict(function="rosenbrock", optimizers=["nelder-mead", "cma-es", "adam"], budget=("evaluations", 400))),
    ("direct-rastrigin", "Rastrigin: CMA-ES escapes the local minima gradient methods fall into",
     dict(function="rastrigin", optimizers=["cma-es:popsize=30", "nelder-mead", "sgd:lr=0.002", "adam"],
          budget=("evaluations", 1200))),
]


def build_direct(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """Write the direct-methods GIFs into `folder`, yielding each path as it is written."""
    from gradviz.pipelines.trajectories import trajectories

    for stem, caption, arguments in DIRECT:
        yield trajectories(path=Path(folder) / f"{stem}.gif", size=GALLERY_SIZE, frames=100, fps=12,
                           seed=seed, title=caption, **arguments)


def check_gallery_folder(folder: str | Path) -> Path:
    """The gallery's folder, refused when its name is empty (Path('') is the current folder: forty files
    would land among the user's own) or it is a file."""
    if not str(folder).strip():
        raise InvalidArgument("gallery folder name is empty: give one, such as gallery (the default), or . for the "
                              "current folder")
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise InvalidArgument(f"gallery folder {str(folder)!r} is a file, not a folder")
    return path


def build_gallery(folder: str | Path = "gallery", *, seed: int = 0) -> Iterator[Path]:
    """Write gallery files into `folder`, yielding each path as it is written, then VERSIONS.txt."""
    folder = check_gallery_folder(folder)
    with _reproducible_torch():
        yield from _build_gallery(folder, seed=seed)
        yield write_versions(folder)


def _build_gallery(folder: Path, *, seed: int) -> Iterator[Path]:
    from gradviz.pipelines.trajectories import trajectories
    from gradviz.pipelines.boundary import boundary

    for name, function in FUNCTIONS.items():
        if function.showcase:
            yield trajectories(name, path=folder / f"trajectories-{name}.gif", size=GALLERY_SIZE,
                               steps=200, frames=100, fps=15, seed=seed)
    yield trajectories("rosenbrock", path=folder / "trajectories-rosenbrock.png", seed=seed)
    yield from build_direct(folder, seed=seed)
    yield boundary("moons", folder / "boundary-moons.gif", size=GALLERY_SIZE, frames=40, fps=10, seed=seed)
    yield boundary("spirals", folder / "boundary-optimizers.gif", optimizers=["sgd", "momentum", "adam"],
                   hidden=(32, 32), steps=500, size=GALLERY_SIZE, frames=30, fps=8, seed=seed)
    yield from build_seminar(folder, seed=seed)
    yield from build_comparisons(folder, seed=seed)
    from gradviz.pipelines.gradflow import gradflow

    # a task the nets can learn (moons): the sigmoid net's loss stays flat, the ReLU net's falls
    yield gradflow(folder / "gradflow-sigmoid-vs-relu.gif", steps=150, data="moons", size=GALLERY_SIZE, frames=50,
                   seed=seed)
    yield gradflow(folder / "gradflow-exploding.png", activations=("relu",), inits=("scaled",), std=3.0, steps=20,
                   seed=seed)
    yield gradflow(folder / "gradflow-profile.png", view="profile", steps=100, seed=seed)
    yield gradflow(folder / "gradflow-heatmap.png", view="heatmap", steps=100, seed=seed)
    yield gradflow(folder / "gradflow-grid.png", view="grid", activations=("sigmoid", "sigmoid", "tanh", "relu", "relu"),
                   inits=("default", "xavier", "default", "default", "he"), steps=50, size=(1280, 560), seed=seed)
    yield gradflow(folder / "gradflow-step50.png", activations=("relu",), inits=("he",), optimizer="adam:lr=0.01",
                   step=50, steps=100, seed=seed)
    yield from build_figures(folder, seed=seed)
    yield from build_landscapes(folder, seed=seed)


def build_landscapes(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """The loss-landscape entries: three optimizers across their shared PCA plane (2-D GIF), optimizers
    riding a test function in 3-D (GIF), a filter-normalized random plane in 3-D (PNG), the plane of the
    Hessian's top two eigenvectors around the same weights (PNG), and the 1-D
    interpolation from the initial to the trained weights (PNG)."""
    from gradviz.pipelines.landscape import landscape_animation
    from gradviz.pipelines.trajectories import trajectories

    folder = Path(folder)
    yield landscape_animation(folder / "landscape-moons.gif", size=GALLERY_SIZE, frames=40, fps=10,
                              seed=seed)
    yield trajectories("himmelblau", path=folder / "trajectories-himmelblau-3d.gif", view="3d", steps=200,
                       frames=60, fps=15, size=GALLERY_SIZE, seed=seed)
    yield landscape_animation(folder / "landscape-random-plane-3d.png", plane="random", norm="filter", view="3d",
                              grid=51, seed=seed, title="moons, MLP 2-16-16-1: loss on a filter-normalized "
                              "random plane")
    yield landscape_animation(folder / "landscape-hessian-plane-3d.png", plane="hessian", view="3d", grid=51,
                              seed=seed, title="moons, MLP 2-16-16-1: loss on the Hessian's top-2 plane")
    yield landscape_animation(folder / "landscape-interpolation.png", plane="line", optimizers=("adam",), grid=61,
                              seed=seed)
