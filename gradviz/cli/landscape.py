"""`gradviz landscape`: a toy net's or your own model's loss landscape (gradviz.pipelines.landscape)."""

from __future__ import annotations

from pathlib import Path

import click

from gradviz.analysis.choices import METRICS, NORMS, PLANES, PRECISIONS
from gradviz.render.choices import VIEWS
from gradviz.lecture.grids import parse_lrs
from gradviz.registry import InvalidArgument
from gradviz.cli.options import (
    CONTEXT, loss_options, NameType, OptimizerType, ParsedType, at_rates, check_hidden, given,
    output_options, positive, toy_net_options, progress_reporter,
)

__all__ = ["landscape"]


@click.command(context_settings=CONTEXT, short_help="Animate optimizers crossing a small net's loss landscape.")
@toy_net_options(classes=False)
@click.option("-O", "--optimizer", "optimizers", type=OptimizerType(), multiple=True,
              help="Optimizer, repeatable (at most 4), all from the same initial weights: -O sgd -O adam:lr=0.01 "
                   "-O adam@cosine (an lr schedule after '@', see `gradviz list schedulers`) "
                   "[default: -O sgd -O momentum -O adam]")
@click.option("--lr", "lrs", type=ParsedType(parse_lrs, "LR|LIST|LOW:HIGH:COUNT"), default=None,
              help="Learning rate for every optimizer without its own; several (1e-3,1e-2) give a path per "
                   "optimizer and rate, at most 4 [default: each optimizer's net default].")
@click.option("--steps", type=positive(int, limit="train-steps"), default=300, show_default=True,
              help="Training steps.")
@click.option("--plane", type=NameType(PLANES), default="pca",
              help="pca: the runs' shared PCA plane; random: two filter-normalized random directions; "
                   "line: initial -> trained weights (a 1-D curve, .png); hessian: the loss Hessian's top two "
                   "eigenvectors (unit length: the curvature along each axis is its eigenvalue) "
                   "[default: pca; with --model, random, or pca with --checkpoints].")
@click.option("--grid", type=positive(int, least=3), default=41, show_default=True,
              help="Grid points per axis (>= 3).")
@click.option("--span", type=float, default=None,
              help="Half-width of the plane [default: the paths' extent for pca, 1 for random; "
                   "for line, how far alpha goes past 0 and 1, 0.5].")
@click.option("--norm", type=NameType(NORMS), default="filter", show_default=True,
              help="Normalization of random directions (filter: Li et al. 2018).")
@click.option("--view", type=NameType(VIEWS), default="2d", show_default=True,
              help="2d: contours + decision boundaries + loss curves; 3d: the surface in perspective.")
@click.option("--spin", type=float, default=0.0, show_default=True,
              help="With --view 3d: degrees the camera turns over the animation.")
@click.option("--metric", type=NameType(METRICS), default="loss", show_default=True,
              help="What the surface shows: mean training loss (what training minimises) or accuracy.")
@click.option("--device", default="cpu", show_default=True, metavar="cpu|cuda|cuda:N",
              help="Where the grid is evaluated.")
@click.option("--frames", type=positive(int, limit="frames"), default=60, show_default=True, help="Frames in the animation.")
@click.option("--model", "model_spec", default=None, metavar="MODULE:FACTORY",
              help="Your own model: FACTORY() returns an nn.Module (MODULE importable from here, or a .py path). "
                   "Replaces the toy net and its training.")
@click.option("--weights", default=None, metavar="FILE",
              help="With --model: a state_dict file to load first (torch.save(model.state_dict(), FILE)).")
@click.option("--data", "data_spec", default=None, metavar="MODULE:FUNCTION",
              help="With --model: FUNCTION() returns tensors of any shape ((x, y), (x1, ..., y), a dict) or a "
                   "DataLoader, dict batches of a transformers model included.")
@loss_options
@click.option("--checkpoints", default=None, metavar="'GLOB'",
              help="With --model: your training run's state_dict files, sorted by name (numbers as numbers); "
                   "their path is drawn, --plane pca is their PCA plane, and the last is the origin unless "
                   "--weights is given. Quote the glob.")
@click.option("--batch-size", type=positive(int, limit="batch-size"), default=None,
              help="With --model and tensor data: samples per evaluation batch [default: 1024].")
@click.option("--samples", type=positive(int), default=None,
              help="With --model: every grid point on the same random SAMPLES samples of the data (seeded by --seed), "
                   "each point's standard error stated in the picture [default: every sample].")
@click.option("--precision", type=NameType(PRECISIONS), default=None,
              help="With --model: float32 (the model's own dtype); on --device cuda, tf32 or bf16 (faster, less "
                   "exact) [default: float32].")
@click.option("--channels-last", is_flag=True, default=None,
              help="With --model: convolution inputs and kernels in channels-last order (faster for some CNNs; "
                   "measure first).")
@click.option("--compile", "compile_", is_flag=True, default=None,
              help="With --model: the forward pass through torch.compile (its compile time, tens of seconds on "
                   "a CPU, pays on large grids only).")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Keep finished grid points in FILE; run the same command again after a stop to continue.")
@output_options(None, "Output file: .gif, .mp4 or .png (last frame; the only one for --plane line) "
                "[default: landscape.gif; with --model landscape.png, or .gif for --view 3d --spin].",
                fps=12, seed_help="Seed for data, weights and directions.")
def landscape(dataset: str, n: int, noise: float | None, hidden: tuple[int, ...], activation: str,
              optimizers: tuple[str, ...], lrs: str | None, steps: int, plane: str, grid: int, span: float | None, norm: str,
              view: str, spin: float, metric: str, device: str, frames: int, model_spec: str | None,
              weights: str | None, data_spec: str | None, loss_spec: str | None, compute_loss_spec: str | None,
              checkpoints: str | None,
              batch_size: int | None, samples: int | None, precision: str | None, channels_last: bool | None,
              compile_: bool | None, cache: Path | None, fps: float, size: tuple[int, int], dpi: float, theme: str,
              seed: int, output: Path | None, quiet: bool) -> None:
    """Draw a loss landscape: optimizers crossing a small net's, or your own model's on your own data.

    \b
    By default: an MLP 2-16-16-1 on moons trained by sgd, momentum and adam; the loss over the plane of
    their shared PCA directions; each path advancing over it, beside the decision boundaries and the loss
    curves (solid: the weights' own loss; dashed: the surface under the projected point; where they part,
    the path is off the plane).
      gradviz landscape
      gradviz landscape --view 3d --spin 40 -o landscape-3d.gif
      gradviz landscape --plane random --norm filter --view 3d -o random-plane.png
      gradviz landscape --plane line -o interpolation.png

    \b
    Your own model (no training; a random filter-normalized plane through its weights by default):
      gradviz landscape --model mynets:make_cnn --weights cnn.pt --data mydata:test_set
      gradviz landscape --model mynets:make_cnn --data mydata:loader --checkpoints 'runs/epoch-*.pt' \\
          --plane pca --cache pca.npz -o pca.png
      torchrun --nproc-per-node 4 -m gradviz landscape --model mynets:make_cnn --data mydata:loader \\
          --device cuda --grid 51          # the grid split across 4 processes, one file written
    """
    from gradviz.pipelines.landscape import check_frames_recorded, check_landscape_options

    if given("frames"):
        check_frames_recorded(frames, steps)
    check_hidden(hidden)
    optimizers = optimizers or ("sgd", "momentum", "adam")
    if lrs is not None:
        optimizers = at_rates(optimizers, parse_lrs(lrs))
    check_landscape_options(plane=plane, view=view, norm=norm, metric=metric, grid=grid, span=span, device=device)
    if precision is not None and PRECISIONS[precision].cuda_only and not device.startswith("cuda"):
        raise InvalidArgument(f"--precision {precision} needs a CUDA device: add --device cuda, or drop --precision "
                              f"(on {device} the model computes in its own dtype)")
    if given("norm") and plane != "random":
        raise InvalidArgument(f"--norm scales the directions of a random plane, not of plane {plane!r}: "
                              "add --plane random or drop --norm")
    own = {"weights": weights, "data": data_spec, "loss": loss_spec, "compute-loss": compute_loss_spec,
           "checkpoints": checkpoints,
           "batch-size": batch_size, "samples": samples, "precision": precision,
           "channels-last": channels_last, "compile": compile_}
    if model_spec is None:
        for name, value in own.items():
            if value is not None:
                raise InvalidArgument(f"--{name} belongs to your own model: add --model MODULE:FACTORY "
                                      f"(and --data MODULE:FUNCTION), or drop --{name}")
    else:
        toy = ["dataset", "n", "noise", "hidden", "activation", "optimizers", "steps"]
        typed = [name for name in toy if given(name)]
        if typed:
            flag = {"optimizers": "-O", "n": "--n"}.get(typed[0], f"--{typed[0]}")
            raise InvalidArgument(f"{flag} sets up the toy net, which --model replaces: drop {flag}")
        if data_spec is None:
            raise InvalidArgument("--model needs --data MODULE:FUNCTION (returning (inputs, targets) or a DataLoader)")
        if not given("plane"):
            plane = "pca" if checkpoints else "random"
    progress, done = progress_reporter(quiet, "evaluating grid")
    try:
        if model_spec is None:
            from gradviz.pipelines.landscape import landscape_animation

            path = landscape_animation(output or Path("landscape.gif"), dataset=dataset, n=n, noise=noise,
                                       hidden=hidden, activation=activation,
                                       optimizers=optimizers, steps=steps,
                                       plane=plane, grid=grid, span=span, norm=norm, view=view, spin=spin,
                                       metric=metric, device=device, seed=seed, frames=frames, fps=fps, size=size,
                                       dpi=dpi, theme=theme, progress=progress, cache=cache)
        else:
            from gradviz.pipelines.landscape import model_landscape

            path = model_landscape(output, model=model_spec, data=data_spec, weights=weights, loss=loss_spec,
                                   compute_loss=compute_loss_spec,
                                   checkpoints=checkpoints, plane=plane, grid=grid, span=span, norm=norm, view=view,
                                   metric=metric, device=device, cache=cache, batch_size=batch_size, seed=seed,
                                   samples=samples, precision=precision or "float32",
                                   channels_last=bool(channels_last), compile=bool(compile_), spin=spin, fps=fps, size=size, dpi=dpi, theme=theme, frames=frames,
                                   progress=progress)
    finally:
        done()
    if not quiet and path is not None:
        click.echo(f"wrote {path}", err=True)
