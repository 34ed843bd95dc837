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

import fnmatch
import functools
import os
import platform
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from gradviz.lecture.figures import FIGURES
from gradviz.lecture.functions import FUNCTIONS
from gradviz.registry import InvalidArgument

__all__ = ["build_gallery", "gallery_entries", "select_entries", "seminar_entries", "figure_entries",
           "comparison_entries", "direct_entries", "landscape_entries", "gradflow_entries", "SEMINAR", "Pretrained", "build_seminar", "build_figures", "build_landscapes", "GALLERY_SIZE",
           "write_versions", "build_comparisons", "DIRECT", "build_direct", "GRADFLOW"]

# the distributions whose versions change the gallery's bytes
DRAWN_BY = ("torch", "numpy", "matplotlib", "contourpy", "pillow", "imageio", "kiwisolver", "fonttools")

GALLERY_SIZE = (960, 540)  # the default size: the README shows what a user gets

# a gallery file and how to build it: the build writes the file and returns its path
Entry = tuple[Path, Callable[[], Path]]

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
    ("seminar-4-three-classes", "3 curved arms: 2-5-5-3 with sigmoids, cross-entropy, SGD lr 0.1 for 5000 steps (after "
     "the lecture's 1000 still on its plateau: 53-77% on 3 seeds); a plateau, then bent boundaries; a linear "
     "softmax already separates 83-88% of these arms",
     dict(dataset="pinwheel", classes=3, hidden=(5, 5), activation="sigmoid", optimizers=["sgd:lr=0.1"],
          steps=5000)),
    ("seminar-5-momentum", "the linear model, SGD lr 0.01 against SGD lr 0.01 with momentum 0.9",
     dict(dataset="moons", hidden=(), optimizers=["sgd:lr=0.01", "momentum:lr=0.01"], steps=300)),
    ("seminar-6-weight-decay", "SGD lr 0.1 with the seminar's weight_decay 0.1 (L2): weights 4x smaller, a "
     "smoother boundary, but this net does not overfit in 400 steps, so L2 underfits it: held-out (dashed) "
     "loss 0.40-0.52 against 0.21-0.31 without, on 5 of 5 seeds",
     dict(dataset="moons", noise=0.3, hidden=(64, 64), optimizers=["sgd:lr=0.1"], weight_decay=[0.0, 0.1],
          steps=400, validation=0.3)),
    ("seminar-7-dropout", "nn.Dropout p = 0, 0.2 and 0.5 (the default), Adam, noisy moons: without dropout the "
     "held-out (dashed) loss climbs as the training loss falls (5 of 5 seeds); with it, it ends lower on 4 of 5",
     dict(dataset="moons", noise=0.3, hidden=(64, 64), optimizers=["adam"], dropout=[0.0, 0.2, 0.5], steps=400,
          validation=0.3)),
    ("seminar-8-fine-tuning-frozen", "a net trained on clean moons (Adam, 300 steps), fine-tuned on the same task "
     "with more noise (not a new task): with fc1 and fc2 frozen only the output layer learns, and the held-out "
     "(dashed) loss stays low",
     dict(dataset="moons", noise=0.3, hidden=(16, 16), optimizers=["adam"], freeze=[[], ["fc1", "fc2"]],
          weights=Pretrained("moons", noise=0.1, hidden=(16, 16)), steps=300, validation=0.5)),
]


def _seminar_file(path: Path, caption: str, arguments: dict[str, Any], *, size: tuple[int, int],
                  seed: int) -> Path:
    from gradviz.pipelines.boundary import boundary

    if isinstance(arguments.get("weights"), Pretrained):
        arguments = {**arguments, "weights": arguments["weights"].state_dict(seed)}
    return boundary(path=path, size=size, fps=10, frames=40, seed=seed, title=caption, **arguments)


def seminar_entries(folder: str | Path, *, suffix: str = ".gif", size: tuple[int, int] = GALLERY_SIZE,
                    seed: int = 0) -> list[Entry]:
    """The seminar sequence as (path, build) pairs."""
    return [(Path(folder) / f"{stem}{suffix}",
             functools.partial(_seminar_file, Path(folder) / f"{stem}{suffix}", caption, arguments, size=size,
                               seed=seed))
            for stem, caption, arguments in SEMINAR]


def build_seminar(folder: str | Path, *, suffix: str = ".gif", size: tuple[int, int] = GALLERY_SIZE,
                  seed: int = 0) -> Iterator[Path]:
    """Write the seminar sequence into `folder`, yielding each path as it is written."""
    for _path, build in seminar_entries(folder, suffix=suffix, size=size, seed=seed):
        yield build()


def _figure_file(name: str, path: Path, *, seed: int, language: str = "en") -> Path:
    from gradviz.i18n import use_language
    from gradviz.pipelines.figure import figure

    with use_language(language):
        return figure(name, path, seed=seed, **(dict(size=GALLERY_SIZE) if FIGURES[name].animated else {}))


def figure_entries(folder: str | Path, *, seed: int = 0, language: str = "en") -> list[Entry]:
    """Every lecture figure of FIGURES as figure-NAME.png (or .gif when animated), drawn in `language`."""
    return [(Path(folder) / f"figure-{name}{spec.suffix}",
             functools.partial(_figure_file, name, Path(folder) / f"figure-{name}{spec.suffix}", seed=seed,
                               language=language))
            for name, spec in FIGURES.items()]


def build_figures(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """Write every lecture figure of FIGURES into `folder` as figure-NAME.png (or .gif when animated)."""
    for _path, build in figure_entries(folder, seed=seed):
        yield build()


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


# what compare-schedules shows, and what it does not: with exact gradients there is no noise to average out
SCHEDULES_CAPTION = "Exact gradients: constant lr wins; decay pays off with noise"  # fits the title line


def _pipeline(name: str) -> Callable[..., Path]:
    """A pipeline's entry function by command name, imported when a file is built (not when listed)."""
    import importlib

    module = importlib.import_module(f"gradviz.pipelines.{name}")
    return getattr(module, "landscape_animation" if name == "landscape" else name)


def _lazy(name: str, *args: Any, **kwargs: Any) -> Callable[[], Path]:
    return lambda: _pipeline(name)(*args, **kwargs)


def comparison_entries(folder: str | Path, *, seed: int = 0) -> list[Entry]:
    """The lecture's comparisons: an lr sweep, the U curve, schedules, noisy gradients, a swarm of starts,
    basin maps and a tuned comparison (with its objective and grid in the picture)."""
    folder = Path(folder)
    small = dict(size=GALLERY_SIZE, seed=seed)
    out = folder / "compare-lr-sweep.gif", folder / "compare-u-curve.png", folder / "compare-schedules.gif"
    more = folder / "compare-noise-bundle.gif", folder / "compare-swarm.gif", folder / "compare-basins.png"
    tuned = folder / "compare-tuned.gif"
    return [
        (out[0], _lazy("trajectories", "rosenbrock", ["momentum"], out[0], lrs="1e-4,3e-4,1e-3,3e-3", steps=200,
                       frames=50, fps=12, **small)),
        (out[1], _lazy("sweep", "rosenbrock", ["sgd", "momentum", "adam"], out[1], lrs="1e-5:10:13", steps=200,
                       seed=seed)),
        (out[2], _lazy("trajectories", "rosenbrock", ["momentum:lr=1e-3", "momentum:lr=1e-3@cosine",
                                                      "momentum:lr=1e-3@step:step_size=50",
                                                      "adam:lr=0.3@warmup:total_iters=20+cosine"],
                       out[2], steps=200, frames=50, fps=12, title=SCHEDULES_CAPTION, **small)),
        (more[0], _lazy("trajectories", "himmelblau", ["sgd:lr=0.005", "adam:lr=0.1"], more[0], noise=20.0, seeds=8,
                        steps=150, frames=50, fps=12, **small)),
        (more[1], _lazy("trajectories", "himmelblau", ["sgd", "momentum", "adam"], more[1], starts="grid:10x10",
                        steps=100, frames=40, fps=10, **small)),
        (more[2], _lazy("basins", "himmelblau", ["sgd", "momentum", "adam"], more[2], resolution=200, steps=500,
                        size=(1280, 540), seed=seed)),
        (tuned, _lazy("trajectories", "rosenbrock", ["sgd", "momentum", "adam"], tuned, tune=True, lrs="1e-5:10:13",
                      steps=200, frames=50, fps=12, **small)),
    ]


def build_comparisons(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """Write the comparisons into `folder`, yielding each path as it is written."""
    for _path, build in comparison_entries(folder, seed=seed):
        yield build()


# Direct (gradient-free) methods beside gradient ones, compared by function evaluations.
DIRECT: list[tuple[str, str, dict[str, Any]]] = [
    ("direct-rosenbrock", "Rosenbrock: Nelder-Mead's simplex, CMA-ES's population, Adam",
     dict(function="rosenbrock", optimizers=["nelder-mead", "cma-es", "adam"], budget=("evaluations", 400))),
    ("direct-rastrigin", "Rastrigin: CMA-ES escapes the local minima gradient methods fall into",
     dict(function="rastrigin", optimizers=["cma-es:popsize=30", "nelder-mead", "sgd:lr=0.002", "adam"],
          budget=("evaluations", 1200))),
]


def direct_entries(folder: str | Path, *, seed: int = 0) -> list[Entry]:
    """The direct-methods GIFs as (path, build) pairs."""
    return [(Path(folder) / f"{stem}.gif", _lazy("trajectories", path=Path(folder) / f"{stem}.gif", size=GALLERY_SIZE,
                                                  frames=100, fps=12, seed=seed, title=caption, **arguments))
            for stem, caption, arguments in DIRECT]


def build_direct(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """Write the direct-methods GIFs into `folder`, yielding each path as it is written."""
    for _path, build in direct_entries(folder, seed=seed):
        yield build()


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


def build_gallery(folder: str | Path = "gallery", *, seed: int = 0, only: Sequence[str] = ()) -> Iterator[Path]:
    """Write gallery files into `folder`, yielding each path as it is written, then VERSIONS.txt.

    only: file names or glob patterns relative to the folder ('figure-*.png', 'ru/*'): build just those
    (each pattern must match a gallery file)."""
    folder = check_gallery_folder(folder)
    entries = select_entries(gallery_entries(folder, seed=seed), folder, only)
    with _reproducible_torch():
        for path, build in entries:
            path.parent.mkdir(parents=True, exist_ok=True)
            yield build()
        yield write_versions(folder)


def select_entries(entries: list[Entry], folder: Path, only: Sequence[str]) -> list[Entry]:
    """The entries whose names (relative to `folder`) match a pattern of `only`; all of them for none."""
    if not only:
        return entries
    names = [path.relative_to(folder).as_posix() for path, _build in entries]
    for pattern in only:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            raise InvalidArgument(f"no gallery file matches {pattern!r}; the files are: {', '.join(names)}")
    return [entry for entry, name in zip(entries, names) if any(fnmatch.fnmatchcase(name, p) for p in only)]


def gallery_entries(folder: str | Path = "gallery", *, seed: int = 0) -> list[Entry]:
    """Every gallery file as (path, build), in the order `gradviz gallery` writes them: the showcase
    trajectories, direct methods, boundaries, the seminar, comparisons, gradient flow, the lecture's
    figures, the landscapes, and the lecture's figures in Russian under ru/."""
    folder = Path(folder)
    entries: list[Entry] = []
    for name, function in FUNCTIONS.items():
        if function.showcase:
            path = folder / f"trajectories-{name}.gif"
            entries.append((path, _lazy("trajectories", name, path=path, size=GALLERY_SIZE, steps=200, frames=100,
                                        fps=15, seed=seed)))
    entries.append((folder / "trajectories-rosenbrock.png",
                    _lazy("trajectories", "rosenbrock", path=folder / "trajectories-rosenbrock.png", seed=seed)))
    entries += direct_entries(folder, seed=seed)
    entries.append((folder / "boundary-moons.gif", _lazy("boundary", "moons", folder / "boundary-moons.gif",
                                                          seed=seed, **BOUNDARY_MOONS)))
    entries.append((folder / "boundary-optimizers.gif",
                    _lazy("boundary", "spirals", folder / "boundary-optimizers.gif", optimizers=["sgd", "momentum", "adam"],
                          hidden=(32, 32), steps=500, size=GALLERY_SIZE, frames=30, fps=8, seed=seed)))
    entries += seminar_entries(folder, seed=seed)
    entries += comparison_entries(folder, seed=seed)
    entries += gradflow_entries(folder, seed=seed)
    entries += figure_entries(folder, seed=seed)
    entries += landscape_entries(folder, seed=seed)
    entries += figure_entries(folder / "ru", seed=seed, language="ru")
    ru = folder / "ru"  # two animations of the lecture's own topics, drawn in Russian too
    entries.append((ru / "boundary-moons.gif", _in_language("ru", _lazy(
        "boundary", "moons", ru / "boundary-moons.gif", seed=seed, **BOUNDARY_MOONS))))
    entries.append((ru / "gradflow-sigmoid-vs-relu.gif", _in_language("ru", _lazy(
        "gradflow", ru / "gradflow-sigmoid-vs-relu.gif", seed=seed, **GRADFLOW["gradflow-sigmoid-vs-relu.gif"]))))
    return entries


# The decision-boundary GIF on moons, drawn in English and in Russian: arguments of gradviz.boundary
BOUNDARY_MOONS: dict[str, Any] = dict(size=GALLERY_SIZE, frames=40, fps=10)

# The gradient-flow GIF and figures: file name -> arguments of gradviz.gradflow
GRADFLOW: dict[str, dict[str, Any]] = {
    # a task the nets can learn (moons): the sigmoid net's loss stays flat, the ReLU net's falls. SGD at
    # lr 0.03: at the default 0.1 the 10-layer ReLU net, nearly fit (loss 0.12 at step 42), took an
    # unstable step run: gradient norm 1.2 -> 27, loss 0.12 -> 7.15 at step 46 (lr too large for the
    # sharpness it had reached; 0.05 still spikes to 1.5), then recovered. Not a bad batch or dead units.
    "gradflow-sigmoid-vs-relu.gif": dict(steps=150, data="moons", lr=0.03, size=GALLERY_SIZE, frames=50),
    "gradflow-exploding.png": dict(activations=("relu",), inits=("scaled",), std=3.0, steps=20),
    "gradflow-profile.png": dict(view="profile", steps=100),
    "gradflow-heatmap.png": dict(view="heatmap", steps=100),
    "gradflow-grid.png": dict(view="grid", activations=("sigmoid", "sigmoid", "tanh", "relu", "relu"),
                              inits=("default", "xavier", "default", "default", "he"), steps=50, size=(1280, 560)),
    "gradflow-step50.png": dict(activations=("relu",), inits=("he",), optimizer="adam:lr=0.01", step=50,
                                steps=100),
}


def _in_language(language: str, build: Callable[[], Path]) -> Callable[[], Path]:
    """`build`, drawing its text in `language`."""
    def translated() -> Path:
        from gradviz.i18n import use_language

        with use_language(language):
            return build()
    return translated


def gradflow_entries(folder: Path, *, seed: int) -> list[Entry]:
    """The gradient-flow GIF and figures."""
    return [(folder / name, _lazy("gradflow", folder / name, seed=seed, **kwargs)) for name, kwargs in GRADFLOW.items()]


def landscape_entries(folder: str | Path, *, seed: int = 0) -> list[Entry]:
    """The loss-landscape entries: three optimizers across their shared PCA plane (2-D GIF), optimizers
    riding a test function in 3-D (GIF), a filter-normalized random plane in 3-D (PNG), the plane of the
    Hessian's top two eigenvectors around the same weights (PNG), and the 1-D
    interpolation from the initial to the trained weights (PNG)."""
    folder = Path(folder)
    name = ["landscape-moons.gif", "trajectories-himmelblau-3d.gif", "landscape-random-plane-3d.png",
            "landscape-hessian-plane-3d.png", "landscape-interpolation.png"]
    return [
        (folder / name[0], _lazy("landscape", folder / name[0], size=GALLERY_SIZE, frames=40, fps=10, seed=seed)),
        (folder / name[1], _lazy("trajectories", "himmelblau", path=folder / name[1], view="3d", steps=200, frames=60,
                                 fps=15, size=GALLERY_SIZE, seed=seed)),
        (folder / name[2], _lazy("landscape", folder / name[2], plane="random", norm="filter", view="3d", grid=51,
                                 seed=seed, title="moons, MLP 2-16-16-1: loss on a filter-normalized random plane")),
        # the eigenvectors as long as the random plane's filter-normalized directions (the weights' norm) and
        # the same window [-1, 1], so that the two pictures show the same distances side by side
        (folder / name[3], _lazy("landscape", folder / name[3], plane="hessian", hessian_scale="norm", view="3d",
                                 grid=51, seed=seed, title="moons, MLP 2-16-16-1: loss on the Hessian's top-2 plane, "
                                                           "eigenvectors × |weights|")),
        (folder / name[4], _lazy("landscape", folder / name[4], plane="line", optimizers=("adam",), grid=61,
                                 seed=seed)),
    ]


def build_landscapes(folder: str | Path, *, seed: int = 0) -> Iterator[Path]:
    """Write the loss-landscape entries into `folder`, yielding each path as it is written."""
    for _path, build in landscape_entries(folder, seed=seed):
        yield build()
